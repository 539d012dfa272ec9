using System.Buffers.Binary;

namespace MedVision.Torch.TensorBoard;

/// <summary>
/// Reads the Protocol Buffers wire format field by field from a byte range; every length and varint is checked against
/// the range, and damage throws <see cref="FormatException"/> (the caller names the file).
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public int Position => _position;

    /// <summary>The next field's number and wire type; false at the end.</summary>
    public bool Next(out int field, out int wireType)
    {
        if (_position >= _data.Length)
        {
            field = wireType = 0;
            return false;
        }
        var key = Varint();
        field = (int)(key >> 3);
        wireType = (int)(key & 7);
        if (field <= 0 || key >> 3 > int.MaxValue) throw new FormatException($"field number {key >> 3} is not valid");
        return true;
    }

    public ulong Varint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _data.Length) throw new FormatException("a varint runs past the end of its message");
            byte b = _data[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new FormatException("a varint is longer than 10 bytes");
    }

    public double Double(int wireType)
    {
        Expect(wireType, 1, "a double");
        return BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
    }

    public float Float(int wireType)
    {
        Expect(wireType, 5, "a float");
        return BinaryPrimitives.ReadSingleLittleEndian(Take(4));
    }

    public long Int64(int wireType)
    {
        Expect(wireType, 0, "an integer");
        return unchecked((long)Varint());
    }

    public ReadOnlySpan<byte> Bytes(int wireType)
    {
        Expect(wireType, 2, "a length-delimited field");
        var length = Varint();
        if (length > (ulong)(_data.Length - _position)) throw new FormatException($"a field of {length} bytes runs past the end of its message");
        return Take((int)length);
    }

    /// <summary>A repeated double, packed (one length-delimited field) or not (one value per field).</summary>
    public void Doubles(int wireType, List<double> into)
    {
        if (wireType == 1)
        {
            into.Add(Double(wireType));
            return;
        }
        var packed = Bytes(wireType);
        if (packed.Length % 8 != 0) throw new FormatException($"packed doubles of {packed.Length} bytes (not a multiple of 8)");
        for (int i = 0; i < packed.Length; i += 8) into.Add(BinaryPrimitives.ReadDoubleLittleEndian(packed[i..]));
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: Varint(); break;
            case 1: Take(8); break;
            case 2: Bytes(wireType); break;
            case 5: Take(4); break;
            default: throw new FormatException($"wire type {wireType} is not used by event files");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position) throw new FormatException("a field runs past the end of its message");
        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    private static void Expect(int wireType, int expected, string what)
    {
        if (wireType != expected) throw new FormatException($"{what} has wire type {wireType}, not {expected}");
    }
}
