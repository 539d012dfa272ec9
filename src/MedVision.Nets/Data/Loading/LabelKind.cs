namespace MedVision.Nets.Data.Loading;

/// <summary>How a batch's labels become a tensor.</summary>
public enum LabelKind
{
    /// <summary>Class indices, int64, shape (N): for cross-entropy (binary, multi-class, ordinal tasks).</summary>
    ClassIndex,
    /// <summary>0/1 targets, float32, shape (N, L): for BCE-with-logits on multi-label tasks.</summary>
    MultiLabel,
}
