namespace MedVision.Torch.Nn;

/// <summary>1-D average pooling (torch.nn.AvgPool1d).</summary>
public sealed class AvgPool1d : Pooling
{
    /// <summary>Creates the layer; arguments in PyTorch's order (stride defaults to the kernel size).</summary>
    public AvgPool1d(long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true)
        : base(false, 1, kernelSize, stride, padding, 1, ceilMode, countIncludePad) { }
}
