using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MedVision.Nets.Tests.Data;

/// <summary>A tiny PNG encoder (8- or 16-bit grey, RGB, with or without alpha; filter 0), independent of libpng, for generating test files.</summary>
public static class MinimalPng
{
    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }

        return c;
    }).ToArray();

    public static byte[] Encode(int width, int height, int channels, byte[] pixels)
        => EncodeSamples(width, height, bitDepth: 8, colourType: channels == 3 ? 2 : 0, pixels);

    /// <summary>
    /// Any 8- or 16-bit PNG: <paramref name="colourType"/> 0 grey, 2 RGB, 4 grey + alpha, 6 RGBA; <paramref name="samples"/>
    /// row-major, interleaved, 16-bit samples big-endian (as PNG stores them); <paramref name="chunksBeforeData"/> (type,
    /// data) are written between IHDR and IDAT (gAMA, sRGB, ...).
    /// </summary>
    public static byte[] EncodeSamples(int width, int height, int bitDepth, int colourType, byte[] samples, params (string Type, byte[] Data)[] chunksBeforeData)
    {
        int channels = colourType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => throw new ArgumentOutOfRangeException(nameof(colourType)) };
        int rowBytes = width * channels * bitDepth / 8;
        var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)colourType;
        Chunk(ms, "IHDR", ihdr);
        foreach (var (type, data) in chunksBeforeData) Chunk(ms, type, data);
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0);
            raw.Write(samples, y * rowBytes, rowBytes);
        }

        var z = new MemoryStream();
        using (var zlib = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
        {
            raw.Position = 0;
            raw.CopyTo(zlib);
        }

        Chunk(ms, "IDAT", z.ToArray());
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    /// <summary>A gAMA chunk for gamma <paramref name="gamma"/> (stored × 100,000).</summary>
    public static (string, byte[]) Gamma(double gamma)
    {
        var data = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)Math.Round(gamma * 100_000));
        return ("gAMA", data);
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        s.Write(typeAndData);
        uint crc = 0xFFFFFFFF;
        foreach (byte b in typeAndData)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        BinaryPrimitives.WriteUInt32BigEndian(len, crc ^ 0xFFFFFFFF);
        s.Write(len);
    }
}
