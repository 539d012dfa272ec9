namespace MedVision.Torch.Nn;

/// <summary>2-D adaptive max pooling to a fixed output size (torch.nn.AdaptiveMaxPool2d).</summary>
public sealed class AdaptiveMaxPool2d : AdaptivePooling
{
    /// <summary>Creates the layer with the same output size along both spatial dimensions (1 gives global pooling).</summary>
    public AdaptiveMaxPool2d(long outputSize) : base(true, new[] { outputSize, outputSize }, nameof(outputSize)) { }

    /// <summary>Creates the layer with output size (H, W) (PyTorch's tuple).</summary>
    public AdaptiveMaxPool2d(long outputHeight, long outputWidth) : base(true, new[] { outputHeight, outputWidth }, null) { }
}
