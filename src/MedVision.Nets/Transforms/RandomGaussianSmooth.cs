namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, blurs the image with a Gaussian whose standard deviation (in voxels) is
/// drawn for each spatial axis from [<see cref="SigmaMin"/>, <see cref="SigmaMax"/>] (MONAI's <c>RandGaussianSmooth</c>
/// with its defaults and its kernel: the Gaussian integrated over each voxel (the "erf" form), truncated at 4σ, not
/// renormalised, zero outside the image), each channel on its own. Simulates scans of lower resolution. 2-D images and
/// volumes; every call draws the same values whether or not it applies.
/// </summary>
public sealed class RandomGaussianSmooth : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="sigmaMin">Smallest standard deviation, in voxels (positive).</param>
    /// <param name="sigmaMax">Largest standard deviation (at least <paramref name="sigmaMin"/>, at most 100).</param>
    /// <param name="probability">Chance that an image is blurred (0 to 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomGaussianSmooth(double sigmaMin = 0.25, double sigmaMax = 1.5, double probability = 0.1)
    {
        (SigmaMin, SigmaMax) = TransformArguments.Range(sigmaMin, sigmaMax, nameof(sigmaMin), nameof(sigmaMax), 0, exclusive: true, "standard deviation");
        if (sigmaMax > 100) throw new ArgumentOutOfRangeException(nameof(sigmaMax), sigmaMax, "The largest standard deviation must be at most 100 voxels.");
        Probability = TransformArguments.Probability(probability);
    }

    /// <summary>Smallest standard deviation, in voxels.</summary>
    public double SigmaMin { get; }

    /// <summary>Largest standard deviation, in voxels.</summary>
    public double SigmaMax { get; }

    /// <summary>Chance that an image is blurred.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        var sigmas = Enumerable.Range(0, image.IsVolume ? 3 : 2).Select(_ => TransformArguments.Uniform(random, SigmaMin, SigmaMax)).ToArray();
        return apply ? Smooth(image, sigmas) : image;
    }

    /// <summary>MONAI's <c>gaussian_1d(sigma, truncated, approx="erf", normalize=False)</c> (<c>truncated</c> standard deviations each side).</summary>
    internal static double[] Kernel(double sigma, double truncated = 4.0)
    {
        int tail = (int)(Math.Max(sigma * truncated, 0.5) + 0.5);
        double t = 0.70710678 / Math.Abs(sigma);
        // erf at the voxel edges t·(x ± 0.5), x = −tail … tail: the 2·tail + 2 edges −tail − 0.5 … tail + 0.5 (libtorch's erf, float64).
        var edges = Enumerable.Range(0, (2 * tail) + 2).Select(e => t * (e - tail - 0.5)).ToArray();
        using var edgeTensor = MedVision.Torch.Tensors.FromArray(edges);
        using var erf = edgeTensor.Erf();
        var values = erf.ToArray<double>();
        var kernel = new double[(2 * tail) + 1];
        for (int x = 0; x < kernel.Length; x++) kernel[x] = Math.Max(0, 0.5 * (values[x + 1] - values[x]));
        return kernel;
    }

    /// <summary>
    /// Filters every channel along each spatial axis (array order: D, H, W or H, W) with its sigma, in float32 as MONAI's
    /// convolutions do; a new image. Each tap is a scaled, vectorised add of a shifted row (or plane) onto the output, so
    /// that the memory is read in order along every axis.
    /// </summary>
    internal static FloatImage Smooth(FloatImage image, IReadOnlyList<double> sigmas, double truncated = 4.0)
    {
        int[] spatial = image.IsVolume ? [image.Depth, image.Height, image.Width] : [image.Height, image.Width];
        if (sigmas.Count != spatial.Length) throw new ArgumentException($"Give one sigma per spatial axis ({spatial.Length}), not {sigmas.Count}.", nameof(sigmas));
        var current = (float[])image.Data.Clone();
        var next = new float[current.Length];
        int plane = image.PlaneSize;
        for (int axis = 0; axis < spatial.Length; axis++)
        {
            var kernel = Array.ConvertAll(Kernel(sigmas[axis], truncated), k => (float)k);
            int tail = kernel.Length / 2, size = spatial[axis];
            int stride = 1;
            for (int a = axis + 1; a < spatial.Length; a++) stride *= spatial[a];
            // A block is one line along the axis for each of the `stride` positions after it: size · stride values from
            // (c · plane) + (block · size · stride); the (channel, block) pairs are independent and run in parallel.
            int blocks = plane / (size * stride);
            var (input, output) = (current, next);
            Parallel.For(0, image.Channels * blocks, pair =>
            {
                int first = ((pair / blocks) * plane) + ((pair % blocks) * size * stride);
                var source = input.AsSpan(first, size * stride);
                var target = output.AsSpan(first, size * stride);
                target.Clear();
                for (int t = 0; t < kernel.Length; t++)
                {
                    // out[n] += k[t] · in[n + t − tail] for the n whose neighbour lies inside the axis (zero outside).
                    int shift = t - tail, from = Math.Max(0, -shift), to = Math.Min(size, size - shift);
                    if (to > from) AddScaled(kernel[t], source.Slice((from + shift) * stride, (to - from) * stride), target.Slice(from * stride, (to - from) * stride));
                }
            });
            (current, next) = (next, current);
        }
        return new FloatImage(current, (int[])image.Shape.Clone());
    }

    // target += weight · source, element by element (same lengths).
    private static void AddScaled(float weight, ReadOnlySpan<float> source, Span<float> target)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var w = new System.Numerics.Vector<float>(weight);
            int width = System.Numerics.Vector<float>.Count;
            for (; i <= source.Length - width; i += width)
                (new System.Numerics.Vector<float>(target[i..]) + (w * new System.Numerics.Vector<float>(source[i..]))).CopyTo(target[i..]);
        }
        for (; i < source.Length; i++) target[i] += weight * source[i];
    }
}
