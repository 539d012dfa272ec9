namespace MedVision.Nets.Metrics.Selective;

/// <summary>How confident a classifier is in its prediction of one image, from its class probabilities.</summary>
public enum ConfidenceScore
{
    /// <summary>The largest probability (softmax response; Geifman and El-Yaniv 2017).</summary>
    MaxProbability,

    /// <summary>The largest probability minus the second largest.</summary>
    Margin,

    /// <summary>Minus the entropy of the probabilities, Σ p log p (natural logarithm; 0 log 0 = 0).</summary>
    NegativeEntropy,

    /// <summary>
    /// The probability of the predicted class: the largest for arg-max predictions (then the same as
    /// <see cref="MaxProbability"/>), the median grade's for a model that predicts the median (<see cref="OrdinalDecision.Median"/>,
    /// CORAL's rule), whose grade need not be the most probable one.
    /// </summary>
    PredictedProbability,
}
