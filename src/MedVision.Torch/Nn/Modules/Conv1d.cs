namespace MedVision.Torch.Nn;

/// <summary>1-D convolution (torch.nn.Conv1d).</summary>
public sealed class Conv1d : Convolution
{
    /// <summary>Creates the layer; arguments in PyTorch's order.</summary>
    public Conv1d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true)
        : base(1, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias) { }
}
