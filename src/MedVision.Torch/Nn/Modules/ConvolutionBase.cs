namespace MedVision.Torch.Nn;

/// <summary>
/// What convolutions and transposed convolutions share: argument checks, hyper-parameters, and the weight and optional
/// bias, initialised as PyTorch does. The weight is (C_out, C_in/groups, k…) for a convolution and
/// (C_in, C_out/groups, k…) for a transposed one.
/// </summary>
public abstract class ConvolutionBase : Module<Tensor, Tensor>
{
    private protected ConvolutionBase(bool transposed, int spatialDims, long inChannels, long outChannels, long kernelSize, long stride, long padding, long dilation, long groups, bool bias, long outputPadding = 0)
    {
        if (spatialDims is < 1 or > 3)
            throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, $"{(transposed ? "transposed convolutions" : "convolutions")} have 1, 2 or 3 spatial dimensions");
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        ArgumentOutOfRangeException.ThrowIfLessThan(dilation, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        if (outputPadding < 0 || (outputPadding > 0 && outputPadding >= stride && outputPadding >= dilation))
            throw new ArgumentOutOfRangeException(nameof(outputPadding), outputPadding, "output padding must be smaller than either stride or dilation");
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
        shape[0] = transposed ? inChannels : outChannels;
        shape[1] = transposed ? outChannels / groups : inChannels / groups;
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
    /// <summary>The weight.</summary>
    public Tensor Weight => GetParameter("weight")!;
    /// <summary>The bias (C_out), or null.</summary>
    public Tensor? Bias => GetParameter("bias");
}
