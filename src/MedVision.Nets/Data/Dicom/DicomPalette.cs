using System.Buffers.Binary;

namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// The red, green and blue lookup tables of a PALETTE COLOR image (PS3.3 C.7.6.3.1.5–6 and C.7.9): each stored index
/// picks one entry of each table; indices below the first mapped value take the first entry, indices past the end the
/// last. Tables come as plain data (8 or 16 bits per entry) or segmented (discrete, linear and indirect segments).
/// Entries are mapped to 0–255 like the library's other colour images: 16-bit entries as round(v / 257), 8-bit as stored.
/// </summary>
internal sealed class DicomPalette
{
    private const int MaxIndirectDepth = 8;
    private readonly float[][] _tables; // per channel, entries already mapped to 0-255
    private readonly int _first;

    private DicomPalette(float[][] tables, int first)
    {
        _tables = tables;
        _first = first;
    }

    /// <summary>Number of entries of each table.</summary>
    public int Entries => _tables[0].Length;

    /// <summary>Reads the palettes of <paramref name="file"/>.</summary>
    /// <exception cref="DataFormatException">The descriptors or tables are missing, disagree or are corrupt.</exception>
    public static DicomPalette Read(DicomFile file)
    {
        var set = file.DataSet;
        string source = file.SourceName;
        var descriptors = new (int Entries, int First, int Bits)[3];
        for (int c = 0; c < 3; c++)
        {
            ushort element = (ushort)(0x1101 + c);
            var raw = set.GetBytes(0x0028, element)
                ?? throw new DataFormatException(source, $"a PALETTE COLOR image without its {Channel(c)} palette descriptor (0028,{element:X4}).");
            descriptors[c] = DicomLut.ReadDescriptor(raw, file.IsSigned, source, $"{Channel(c)} palette descriptor (0028,{element:X4})");
            int bits = descriptors[c].Bits;
            if (bits is not (8 or 16)) throw new DataFormatException(source, $"the {Channel(c)} palette has {bits} bits per entry (8 or 16).");
        }
        if (descriptors[1] != descriptors[0] || descriptors[2] != descriptors[0])
            throw new DataFormatException(source, $"the red, green and blue palette descriptors differ ({string.Join("; ", descriptors.Select(d => $"{d.Entries} entries from {d.First}, {d.Bits} bits"))}).");
        var (count, firstMapped, nominalBits) = descriptors[0];

        var tables = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            ushort plain = (ushort)(0x1201 + c), segmented = (ushort)(0x1221 + c);
            int[] values;
            if (set.GetBytes(0x0028, plain) is { } data)
                values = PlainTable(data.Span, count, nominalBits, source, Channel(c), plain);
            else if (set.GetBytes(0x0028, segmented) is { } segments)
                values = SegmentedTable(segments.Span, count, nominalBits, source, Channel(c));
            else
                throw new DataFormatException(source, $"a PALETTE COLOR image without its {Channel(c)} palette data (0028,{plain:X4} or segmented 0028,{segmented:X4}).");
            tables[c] = values.Select(v => nominalBits == 16 ? (float)Math.Round(v / 257.0) : v).ToArray();
        }
        return new DicomPalette(tables, firstMapped);
    }

    private static string Channel(int c) => c switch { 0 => "red", 1 => "green", _ => "blue" };

    // Plain table data: one byte per entry (8-bit; padded to even length) or one little-endian word per entry.
    private static int[] PlainTable(ReadOnlySpan<byte> data, int count, int nominalBits, string source, string channel, ushort element)
    {
        var values = new int[count];
        if (data.Length == count || (count % 2 == 1 && data.Length == count + 1))
        {
            for (int i = 0; i < count; i++) values[i] = data[i];
        }
        else if (data.Length == 2 * count)
        {
            for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]);
            if (nominalBits == 8 && values.Any(v => v > 255))
                throw new DataFormatException(source, $"the {channel} palette (0028,{element:X4}) has 8-bit entries by its descriptor but holds values above 255.");
        }
        else
        {
            throw new DataFormatException(source, $"the {channel} palette data (0028,{element:X4}) hold {data.Length} bytes for {count} entries.");
        }
        return values;
    }

    // Segmented table data (PS3.3 C.7.9.2), in units of the entry size: discrete (0, n, n values), linear (1, n, end
    // value: n values stepping from the previous entry to it, rounded half to even), indirect (2, n segments, a 32-bit
    // offset, low word first, counted in units from the start of the data, as pydicom reads it: the segments there are
    // expanded again).
    private static int[] SegmentedTable(ReadOnlySpan<byte> data, int count, int nominalBits, string source, string channel)
    {
        int[] words;
        if (nominalBits == 8)
        {
            words = data.ToArray().Select(b => (int)b).ToArray();
        }
        else
        {
            if (data.Length % 2 != 0) throw new DataFormatException(source, $"the {channel} segmented palette holds an odd number of bytes ({data.Length}).");
            words = new int[data.Length / 2];
            for (int i = 0; i < words.Length; i++) words[i] = BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]);
        }
        var table = new List<int>(count);
        Expand(words, 0, int.MaxValue, table, count, nominalBits, 0, source, channel);
        if (table.Count != count)
            throw new DataFormatException(source, $"the {channel} segmented palette expands to {table.Count} entries; its descriptor says {count}.");
        return table.ToArray();
    }

    private static void Expand(int[] words, int offset, int segments, List<int> table, int count, int bits, int depth, string source, string channel)
    {
        if (depth > MaxIndirectDepth) throw new DataFormatException(source, $"the {channel} segmented palette's indirect segments nest more than {MaxIndirectDepth} deep.");
        for (int read = 0; read < segments && offset + 1 < words.Length; read++)
        {
            int opcode = words[offset], length = words[offset + 1];
            offset += 2;
            switch (opcode)
            {
                case 0:
                    if (offset + length > words.Length) throw Corrupt(source, channel, "a discrete segment runs past the end of the data");
                    for (int i = 0; i < length; i++) table.Add(words[offset + i]);
                    offset += length;
                    break;
                case 1:
                    if (table.Count == 0) throw Corrupt(source, channel, "a linear segment comes first, with no value to start from");
                    if (offset >= words.Length) throw Corrupt(source, channel, "a linear segment has no end value");
                    int y0 = table[^1], y1 = words[offset++];
                    for (int i = 1; i <= length; i++)
                        table.Add(y0 == y1 ? y1 : (int)Math.Round(y0 + (y1 - y0) * (double)i / length, MidpointRounding.ToEven));
                    break;
                case 2:
                    if (table.Count == 0) throw Corrupt(source, channel, "an indirect segment comes first");
                    int wordsOfOffset = bits == 8 ? 4 : 2;
                    if (offset + wordsOfOffset > words.Length) throw Corrupt(source, channel, "an indirect segment has no offset");
                    long target = bits == 8
                        ? (long)(words[offset + 3] << 8 | words[offset + 2]) << 16 | (uint)(words[offset + 1] << 8 | words[offset])
                        : (long)words[offset + 1] << 16 | (uint)words[offset];
                    offset += wordsOfOffset;
                    if (target >= words.Length) throw Corrupt(source, channel, $"an indirect segment points at {target}, past the end of the data");
                    Expand(words, (int)target, length, table, count, bits, depth + 1, source, channel);
                    break;
                default:
                    throw Corrupt(source, channel, $"unknown segment type {opcode}");
            }
            if (table.Count > count) throw Corrupt(source, channel, $"the segments expand to more than the {count} entries of the descriptor");
        }
    }

    private static DataFormatException Corrupt(string source, string channel, string problem)
        => new(source, $"the {channel} segmented palette is corrupt: {problem}.");

    /// <summary>Maps one frame of stored indices (H·W values) to RGB (3·H·W values, channel first, 0–255).</summary>
    public float[] Apply(float[] indices)
    {
        int n = indices.Length, last = Entries - 1;
        var result = new float[3 * n];
        for (int p = 0; p < n; p++)
        {
            int index = Math.Clamp((int)indices[p] - _first, 0, last);
            result[p] = _tables[0][index];
            result[n + p] = _tables[1][index];
            result[2 * n + p] = _tables[2][index];
        }
        return result;
    }
}
