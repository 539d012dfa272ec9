namespace MedVision.Samples.Cdsf;

/// <summary>
/// One subject: MRI and (when acquired) PET as size³ volumes in C order (D, H, W), scaled to [0, 1], the label, and for
/// phantoms with a lesion the lesion's voxels (the ground truth of the localisation check).
/// </summary>
internal sealed record Subject(string Id, float[] Mri, float[]? Pet, int Label, bool[]? LesionMask = null);
