using System.Runtime.InteropServices;
using System.Text;

namespace MedVision.Nets.Data.Images;

/// <summary>P/Invoke (function pointers) to libpng 1.6's simplified API (<c>libpng16.so.16</c>).</summary>
internal static unsafe class LibPng
{
    private const uint FormatFlagAlpha = 0x01;
    private const uint FormatFlagColor = 0x02;
    private const uint FormatFlagLinear = 0x04;
    private const uint Version = 1;

    private static readonly Lazy<Api> Functions = new(LoadApi, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Decodes a PNG to 8-bit grey or RGB with the file's stored values, as PIL, OpenCV and torchvision read them:
    /// colour-management chunks (gAMA, cHRM, sRGB, iCCP) are ignored, 16-bit samples are mapped linearly to 8 bits
    /// (round(v × 255 / 65535)), and alpha is dropped (as PIL's <c>convert("RGB")</c>: transparent pixels keep their stored
    /// colour). libpng's simplified API would otherwise apply the file's gamma, composite alpha onto black, and treat
    /// 16-bit samples as linear light that it re-encodes with the sRGB curve for 8-bit output (a 16-bit 4096 would
    /// become 72 instead of 16). It returns 16-bit data with alpha only premultiplied, so those files, once libpng has
    /// read them without error, have their samples read by <see cref="PngSamples"/>.
    /// </summary>
    internal static RasterImage Decode(ReadOnlySpan<byte> png, string sourceName)
    {
        Api api = Functions.Value;
        var image = new PngImage { Version = Version };
        byte[]? withoutColourChunks = WithoutColourManagementChunks(png);
        if (withoutColourChunks is not null) png = withoutColourChunks;
        fixed (byte* src = png)
        {
            if (api.BeginReadFromMemory(&image, src, (nuint)png.Length) == 0)
            {
                string message = Message(&image);
                api.Free(&image);
                throw new DataFormatException(sourceName, $"corrupt PNG: {message}");
            }

            int channels = (image.Format & FormatFlagColor) != 0 ? 3 : 1;
            bool sixteenBit = (image.Format & FormatFlagLinear) != 0; // set for files with 16-bit samples
            // 8-bit alpha is read and dropped (the stored colour, as PIL's convert("RGB")); libpng returns 16-bit data
            // with alpha premultiplied, i.e. composited onto black: those samples are read again below.
            bool sixteenBitAlpha = sixteenBit && (image.Format & FormatFlagAlpha) != 0;
            bool readAlpha = (image.Format & FormatFlagAlpha) != 0 && !sixteenBit;
            int width = checked((int)image.Width);
            int height = checked((int)image.Height);
            int stride = channels + (readAlpha ? 1 : 0);
            image.Format = (channels == 3 ? FormatFlagColor : 0) | (sixteenBit ? FormatFlagLinear : 0) | (readAlpha ? FormatFlagAlpha : 0);
            int pixelCount = checked(width * height);
            var read8 = sixteenBit ? null : new byte[checked(pixelCount * stride)];
            var read16 = sixteenBit ? new ushort[checked(pixelCount * stride)] : null;
            fixed (byte* narrow = read8)
            fixed (ushort* wide = read16)
            {
                // the row stride is counted in samples (components), not bytes
                if (api.FinishRead(&image, null, sixteenBit ? wide : narrow, width * stride, null) == 0)
                {
                    string message = Message(&image);
                    api.Free(&image);
                    throw new DataFormatException(sourceName, $"truncated or corrupt PNG data: {message}");
                }
            }

            if (sixteenBitAlpha) return PngSamples.DecodeSixteenBit(png, sourceName);

            byte[] pixels;
            if (read16 is not null)
            {
                pixels = new byte[read16.Length];
                for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)((read16[i] * 255 + 32767) / 65535);
            }
            else if (readAlpha)
            {
                pixels = new byte[checked(pixelCount * channels)];
                for (int p = 0; p < pixelCount; p++)
                    for (int c = 0; c < channels; c++) pixels[p * channels + c] = read8![p * stride + c];
            }
            else
            {
                pixels = read8!;
            }

            return new RasterImage(width, height, channels, pixels);
        }
    }

