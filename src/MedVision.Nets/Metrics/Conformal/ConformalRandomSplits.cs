using System.Globalization;

namespace MedVision.Nets.Metrics.Conformal;

/// <summary>
/// Coverage and set size of one conformal recipe over many random calibration/evaluation splits of a labelled pool
/// (<see cref="ConformalClassifierBuilder.EvaluateOnRandomSplits(int[], double[,], int, int, int)"/>).
/// </summary>
public sealed class ConformalRandomSplits
{
    private readonly double[] _coverage, _size, _worstClass;

    internal ConformalRandomSplits(double target, int trials, int calibrationCount, int evaluationCount, double[] coverage, double[] size, double[] worstClass)
    {
        TargetCoverage = target;
        Trials = trials;
        CalibrationCount = calibrationCount;
        EvaluationCount = evaluationCount;
        _coverage = coverage;
        _size = size;
        _worstClass = worstClass;
    }

    /// <summary>The coverage asked for (1 − α).</summary>
    public double TargetCoverage { get; }

    /// <summary>Random splits made.</summary>
    public int Trials { get; }

    /// <summary>Images calibrated on in each split.</summary>
    public int CalibrationCount { get; }

    /// <summary>Images evaluated in each split.</summary>
    public int EvaluationCount { get; }

    /// <summary>Each split's coverage (index = trial).</summary>
    public IReadOnlyList<double> Coverages => _coverage;

    /// <summary>Each split's mean set size.</summary>
    public IReadOnlyList<double> MeanSetSizes => _size;

    /// <summary>Mean coverage over the splits.</summary>
    public double MeanCoverage => _coverage.Average();

    /// <summary>Standard deviation of the coverage over the splits (n − 1 denominator; 0 for one split).</summary>
    public double CoverageStandardDeviation => StandardDeviation(_coverage);

    /// <summary>The share of splits whose coverage fell below the target.</summary>
    public double ShareBelowTarget => _coverage.Count(c => c < TargetCoverage) / (double)Trials;

    /// <summary>Mean set size over the splits.</summary>
    public double MeanSetSize => _size.Average();

    /// <summary>Mean over the splits of the lowest per-class coverage (NaN-free splits only).</summary>
    public double MeanWorstClassCoverage => _worstClass.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Trials} random splits ({CalibrationCount} calibration / {EvaluationCount} evaluation images): coverage {MeanCoverage:F4} ± {CoverageStandardDeviation:F4} (target {TargetCoverage:F4}; below it in {ShareBelowTarget:P1}), mean set size {MeanSetSize:F3}, worst class coverage {MeanWorstClassCoverage:F4}");

    private static double StandardDeviation(double[] values)
    {
        if (values.Length < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }
}
