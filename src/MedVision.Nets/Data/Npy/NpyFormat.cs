using MedVision.Torch.Serialization;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace MedVision.Nets.Data.Npy;

/// <summary>
/// Reads and writes single arrays in the NumPy <c>.npy</c> format, versions 1.0, 2.0 and 3.0
/// (little-endian or single-byte element types, C order).
/// </summary>
public static class NpyFormat
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads one array from a <c>.npy</c> file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The array.</returns>
    /// <exception cref="DataFormatException">The file is not a valid, supported NPY file.</exception>
    public static NpyArray ReadFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads one array from a stream holding NPY data.</summary>
    /// <param name="stream">The stream, positioned at the NPY magic string.</param>
    /// <param name="sourceName">The file or entry name used in error messages.</param>
    /// <returns>The array.</returns>
    /// <exception cref="DataFormatException">The data is not a valid, supported NPY array.</exception>
    public static NpyArray Read(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        Span<byte> preamble = stackalloc byte[8];
        if (ReadFully(stream, preamble) < 8 || !preamble[..6].SequenceEqual(Magic))
        {
            throw new DataFormatException(sourceName, "not an NPY array (missing the \\x93NUMPY magic string).");
        }

        byte major = preamble[6];
        int headerLength;
        if (major == 1)
        {
            Span<byte> len = stackalloc byte[2];
            if (ReadFully(stream, len) < 2)
            {
                throw new DataFormatException(sourceName, "NPY header is truncated.");
            }

            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(len);
        }
        else if (major is 2 or 3)
        {
            Span<byte> len = stackalloc byte[4];
            if (ReadFully(stream, len) < 4)
            {
                throw new DataFormatException(sourceName, "NPY header is truncated.");
            }

            uint l = BinaryPrimitives.ReadUInt32LittleEndian(len);
            if (l > 1 << 20)
            {
                throw new DataFormatException(sourceName, $"NPY header length {l} is implausibly large.");
            }

            headerLength = (int)l;
        }
        else
        {
            throw new DataFormatException(sourceName, $"unsupported NPY format version {major}.{preamble[7]} (supported: 1.0, 2.0, 3.0).");
        }

        var headerBytes = new byte[headerLength];
        if (ReadFully(stream, headerBytes) < headerLength)
        {
            throw new DataFormatException(sourceName, "NPY header is truncated.");
        }

        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        (NpyDType dtype, bool fortran, int[] shape) = ParseHeader(header, sourceName);
        if (fortran)
        {
            throw new DataFormatException(sourceName, "Fortran-ordered (column-major) NPY arrays are not supported; save the array in C order.");
        }

        long byteCount;
        try
        {
            byteCount = checked(NpyArray.ElementCountOf(shape) * NpyArray.ElementSize(dtype));
        }
        catch (OverflowException)
        {
            throw new DataFormatException(sourceName, $"array shape ({string.Join(", ", shape)}) is too large.");
        }

        if (byteCount > Array.MaxLength)
        {
            throw new DataFormatException(sourceName, $"array of {byteCount} bytes exceeds the largest .NET array ({Array.MaxLength} bytes).");
        }

        var data = new byte[byteCount];
        int read = ReadFully(stream, data);
        if (read < byteCount)
        {
            throw new DataFormatException(sourceName, $"NPY data is truncated: expected {byteCount} bytes for shape ({string.Join(", ", shape)}) but found {read}.");
        }

        return new NpyArray(dtype, shape, data);
    }

    /// <summary>Writes <paramref name="array"/> in NPY format version 1.0 (or 2.0 when the header needs it).</summary>
    /// <param name="stream">The destination stream.</param>
    /// <param name="array">The array.</param>
    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        string shape = array.Shape.Count switch
        {
            0 => "()",
            1 => $"({array.Shape[0]},)",
            _ => "(" + string.Join(", ", array.Shape) + ")",
        };
        string dict = $"{{'descr': '{Descr(array.DType)}', 'fortran_order': False, 'shape': {shape}, }}";
        int fixedLength = Magic.Length + 2 + 2;
        int total = fixedLength + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        byte major = 1;
        if (padded - fixedLength > ushort.MaxValue)
        {
            major = 2;
            fixedLength += 2;
            total = fixedLength + dict.Length + 1;
            padded = (total + 63) / 64 * 64;
        }

        string header = dict + new string(' ', padded - total) + "\n";
        stream.Write(Magic);
        stream.WriteByte(major);
        stream.WriteByte(0);
        Span<byte> len = stackalloc byte[4];
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
            stream.Write(len[..2]);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)header.Length);
            stream.Write(len);
        }

        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(array.Data);
    }

    /// <summary>Writes <paramref name="array"/> to a <c>.npy</c> file atomically.</summary>
    /// <param name="path">The destination file.</param>
    /// <param name="array">The array.</param>
    public static void WriteFile(string path, NpyArray array) => AtomicFile.Write(path, s => Write(s, array));

    internal static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private static string Descr(NpyDType dtype) => dtype switch
    {
        NpyDType.Bool => "|b1",
        NpyDType.UInt8 => "|u1",
        NpyDType.Int8 => "|i1",
        NpyDType.UInt16 => "<u2",
        NpyDType.Int16 => "<i2",
        NpyDType.UInt32 => "<u4",
        NpyDType.Int32 => "<i4",
        NpyDType.UInt64 => "<u8",
        NpyDType.Int64 => "<i8",
        NpyDType.Float32 => "<f4",
        NpyDType.Float64 => "<f8",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    private static NpyDType ParseDescr(string descr, string sourceName)
    {
        if (descr.Length >= 3 && descr[0] == '>' && descr[1..] is not ("u1" or "i1" or "b1"))
        {
            throw new DataFormatException(sourceName, $"big-endian NPY element type '{descr}' is not supported (little-endian only).");
        }

        string key = descr.Length == 3 && descr[0] is '<' or '|' or '=' or '>' ? descr[1..] : descr;
        return key switch
        {
            "b1" => NpyDType.Bool,
            "u1" => NpyDType.UInt8,
            "i1" => NpyDType.Int8,
            "u2" => NpyDType.UInt16,
            "i2" => NpyDType.Int16,
            "u4" => NpyDType.UInt32,
            "i4" => NpyDType.Int32,
            "u8" => NpyDType.UInt64,
            "i8" => NpyDType.Int64,
            "f4" => NpyDType.Float32,
            "f8" => NpyDType.Float64,
            _ => throw new DataFormatException(sourceName, $"unsupported NPY element type '{descr}' (supported: |b1 |u1 |i1 <u2 <i2 <u4 <i4 <u8 <i8 <f4 <f8)."),
        };
    }

    private static (NpyDType DType, bool Fortran, int[] Shape) ParseHeader(string header, string sourceName)
    {
        string h = header.Trim();
        if (!h.StartsWith('{') || !h.EndsWith('}'))
        {
            throw new DataFormatException(sourceName, $"NPY header is not a dictionary literal: {Clip(h)}");
        }

        string? descr = null;
        bool? fortran = null;
        int[]? shape = null;
        int pos = 1;
        while (true)
        {
            SkipSpaces(h, ref pos);
            if (pos >= h.Length - 1)
            {
                break;
            }

            string key = ReadQuoted(h, ref pos, sourceName);
            SkipSpaces(h, ref pos);
            Expect(h, ref pos, ':', sourceName);
            SkipSpaces(h, ref pos);
            switch (key)
            {
                case "descr":
                    if (pos < h.Length && h[pos] is '[')
                    {
                        throw new DataFormatException(sourceName, "structured (record) NPY arrays are not supported.");
                    }

                    descr = ReadQuoted(h, ref pos, sourceName);
                    break;
                case "fortran_order":
                    if (string.CompareOrdinal(h, pos, "True", 0, 4) == 0)
                    {
                        fortran = true;
                        pos += 4;
                    }
                    else if (string.CompareOrdinal(h, pos, "False", 0, 5) == 0)
                    {
                        fortran = false;
                        pos += 5;
                    }
                    else
                    {
                        throw new DataFormatException(sourceName, $"NPY header has an invalid 'fortran_order' value: {Clip(h)}");
                    }

                    break;
                case "shape":
                    shape = ReadShape(h, ref pos, sourceName);
                    break;
                default:
                    throw new DataFormatException(sourceName, $"NPY header has an unexpected key '{key}'.");
            }

            SkipSpaces(h, ref pos);
            if (pos < h.Length && h[pos] == ',')
            {
                pos++;
            }
        }

        if (descr is null || fortran is null || shape is null)
        {
            throw new DataFormatException(sourceName, $"NPY header lacks 'descr', 'fortran_order' or 'shape': {Clip(h)}");
        }

        return (ParseDescr(descr, sourceName), fortran.Value, shape);
    }

    private static int[] ReadShape(string h, ref int pos, string sourceName)
    {
        Expect(h, ref pos, '(', sourceName);
        var dims = new List<int>();
        while (true)
        {
            SkipSpaces(h, ref pos);
            if (pos >= h.Length)
            {
                throw new DataFormatException(sourceName, "NPY header shape is not closed.");
            }

            if (h[pos] == ')')
            {
                pos++;
                return dims.ToArray();
            }

            int start = pos;
            while (pos < h.Length && char.IsAsciiDigit(h[pos]))
            {
                pos++;
            }

            if (pos < h.Length && h[pos] == 'L')
            {
                pos++; // Python 2 long suffix.
            }

            if (!int.TryParse(h.AsSpan(start, pos - start).TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out int d))
            {
                throw new DataFormatException(sourceName, $"NPY header has an invalid shape: {Clip(h)}");
            }

            dims.Add(d);
            SkipSpaces(h, ref pos);
            if (pos < h.Length && h[pos] == ',')
            {
                pos++;
            }
        }
    }

    private static string ReadQuoted(string h, ref int pos, string sourceName)
    {
        if (pos >= h.Length || h[pos] is not ('\'' or '"'))
        {
            throw new DataFormatException(sourceName, $"NPY header is malformed near position {pos}: {Clip(h)}");
        }

        char quote = h[pos];
        int end = h.IndexOf(quote, pos + 1);
        if (end < 0)
        {
            throw new DataFormatException(sourceName, $"NPY header has an unterminated string: {Clip(h)}");
        }

        string value = h[(pos + 1)..end];
        pos = end + 1;
        return value;
    }

    private static void Expect(string h, ref int pos, char c, string sourceName)
    {
        if (pos >= h.Length || h[pos] != c)
        {
            throw new DataFormatException(sourceName, $"NPY header is malformed: expected '{c}' at position {pos}: {Clip(h)}");
        }

        pos++;
    }

    private static void SkipSpaces(string h, ref int pos)
    {
        while (pos < h.Length && char.IsWhiteSpace(h[pos]))
        {
            pos++;
        }
    }

    private static string Clip(string s) => s.Length <= 200 ? s : s[..200] + "…";
}
