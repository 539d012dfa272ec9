using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace MedVision.Torch.TensorBoard;

/// <summary>
/// A minimal PNG encoder for summaries: 8-bit grey, grey + alpha, RGB or RGBA, no interlacing, filter "none" on every
/// row, zlib-compressed. Enough for TensorBoard (and every PNG reader); not a general image library.
/// </summary>
internal static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes interleaved 8-bit pixels (rows top to bottom, <paramref name="channels"/> values per pixel).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int height, int width, int channels)
    {
        byte colourType = channels switch
        {
            1 => 0,
            2 => 4,
            3 => 2,
            4 => 6,
            _ => throw new ArgumentOutOfRangeException(nameof(channels), channels, "A PNG has 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels."),
        };
        if (height <= 0 || width <= 0) throw new ArgumentException($"A PNG needs at least one row and one column, not {height}×{width}.");
        long rowBytes = (long)width * channels;
        if (pixels.Length != rowBytes * height) throw new ArgumentException($"{height}×{width}×{channels} pixels need {rowBytes * height} bytes, not {pixels.Length}.", nameof(pixels));

        using var output = new MemoryStream();
        output.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8; // bit depth
        header[9] = colourType;
        header[10] = 0; // deflate
        header[11] = 0; // adaptive filtering (every row "none")
        header[12] = 0; // no interlace
        Chunk(output, "IHDR", header);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0);
                zlib.Write(pixels.Slice((int)(y * rowBytes), (int)rowBytes));
            }
        }
        Chunk(output, "IDAT", compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void Chunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        Span<byte> typeBytes = stackalloc byte[4];
        for (int i = 0; i < 4; i++) typeBytes[i] = (byte)type[i];
        output.Write(typeBytes);
        output.Write(data);
        var crc = new Crc32();
        crc.Append(typeBytes);
        crc.Append(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc.GetCurrentHashAsUInt32());
        output.Write(word);
    }
}
