using System.Runtime.CompilerServices;

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

    /// <summary>
    /// The steps, one a line, each with its settings as its public properties give them, e.g.
    /// <c>RandomAffine(Degrees: 15, Scale: 0.1, Translate: 0.05, Probability: 0.5, Fill: 0)</c>: a summary for logs and
    /// run reports, as a model's layer summary is. A step of your own shows its properties the same way (or its
    /// <see cref="object.ToString"/> when it overrides it).
    /// </summary>
    public string Describe() => Steps.Count == 0 ? "(identity)" : string.Join(Environment.NewLine, Steps.Select((step, i) => $"{i + 1}. {DescribeStep(step)}"));

    /// <summary>One step as its type and its settings.</summary>
    internal static string DescribeStep(ITransform step)
    {
        var type = step.GetType();
        if (step is TransformPipeline nested) return $"TransformPipeline({nested.Steps.Count} steps: {string.Join(", ", nested.Steps.Select(DescribeStep))})";
        if (type.GetMethod(nameof(ToString), Type.EmptyTypes)!.DeclaringType != typeof(object)) return step.ToString()!;
        var settings = type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0)
            .Select(p => $"{p.Name}: {Format(p.GetValue(step))}");
        return $"{type.Name}({string.Join(", ", settings)})";
    }

    private static string Format(object? value) => value switch
    {
        null => "none",
        string text => text,
        double d => d.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
        float f => f.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Format)) + "]",
        ITuple tuple => "(" + string.Join(", ", Enumerable.Range(0, tuple.Length).Select(i => Format(tuple[i]))) + ")",
        _ => value.ToString() ?? value.GetType().Name,
    };

    /// <inheritdoc />
    public override string ToString() => $"TransformPipeline({Steps.Count} steps)";

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
