namespace MedVision.Torch.Nn;

/// <summary>2-D transposed convolution (torch.nn.ConvTranspose2d).</summary>
public sealed class ConvTranspose2d : TransposedConvolution
{
    /// <summary>Creates the layer; arguments in PyTorch's order, the same size along every spatial dimension.</summary>
    public ConvTranspose2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, bool bias = true, long dilation = 1)
        : base(2, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation) { }

    /// <summary>
    /// Creates the layer with per-dimension sizes, as PyTorch's tuples (<c>new ConvTranspose2d(16, 8, kernelSize: [2, 2], stride: [2, 2])</c>): each array holds 2
    /// values or one for all; null keeps the default (stride 1, padding 0, output padding 0, dilation 1).
    /// </summary>
    public ConvTranspose2d(long inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? outputPadding = null, long groups = 1, bool bias = true, long[]? dilation = null)
        : base(2, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation) { }
}
