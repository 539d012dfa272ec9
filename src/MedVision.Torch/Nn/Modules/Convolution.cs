using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// Convolution over 1, 2 or 3 spatial dimensions (the common code of <see cref="Conv1d"/>, <see cref="Conv2d"/> and
/// <see cref="Conv3d"/>). Parameters: weight (C_out, C_in/groups, k…) and optional bias (C_out), initialised as PyTorch does.
/// </summary>
public class Convolution : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public Convolution(int spatialDims, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true)
    {
        if (spatialDims is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "convolutions have 1, 2 or 3 spatial dimensions");
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        ArgumentOutOfRangeException.ThrowIfLessThan(dilation, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"in_channels ({inChannels}) and out_channels ({outChannels}) must both be divisible by groups ({groups}).");
        SpatialDims = spatialDims;
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        var shape = new long[spatialDims + 2];
        shape[0] = outChannels;
        shape[1] = inChannels / groups;
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
    /// <summary>Kernel size (the same along every spatial dimension).</summary>
    public long KernelSize { get; }
    /// <summary>Stride.</summary>
    public long Stride { get; }
    /// <summary>Zero padding on each side.</summary>
    public long Padding { get; }
    /// <summary>Dilation.</summary>
    public long Dilation { get; }
    /// <summary>Groups.</summary>
    public long Groups { get; }
    /// <summary>The weight (C_out, C_in/groups, k…).</summary>
    public Tensor Weight => GetParameter("weight")!;
    /// <summary>The bias (C_out), or null.</summary>
    public Tensor? Bias => GetParameter("bias");

    /// <inheritdoc />
    public override string TypeName => $"Conv{SpatialDims}d";

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
        => Functional.Convolution(input, Weight, Bias, SpatialDims, new[] { Stride }, new[] { Padding }, new[] { Dilation }, Groups);

    /// <inheritdoc />
    protected override string ExtraRepr()
        => string.Create(CultureInfo.InvariantCulture, $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}{(Dilation != 1 ? $", dilation={Dilation}" : "")}{(Groups != 1 ? $", groups={Groups}" : "")}{(Bias is null ? ", bias=False" : "")}");
}
