namespace MedVision.Torch.Nn;

/// <summary>3-D adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool3d).</summary>
public sealed class AdaptiveAvgPool3d : AdaptivePooling
{
    /// <summary>Creates the layer with the same output size along every spatial dimension (1 gives global pooling).</summary>
    public AdaptiveAvgPool3d(long outputSize) : base(false, new[] { outputSize, outputSize, outputSize }, nameof(outputSize)) { }

    /// <summary>Creates the layer with output size (D, H, W) (PyTorch's tuple).</summary>
    public AdaptiveAvgPool3d(long outputDepth, long outputHeight, long outputWidth) : base(false, new[] { outputDepth, outputHeight, outputWidth }, null) { }
}
