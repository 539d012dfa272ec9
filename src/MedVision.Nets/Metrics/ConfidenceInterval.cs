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

    // The exact binomial (Clopper–Pearson) interval of x successes in n trials at this level (n > 0).
    // Each bound is the one-sided bound at half the level's complement.
    internal static ConfidenceInterval ClopperPearson(int x, int n, double level)
    {
        double a = (1 - level) / 2;
        return new ConfidenceInterval(ClopperPearsonLower(x, n, a), ClopperPearsonUpper(x, n, a), level);
    }

    // The one-sided exact binomial upper bound on a proportion after x successes in n trials, holding with probability 1 − δ.
    internal static double ClopperPearsonUpper(int x, int n, double delta) =>
        x >= n ? 1 : MathNet.Numerics.Distributions.Beta.InvCDF(x + 1, n - x, 1 - delta);

    // The one-sided exact binomial lower bound on a proportion after x successes in n trials, holding with probability 1 − δ.
    internal static double ClopperPearsonLower(int x, int n, double delta) =>
        x <= 0 ? 0 : MathNet.Numerics.Distributions.Beta.InvCDF(x, n - x + 1, delta);

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{Lower:F4}, {Upper:F4}] ({Level:P0})");
}
