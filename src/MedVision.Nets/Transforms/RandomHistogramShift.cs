namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, remaps intensities through a random monotone piecewise-linear curve
/// (MONAI's <c>RandHistogramShift</c>, with its defaults): n control points, n drawn from
/// [<see cref="ControlPointsMin"/>, <see cref="ControlPointsMax"/>], spaced evenly over the image's range (its minimum
/// and maximum over all channels) are moved to new positions — each inner point drawn uniformly between the new
/// position of the point before it and the old position of the point after it, the ends kept — and every value is
/// interpolated between them (NumPy's <c>interp</c>). Fewer points shift the histogram more. The minimum and maximum
/// stay, the order of values is kept, a constant image is left as it is, NaN and infinite values stay as they are (and
/// are left out of the range). 2-D images and volumes; in place;
/// every call draws the same values whether or not it applies.
/// </summary>
public sealed class RandomHistogramShift : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="controlPointsMin">Fewest control points (at least 3).</param>
    /// <param name="controlPointsMax">Most control points (at least <paramref name="controlPointsMin"/>).</param>
    /// <param name="probability">Chance that an image is changed (0 to 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomHistogramShift(int controlPointsMin = 10, int controlPointsMax = 10, double probability = 0.1)
    {
        if (controlPointsMin < 3) throw new ArgumentOutOfRangeException(nameof(controlPointsMin), controlPointsMin, "A histogram shift needs at least 3 control points.");
        if (controlPointsMax < controlPointsMin)
            throw new ArgumentOutOfRangeException(nameof(controlPointsMax), controlPointsMax, $"The most control points must be at least the fewest ({controlPointsMin}).");
        if (controlPointsMax > 1_000_000) throw new ArgumentOutOfRangeException(nameof(controlPointsMax), controlPointsMax, "At most 1,000,000 control points.");
        ControlPointsMin = controlPointsMin;
        ControlPointsMax = controlPointsMax;
        Probability = TransformArguments.Probability(probability);
    }

    /// <summary>Fewest control points.</summary>
    public int ControlPointsMin { get; }

    /// <summary>Most control points.</summary>
    public int ControlPointsMax { get; }

    /// <summary>Chance that an image is changed.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        int n = random.Next(ControlPointsMin, ControlPointsMax + 1);
        var moved = new double[n];
        for (int i = 0; i < n; i++) moved[i] = i / (double)(n - 1);
        for (int i = 1; i < n - 1; i++) moved[i] = TransformArguments.Uniform(random, moved[i - 1], moved[i + 1]);
        return apply ? Shift(image, moved) : image;
    }

    /// <summary>
    /// Maps the values of <paramref name="image"/>, in place, through the curve that takes n evenly spaced points of its
    /// range (0 to 1, i / (n − 1)) to <paramref name="moved"/> (in [0, 1], non-decreasing, 0 first and 1 last).
    /// </summary>
    internal static FloatImage Shift(FloatImage image, IReadOnlyList<double> moved)
    {
        var data = image.Data;
        // The range of the finite values: one infinite voxel would otherwise make every other one NaN (0 · ∞).
        var (min, max) = Data.IntensityWindow.Range(data);
        if (!(max > min)) return image; // constant (or no finite value): MONAI leaves it
        double range = (double)max - min;
        int segments = moved.Count - 1;
        for (int i = 0; i < data.Length; i++)
        {
            double v = data[i];
            if (!double.IsFinite(v)) continue;
            // The segment [k, k + 1] of the evenly spaced points that holds v, and v's place in it.
            double t = (v - min) / range * segments;
            int k = Math.Clamp((int)Math.Floor(t), 0, segments - 1);
            double within = t - k;
            double y = moved[k] + (within * (moved[k + 1] - moved[k]));
            data[i] = (float)(min + (y * range));
        }
        return image;
    }
}
