namespace MedVision.Nets.Transforms;

/// <summary>Interpolation of <see cref="Resize"/> and of <see cref="Data.Nifti.NiftiImage.Resample"/>/<c>ResampleTo</c>.</summary>
public enum ResizeMode
{
    /// <summary>Nearest neighbour (PyTorch's "nearest": source index floor(dst · in / out)).</summary>
    Nearest,
    /// <summary>Bilinear (2-D) or trilinear (3-D), half-pixel centres (align_corners = false).</summary>
    Linear,
}
