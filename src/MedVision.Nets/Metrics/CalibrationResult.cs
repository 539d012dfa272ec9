namespace MedVision.Nets.Metrics;

/// <summary>How well a model's probabilities match its hit rate (see <see cref="Calibration.Evaluate(MedMnistTask, int[], double[,], int)"/>).</summary>
public sealed class CalibrationResult
{
    internal CalibrationResult(MedMnistTask task, int sampleCount, IReadOnlyList<ReliabilityBin> bins, double ece, double mce, double brier, double nll)
    {
        Task = task;
        SampleCount = sampleCount;
        Bins = bins;
        ExpectedCalibrationError = ece;
        MaximumCalibrationError = mce;
        BrierScore = brier;
        NegativeLogLikelihood = nll;
    }

    /// <summary>The task the probabilities belong to.</summary>
    public MedMnistTask Task { get; }

    /// <summary>Predictions evaluated.</summary>
    public int SampleCount { get; }

    /// <summary>The equal-width confidence bins, lowest first (empty bins included).</summary>
    public IReadOnlyList<ReliabilityBin> Bins { get; }

    /// <summary>ECE: Σ (|bin| / N) · |accuracy − mean confidence| over the bins (Guo et al., 2017). 0 is perfectly calibrated.</summary>
    public double ExpectedCalibrationError { get; }

    /// <summary>MCE: the largest |accuracy − mean confidence| over the non-empty bins.</summary>
    public double MaximumCalibrationError { get; }

    /// <summary>
    /// The Brier score: for binary tasks the mean of (p − y)² with p the positive-class probability (scikit-learn's
    /// brier_score_loss, in [0, 1]); otherwise the mean over samples of Σₖ (pₖ − [y = k])² (Brier's original
    /// multi-class score, in [0, 2]). Lower is better.
    /// </summary>
    public double BrierScore { get; }

    /// <summary>The mean negative log-probability of the true class (log loss; probabilities clipped at 1e-15).</summary>
    public double NegativeLogLikelihood { get; }
}
