namespace MedVision.Torch.Nn;

/// <summary>3-D adaptive max pooling to a fixed output size (torch.nn.AdaptiveMaxPool3d).</summary>
public sealed class AdaptiveMaxPool3d : AdaptivePooling
{
    /// <summary>Creates the layer with the same output size along every spatial dimension (1 gives global pooling).</summary>
    public AdaptiveMaxPool3d(long outputSize) : base(true, new[] { outputSize, outputSize, outputSize }, nameof(outputSize)) { }

    /// <summary>Creates the layer with output size (D, H, W) (PyTorch's tuple).</summary>
    public AdaptiveMaxPool3d(long outputDepth, long outputHeight, long outputWidth) : base(true, new[] { outputDepth, outputHeight, outputWidth }, null) { }
}
