namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, adds Rician noise — the noise of magnitude MR images, made by taking the
/// magnitude of complex data with Gaussian noise in both channels — as MONAI's <c>RandRicianNoise</c> does, with its
/// defaults: every value v becomes √((v + n₁)² + n₂²), n₁ and n₂ drawn from N(<see cref="Mean"/>, s²), s drawn from
/// [0, <see cref="Std"/>] (or s = <see cref="Std"/> without <see cref="SampleStd"/>), times the standard deviation of the
/// image's values (PyTorch's, n − 1) when <see cref="Relative"/>; one s for the whole image, or one per channel when
/// <see cref="ChannelWise"/>. The result is never negative. 2-D images and volumes; in place; every call draws the same
/// values from the random source given whether or not it applies (the noise itself comes from a generator seeded by one
/// of them).
/// </summary>
public sealed class RandomRicianNoise : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">Chance that an image is changed (0 to 1).</param>
    /// <param name="mean">Mean of the two Gaussian noises (finite).</param>
    /// <param name="std">Their standard deviation, or the largest one drawn (non-negative, finite).</param>
    /// <param name="channelWise">A spread (and, with <paramref name="relative"/>, a standard deviation of the values) per channel.</param>
    /// <param name="relative">Multiply the spread by the standard deviation of the image's (or channel's) values.</param>
    /// <param name="sampleStd">Draw the spread uniformly from [0, <paramref name="std"/>] instead of using <paramref name="std"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomRicianNoise(double probability = 0.1, double mean = 0, double std = 1, bool channelWise = false, bool relative = false, bool sampleStd = true)
    {
        Probability = TransformArguments.Probability(probability);
        if (!double.IsFinite(mean)) throw new ArgumentOutOfRangeException(nameof(mean), mean, "The mean must be a finite number.");
        if (!(std >= 0) || !double.IsFinite(std)) throw new ArgumentOutOfRangeException(nameof(std), std, "The standard deviation must be non-negative and finite.");
        Mean = mean;
        Std = std;
        ChannelWise = channelWise;
        Relative = relative;
        SampleStd = sampleStd;
    }

    /// <summary>Chance that an image is changed.</summary>
    public double Probability { get; }

    /// <summary>Mean of the two Gaussian noises.</summary>
    public double Mean { get; }

    /// <summary>Their standard deviation, or the largest one drawn.</summary>
    public double Std { get; }

    /// <summary>Whether each channel gets its own spread.</summary>
    public bool ChannelWise { get; }

    /// <summary>Whether the spread is relative to the standard deviation of the values.</summary>
    public bool Relative { get; }

    /// <summary>Whether the spread is drawn from [0, <see cref="Std"/>].</summary>
    public bool SampleStd { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        var spreads = new double[ChannelWise ? image.Channels : 1];
        for (int g = 0; g < spreads.Length; g++) spreads[g] = SampleStd ? TransformArguments.Uniform(random, 0, Std) : Std;
        int noiseSeed = random.Next();
        if (!apply) return image;
        var noise = new Random(noiseSeed);
        int size = image.Data.Length / spreads.Length;
        for (int g = 0; g < spreads.Length; g++)
        {
            var part = image.Data.AsSpan(g * size, size);
            double spread = Relative ? spreads[g] * StandardDeviation(part) : spreads[g];
            AddNoise(part, Mean, spread, noise);
        }
        return image;
    }

    /// <summary>
    /// v → √((v + n₁)² + n₂²) with n₁, n₂ ~ N(<paramref name="mean"/>, <paramref name="spread"/>²), in place: in chunks of
    /// 65,536 values on all cores, each chunk's noise from a generator seeded by <paramref name="noise"/> in chunk order,
    /// so that the result does not depend on the number of threads.
    /// </summary>
    internal static void AddNoise(Span<float> values, double mean, double spread, Random noise)
    {
        const int Chunk = 65536;
        int chunks = (values.Length + Chunk - 1) / Chunk;
        var seeds = new int[chunks];
        for (int c = 0; c < chunks; c++) seeds[c] = noise.Next();
        unsafe
        {
            fixed (float* start = values)
            {
                float* at = start; // a pointer, since a span cannot enter the lambda
                int length = values.Length;
                Parallel.For(0, chunks, c =>
                {
                    int from = c * Chunk;
                    AddNoiseSequentially(new Span<float>(at + from, Math.Min(Chunk, length - from)), mean, spread, new Random(seeds[c]));
                });
            }
        }
    }

    private static void AddNoiseSequentially(Span<float> values, double mean, double spread, Random noise)
    {
        for (int i = 0; i < values.Length; i++)
        {
            var (first, second) = TransformArguments.NormalPair(noise);
            double real = values[i] + mean + (spread * first);
            double imaginary = mean + (spread * second);
            values[i] = (float)Math.Sqrt((real * real) + (imaginary * imaginary));
        }
    }

    // PyTorch's Tensor.std(): the sample standard deviation (n − 1); 0 for fewer than two values.
    private static double StandardDeviation(ReadOnlySpan<float> values)
    {
        if (values.Length < 2) return 0;
        double mean = 0;
        foreach (var v in values) mean += v;
        mean /= values.Length;
        double sum = 0;
        foreach (var v in values) sum += (v - mean) * (v - mean);
        return Math.Sqrt(sum / (values.Length - 1));
    }
}
