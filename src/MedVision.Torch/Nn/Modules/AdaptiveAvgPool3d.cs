namespace MedVision.Torch.Nn;

/// <summary>3-D adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool3d).</summary>
public sealed class AdaptiveAvgPool3d : Module<Tensor, Tensor>
{
    private readonly long[] _output;

    /// <summary>Creates the layer with the same output size along every spatial dimension (1 gives global pooling).</summary>
    public AdaptiveAvgPool3d(long outputSize) : this(Enumerable.Repeat(outputSize, 3).ToArray(), nameof(outputSize))
    {
    }

    /// <summary>Creates the layer with output size (D, H, W) (PyTorch's tuple).</summary>
    public AdaptiveAvgPool3d(long outputDepth, long outputHeight, long outputWidth) : this(new[] { outputDepth, outputHeight, outputWidth }, null)
    {
    }

    private AdaptiveAvgPool3d(long[] output, string? name)
    {
        string[] names = { "outputDepth", "outputHeight", "outputWidth" };
        for (int i = 0; i < output.Length; i++)
            if (output[i] < 1) throw new ArgumentOutOfRangeException(name ?? names[i], output[i], "output sizes must be at least 1");
        _output = output;
    }

    /// <summary>Output size per spatial dimension.</summary>
    public IReadOnlyList<long> OutputSize => _output;

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.AdaptiveAvgPool(input, 3, _output);

    /// <inheritdoc />
    protected override string ExtraRepr() => $"output_size=({string.Join(", ", _output)})";
}
