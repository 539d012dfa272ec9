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

    /// <summary>
    /// True when <paramref name="value"/> is a value of <paramref name="type"/>, so that filling or padding a tensor of
    /// that type with it neither overflows (libtorch refuses that) nor silently changes it: for floating-point types
    /// NaN, an infinity or a finite value within the type's range (which may round to the nearest representable one);
    /// for integer types a whole number within range; for <see cref="ScalarType.Bool"/> 0 or 1.
    /// </summary>
    public static bool CanHold(this ScalarType type, double value)
    {
        if (type.IsFloatingPoint() && !double.IsFinite(value)) return true;
        (double Min, double Max) range = type switch
        {
            ScalarType.Float64 => (double.MinValue, double.MaxValue),
            ScalarType.Float32 => (float.MinValue, float.MaxValue),
            ScalarType.BFloat16 => (-3.3895313892515355e38, 3.3895313892515355e38),
            ScalarType.Float16 => (-65504, 65504),
            ScalarType.Byte => (byte.MinValue, byte.MaxValue),
            ScalarType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
            ScalarType.Int16 => (short.MinValue, short.MaxValue),
            ScalarType.Int32 => (int.MinValue, int.MaxValue),
            ScalarType.Int64 => (long.MinValue, 9223372036854774784.0), // the largest double below 2^63
            ScalarType.Bool => (0, 1),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown scalar type"),
        };
        return value >= range.Min && value <= range.Max && (type.IsFloatingPoint() || value == Math.Floor(value));
    }

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