    /// <summary>
    /// A copy of <paramref name="png"/> without its gAMA, cHRM, sRGB and iCCP chunks, or null when it has none (or its
    /// chunk structure is broken before the first IDAT, which libpng then reports).
    /// </summary>
    internal static byte[]? WithoutColourManagementChunks(ReadOnlySpan<byte> png)
    {
        const int Signature = 8;
        var drop = new List<(int Start, int Length)>();
        int at = Signature;
        while (at + 8 <= png.Length)
        {
            long length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.Slice(at, 4));
            var type = png.Slice(at + 4, 4);
            long total = 12 + length;
            if (at + total > png.Length) return null;
            if (type.SequenceEqual("IDAT"u8) || type.SequenceEqual("IEND"u8)) break;
            if (type.SequenceEqual("gAMA"u8) || type.SequenceEqual("cHRM"u8) || type.SequenceEqual("sRGB"u8) || type.SequenceEqual("iCCP"u8))
                drop.Add((at, (int)total));
            at += (int)total;
        }
        if (drop.Count == 0) return null;
        var result = new byte[png.Length - drop.Sum(d => d.Length)];
        int from = 0, to = 0;
        foreach (var (start, length) in drop)
        {
            png[from..start].CopyTo(result.AsSpan(to));
            to += start - from;
            from = start + length;
        }
        png[from..].CopyTo(result.AsSpan(to));
        return result;
    }

    internal static byte[] Encode(RasterImage raster)
    {
        Api api = Functions.Value;
        var image = new PngImage
        {
            Version = Version,
            Width = (uint)raster.Width,
            Height = (uint)raster.Height,
            Format = raster.Channels == 3 ? FormatFlagColor : 0,
        };
        fixed (byte* src = raster.Pixels)
        {
            nuint size = 0;
            int stride = raster.Width * raster.Channels;
            if (api.WriteToMemory(&image, null, &size, 0, src, stride, null) == 0)
            {
                throw new InvalidOperationException($"libpng could not size the PNG: {Message(&image)}");
            }

            var output = new byte[checked((int)size)];
            fixed (byte* dst = output)
            {
                if (api.WriteToMemory(&image, dst, &size, 0, src, stride, null) == 0)
                {
                    throw new InvalidOperationException($"libpng could not encode the PNG: {Message(&image)}");
                }
            }

            return output.AsSpan(0, (int)size).ToArray();
        }
    }

    private static string Message(PngImage* image)
    {
        var span = new ReadOnlySpan<byte>(image->Message, 64);
        int end = span.IndexOf((byte)0);
        string text = Encoding.ASCII.GetString(end < 0 ? span : span[..end]);
        return text.Length == 0 ? "unknown libpng error" : text;
    }

    private static Api LoadApi()
    {
        nint lib = NativeImageLibrary.Load(
            "libpng 1.6",
            "Install it (Debian/Ubuntu: apt-get install libpng16-16).",
            "libpng16.so.16", "libpng16.so", "libpng16", "libpng16.16.dylib", "libpng16.dll");
        const string Name = "libpng16";
        return new Api
        {
            BeginReadFromMemory = (delegate* unmanaged<PngImage*, byte*, nuint, int>)NativeImageLibrary.Export(lib, "png_image_begin_read_from_memory", Name),
            FinishRead = (delegate* unmanaged<PngImage*, void*, void*, int, void*, int>)NativeImageLibrary.Export(lib, "png_image_finish_read", Name),
            Free = (delegate* unmanaged<PngImage*, void>)NativeImageLibrary.Export(lib, "png_image_free", Name),
            WriteToMemory = (delegate* unmanaged<PngImage*, byte*, nuint*, int, byte*, int, void*, int>)NativeImageLibrary.Export(lib, "png_image_write_to_memory", Name),
        };
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PngImage
    {
        public nint Opaque;
        public uint Version;
        public uint Width;
        public uint Height;
        public uint Format;
        public uint Flags;
        public uint ColormapEntries;
        public uint WarningOrError;
        public fixed byte Message[64];
    }

    private sealed class Api
    {
        public delegate* unmanaged<PngImage*, byte*, nuint, int> BeginReadFromMemory;
        public delegate* unmanaged<PngImage*, void*, void*, int, void*, int> FinishRead;
        public delegate* unmanaged<PngImage*, void> Free;
        public delegate* unmanaged<PngImage*, byte*, nuint*, int, byte*, int, void*, int> WriteToMemory;
    }
}
