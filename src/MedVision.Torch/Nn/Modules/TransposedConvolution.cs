using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>Transposed convolution over 1, 2 or 3 spatial dimensions; weight (C_in, C_out/groups, k…).</summary>
public class TransposedConvolution : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public TransposedConvolution(int spatialDims, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, bool bias = true, long dilation = 1)
    {
        if (spatialDims is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "transposed convolutions have 1, 2 or 3 spatial dimensions");
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        if (outputPadding < 0 || (outputPadding >= stride && outputPadding >= dilation))
            throw new ArgumentOutOfRangeException(nameof(outputPadding), outputPadding, "output padding must be smaller than either stride or dilation");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"in_channels ({inChannels}) and out_channels ({outChannels}) must both be divisible by groups ({groups}).");
        SpatialDims = spatialDims;
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        OutputPadding = outputPadding;
        Groups = groups;
        Dilation = dilation;
        var shape = new long[spatialDims + 2];
        shape[0] = inChannels;
        shape[1] = outChannels / groups;
        for (int i = 2; i < shape.Length; i++) shape[i] = kernelSize;
        var w = RegisterParameter("weight", Tensors.Empty(shape))!;
        var b = RegisterParameter("bias", bias ? Tensors.Empty(new[] { outChannels }) : null);
        Init.DefaultLinearOrConv(w, b);
    }

    /// <summary>Number of spatial dimensions.</summary>
    public int SpatialDims { get; }
    /// <summary>Input channels.</summary>
    public long InChannels { get; }
    /// <summary>Output channels.</summary>
    public long OutChannels { get; }
    /// <summary>Kernel size.</summary>
    public long KernelSize { get; }
    /// <summary>Stride.</summary>
    public long Stride { get; }
    /// <summary>Padding.</summary>
    public long Padding { get; }
    /// <summary>Extra size added to one side of the output.</summary>
    public long OutputPadding { get; }
    /// <summary>Groups.</summary>
    public long Groups { get; }
    /// <summary>Dilation.</summary>
    public long Dilation { get; }
    /// <summary>The weight (C_in, C_out/groups, k…).</summary>
    public Tensor Weight => GetParameter("weight")!;
    /// <summary>The bias, or null.</summary>
    public Tensor? Bias => GetParameter("bias");

    /// <inheritdoc />
    public override string TypeName => $"ConvTranspose{SpatialDims}d";

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
        => Functional.ConvTranspose(input, Weight, Bias, SpatialDims, new[] { Stride }, new[] { Padding }, new[] { OutputPadding }, Groups, new[] { Dilation });

    /// <inheritdoc />
    protected override string ExtraRepr()
        => string.Create(CultureInfo.InvariantCulture, $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}, output_padding={OutputPadding}");
}
