namespace MedVision.Torch.Nn;

/// <summary>How <see cref="Functional.Pad"/> fills the border.</summary>
public enum PaddingMode
{
    /// <summary>A constant value.</summary>
    Constant = 0,
    /// <summary>Reflection of the input, not repeating the edge.</summary>
    Reflect = 1,
    /// <summary>Repetition of the edge value.</summary>
    Replicate = 2,
    /// <summary>Wrap-around.</summary>
    Circular = 3,
}
