using System.Runtime.InteropServices;

namespace MedVision.Nets.Data.Images;

/// <summary>P/Invoke (function pointers) to libjpeg-turbo's TurboJPEG 2.x API (<c>libturbojpeg.so.0</c>).</summary>
internal static unsafe class TurboJpeg
{
    private const int PixelFormatRgb = 0;
    private const int PixelFormatGray = 6;
    private const int Subsampling444 = 0;
    private const int SubsamplingGray = 3;
    private const int ColorspaceGray = 2;
    private const int ColorspaceCmyk = 3;
    private const int ColorspaceYcck = 4;
    private const int FlagStopOnWarning = 8192;
    private const int FlagAccurateDct = 4096;

    private static readonly Lazy<Api> Functions = new(LoadApi, LazyThreadSafetyMode.ExecutionAndPublication);

    internal static RasterImage Decode(ReadOnlySpan<byte> jpeg, string sourceName)
    {
        Api api = Functions.Value;
        nint handle = api.InitDecompress();
        if (handle == 0)
        {
            throw new InvalidOperationException("TurboJPEG could not create a decompressor.");
        }

        try
        {
            fixed (byte* src = jpeg)
            {
                int width, height, subsampling, colorspace;
                if (api.DecompressHeader3(handle, src, new CULong((nuint)jpeg.Length), &width, &height, &subsampling, &colorspace) != 0)
                {
                    throw new DataFormatException(sourceName, $"corrupt JPEG header: {Error(api, handle)}");
                }

                if (colorspace is ColorspaceCmyk or ColorspaceYcck)
                {
                    throw new NotSupportedException($"{sourceName}: CMYK JPEG ({(colorspace == ColorspaceCmyk ? "CMYK" : "YCCK")} colour space, from print or prepress workflows) is not supported; convert it to RGB first (e.g. convert in.jpg -colorspace sRGB out.jpg).");
                }

                int channels = colorspace == ColorspaceGray ? 1 : 3;
                var pixels = new byte[checked(width * height * channels)];
                fixed (byte* dst = pixels)
                {
                    int rc = api.Decompress2(handle, src, new CULong((nuint)jpeg.Length), dst, width, 0, height, channels == 1 ? PixelFormatGray : PixelFormatRgb, FlagStopOnWarning | FlagAccurateDct);
                    if (rc != 0)
                    {
                        throw new DataFormatException(sourceName, $"truncated or corrupt JPEG data: {Error(api, handle)}");
                    }
                }

                return new RasterImage(width, height, channels, pixels);
            }
        }
        finally
        {
            api.Destroy(handle);
        }
    }

    internal static byte[] Encode(RasterImage image, int quality)
    {
        Api api = Functions.Value;
        nint handle = api.InitCompress();
        if (handle == 0)
        {
            throw new InvalidOperationException("TurboJPEG could not create a compressor.");
        }

        byte* output = null;
        try
        {
            CULong size = default;
            fixed (byte* src = image.Pixels)
            {
                int rc = api.Compress2(handle, src, image.Width, 0, image.Height, image.Channels == 1 ? PixelFormatGray : PixelFormatRgb, &output, &size, image.Channels == 1 ? SubsamplingGray : Subsampling444, quality, FlagAccurateDct);
                if (rc != 0)
                {
                    throw new InvalidOperationException($"TurboJPEG could not encode the image: {Error(api, handle)}");
                }
            }

            return new ReadOnlySpan<byte>(output, checked((int)size.Value)).ToArray();
        }
        finally
        {
            if (output != null)
            {
                api.Free(output);
            }

            api.Destroy(handle);
        }
    }

    private static string Error(Api api, nint handle) => Marshal.PtrToStringUTF8((nint)api.GetErrorStr2(handle)) ?? "unknown error";

    private static Api LoadApi()
    {
        nint lib = NativeImageLibrary.Load(
            "libjpeg-turbo's TurboJPEG library",
            "Install it (Debian/Ubuntu: apt-get install libturbojpeg0).",
            "libturbojpeg.so.0", "libturbojpeg.so", "turbojpeg", "libturbojpeg.0.dylib", "libturbojpeg.dylib");
        const string Name = "libturbojpeg";
        return new Api
        {
            InitDecompress = (delegate* unmanaged<nint>)NativeImageLibrary.Export(lib, "tjInitDecompress", Name),
            InitCompress = (delegate* unmanaged<nint>)NativeImageLibrary.Export(lib, "tjInitCompress", Name),
            DecompressHeader3 = (delegate* unmanaged<nint, byte*, CULong, int*, int*, int*, int*, int>)NativeImageLibrary.Export(lib, "tjDecompressHeader3", Name),
            Decompress2 = (delegate* unmanaged<nint, byte*, CULong, byte*, int, int, int, int, int, int>)NativeImageLibrary.Export(lib, "tjDecompress2", Name),
            Compress2 = (delegate* unmanaged<nint, byte*, int, int, int, int, byte**, CULong*, int, int, int, int>)NativeImageLibrary.Export(lib, "tjCompress2", Name),
            GetErrorStr2 = (delegate* unmanaged<nint, byte*>)NativeImageLibrary.Export(lib, "tjGetErrorStr2", Name),
            Destroy = (delegate* unmanaged<nint, int>)NativeImageLibrary.Export(lib, "tjDestroy", Name),
            Free = (delegate* unmanaged<byte*, void>)NativeImageLibrary.Export(lib, "tjFree", Name),
        };
    }

    private sealed class Api
    {
        public delegate* unmanaged<nint> InitDecompress;
        public delegate* unmanaged<nint> InitCompress;
        public delegate* unmanaged<nint, byte*, CULong, int*, int*, int*, int*, int> DecompressHeader3;
        public delegate* unmanaged<nint, byte*, CULong, byte*, int, int, int, int, int, int> Decompress2;
        public delegate* unmanaged<nint, byte*, int, int, int, int, byte**, CULong*, int, int, int, int> Compress2;
        public delegate* unmanaged<nint, byte*> GetErrorStr2;
        public delegate* unmanaged<nint, int> Destroy;
        public delegate* unmanaged<byte*, void> Free;
    }
}
