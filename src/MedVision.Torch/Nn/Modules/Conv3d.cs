namespace MedVision.Torch.Nn;

/// <summary>3-D convolution (torch.nn.Conv3d).</summary>
public sealed class Conv3d : Convolution
{
    /// <summary>Creates the layer; arguments in PyTorch's order.</summary>
    public Conv3d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true)
        : base(3, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias) { }
}
