namespace MedVision.Nets.Transforms;

/// <summary>The argument checks the random transforms share, with one wording.</summary>
internal static class TransformArguments
{
    /// <summary>Returns <paramref name="probability"/> when it lies in [0, 1] (NaN does not).</summary>
    public static double Probability(double probability, string name = "probability") =>
        probability is >= 0 and <= 1 ? probability : throw new ArgumentOutOfRangeException(name, probability, "The probability must be from 0 to 1.");

    /// <summary>Returns (<paramref name="min"/>, <paramref name="max"/>) when both are finite, min ≤ max, and min is at least <paramref name="lowest"/> (above it when <paramref name="exclusive"/>).</summary>
    public static (double Min, double Max) Range(double min, double max, string minName, string maxName, double lowest, bool exclusive, string what)
    {
        if (!double.IsFinite(min) || (exclusive ? !(min > lowest) : !(min >= lowest)))
            throw new ArgumentOutOfRangeException(minName, min, $"The smallest {what} must be finite and {(exclusive ? "above" : "at least")} {lowest}.");
        if (!double.IsFinite(max) || !(max >= min))
            throw new ArgumentOutOfRangeException(maxName, max, $"The largest {what} must be finite and at least the smallest ({min}).");
        return (min, max);
    }

    /// <summary>Two independent standard normal values from two uniform ones (Box–Muller).</summary>
    public static (double First, double Second) NormalPair(Random random)
    {
        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();   // u1 in (0, 1]: the log is finite
        double radius = Math.Sqrt(-2 * Math.Log(u1)), angle = 2 * Math.PI * u2;
        return (radius * Math.Cos(angle), radius * Math.Sin(angle));
    }

    /// <summary>A value drawn uniformly from [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static double Uniform(Random random, double min, double max) => min + (random.NextDouble() * (max - min));
}
