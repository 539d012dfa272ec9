namespace MedVision.Torch.Nn;

/// <summary>3-D transposed convolution (torch.nn.ConvTranspose3d).</summary>
public sealed class ConvTranspose3d : TransposedConvolution
{
    /// <summary>Creates the layer; arguments in PyTorch's order.</summary>
    public ConvTranspose3d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, bool bias = true, long dilation = 1)
        : base(3, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation) { }
}
