namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, deforms the image elastically (Simard et al., 2003; MONAI's
/// <c>Rand3DElastic</c>, for volumes and 2-D images alike): a random displacement per voxel and axis, drawn uniformly from
/// [−1, 1], smoothed by a Gaussian of standard deviation σ from [<see cref="SigmaMin"/>, <see cref="SigmaMax"/>] voxels
/// (MONAI's erf kernel truncated at 3σ, zero outside) and multiplied by a magnitude from
/// [<see cref="MagnitudeMin"/>, <see cref="MagnitudeMax"/>]; every output voxel then takes the image at its own position
/// plus its displacement (in voxels), trilinear (bilinear for 2-D), positions beyond the border reflected back into
/// the image (MONAI's defaults: grid_sample's "bilinear" and "reflection" without aligned corners). Smoothing flattens
/// the noise, so magnitudes are large: MONAI's examples use σ from 5 to 8 and magnitudes from 100 to 200 for 3-D scans.
/// Every call draws the same number of values from the random source whether or not it applies (the field comes from a
/// generator seeded by one of them).
/// </summary>
public sealed class RandomElasticDeformation : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="sigmaMin">Smallest standard deviation of the smoothing, in voxels (positive).</param>
    /// <param name="sigmaMax">Largest standard deviation (at least <paramref name="sigmaMin"/>, at most 100).</param>
    /// <param name="magnitudeMin">Smallest magnitude (non-negative).</param>
    /// <param name="magnitudeMax">Largest magnitude (at least <paramref name="magnitudeMin"/>).</param>
    /// <param name="probability">Chance that an image is deformed (0 to 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomElasticDeformation(double sigmaMin, double sigmaMax, double magnitudeMin, double magnitudeMax, double probability = 0.1)
    {
        (SigmaMin, SigmaMax) = TransformArguments.Range(sigmaMin, sigmaMax, nameof(sigmaMin), nameof(sigmaMax), 0, exclusive: true, "standard deviation");
        if (sigmaMax > 100) throw new ArgumentOutOfRangeException(nameof(sigmaMax), sigmaMax, "The largest standard deviation must be at most 100 voxels.");
        (MagnitudeMin, MagnitudeMax) = TransformArguments.Range(magnitudeMin, magnitudeMax, nameof(magnitudeMin), nameof(magnitudeMax), 0, exclusive: false, "magnitude");
        Probability = TransformArguments.Probability(probability);
    }

    /// <summary>Smallest standard deviation of the smoothing, in voxels.</summary>
    public double SigmaMin { get; }

    /// <summary>Largest standard deviation of the smoothing, in voxels.</summary>
    public double SigmaMax { get; }

    /// <summary>Smallest magnitude.</summary>
    public double MagnitudeMin { get; }

    /// <summary>Largest magnitude.</summary>
    public double MagnitudeMax { get; }

    /// <summary>Chance that an image is deformed.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        double sigma = TransformArguments.Uniform(random, SigmaMin, SigmaMax);
        double magnitude = TransformArguments.Uniform(random, MagnitudeMin, MagnitudeMax);
        int fieldSeed = random.Next();
        if (!apply) return image;
        return Warp(image, Displacement(image, sigma, magnitude, new Random(fieldSeed)));
    }

    /// <summary>
    /// The displacement field (one (1, D, H, W) or (1, H, W) plane per spatial axis, in array order, stacked as
    /// channels) of uniform noise smoothed by σ (truncated at 3σ) and multiplied by <paramref name="magnitude"/>.
    /// </summary>
    internal static FloatImage Displacement(FloatImage image, double sigma, double magnitude, Random random)
    {
        int rank = image.IsVolume ? 3 : 2;
        var noise = FloatImage.Allocate("RandomElasticDeformation", rank, image.PlaneSize);
        for (int i = 0; i < noise.Length; i++) noise[i] = (float)((random.NextDouble() * 2) - 1);
        int[] shape = image.IsVolume ? [rank, image.Depth, image.Height, image.Width] : [rank, image.Height, image.Width];
        var smoothed = RandomGaussianSmooth.Smooth(new FloatImage(noise, shape), Enumerable.Repeat(sigma, rank).ToArray(), truncated: 3.0);
        var data = smoothed.Data;
        for (int i = 0; i < data.Length; i++) data[i] = (float)(data[i] * magnitude);
        return smoothed;
    }

    /// <summary>
    /// Every voxel of <paramref name="image"/> taken at its position plus <paramref name="displacement"/> (a channel per
    /// spatial axis in array order, in voxels): trilinear, positions reflected at the border (torch's grid_sample, mode
    /// "bilinear", padding "reflection", align_corners=False). A new image.
    /// </summary>
    internal static FloatImage Warp(FloatImage image, FloatImage displacement)
    {
        int rank = image.IsVolume ? 3 : 2;
        if (displacement.Channels != rank || displacement.PlaneSize != image.PlaneSize)
            throw new ArgumentException($"The displacement must have one channel per spatial axis ({rank}) over the image's {image.PlaneSize} voxels.", nameof(displacement));
        int channels = image.Channels, depth = image.Depth, height = image.Height, width = image.Width, plane = image.PlaneSize;
        var src = image.Data;
        var move = displacement.Data;
        var dst = FloatImage.Allocate("RandomElasticDeformation", image.Shape);
        Parallel.For(0, depth, z =>
        {
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int at = (((z * height) + y) * width) + x;
                    double sz = rank == 3 ? Reflect(z + move[at], depth) : 0;
                    double sy = Reflect(y + move[((rank - 2) * plane) + at], height);
                    double sx = Reflect(x + move[((rank - 1) * plane) + at], width);
                    int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy), z0 = (int)Math.Floor(sz);
                    double fx = sx - x0, fy = sy - y0, fz = sz - z0;
                    // Corners beyond the last voxel have weight 0 (the position was clamped to it); read them as 0.
                    int x1 = Math.Min(x0 + 1, width - 1), y1 = Math.Min(y0 + 1, height - 1), z1 = Math.Min(z0 + 1, depth - 1);
                    for (int c = 0; c < channels; c++)
                    {
                        int b = c * plane;
                        float V(int zz, int yy, int xx) => src[b + (((zz * height) + yy) * width) + xx];
                        double c00 = V(z0, y0, x0) + (fx * (V(z0, y0, x1) - V(z0, y0, x0)));
                        double c10 = V(z0, y1, x0) + (fx * (V(z0, y1, x1) - V(z0, y1, x0)));
                        double c01 = V(z1, y0, x0) + (fx * (V(z1, y0, x1) - V(z1, y0, x0)));
                        double c11 = V(z1, y1, x0) + (fx * (V(z1, y1, x1) - V(z1, y1, x0)));
                        double c0 = c00 + (fy * (c10 - c00)), c1 = c01 + (fy * (c11 - c01));
                        dst[b + at] = (float)(c0 + (fz * (c1 - c0)));
                    }
                }
        });
        return new FloatImage(dst, (int[])image.Shape.Clone());
    }

    // torch's reflect_coordinates for align_corners=False: reflected at −0.5 and size − 0.5 (span = size), then clamped
    // to the voxel centres [0, size − 1].
    private static double Reflect(double position, int size)
    {
        if (!double.IsFinite(position)) return 0;
        double distance = Math.Abs(position + 0.5);
        double extra = distance % size;
        bool even = Math.Floor(distance / size) % 2 == 0;
        double reflected = even ? extra - 0.5 : size - extra - 0.5;
        return Math.Clamp(reflected, 0, size - 1);
    }
}
