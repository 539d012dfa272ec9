using System.Globalization;

namespace MedVision.Nets.Training;

/// <summary>A metric over the folds of a cross-validation: its mean, sample standard deviation (n − 1), minimum and maximum.</summary>
/// <param name="Mean">The mean over the folds (NaN when the metric was not measured).</param>
/// <param name="StandardDeviation">The sample standard deviation over the folds (n − 1 in the denominator, as pandas' <c>std</c>).</param>
/// <param name="Minimum">The lowest fold's value.</param>
/// <param name="Maximum">The highest fold's value.</param>
public readonly record struct FoldStatistic(double Mean, double StandardDeviation, double Minimum, double Maximum)
{
    /// <summary>The statistic of the given per-fold values (all NaN when there are none, or any is NaN).</summary>
    public static FoldStatistic Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0 || values.Any(double.IsNaN)) return new(double.NaN, double.NaN, double.NaN, double.NaN);
        double mean = values.Average();
        double sd = values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new(mean, sd, values.Min(), values.Max());
    }

    /// <summary>"mean ± sd" with four decimals.</summary>
    public override string ToString() => double.IsNaN(Mean) ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{Mean:F4} ± {StandardDeviation:F4}");
}
