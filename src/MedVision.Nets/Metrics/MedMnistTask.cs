namespace MedVision.Nets.Metrics;

/// <summary>
/// The task types of the MedMNIST benchmark, which decide how the evaluators turn a score matrix into
/// AUC and ACC (mirroring the <c>task</c> argument of the Python <c>medmnist</c> evaluator).
/// </summary>
public enum MedMnistTask
{
    /// <summary>
    /// Two classes (<c>"binary-class"</c>). AUC is the ROC AUC of the last score column; ACC thresholds the last
    /// score column (score &gt; threshold predicts class 1).
    /// </summary>
    Binary,

    /// <summary>
    /// One label out of K classes (<c>"multi-class"</c>). AUC is the unweighted mean of one-vs-rest ROC AUCs;
    /// ACC uses the arg-max of each score row.
    /// </summary>
    MultiClass,

    /// <summary>
    /// K independent binary labels per sample (<c>"multi-label, binary-class"</c>). AUC is the mean of the per-label
    /// ROC AUCs; ACC thresholds every entry and averages the accuracy over all label entries.
    /// </summary>
    MultiLabel,

    /// <summary>
    /// Ordered grades 0..K-1 (<c>"ordinal-regression"</c>). Scored exactly like <see cref="MultiClass"/>.
    /// </summary>
    OrdinalRegression,
}
