namespace MedVision.Nets.Data.Nifti;

/// <summary>NIfTI-1 voxel data types supported by <see cref="NiftiReader"/> and <see cref="NiftiWriter"/> (values are the header codes).</summary>
public enum NiftiDataType : short
{
    /// <summary>Unsigned 8-bit integer (DT_UINT8, code 2).</summary>
    UInt8 = 2,

    /// <summary>Signed 16-bit integer (DT_INT16, code 4).</summary>
    Int16 = 4,

    /// <summary>Signed 32-bit integer (DT_INT32, code 8).</summary>
    Int32 = 8,

    /// <summary>32-bit IEEE float (DT_FLOAT32, code 16).</summary>
    Float32 = 16,

    /// <summary>64-bit IEEE float (DT_FLOAT64, code 64).</summary>
    Float64 = 64,

    /// <summary>Signed 8-bit integer (DT_INT8, code 256).</summary>
    Int8 = 256,

    /// <summary>Unsigned 16-bit integer (DT_UINT16, code 512; e.g. MR magnitude images from dcm2niix).</summary>
    UInt16 = 512,

    /// <summary>Unsigned 32-bit integer (DT_UINT32, code 768).</summary>
    UInt32 = 768,

    /// <summary>Signed 64-bit integer (DT_INT64, code 1024; nibabel's default for int64 arrays). Read as float: values beyond ±2²⁴ lose precision.</summary>
    Int64 = 1024,
}
