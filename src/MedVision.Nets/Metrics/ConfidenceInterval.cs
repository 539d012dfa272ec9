using System.Globalization;

namespace MedVision.Nets.Metrics;

/// <summary>A two-sided confidence interval.</summary>
public sealed class ConfidenceInterval
{
    /// <summary>Creates an interval.</summary>
    /// <param name="lower">Lower bound (NaN when it could not be estimated).</param>
    /// <param name="upper">Upper bound (NaN when it could not be estimated).</param>
    /// <param name="level">Confidence level in (0, 1), for example 0.95.</param>
    public ConfidenceInterval(double lower, double upper, double level)
    {
        Lower = lower;
        Upper = upper;
        Level = level;
    }

    /// <summary>Lower bound.</summary>
    public double Lower { get; }

    /// <summary>Upper bound.</summary>
    public double Upper { get; }

    /// <summary>Confidence level in (0, 1).</summary>
    public double Level { get; }

    /// <summary>Whether both bounds are numbers.</summary>
    public bool IsDefined => !double.IsNaN(Lower) && !double.IsNaN(Upper);

    /// <summary>Whether <paramref name="value"/> lies within the closed interval.</summary>
    /// <param name="value">The value to test.</param>
    /// <returns><see langword="true"/> when Lower ≤ value ≤ Upper.</returns>
    public bool Contains(double value) => value >= Lower && value <= Upper;

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{Lower:F4}, {Upper:F4}] ({Level:P0})");
}
