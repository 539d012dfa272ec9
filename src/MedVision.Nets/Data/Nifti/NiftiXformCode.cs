namespace MedVision.Nets.Data.Nifti;

/// <summary>What the world coordinates of a NIfTI affine mean (the header's qform_code / sform_code).</summary>
public enum NiftiXformCode : short
{
    /// <summary>No orientation is recorded (NIFTI_XFORM_UNKNOWN, 0): the affine is only the voxel sizes.</summary>
    Unknown = 0,

    /// <summary>Scanner-based anatomical coordinates (NIFTI_XFORM_SCANNER_ANAT, 1).</summary>
    ScannerAnatomical = 1,

    /// <summary>Coordinates aligned to another file's or an anatomical truth (NIFTI_XFORM_ALIGNED_ANAT, 2).</summary>
    AlignedAnatomical = 2,

    /// <summary>Talairach–Tournoux atlas space (NIFTI_XFORM_TALAIRACH, 3).</summary>
    Talairach = 3,

    /// <summary>MNI 152 template space (NIFTI_XFORM_MNI_152, 4).</summary>
    Mni152 = 4,

    /// <summary>Another template space (NIFTI_XFORM_TEMPLATE_OTHER, 5; added by NIfTI-2 and written by some NIfTI-1 tools).</summary>
    TemplateOther = 5,
}
