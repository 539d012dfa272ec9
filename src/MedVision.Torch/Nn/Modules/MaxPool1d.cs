namespace MedVision.Torch.Nn;

/// <summary>1-D max pooling (torch.nn.MaxPool1d).</summary>
public sealed class MaxPool1d : Pooling
{
    /// <summary>Creates the layer; arguments in PyTorch's order (stride defaults to the kernel size).</summary>
    public MaxPool1d(long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false)
        : base(true, 1, kernelSize, stride, padding, dilation, ceilMode) { }
}
