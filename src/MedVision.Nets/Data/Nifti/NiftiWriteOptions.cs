namespace MedVision.Nets.Data.Nifti;

/// <summary>Options for <see cref="NiftiWriter.Write(string, NiftiImage, NiftiWriteOptions?)"/>.</summary>
public sealed class NiftiWriteOptions
{
    /// <summary>The stored voxel type (default <see cref="NiftiDataType.Float32"/>).</summary>
    public NiftiDataType DataType { get; init; } = NiftiDataType.Float32;

    /// <summary>
    /// <c>scl_slope</c> written to the header; 0 (the default) means no scaling. When non-zero, stored values are
    /// (value − <see cref="Intercept"/>) / slope, rounded for integer types.
    /// </summary>
    public float Slope { get; init; }

    /// <summary><c>scl_inter</c> written to the header (used only when <see cref="Slope"/> is non-zero).</summary>
    public float Intercept { get; init; }

    /// <summary>Write a big-endian file instead of little-endian.</summary>
    public bool BigEndian { get; init; }
}
