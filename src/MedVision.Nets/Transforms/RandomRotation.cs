namespace MedVision.Nets.Transforms;

/// <summary>
/// Rotates a 2-D image about its centre by an angle drawn uniformly from [−degrees, degrees], bilinear, filling outside
/// with <see cref="Fill"/>; a volume rotates about its depth axis (every (H, W) slice by the same angle).
/// </summary>
public sealed class RandomRotation : ITransform
{
    /// <summary>Creates the transform.</summary>
    public RandomRotation(double degrees, float fill = 0f)
    {
        if (!(degrees >= 0) || !double.IsFinite(degrees)) throw new ArgumentOutOfRangeException(nameof(degrees), degrees, "degrees must be non-negative and finite");
        if (!float.IsFinite(fill)) throw new ArgumentOutOfRangeException(nameof(fill), fill, "the fill value must be a finite number");
        Degrees = degrees;
        Fill = fill;
    }

    /// <summary>Maximum absolute angle in degrees.</summary>
    public double Degrees { get; }
    /// <summary>Value for pixels that come from outside the image.</summary>
    public float Fill { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        double angle = (random.NextDouble() * 2 - 1) * Degrees * Math.PI / 180;
        if (angle == 0) return image;
        int planes = image.Channels * image.Depth, h = image.Height, w = image.Width;   // each (c, z) slice as a plane
        double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0, cos = Math.Cos(angle), sin = Math.Sin(angle);
        var src = image.Data;
        var dst = new float[src.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                // Inverse mapping: the source point that lands on (x, y).
                double sx = cos * (x - cx) + sin * (y - cy) + cx;
                double sy = -sin * (x - cx) + cos * (y - cy) + cy;
                for (int plane = 0; plane < planes; plane++)
                    dst[(plane * h + y) * w + x] = Bilinear(src, plane, h, w, sy, sx, Fill);
            }
        return new FloatImage(dst, image.Shape);
    }

    internal static float Bilinear(float[] src, int ch, int h, int w, double y, double x, float fill)
    {
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        float At(int yy, int xx) => yy < 0 || yy >= h || xx < 0 || xx >= w ? fill : src[(ch * h + yy) * w + xx];
        return (float)((1 - fy) * ((1 - fx) * At(y0, x0) + fx * At(y0, x0 + 1)) + fy * ((1 - fx) * At(y0 + 1, x0) + fx * At(y0 + 1, x0 + 1)));
    }
}
