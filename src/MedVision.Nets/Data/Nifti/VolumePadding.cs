namespace MedVision.Nets.Data.Nifti;

/// <summary>The value a resampled volume (<see cref="NiftiImage.Resample"/>, <see cref="NiftiImage.ResampleTo(NiftiImage, Transforms.ResizeMode, VolumePadding)"/>) gets where it samples outside the source volume.</summary>
public enum VolumePadding
{
    /// <summary>
    /// The nearest voxel of the source volume (its edge extended outwards): MONAI's <c>padding_mode="border"</c>, the
    /// default of its <c>Spacing</c> and <c>ResampleToMatch</c>, and SciPy's <c>mode="nearest"</c>.
    /// </summary>
    Border,

    /// <summary>
    /// Zero for every sample point outside the source's voxel centres: nibabel's <c>resample_from_to</c> (SciPy
    /// <c>map_coordinates</c> with <c>mode="constant", cval=0</c>). For images whose background is zero (skull-stripped
    /// MRI, PET, label maps); CT's air is −1000 HU, for which <see cref="Border"/> suits better.
    /// </summary>
    Zeros,
}
