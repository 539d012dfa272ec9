namespace MedVision.Nets.Transforms;

/// <summary>A spatial axis of an image or volume.</summary>
public enum SpatialAxis
{
    /// <summary>The last axis (left–right).</summary>
    Width,
    /// <summary>The second-to-last axis (top–bottom).</summary>
    Height,
    /// <summary>The depth axis of a volume (D in (C, D, H, W)).</summary>
    Depth,
}
