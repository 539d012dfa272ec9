namespace MedVision.Torch.Nn;

/// <summary>2-D transposed convolution (torch.nn.ConvTranspose2d).</summary>
public sealed class ConvTranspose2d : TransposedConvolution
{
    /// <summary>Creates the layer; arguments in PyTorch's order.</summary>
    public ConvTranspose2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, bool bias = true, long dilation = 1)
        : base(2, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation) { }
}
