namespace MedVision.Nets.Data;

/// <summary>Maps modality values (Hounsfield units, MR or PET intensities) to [0, 1] for the image pipelines.</summary>
internal static class IntensityWindow
{
    /// <summary>
    /// Maps <paramref name="values"/> in place through <paramref name="window"/> (center, width; a positive width), or
    /// through their own minimum–maximum when it is null, clamping to [0, 1]; <paramref name="invert"/> turns v into 1 − v.
    /// </summary>
    public static void MapToUnitRange(float[] values, (double Center, double Width)? window, bool invert = false)
    {
        double low, high;
        if (window is { } w) (low, high) = (w.Center - w.Width / 2, w.Center + w.Width / 2);
        else (low, high) = (values.Min(), values.Max());
        MapToUnitRange(values, low, high, invert);
    }

    /// <summary>Maps <paramref name="values"/> in place so that <paramref name="low"/> becomes 0 and <paramref name="high"/> 1, clamping to [0, 1] (with high ≤ low, values at or below low become 0).</summary>
    public static void MapToUnitRange(float[] values, double low, double high, bool invert = false)
    {
        double range = high > low ? high - low : 1;
        for (int i = 0; i < values.Length; i++)
        {
            double v = Math.Clamp((values[i] - low) / range, 0, 1);
            values[i] = (float)(invert ? 1 - v : v);
        }
    }

    /// <summary>
    /// The <paramref name="lower"/> and <paramref name="upper"/> percentiles (0–100) of <paramref name="values"/> as
    /// NumPy's <c>np.percentile</c> computes them: position p/100 · (n − 1) in the sorted values, interpolated linearly.
    /// </summary>
    public static (double Low, double High) Percentiles(float[] values, double lower, double upper)
    {
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        double At(double p)
        {
            double position = p / 100 * (sorted.Length - 1);
            int below = (int)Math.Floor(position);
            if (below >= sorted.Length - 1) return sorted[^1];
            double fraction = position - below;
            return sorted[below] + (fraction * ((double)sorted[below + 1] - sorted[below]));
        }
        return (At(lower), At(upper));
    }
}
