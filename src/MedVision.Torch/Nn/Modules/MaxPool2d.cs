namespace MedVision.Torch.Nn;

/// <summary>2-D max pooling (torch.nn.MaxPool2d).</summary>
public sealed class MaxPool2d : Pooling
{
    /// <summary>Creates the layer; arguments in PyTorch's order (stride defaults to the kernel size).</summary>
    public MaxPool2d(long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false)
        : base(true, 2, kernelSize, stride, padding, dilation, ceilMode) { }

    /// <summary>Creates the layer with per-dimension sizes, as PyTorch's tuples: each array holds 2 values or one for all (a null stride is the kernel size).</summary>
    public MaxPool2d(long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null, bool ceilMode = false)
        : base(true, 2, kernelSize, stride, padding, dilation, ceilMode) { }
}
