namespace MedVision.Torch.Nn;

/// <summary>How <see cref="Functional.GridSample"/> reads the input between pixels (PyTorch's <c>mode</c>).</summary>
public enum GridSampleMode
{
    /// <summary>Linear in each spatial dimension: bilinear (2-D) or trilinear (3-D); PyTorch's "bilinear".</summary>
    Bilinear = 0,
    /// <summary>The nearest input pixel; PyTorch's "nearest".</summary>
    Nearest = 1,
    /// <summary>Bicubic (2-D inputs only); PyTorch's "bicubic".</summary>
    Bicubic = 2,
}

/// <summary>What <see cref="Functional.GridSample"/> reads for grid locations outside the input (PyTorch's <c>padding_mode</c>).</summary>
public enum GridPaddingMode
{
    /// <summary>Zero; PyTorch's "zeros".</summary>
    Zeros = 0,
    /// <summary>The nearest border value; PyTorch's "border".</summary>
    Border = 1,
    /// <summary>The input reflected at its border; PyTorch's "reflection".</summary>
    Reflection = 2,
}
