namespace MedVision.Torch;

/// <summary>The kind of a <see cref="TensorIndex"/>.</summary>
public enum TensorIndexKind
{
    /// <summary>One position: selects and removes the dimension.</summary>
    Single,
    /// <summary>A range of positions with a step.</summary>
    Slice,
    /// <summary>All remaining dimensions (Python's ...).</summary>
    Ellipsis,
    /// <summary>A new dimension of size 1 (Python's None).</summary>
    NewAxis,
}
