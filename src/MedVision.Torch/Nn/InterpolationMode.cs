namespace MedVision.Torch.Nn;

/// <summary>Resampling used by <see cref="Functional.Interpolate(Tensor, long[], InterpolationMode, bool)"/>.</summary>
public enum InterpolationMode
{
    /// <summary>Nearest neighbour (PyTorch's "nearest").</summary>
    Nearest = 0,
    /// <summary>Linear in each spatial dimension: linear (1-D), bilinear (2-D) or trilinear (3-D).</summary>
    Linear = 1,
    /// <summary>Bicubic (2-D only).</summary>
    Bicubic = 2,
    /// <summary>Area averaging (adaptive average pooling).</summary>
    Area = 3,
}
