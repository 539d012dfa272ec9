namespace MedVision.Torch.Nn;

/// <summary>3-D average pooling (torch.nn.AvgPool3d).</summary>
public sealed class AvgPool3d : Pooling
{
    /// <summary>Creates the layer; arguments in PyTorch's order (stride defaults to the kernel size).</summary>
    public AvgPool3d(long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true)
        : base(false, 3, kernelSize, stride, padding, 1, ceilMode, countIncludePad) { }

    /// <summary>Creates the layer with per-dimension sizes, as PyTorch's tuples: each array holds 3 values or one for all (a null stride is the kernel size).</summary>
    public AvgPool3d(long[] kernelSize, long[]? stride = null, long[]? padding = null, bool ceilMode = false, bool countIncludePad = true)
        : base(false, 3, kernelSize, stride, padding, null, ceilMode, countIncludePad) { }
}
