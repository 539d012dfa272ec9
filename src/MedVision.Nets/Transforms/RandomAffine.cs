namespace MedVision.Nets.Transforms;

/// <summary>
/// A random affine transform about the image's centre (MONAI's <c>RandAffine</c>, torchvision's <c>RandomAffine</c>):
/// for a volume (C, D, H, W), rotations about each of its three axes by angles drawn from [−degrees, degrees], each axis
/// scaled by a factor from [1 − scale, 1 + scale] and shifted by up to ± translate × its size; for a 2-D image
/// (C, H, W) the same in its plane. Trilinear (bilinear) resampling; what comes from outside the image is
/// <see cref="Fill"/>. Applied with probability <see cref="Probability"/>; deterministic under a seeded random source
/// (every call draws the same number of values whether or not it transforms).
/// </summary>
public sealed class RandomAffine : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="degrees">Largest rotation about each axis, in degrees (0 to 180).</param>
    /// <param name="scale">Largest relative change of each axis's scale (0 to below 1): factors from [1 − scale, 1 + scale].</param>
    /// <param name="translate">Largest shift along each axis as a fraction of its size (0 to 1).</param>
    /// <param name="probability">Chance that an image is transformed (0 to 1).</param>
    /// <param name="fill">Value for what comes from outside the image (finite).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomAffine(double degrees, double scale = 0, double translate = 0, double probability = 1, float fill = 0f)
    {
        if (!(degrees >= 0 && degrees <= 180)) throw new ArgumentOutOfRangeException(nameof(degrees), degrees, "The rotation must be from 0 to 180 degrees.");
        if (!(scale >= 0 && scale < 1)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale change must be from 0 to below 1.");
        if (!(translate >= 0 && translate <= 1)) throw new ArgumentOutOfRangeException(nameof(translate), translate, "The shift must be from 0 to 1 of the size.");
        Probability = TransformArguments.Probability(probability);
        if (!float.IsFinite(fill)) throw new ArgumentOutOfRangeException(nameof(fill), fill, "The fill value must be finite.");
        Degrees = degrees;
        Scale = scale;
        Translate = translate;
        Fill = fill;
    }

    /// <summary>Largest rotation about each axis, in degrees.</summary>
    public double Degrees { get; }

    /// <summary>Largest relative change of each axis's scale.</summary>
    public double Scale { get; }

    /// <summary>Largest shift along each axis, as a fraction of its size.</summary>
    public double Translate { get; }

    /// <summary>Chance that an image is transformed.</summary>
    public double Probability { get; }

    /// <summary>Value for what comes from outside the image.</summary>
    public float Fill { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        int axes = image.IsVolume ? 3 : 2;
        bool apply = random.NextDouble() < Probability;
        // Angles about x, y, z (one, about the plane's normal, for 2-D), scales and shifts (x, y[, z]).
        var angles = Enumerable.Range(0, axes == 3 ? 3 : 1).Select(_ => ((random.NextDouble() * 2) - 1) * Degrees * Math.PI / 180).ToArray();
        var scales = Enumerable.Range(0, axes).Select(_ => 1 + (((random.NextDouble() * 2) - 1) * Scale)).ToArray();
        int[] size = axes == 3 ? [image.Width, image.Height, image.Depth] : [image.Width, image.Height, 1];
        var shifts = Enumerable.Range(0, axes).Select(a => ((random.NextDouble() * 2) - 1) * Translate * size[a]).ToArray();
        if (!apply) return image;

        // Forward: out = R · S · (src − c) + c + t; sampled backwards: src = S⁻¹ · Rᵀ · (out − c − t) + c.
        double[,] rotation = axes == 3 ? Rotation3(angles[0], angles[1], angles[2]) : Rotation3(0, 0, angles[0]);
        var matrix = new double[9];
        var offset = new double[3];
        double[] centre = [(size[0] - 1) / 2.0, (size[1] - 1) / 2.0, (size[2] - 1) / 2.0];
        double[] scale3 = [scales[0], scales[1], axes == 3 ? scales[2] : 1];
        double[] shift3 = [shifts[0], shifts[1], axes == 3 ? shifts[2] : 0];
        for (int r = 0; r < 3; r++)
        {
            double o = centre[r];
            for (int c = 0; c < 3; c++)
            {
                matrix[(r * 3) + c] = rotation[c, r] / scale3[r];
                o -= matrix[(r * 3) + c] * (centre[c] + shift3[c]);
            }

            offset[r] = o;
        }

        return Resample(image, matrix, offset, Fill);
    }

    // Rz(z) · Ry(y) · Rx(x).
    private static double[,] Rotation3(double x, double y, double z)
    {
        double cx = Math.Cos(x), sx = Math.Sin(x), cy = Math.Cos(y), sy = Math.Sin(y), cz = Math.Cos(z), sz = Math.Sin(z);
        return new double[,]
        {
            { cz * cy, (cz * sy * sx) - (sz * cx), (cz * sy * cx) + (sz * sx) },
            { sz * cy, (sz * sy * sx) + (cz * cx), (sz * sy * cx) - (cz * sx) },
            { -sy, cy * sx, cy * cx },
        };
    }

    /// <summary>
    /// The image sampled (trilinear; bilinear for 2-D, whose z is 0) at source = <paramref name="matrix"/> · (x, y, z) +
    /// <paramref name="offset"/> for every output voxel (x, y, z), neighbours outside the image taking <paramref name="fill"/>.
    /// </summary>
    internal static FloatImage Resample(FloatImage image, double[] matrix, double[] offset, float fill)
    {
        int channels = image.Channels, depth = image.Depth, height = image.Height, width = image.Width;
        var src = image.Data;
        var dst = FloatImage.Allocate("RandomAffine", image.Shape);
        long plane = (long)depth * height * width;
        Parallel.For(0, depth, z =>
        {
            for (int y = 0; y < height; y++)
            {
                double bx = (matrix[1] * y) + (matrix[2] * z) + offset[0];
                double by = (matrix[4] * y) + (matrix[5] * z) + offset[1];
                double bz = (matrix[7] * y) + (matrix[8] * z) + offset[2];
                for (int x = 0; x < width; x++)
                {
                    double sx = bx + (matrix[0] * x), sy = by + (matrix[3] * x), sz = bz + (matrix[6] * x);
                    int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy), z0 = (int)Math.Floor(sz);
                    double fx = sx - x0, fy = sy - y0, fz = sz - z0;
                    long at = (((long)z * height) + y) * width + x;
                    for (int c = 0; c < channels; c++)
                    {
                        long b = c * plane;
                        float V(int zz, int yy, int xx) => zz < 0 || zz >= depth || yy < 0 || yy >= height || xx < 0 || xx >= width
                            ? fill : src[b + (((long)zz * height) + yy) * width + xx];
                        double c00 = V(z0, y0, x0) + (fx * (V(z0, y0, x0 + 1) - V(z0, y0, x0)));
                        double c10 = V(z0, y0 + 1, x0) + (fx * (V(z0, y0 + 1, x0 + 1) - V(z0, y0 + 1, x0)));
                        double c01 = V(z0 + 1, y0, x0) + (fx * (V(z0 + 1, y0, x0 + 1) - V(z0 + 1, y0, x0)));
                        double c11 = V(z0 + 1, y0 + 1, x0) + (fx * (V(z0 + 1, y0 + 1, x0 + 1) - V(z0 + 1, y0 + 1, x0)));
                        double c0 = c00 + (fy * (c10 - c00)), c1 = c01 + (fy * (c11 - c01));
                        dst[b + at] = (float)(c0 + (fz * (c1 - c0)));
                    }
                }
            }
        });
        return new FloatImage(dst, image.Shape);
    }
}
