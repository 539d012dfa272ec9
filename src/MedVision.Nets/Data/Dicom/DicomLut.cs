using System.Buffers.Binary;

namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// A lookup table of a Modality LUT Sequence (PS3.3 C.11.1) or a VOI LUT Sequence (C.11.2.1.1): its descriptor
/// (entries, first mapped value, bits per entry) and 16-bit entries. Values below the first mapped one take the first
/// entry, values past the end the last.
/// </summary>
internal sealed class DicomLut
{
    private readonly float[] _table;
    private readonly int _first;

    private DicomLut(float[] table, int first)
    {
        _table = table;
        _first = first;
    }

    /// <summary>
    /// The first item of the sequence (<paramref name="group"/>, <paramref name="element"/>) of
    /// <paramref name="set"/>, its entries divided by 2^bits − 1 when <paramref name="unitRange"/>, or null when the
    /// data set has no such sequence. <paramref name="signed"/>: whether the first mapped value is signed.
    /// </summary>
    /// <exception cref="DataFormatException">The LUT's descriptor or data are missing or inconsistent.</exception>
    public static DicomLut? Read(DicomDataSet set, ushort group, ushort element, string name, bool signed, bool unitRange)
    {
        if (set.GetSequence(group, element) is not [var item, ..]) return null;
        string source = set.SourceName;
        var raw = item.GetBytes(0x0028, 0x3002)
            ?? throw new DataFormatException(source, $"the {name} Sequence's item has no LUT Descriptor (0028,3002).");
        var (entries, first, bits) = ReadDescriptor(raw, signed, source, $"{name} Descriptor");
        if (bits is < 8 or > 16) throw new DataFormatException(source, $"the {name} has {bits} bits per entry (8 to 16).");
        var data = item.GetBytes(0x0028, 0x3006)
            ?? throw new DataFormatException(source, $"the {name} Sequence's item has no LUT Data (0028,3006).");
        if (data.Length != 2 * entries)
            throw new DataFormatException(source, $"the {name} Data hold {data.Length} bytes for {entries} 16-bit entries.");
        double max = (1 << bits) - 1;
        var table = new float[entries];
        for (int i = 0; i < entries; i++)
        {
            int v = BinaryPrimitives.ReadUInt16LittleEndian(data.Span[(2 * i)..]);
            if (v > max) throw new DataFormatException(source, $"{name} entry {i} is {v}, more than {bits} bits hold.");
            table[i] = unitRange ? (float)(v / max) : v;
        }
        return new DicomLut(table, first);
    }

    /// <summary>
    /// A LUT descriptor (PS3.3 C.7.6.3.1.5, C.11.1.1): entries (0 meaning 65,536), the first mapped value (signed when
    /// <paramref name="signed"/>) and bits per entry, three 16-bit values; <paramref name="what"/> names it in messages.
    /// </summary>
    /// <exception cref="DataFormatException">The value is not three 16-bit values.</exception>
    public static (int Entries, int First, int Bits) ReadDescriptor(ReadOnlyMemory<byte> raw, bool signed, string source, string what)
    {
        if (raw.Length != 6) throw new DataFormatException(source, $"the {what} holds {raw.Length} bytes, not three 16-bit values.");
        var d = raw.Span;
        int entries = BinaryPrimitives.ReadUInt16LittleEndian(d);
        int first = signed ? BinaryPrimitives.ReadInt16LittleEndian(d[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(d[2..]);
        return (entries == 0 ? 65536 : entries, first, BinaryPrimitives.ReadUInt16LittleEndian(d[4..]));
    }

    /// <summary>Maps values in place through the table.</summary>
    public void Apply(float[] values)
    {
        int last = _table.Length - 1;
        for (int i = 0; i < values.Length; i++)
            values[i] = _table[(int)Math.Clamp(Math.Floor(values[i]) - _first, 0, last)];
    }
}
