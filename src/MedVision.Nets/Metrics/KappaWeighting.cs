namespace MedVision.Nets.Metrics;

/// <summary>Disagreement weights for Cohen's kappa (scikit-learn's <c>weights</c> argument).</summary>
public enum KappaWeighting
{
    /// <summary>Plain Cohen's kappa: every disagreement weighs 1.</summary>
    None,

    /// <summary>Linear weights: the disagreement between classes i and j weighs |i - j|.</summary>
    Linear,

    /// <summary>Quadratic weights: the disagreement between classes i and j weighs (i - j)².</summary>
    Quadratic,
}
