using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// The attributes of one DICOM data set: the top level of a file (<see cref="DicomFile.DataSet"/>) or an item of a
/// sequence (<see cref="GetSequence"/>), e.g. a frame's entry in an enhanced file's Per-frame Functional Groups Sequence.
/// </summary>
/// <remarks>
/// Values are kept as stored; the accessors decode the common value representations. Sequences are kept in Explicit VR
/// files, in UN elements of undefined length, and in Implicit VR files when they are delimited or are one of the
/// functional-group sequences the library reads (Implicit VR carries no value representation, so only the data
/// dictionary tells a counted sequence from a value; other counted sequences there are kept as bytes).
/// </remarks>
public sealed class DicomDataSet
{
    private readonly Dictionary<uint, byte[]> _elements;
    private readonly Dictionary<uint, IReadOnlyList<DicomDataSet>> _sequences;

    internal DicomDataSet(string sourceName, Dictionary<uint, byte[]> elements, Dictionary<uint, IReadOnlyList<DicomDataSet>> sequences)
    {
        SourceName = sourceName;
        _elements = elements;
        _sequences = sequences;
    }

    /// <summary>The file the data set belongs to (for messages).</summary>
    public string SourceName { get; }

    /// <summary>True when the data set holds the attribute (a value or a sequence).</summary>
    public bool Contains(ushort group, ushort element) => _elements.ContainsKey(Tag(group, element)) || _sequences.ContainsKey(Tag(group, element));

    /// <summary>The text of an attribute (leading and trailing spaces and trailing NULs removed; several values joined by '\'), or null.</summary>
    public string? GetString(ushort group, ushort element)
        => _elements.TryGetValue(Tag(group, element), out var v) ? Encoding.UTF8.GetString(v).TrimEnd(' ', '\0').TrimStart(' ') : null;

    /// <summary>The values of a decimal or integer string attribute (DS, IS), or null when absent or empty.</summary>
    /// <exception cref="DataFormatException">The attribute holds text that is not a list of numbers.</exception>
    public double[]? GetDecimals(ushort group, ushort element)
    {
        var text = GetString(group, element);
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parts = text.Split('\\');
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new DataFormatException(SourceName, $"attribute ({group:X4},{element:X4}) holds '{text}', which is not a list of numbers.");
        return values;
    }

    /// <summary>An unsigned short (US) attribute's first value, or null.</summary>
    public int? GetUShort(ushort group, ushort element)
    {
        if (!_elements.TryGetValue(Tag(group, element), out var v) || v.Length < 2) return null;
        return BinaryPrimitives.ReadUInt16LittleEndian(v);
    }

    /// <summary>The values of an unsigned long (UL) attribute, e.g. DimensionIndexValues, or null when absent or empty.</summary>
    /// <exception cref="DataFormatException">The value's length is not a multiple of four bytes.</exception>
    public long[]? GetULongs(ushort group, ushort element)
    {
        if (!_elements.TryGetValue(Tag(group, element), out var v) || v.Length == 0) return null;
        if (v.Length % 4 != 0) throw new DataFormatException(SourceName, $"attribute ({group:X4},{element:X4}) holds {v.Length} bytes, not a whole number of 4-byte unsigned longs.");
        var values = new long[v.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadUInt32LittleEndian(v.AsSpan(4 * i));
        return values;
    }

    /// <summary>The items of a sequence attribute (SQ), or null when the data set has no such sequence.</summary>
    public IReadOnlyList<DicomDataSet>? GetSequence(ushort group, ushort element)
        => _sequences.TryGetValue(Tag(group, element), out var items) ? items : null;

    /// <summary>The raw bytes of an attribute's value, or null.</summary>
    public ReadOnlyMemory<byte>? GetBytes(ushort group, ushort element)
        => _elements.TryGetValue(Tag(group, element), out var v) ? new ReadOnlyMemory<byte>(v) : (ReadOnlyMemory<byte>?)null;

    internal static uint Tag(ushort group, ushort element) => (uint)group << 16 | element;
}
