using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace MedVision.Nets.Data.Npy;

/// <summary>
/// An n-dimensional array read from (or to be written to) the NumPy <c>.npy</c> format: a shape, an element type
/// and the raw little-endian element bytes in C (row-major) order.
/// </summary>
public sealed class NpyArray
{
    private readonly int[] _shape;

    /// <summary>Creates an array from raw little-endian bytes.</summary>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The shape (C order). An empty shape is a scalar.</param>
    /// <param name="data">The element bytes; its length must equal the element count times the element size.</param>
    public NpyArray(NpyDType dtype, IReadOnlyList<int> shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (shape.Any(d => d < 0))
        {
            throw new ArgumentException("Dimensions must be non-negative.", nameof(shape));
        }

        DType = dtype;
        _shape = shape.ToArray();
        long expected = ElementCountOf(_shape) * ElementSize(dtype);
        if (data.LongLength != expected)
        {
            throw new ArgumentException($"Data holds {data.LongLength} bytes but shape ({string.Join(", ", _shape)}) of {dtype} needs {expected}.", nameof(data));
        }

        Data = data;
    }

    /// <summary>The element type.</summary>
    public NpyDType DType { get; }

    /// <summary>The shape, C (row-major) order.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The number of elements (product of the shape).</summary>
    public long ElementCount => ElementCountOf(_shape);

    /// <summary>The raw element bytes, little-endian, C order. Not copied: changes are visible to the array.</summary>
    public byte[] Data { get; }

    /// <summary>Creates a <see cref="NpyDType.UInt8"/> array over <paramref name="values"/> (not copied).</summary>
    /// <param name="values">The elements.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>The array.</returns>
    public static NpyArray FromBytes(byte[] values, params int[] shape) => new(NpyDType.UInt8, shape, values ?? throw new ArgumentNullException(nameof(values)));

    /// <summary>Creates a <see cref="NpyDType.Int64"/> array from <paramref name="values"/>.</summary>
    /// <param name="values">The elements.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>The array.</returns>
    public static NpyArray FromInt64(long[] values, params int[] shape) => new(NpyDType.Int64, shape, ToLittleEndianBytes<long>(values));

    /// <summary>Creates a <see cref="NpyDType.Int32"/> array from <paramref name="values"/>.</summary>
    /// <param name="values">The elements.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>The array.</returns>
    public static NpyArray FromInt32(int[] values, params int[] shape) => new(NpyDType.Int32, shape, ToLittleEndianBytes<int>(values));

    /// <summary>Creates a <see cref="NpyDType.Float32"/> array from <paramref name="values"/>.</summary>
    /// <param name="values">The elements.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>The array.</returns>
    public static NpyArray FromSingle(float[] values, params int[] shape) => new(NpyDType.Float32, shape, ToLittleEndianBytes<float>(values));

    /// <summary>Creates a <see cref="NpyDType.Float64"/> array from <paramref name="values"/>.</summary>
    /// <param name="values">The elements.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>The array.</returns>
    public static NpyArray FromDouble(double[] values, params int[] shape) => new(NpyDType.Float64, shape, ToLittleEndianBytes<double>(values));

    /// <summary>The size in bytes of one element of <paramref name="dtype"/>.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    public static int ElementSize(NpyDType dtype) => dtype switch
    {
        NpyDType.Bool or NpyDType.UInt8 or NpyDType.Int8 => 1,
        NpyDType.UInt16 or NpyDType.Int16 => 2,
        NpyDType.UInt32 or NpyDType.Int32 or NpyDType.Float32 => 4,
        NpyDType.UInt64 or NpyDType.Int64 or NpyDType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown NPY element type."),
    };

    /// <summary>
    /// Returns the elements as bytes. For <see cref="NpyDType.UInt8"/> this is <see cref="Data"/> itself (no copy);
    /// other integer types are converted and must lie in 0..255.
    /// </summary>
    /// <returns>The elements as bytes.</returns>
    /// <exception cref="InvalidOperationException">The type is floating point or a value lies outside 0..255.</exception>
    public byte[] ToByteArray()
    {
        if (DType is NpyDType.UInt8 or NpyDType.Bool)
        {
            return Data;
        }

        if (DType is NpyDType.Float32 or NpyDType.Float64)
        {
            throw new InvalidOperationException($"Cannot convert a {DType} array to bytes without rounding; convert it explicitly.");
        }

        var result = new byte[ElementCount];
        for (long i = 0; i < result.LongLength; i++)
        {
            long value = ReadInteger(i);
            if (value is < 0 or > 255)
            {
                throw new InvalidOperationException($"Element {i} has value {value}, outside the byte range 0..255.");
            }

            result[i] = (byte)value;
        }

        return result;
    }

    /// <summary>Returns the elements as 32-bit integers (integer and boolean types only, range-checked).</summary>
    /// <returns>The elements, C order.</returns>
    /// <exception cref="InvalidOperationException">The type is floating point or a value does not fit in an <see cref="int"/>.</exception>
    public int[] ToInt32Array()
    {
        if (DType is NpyDType.Float32 or NpyDType.Float64)
        {
            throw new InvalidOperationException($"Cannot convert a {DType} array to integers without rounding.");
        }

        var result = new int[ElementCount];
        for (long i = 0; i < result.LongLength; i++)
        {
            long value = ReadInteger(i);
            if (value is < int.MinValue or > int.MaxValue)
            {
                throw new InvalidOperationException($"Element {i} has value {value}, outside the Int32 range.");
            }

            result[i] = (int)value;
        }

        return result;
    }

    /// <summary>Returns the elements converted to <see cref="float"/>.</summary>
    /// <returns>The elements, C order.</returns>
    public float[] ToSingleArray()
    {
        var result = new float[ElementCount];
        for (long i = 0; i < result.LongLength; i++)
        {
            result[i] = (float)ReadDouble(i);
        }

        return result;
    }

    /// <summary>Returns the elements converted to <see cref="double"/>.</summary>
    /// <returns>The elements, C order.</returns>
    public double[] ToDoubleArray()
    {
        var result = new double[ElementCount];
        for (long i = 0; i < result.LongLength; i++)
        {
            result[i] = ReadDouble(i);
        }

        return result;
    }

    internal static long ElementCountOf(IReadOnlyList<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            count = checked(count * d);
        }

        return count;
    }

    private static byte[] ToLittleEndianBytes<T>(T[] values)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
        }

        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    private long ReadInteger(long index)
    {
        ReadOnlySpan<byte> d = Data.AsSpan();
        return DType switch
        {
            NpyDType.Bool or NpyDType.UInt8 => d[(int)index],
            NpyDType.Int8 => (sbyte)d[(int)index],
            NpyDType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(d[checked((int)(index * 2))..]),
            NpyDType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(d[checked((int)(index * 2))..]),
            NpyDType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(d[checked((int)(index * 4))..]),
            NpyDType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(d[checked((int)(index * 4))..]),
            NpyDType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(d[checked((int)(index * 8))..]),
            NpyDType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(d[checked((int)(index * 8))..]) is var u && u <= long.MaxValue
                ? (long)u
                : throw new InvalidOperationException($"Element {index} does not fit in a signed 64-bit integer."),
            _ => throw new InvalidOperationException($"{DType} is not an integer type."),
        };
    }

    private double ReadDouble(long index)
    {
        ReadOnlySpan<byte> d = Data.AsSpan();
        return DType switch
        {
            NpyDType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(d[checked((int)(index * 4))..]),
            NpyDType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(d[checked((int)(index * 8))..]),
            NpyDType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(d[checked((int)(index * 8))..]),
            _ => ReadInteger(index),
        };
    }
}
