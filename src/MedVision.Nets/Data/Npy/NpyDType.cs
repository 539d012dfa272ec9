namespace MedVision.Nets.Data.Npy;

/// <summary>Element types supported in NPY arrays (all little-endian or single-byte).</summary>
public enum NpyDType
{
    /// <summary>Boolean, one byte (<c>|b1</c>).</summary>
    Bool,

    /// <summary>Unsigned 8-bit integer (<c>|u1</c>).</summary>
    UInt8,

    /// <summary>Signed 8-bit integer (<c>|i1</c>).</summary>
    Int8,

    /// <summary>Unsigned 16-bit integer (<c>&lt;u2</c>).</summary>
    UInt16,

    /// <summary>Signed 16-bit integer (<c>&lt;i2</c>).</summary>
    Int16,

    /// <summary>Unsigned 32-bit integer (<c>&lt;u4</c>).</summary>
    UInt32,

    /// <summary>Signed 32-bit integer (<c>&lt;i4</c>).</summary>
    Int32,

    /// <summary>Unsigned 64-bit integer (<c>&lt;u8</c>).</summary>
    UInt64,

    /// <summary>Signed 64-bit integer (<c>&lt;i8</c>).</summary>
    Int64,

    /// <summary>32-bit IEEE float (<c>&lt;f4</c>).</summary>
    Float32,

    /// <summary>64-bit IEEE float (<c>&lt;f8</c>).</summary>
    Float64,
}
