namespace MedVision.Nets.Data.Nifti;

/// <summary>
/// Options for <see cref="NiftiWriter.Write(string, NiftiImage, NiftiWriteOptions?)"/> and
/// <see cref="NiftiWriter.WriteVolumes(string, IReadOnlyList{NiftiImage}, NiftiWriteOptions?)"/>.
/// </summary>
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

    /// <summary>
    /// The header format (default <see cref="NiftiFormat.Nifti1"/>). A NIfTI-1 header holds dimensions up to 32,767
    /// (they are 16-bit): an image with a larger dimension — e.g. 40,000 × 1 × 1 voxels, or more than 32,767 volumes —
    /// is written as <see cref="NiftiFormat.Nifti2"/> whatever this says.
    /// </summary>
    public NiftiFormat Format { get; init; } = NiftiFormat.Nifti1;
}
