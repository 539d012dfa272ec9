namespace MedVision.Torch;

/// <summary>Element type of a tensor (values are libtorch's c10::ScalarType codes).</summary>
public enum ScalarType
{
    /// <summary>Unsigned 8-bit integer (torch.uint8).</summary>
    Byte = 0,
    /// <summary>Signed 8-bit integer (torch.int8).</summary>
    Int8 = 1,
    /// <summary>Signed 16-bit integer (torch.int16).</summary>
    Int16 = 2,
    /// <summary>Signed 32-bit integer (torch.int32).</summary>
    Int32 = 3,
    /// <summary>Signed 64-bit integer (torch.int64, torch.long).</summary>
    Int64 = 4,
    /// <summary>16-bit float (torch.float16).</summary>
    Float16 = 5,
    /// <summary>32-bit float (torch.float32).</summary>
    Float32 = 6,
    /// <summary>64-bit float (torch.float64).</summary>
    Float64 = 7,
    /// <summary>Boolean (torch.bool).</summary>
    Bool = 11,
    /// <summary>bfloat16 (torch.bfloat16).</summary>
    BFloat16 = 15,
}

/// <summary>Helpers for <see cref="ScalarType"/>.</summary>
public static class ScalarTypeExtensions
{
    /// <summary>Size of one element in bytes.</summary>
    public static int ElementSize(this ScalarType type) => type switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown scalar type"),
    };

    /// <summary>True for floating-point types.</summary>
    public static bool IsFloatingPoint(this ScalarType type)
        => type is ScalarType.Float16 or ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16;

    /// <summary>The scalar type matching a .NET element type.</summary>
    public static ScalarType For<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return ScalarType.Float32;
        if (typeof(T) == typeof(double)) return ScalarType.Float64;
        if (typeof(T) == typeof(long)) return ScalarType.Int64;
        if (typeof(T) == typeof(int)) return ScalarType.Int32;
        if (typeof(T) == typeof(short)) return ScalarType.Int16;
        if (typeof(T) == typeof(byte)) return ScalarType.Byte;
        if (typeof(T) == typeof(sbyte)) return ScalarType.Int8;
        if (typeof(T) == typeof(bool)) return ScalarType.Bool;
        if (typeof(T) == typeof(Half)) return ScalarType.Float16;
        throw new NotSupportedException($"{typeof(T).Name} has no tensor element type; use float, double, long, int, short, byte, sbyte, bool or Half.");
    }
}
