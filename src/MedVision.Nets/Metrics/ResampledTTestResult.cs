using System.Globalization;

namespace MedVision.Nets.Metrics;

/// <summary>The corrected resampled t-test of per-fold differences (see <see cref="ResampledTTest"/>).</summary>
public sealed class ResampledTTestResult
{
    internal ResampledTTestResult(IReadOnlyList<double> differences, double meanDifference, double standardError, double t, int degreesOfFreedom, double pValue, ConfidenceInterval interval, IReadOnlyList<string> warnings)
    {
        Differences = differences;
        MeanDifference = meanDifference;
        StandardError = standardError;
        T = t;
        DegreesOfFreedom = degreesOfFreedom;
        PValue = pValue;
        Interval = interval;
        Warnings = warnings;
    }

    /// <summary>The per-fold differences (A − B), in fold order.</summary>
    public IReadOnlyList<double> Differences { get; }

    /// <summary>Their mean.</summary>
    public double MeanDifference { get; }

    /// <summary>The corrected standard error √((1/J + n_test/n_train)·s²).</summary>
    public double StandardError { get; }

    /// <summary>Mean difference / corrected standard error (NaN when the differences do not vary but are not 0).</summary>
    public double T { get; }

    /// <summary>J − 1.</summary>
    public int DegreesOfFreedom { get; }

    /// <summary>Two-sided p-value from Student's t with <see cref="DegreesOfFreedom"/> degrees of freedom; NaN when undefined.</summary>
    public double PValue { get; }

    /// <summary>Mean difference ± t-quantile × corrected standard error.</summary>
    public ConfidenceInterval Interval { get; }

    /// <summary>Why a value is undefined or degenerate.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"mean difference {MeanDifference:+0.0000;-0.0000;0.0000} {Interval}, t({DegreesOfFreedom}) = {T:F3}, p = {PValue:G4}");
}
