namespace MedVision.Nets.Metrics;

/// <summary>
/// Two models compared on the same test samples by a paired bootstrap (see
/// <see cref="BootstrapEstimator.Compare(MedMnistTask, int[], double[,], double[,], BootstrapOptions?, double)"/>):
/// the observed differences of their AUC and ACC (first model minus second) and percentile intervals of those
/// differences over resamples that draw the same samples for both models.
/// </summary>
public sealed class BootstrapComparison
{
    internal BootstrapComparison(double aucDifference, double accDifference, ConfidenceInterval auc, ConfidenceInterval acc, int requested, int skipped, IReadOnlyList<string> warnings)
    {
        AucDifference = aucDifference;
        AccDifference = accDifference;
        AucDifferenceInterval = auc;
        AccDifferenceInterval = acc;
        RequestedResamples = requested;
        SkippedResamples = skipped;
        Warnings = warnings;
    }

    /// <summary>AUC of the first model minus AUC of the second, on all the samples.</summary>
    public double AucDifference { get; }

    /// <summary>ACC of the first model minus ACC of the second, on all the samples.</summary>
    public double AccDifference { get; }

    /// <summary>Percentile interval of the AUC difference over the paired resamples: an interval that excludes 0 says the models differ at its level.</summary>
    public ConfidenceInterval AucDifferenceInterval { get; }

    /// <summary>Percentile interval of the ACC difference over the same paired resamples.</summary>
    public ConfidenceInterval AccDifferenceInterval { get; }

    /// <summary>The number of resamples drawn.</summary>
    public int RequestedResamples { get; }

    /// <summary>Resamples skipped because a class present in the data was absent from them (its AUC would be undefined).</summary>
    public int SkippedResamples { get; }

    /// <summary>Resamples that entered the intervals.</summary>
    public int UsedResamples => RequestedResamples - SkippedResamples;

    /// <summary>Warnings, for example when every resample was skipped.</summary>
    public IReadOnlyList<string> Warnings { get; }
}
