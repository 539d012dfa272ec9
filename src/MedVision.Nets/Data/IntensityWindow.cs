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
        double range = high > low ? high - low : 1;
        for (int i = 0; i < values.Length; i++)
        {
            double v = Math.Clamp((values[i] - low) / range, 0, 1);
            values[i] = (float)(invert ? 1 - v : v);
        }
    }
}
