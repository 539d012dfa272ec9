namespace MedVision.Torch.Nn;

/// <summary>2-D adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d).</summary>
public sealed class AdaptiveAvgPool2d : AdaptivePooling
{
    /// <summary>Creates the layer with the same output size along both spatial dimensions (1 gives global pooling).</summary>
    public AdaptiveAvgPool2d(long outputSize) : base(false, new[] { outputSize, outputSize }, nameof(outputSize)) { }

    /// <summary>Creates the layer with output size (H, W) (PyTorch's tuple).</summary>
    public AdaptiveAvgPool2d(long outputHeight, long outputWidth) : base(false, new[] { outputHeight, outputWidth }, null) { }
}
