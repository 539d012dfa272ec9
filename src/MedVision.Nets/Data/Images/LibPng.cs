using System.Runtime.InteropServices;
using System.Text;

namespace MedVision.Nets.Data.Images;

/// <summary>P/Invoke (function pointers) to libpng 1.6's simplified API (<c>libpng16.so.16</c>).</summary>
internal static unsafe class LibPng
{
    private const uint FormatFlagAlpha = 0x01;
    private const uint FormatFlagColor = 0x02;
    private const uint Version = 1;

    private static readonly Lazy<Api> Functions = new(LoadApi, LazyThreadSafetyMode.ExecutionAndPublication);

    internal static RasterImage Decode(ReadOnlySpan<byte> png, string sourceName)
    {
        Api api = Functions.Value;
        var image = new PngImage { Version = Version };
        fixed (byte* src = png)
        {
            if (api.BeginReadFromMemory(&image, src, (nuint)png.Length) == 0)
            {
                string message = Message(&image);
                api.Free(&image);
                throw new DataFormatException(sourceName, $"corrupt PNG: {message}");
            }

            int channels = (image.Format & FormatFlagColor) != 0 ? 3 : 1;
            int width = checked((int)image.Width);
            int height = checked((int)image.Height);
            image.Format = channels == 3 ? FormatFlagColor : 0;
            var pixels = new byte[checked(width * height * channels)];
            fixed (byte* dst = pixels)
            {
                if (api.FinishRead(&image, null, dst, width * channels, null) == 0)
                {
                    string message = Message(&image);
                    api.Free(&image);
                    throw new DataFormatException(sourceName, $"truncated or corrupt PNG data: {message}");
                }
            }

            return new RasterImage(width, height, channels, pixels);
        }
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
            FinishRead = (delegate* unmanaged<PngImage*, void*, byte*, int, void*, int>)NativeImageLibrary.Export(lib, "png_image_finish_read", Name),
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
        public delegate* unmanaged<PngImage*, void*, byte*, int, void*, int> FinishRead;
        public delegate* unmanaged<PngImage*, void> Free;
        public delegate* unmanaged<PngImage*, byte*, nuint*, int, byte*, int, void*, int> WriteToMemory;
    }
}
