using System.Buffers.Binary;
using System.IO.Compression;

namespace MedVision.Nets.Data.Images;

/// <summary>
/// Reads the stored samples of a 16-bit PNG with alpha (grey + alpha, RGBA, or grey/RGB with a tRNS transparent colour),
/// which libpng's simplified API only returns premultiplied — composited onto black, the colour of transparent pixels
/// lost. Used after libpng has read the same file successfully (so its chunk CRCs and zlib stream are known to be
/// sound): inflates the IDAT data, undoes the five row filters and Adam7 interlacing (PNG specification, clauses 9 and
/// 8.2) and keeps the colour samples.
/// </summary>
internal static class PngSamples
{
    // Adam7 passes: first column, first row, column step, row step.
    private static readonly (int X, int Y, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    /// <summary>
    /// The colour samples (alpha dropped) of a 16-bit PNG, mapped linearly to 8 bits (round(v × 255 / 65535)), row by row.
    /// </summary>
    /// <exception cref="DataFormatException">The file is not a 16-bit PNG, or its data do not fill the image.</exception>
    internal static RasterImage DecodeSixteenBit(ReadOnlySpan<byte> png, string sourceName)
    {
        const int Signature = 8;
        int width = 0, height = 0, colourType = -1, interlace = -1;
        using var compressed = new MemoryStream();
        int at = Signature;
        bool inData = false;
        while (at + 8 <= png.Length)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(png.Slice(at, 4));
            var type = png.Slice(at + 4, 4);
            // IDAT chunks are consecutive: the image data end at the first other chunk, where libpng stops reading too.
            if (inData && !type.SequenceEqual("IDAT"u8)) break;
            if (at + 12L + length > png.Length) throw new DataFormatException(sourceName, "a PNG chunk runs past the end of the file");
            var data = png.Slice(at + 8, (int)length);
            if (type.SequenceEqual("IHDR"u8))
            {
                if (length != 13) throw new DataFormatException(sourceName, "the PNG header chunk is not 13 bytes");
                width = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data));
                height = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
                if (data[8] != 16) throw new DataFormatException(sourceName, $"expected a 16-bit PNG, found {data[8]} bits a sample");
                colourType = data[9];
                interlace = data[12];
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                compressed.Write(data);
                inData = true;
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                break;
            }
            at += 12 + (int)length;
        }

        int channels = colourType switch
        {
            0 => 1,
            2 => 3,
            4 => 2,
            6 => 4,
            _ => throw new DataFormatException(sourceName, $"expected a 16-bit grey or RGB PNG (colour type 0, 2, 4 or 6), found colour type {colourType}"),
        };
        if (width <= 0 || height <= 0) throw new DataFormatException(sourceName, "the PNG has no image header");
        if (interlace is not (0 or 1)) throw new DataFormatException(sourceName, $"unknown PNG interlace method {interlace}");

        int pixelBytes = 2 * channels;
        long rawLength = 0;
        var passes = Passes(width, height, interlace == 1);
        foreach (var pass in passes) rawLength += (long)pass.Height * (1 + (long)pass.Width * pixelBytes);
        byte[] raw = new byte[checked((int)rawLength)];
        compressed.Position = 0;
        using (var inflater = new ZLibStream(compressed, CompressionMode.Decompress))
        {
            try
            {
                inflater.ReadExactly(raw);
            }
            catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
            {
                throw new DataFormatException(sourceName, $"the PNG's image data end before the image does ({e.Message})");
            }
        }

        int colour = colourType >= 4 ? channels - 1 : channels;
        var pixels = new byte[checked(width * height * colour)];
        int offset = 0;
        foreach (var (x0, y0, dx, dy, passWidth, passHeight) in passes)
        {
            int rowBytes = passWidth * pixelBytes;
            Span<byte> previous = new byte[rowBytes]; // the row above the first one is zeros
            for (int r = 0; r < passHeight; r++)
            {
                byte filter = raw[offset];
                var row = raw.AsSpan(offset + 1, rowBytes);
                Unfilter(filter, row, previous, pixelBytes, sourceName);
                int y = y0 + r * dy;
                for (int c = 0; c < passWidth; c++)
                {
                    int x = x0 + c * dx;
                    for (int k = 0; k < colour; k++)
                    {
                        int v = BinaryPrimitives.ReadUInt16BigEndian(row.Slice(c * pixelBytes + 2 * k, 2));
                        pixels[(y * width + x) * colour + k] = (byte)((v * 255 + 32767) / 65535);
                    }
                }
                previous = row;
                offset += 1 + rowBytes;
            }
        }
        return new RasterImage(width, height, colour, pixels);
    }

    // The passes that hold pixels (all seven of Adam7 unless the image is small; one without interlacing): where each
    // starts, its steps, and its size in pixels.
    private static List<(int X, int Y, int Dx, int Dy, int Width, int Height)> Passes(int width, int height, bool interlaced)
    {
        var passes = new List<(int, int, int, int, int, int)>();
        foreach (var (x0, y0, dx, dy) in interlaced ? Adam7 : [(0, 0, 1, 1)])
        {
            int w = (width - x0 + dx - 1) / dx, h = (height - y0 + dy - 1) / dy;
            if (w > 0 && h > 0) passes.Add((x0, y0, dx, dy, w, h));
        }
        return passes;
    }

    private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> previous, int pixelBytes, string sourceName)
    {
        switch (filter)
        {
            case 0:
                break;
            case 1: // Sub
                for (int i = pixelBytes; i < row.Length; i++) row[i] += row[i - pixelBytes];
                break;
            case 2: // Up
                for (int i = 0; i < row.Length; i++) row[i] += previous[i];
                break;
            case 3: // Average
                for (int i = 0; i < row.Length; i++)
                    row[i] += (byte)(((i >= pixelBytes ? row[i - pixelBytes] : 0) + previous[i]) >> 1);
                break;
            case 4: // Paeth
                for (int i = 0; i < row.Length; i++)
                {
                    int a = i >= pixelBytes ? row[i - pixelBytes] : 0, b = previous[i], c = i >= pixelBytes ? previous[i - pixelBytes] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                break;
            default:
                throw new DataFormatException(sourceName, $"unknown PNG row filter {filter}");
        }
    }
}
