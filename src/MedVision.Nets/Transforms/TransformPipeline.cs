namespace MedVision.Nets.Transforms;

/// <summary>
/// An ordered, composable list of transforms, deterministic under a seed. Build one fluently:
/// <code>var train = TransformPipeline.Create().RandomHorizontalFlip().RandomRotation(10).Normalize(0.5, 0.5).Build();</code>
/// </summary>
public sealed class TransformPipeline : ITransform
{
    internal TransformPipeline(IReadOnlyList<ITransform> steps) => Steps = steps;

    /// <summary>The steps in order.</summary>
    public IReadOnlyList<ITransform> Steps { get; }

    /// <summary>An empty pipeline (identity).</summary>
    public static TransformPipeline Identity { get; } = new(Array.Empty<ITransform>());

    /// <summary>Starts a pipeline.</summary>
    public static TransformPipelineBuilder Create() => new();

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        foreach (var step in Steps) image = step.Apply(image, random);
        return image;
    }

    /// <summary>Applies the pipeline with a generator seeded from (seed, epoch, index), so every sample's augmentation is reproducible and independent of loading order and threads.</summary>
    public FloatImage Apply(FloatImage image, int seed, int epoch, int index)
        => Apply(image, new Random(SampleSeed(seed, epoch, index)));

    /// <summary>A deterministic per-sample seed (SplitMix64 of seed, epoch and index; stable across processes and platforms).</summary>
    public static int SampleSeed(int seed, int epoch, int index)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)epoch * 0xC2B2AE3D27D4EB4FUL ^ (ulong)(uint)index * 0x165667B19E3779F9UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
