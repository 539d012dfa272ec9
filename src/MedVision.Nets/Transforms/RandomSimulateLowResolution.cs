namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, simulates a scan of lower resolution (MONAI's
/// <c>RandSimulateLowResolution</c>, after nnU-Net's <c>SimulateLowResolutionTransform</c>, with their defaults): the image
/// is resized by a zoom factor drawn from [<see cref="ZoomMin"/>, <see cref="ZoomMax"/>] — every spatial axis to
/// max(1, round(size · zoom)), rounding halves to even as NumPy does — with nearest-neighbour sampling, then back to its
/// size with (bi/tri)linear interpolation (PyTorch's <c>interpolate</c>, <c>align_corners=False</c>). Trains a network
/// to tolerate thicker slices and blurrier scans than the training data has. 2-D images and volumes; every call draws the
/// same values whether or not it applies.
/// </summary>
public sealed class RandomSimulateLowResolution : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="zoomMin">Smallest zoom factor (above 0, at most 1).</param>
    /// <param name="zoomMax">Largest zoom factor (at least <paramref name="zoomMin"/>, at most 1).</param>
    /// <param name="probability">Chance that an image is changed (0 to 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomSimulateLowResolution(double zoomMin = 0.5, double zoomMax = 1.0, double probability = 0.1)
    {
        (ZoomMin, ZoomMax) = TransformArguments.Range(zoomMin, zoomMax, nameof(zoomMin), nameof(zoomMax), 0, exclusive: true, "zoom factor");
        if (ZoomMax > 1) throw new ArgumentOutOfRangeException(nameof(zoomMax), zoomMax, "The largest zoom factor must be at most 1: a lower resolution is simulated by shrinking.");
        Probability = TransformArguments.Probability(probability);
    }

    /// <summary>Smallest zoom factor.</summary>
    public double ZoomMin { get; }

    /// <summary>Largest zoom factor.</summary>
    public double ZoomMax { get; }

    /// <summary>Chance that an image is changed.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        double zoom = TransformArguments.Uniform(random, ZoomMin, ZoomMax);
        return apply ? Simulate(image, zoom) : image;
    }

    /// <summary>The image shrunk by <paramref name="zoom"/> (nearest) and brought back to its size (linear); a new image unless nothing changes.</summary>
    internal static FloatImage Simulate(FloatImage image, double zoom)
    {
        static int Shrunk(int size, double zoom) => Math.Max(1, (int)Math.Round(size * zoom, MidpointRounding.ToEven));
        var down = image.IsVolume
            ? new Resize(Shrunk(image.Depth, zoom), Shrunk(image.Height, zoom), Shrunk(image.Width, zoom), ResizeMode.Nearest)
            : new Resize(Shrunk(image.Height, zoom), Shrunk(image.Width, zoom), ResizeMode.Nearest);
        var up = image.IsVolume ? new Resize(image.Depth, image.Height, image.Width, ResizeMode.Linear) : new Resize(image.Height, image.Width, ResizeMode.Linear);
        var random = new Random(0); // Resize draws nothing
        return up.Apply(down.Apply(image, random), random);
    }
}
