namespace MedVision.Nets.Metrics;

/// <summary>How an ordinal model's grade probabilities become one predicted grade.</summary>
public enum OrdinalDecision
{
    /// <summary>The most probable grade (the arg-max; MedMNIST's rule, and every classifier's). The default.</summary>
    MostProbable,

    /// <summary>
    /// The median grade: the lowest grade whose cumulative probability reaches 0.5
    /// (<see cref="Losses.OrdinalDecoding.MedianGrades"/>). It minimises the expected absolute error, and for a CORAL head it
    /// is CORAL's own prediction (the number of thresholds with P(grade &gt; k) &gt; 0.5). Ordinal tasks only.
    /// </summary>
    Median,
}
