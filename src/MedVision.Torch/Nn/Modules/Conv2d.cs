namespace MedVision.Torch.Nn;

/// <summary>2-D convolution (torch.nn.Conv2d).</summary>
public sealed class Conv2d : Convolution
{
    /// <summary>Creates the layer; arguments in PyTorch's order.</summary>
    public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true)
        : base(2, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias) { }
}
