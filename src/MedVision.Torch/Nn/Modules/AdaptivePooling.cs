namespace MedVision.Torch.Nn;

/// <summary>
/// Adaptive average or max pooling to a fixed output size over 2 or 3 spatial dimensions (the common code of
/// AdaptiveAvgPool2d/3d and AdaptiveMaxPool2d/3d).
/// </summary>
public abstract class AdaptivePooling : Module<Tensor, Tensor>
{
    private static readonly string[] Names2d = { "outputHeight", "outputWidth" };
    private static readonly string[] Names3d = { "outputDepth", "outputHeight", "outputWidth" };
    private readonly long[] _output;

    /// <summary>Checks and keeps the output size; <paramref name="name"/> names the argument of a single size given for all dimensions.</summary>
    private protected AdaptivePooling(bool max, long[] outputSize, string? name)
    {
        var names = outputSize.Length == 2 ? Names2d : Names3d;
        for (int i = 0; i < outputSize.Length; i++)
            if (outputSize[i] < 1) throw new ArgumentOutOfRangeException(name ?? names[i], outputSize[i], "output sizes must be at least 1");
        IsMax = max;
        _output = outputSize;
    }

    /// <summary>True for max pooling, false for average pooling.</summary>
    public bool IsMax { get; }

    /// <summary>Output size per spatial dimension.</summary>
    public IReadOnlyList<long> OutputSize => _output;

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => IsMax
        ? Functional.AdaptiveMaxPool(input, _output.Length, _output)
        : Functional.AdaptiveAvgPool(input, _output.Length, _output);

    /// <inheritdoc />
    protected override string ExtraRepr() => $"output_size=({string.Join(", ", _output)})";
}
