using System.Buffers.Binary;
using System.Text;

namespace MedVision.Protobuf;

/// <summary>
/// The Protocol Buffers wire format, as much of it as onnx.proto and TensorBoard's event.proto need: varints,
/// length-delimited fields (strings, bytes, nested messages), 32-bit floats and 64-bit doubles. Repeated scalars are
/// written one field per element (onnx.proto is proto2, where that is the canonical form; every parser also accepts it
/// in proto3), or packed where a proto3 message declares them so (<see cref="PackedDoubles"/>). Fields are written in
/// the order the caller writes them; writing them in field-number order and leaving proto3 defaults out gives the bytes
/// protoc's own serialisers give.
/// </summary>
/// <remarks>One source file, compiled into each assembly that needs it (src/Shared), so none exposes it.</remarks>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    private const int Varint = 0;
    private const int LengthDelimited = 2;
    private const int Fixed64 = 1;
    private const int Fixed32 = 5;

    public long Length => _buffer.Length;

    public void Int64(int field, long value)
    {
        Tag(field, Varint);
        WriteVarint(unchecked((ulong)value));
    }

    public void Int64s(int field, IEnumerable<long> values)
    {
        foreach (var v in values) Int64(field, v);
    }

    public void Float(int field, float value)
    {
        Tag(field, Fixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _buffer.Write(bytes);
    }

    public void Double(int field, double value)
    {
        Tag(field, Fixed64);
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
        _buffer.Write(bytes);
    }

    /// <summary>A packed repeated double (proto3's default for repeated scalars); nothing for an empty list.</summary>
    public void PackedDoubles(int field, IReadOnlyList<double> values)
    {
        if (values.Count == 0) return;
        Tag(field, LengthDelimited);
        WriteVarint((ulong)values.Count * 8);
        Span<byte> bytes = stackalloc byte[8];
        foreach (var v in values)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes, v);
            _buffer.Write(bytes);
        }
    }

    public void Floats(int field, IEnumerable<float> values)
    {
        foreach (var v in values) Float(field, v);
    }

    public void String(int field, string? value)
    {
        if (value is null) return;
        Bytes(field, Encoding.UTF8.GetBytes(value));
    }

    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
    }

    public void Message(int field, Action<ProtoWriter> write)
    {
        var nested = new ProtoWriter();
        write(nested);
        Tag(field, LengthDelimited);
        WriteVarint((ulong)nested._buffer.Length);
        nested._buffer.Position = 0;
        nested._buffer.CopyTo(_buffer);
    }

    public byte[] ToArray() => _buffer.ToArray();

    public void CopyTo(Stream destination)
    {
        _buffer.Position = 0;
        _buffer.CopyTo(destination);
    }

    private void Tag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        Span<byte> bytes = stackalloc byte[10];
        int n = 0;
        while (value >= 0x80)
        {
            bytes[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        bytes[n++] = (byte)value;
        _buffer.Write(bytes[..n]);
    }
}
