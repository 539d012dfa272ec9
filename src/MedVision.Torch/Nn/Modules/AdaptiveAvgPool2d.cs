namespace MedVision.Torch.Nn;

/// <summary>2-D adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d).</summary>
public sealed class AdaptiveAvgPool2d : Module<Tensor, Tensor>
{
    private readonly long[] _output;

    /// <summary>Creates the layer with the same output size along every spatial dimension (1 gives global pooling).</summary>
    public AdaptiveAvgPool2d(long outputSize) : this(Enumerable.Repeat(outputSize, 2).ToArray(), nameof(outputSize))
    {
    }

    /// <summary>Creates the layer with output size (H, W) (PyTorch's tuple).</summary>
    public AdaptiveAvgPool2d(long outputHeight, long outputWidth) : this(new[] { outputHeight, outputWidth }, null)
    {
    }

    private AdaptiveAvgPool2d(long[] output, string? name)
    {
        string[] names = { "outputHeight", "outputWidth" };
        for (int i = 0; i < output.Length; i++)
            if (output[i] < 1) throw new ArgumentOutOfRangeException(name ?? names[i], output[i], "output sizes must be at least 1");
        _output = output;
    }

    /// <summary>Output size per spatial dimension.</summary>
    public IReadOnlyList<long> OutputSize => _output;

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.AdaptiveAvgPool(input, 2, _output);

    /// <inheritdoc />
    protected override string ExtraRepr() => $"output_size=({string.Join(", ", _output)})";
}
