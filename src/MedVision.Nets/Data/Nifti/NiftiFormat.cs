namespace MedVision.Nets.Data.Nifti;

/// <summary>The header format that <see cref="NiftiWriter"/> writes (see <see cref="NiftiWriteOptions.Format"/>).</summary>
public enum NiftiFormat
{
    /// <summary>
    /// NIfTI-1: the 348-byte header (magic <c>n+1</c>) with 16-bit dimensions and single-precision voxel sizes, scaling
    /// and affines, which every NIfTI tool reads. An image with a dimension over 32,767 is written as
    /// <see cref="Nifti2"/> instead, since NIfTI-1 cannot hold it.
    /// </summary>
    Nifti1 = 1,

    /// <summary>
    /// NIfTI-2: the 540-byte header (magic <c>n+2</c>) with 64-bit dimensions and double-precision voxel sizes, scaling
    /// and affines, as nibabel's <c>Nifti2Image</c> writes it.
    /// </summary>
    Nifti2 = 2,
}
