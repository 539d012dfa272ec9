namespace MedVision.Torch.Nn;

/// <summary>3-D convolution (torch.nn.Conv3d).</summary>
public sealed class Conv3d : Convolution
{
    /// <summary>Creates the layer; arguments in PyTorch's order, the same size along every spatial dimension.</summary>
    public Conv3d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Constant)
        : base(3, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, paddingMode) { }

    /// <summary>
    /// Creates the layer with per-dimension sizes, as PyTorch's tuples (<c>new Conv3d(1, 8, kernelSize: [3, 3, 1], padding: [1, 1, 0])</c>): each
    /// array holds 3 values or one for all; null keeps the default (stride 1, padding 0, dilation 1).
    /// </summary>
    public Conv3d(long inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null, long groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Constant)
        : base(3, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, paddingMode) { }
}
