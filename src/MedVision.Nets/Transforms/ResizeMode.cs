namespace MedVision.Nets.Transforms;

/// <summary>Resampling of <see cref="Resize"/>.</summary>
public enum ResizeMode
{
    /// <summary>Nearest neighbour (PyTorch's "nearest": source index floor(dst · in / out)).</summary>
    Nearest,
    /// <summary>Bilinear (2-D) or trilinear (3-D), half-pixel centres (align_corners = false).</summary>
    Linear,
}
