namespace MedVision.Nets.Metrics;

/// <summary>Bootstrap confidence intervals of the MedMNIST AUC and ACC.</summary>
public sealed class BootstrapResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="auc">Interval of the AUC.</param>
    /// <param name="acc">Interval of the ACC.</param>
    /// <param name="requested">Resamples drawn.</param>
    /// <param name="skipped">Resamples skipped because a class present in the data was absent from them.</param>
    /// <param name="warnings">Warnings.</param>
    public BootstrapResult(ConfidenceInterval auc, ConfidenceInterval acc, int requested, int skipped, IReadOnlyList<string> warnings)
    {
        Auc = auc ?? throw new ArgumentNullException(nameof(auc));
        Acc = acc ?? throw new ArgumentNullException(nameof(acc));
        RequestedResamples = requested;
        SkippedResamples = skipped;
        Warnings = warnings ?? throw new ArgumentNullException(nameof(warnings));
    }

    /// <summary>Percentile interval of the AUC.</summary>
    public ConfidenceInterval Auc { get; }

    /// <summary>Percentile interval of the ACC (over the same resamples as the AUC).</summary>
    public ConfidenceInterval Acc { get; }

    /// <summary>The number of resamples drawn.</summary>
    public int RequestedResamples { get; }

    /// <summary>
    /// Resamples skipped because a class (or, for multi-label, an outcome of a label) present in the full data was
    /// absent from the resample, which would leave its AUC undefined.
    /// </summary>
    public int SkippedResamples { get; }

    /// <summary>Resamples that entered the intervals.</summary>
    public int UsedResamples => RequestedResamples - SkippedResamples;

    /// <summary>Warnings, for example when every resample was skipped.</summary>
    public IReadOnlyList<string> Warnings { get; }
}
