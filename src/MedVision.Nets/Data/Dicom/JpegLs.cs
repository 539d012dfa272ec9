using System.Runtime.InteropServices;
using MedVision.Nets.Data.Images;

namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// JPEG-LS (ITU-T T.87) decoding through CharLS 2.x (<c>libcharls.so.2</c>), the reference implementation that DCMTK
/// and GDCM use too: the "JPEG-LS Lossless" and "JPEG-LS Near-Lossless" transfer syntaxes of DICOM
/// (1.2.840.10008.1.2.4.80 and .81). 2–16 bits per sample, 1–4 components in any interleave mode.
/// </summary>
internal static unsafe class JpegLs
{
    private const int InterleaveNone = 0;

    [StructLayout(LayoutKind.Sequential)]
    private struct FrameInfo
    {
        public uint Width;
        public uint Height;
        public int BitsPerSample;
        public int ComponentCount;
    }

    private static readonly Lazy<Api> Functions = new(LoadApi, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Decodes one JPEG-LS image.</summary>
    /// <exception cref="DataFormatException">The stream is corrupt or truncated.</exception>
    /// <exception cref="DllNotFoundException">CharLS is not installed.</exception>
    internal static CodecFrame Decode(ReadOnlySpan<byte> data, string sourceName)
    {
        Api api = Functions.Value;
        nint decoder = api.Create();
        if (decoder == 0) throw new InvalidOperationException("CharLS could not create a JPEG-LS decoder.");
        try
        {
            fixed (byte* source = data)
            {
                Check(api, api.SetSourceBuffer(decoder, source, (nuint)data.Length), sourceName, "the JPEG-LS stream");
                Check(api, api.ReadHeader(decoder), sourceName, "the JPEG-LS header");
                FrameInfo info;
                Check(api, api.GetFrameInfo(decoder, &info), sourceName, "the JPEG-LS frame header");
                int interleave;
                Check(api, api.GetInterleaveMode(decoder, &interleave), sourceName, "the JPEG-LS scan header");
                int width = checked((int)info.Width), height = checked((int)info.Height), components = info.ComponentCount;
                if (info.BitsPerSample is < 2 or > 16 || components is < 1 or > 4)
                    throw new DataFormatException(sourceName, $"the JPEG-LS frame has {components} component(s) of {info.BitsPerSample} bits.");
                nuint size;
                Check(api, api.GetDestinationSize(decoder, 0, &size), sourceName, "the JPEG-LS frame size");
                int bytesPerSample = info.BitsPerSample <= 8 ? 1 : 2;
                long expected = (long)width * height * components * bytesPerSample;
                if ((long)size != expected)
                    throw new DataFormatException(sourceName, $"CharLS asks for {size} bytes for a {width}×{height}×{components} frame of {info.BitsPerSample}-bit samples ({expected} expected).");
                var buffer = new byte[checked((int)expected)];
                fixed (byte* destination = buffer)
                {
                    Check(api, api.DecodeToBuffer(decoder, destination, size, 0), sourceName, "the JPEG-LS scan data");
                }

                // CharLS writes one plane per component when the scans are not interleaved, pixels otherwise; samples
                // wider than 8 bits are native-endian 16-bit words.
                int pixels = width * height;
                var samples = new int[pixels * components];
                for (int c = 0; c < components; c++)
                    for (int p = 0; p < pixels; p++)
                    {
                        int index = interleave == InterleaveNone ? c * pixels + p : p * components + c;
                        samples[p * components + c] = bytesPerSample == 1 ? buffer[index] : BitConverter.ToUInt16(buffer, index * 2);
                    }
                return new CodecFrame(samples, width, height, components, info.BitsPerSample);
            }
        }
        finally
        {
            api.Destroy(decoder);
        }
    }

    private static void Check(Api api, int error, string sourceName, string what)
    {
        if (error == 0) return;
        string message = Marshal.PtrToStringUTF8((nint)api.ErrorMessage(error)) ?? $"error {error}";
        throw new DataFormatException(sourceName, $"{what} could not be decoded: {message}");
    }

    private static Api LoadApi()
    {
        nint lib = NativeImageLibrary.Load(
            "CharLS, the JPEG-LS library",
            "Install it (Debian/Ubuntu: apt-get install libcharls2) or convert the file to an uncompressed transfer syntax (e.g. gdcmconv --raw).",
            "libcharls.so.2", "libcharls.so", "charls", "libcharls.2.dylib", "libcharls.dylib");
        const string Name = "libcharls";
        return new Api
        {
            Create = (delegate* unmanaged<nint>)NativeImageLibrary.Export(lib, "charls_jpegls_decoder_create", Name),
            Destroy = (delegate* unmanaged<nint, void>)NativeImageLibrary.Export(lib, "charls_jpegls_decoder_destroy", Name),
            SetSourceBuffer = (delegate* unmanaged<nint, byte*, nuint, int>)NativeImageLibrary.Export(lib, "charls_jpegls_decoder_set_source_buffer", Name),
            ReadHeader = (delegate* unmanaged<nint, int>)NativeImageLibrary.Export(lib, "charls_jpegls_decoder_read_header", Name),
            GetFrameInfo = (delegate* unmanaged<nint, FrameInfo*, int>)NativeImageLibrary.Export(lib, "charls_jpegls_decoder_get_frame_info", Name),
            GetInterleaveMode = (delegate* unmanaged<nint, int*, int>)NativeImageLibrary.Export(lib, "charls_jpegls_decoder_get_interleave_mode", Name),
            GetDestinationSize = (delegate* unmanaged<nint, uint, nuint*, int>)NativeImageLibrary.Export(lib, "charls_jpegls_decoder_get_destination_size", Name),
            DecodeToBuffer = (delegate* unmanaged<nint, byte*, nuint, uint, int>)NativeImageLibrary.Export(lib, "charls_jpegls_decoder_decode_to_buffer", Name),
            ErrorMessage = (delegate* unmanaged<int, byte*>)NativeImageLibrary.Export(lib, "charls_get_error_message", Name),
        };
    }

    private sealed class Api
    {
        public delegate* unmanaged<nint> Create;
        public delegate* unmanaged<nint, void> Destroy;
        public delegate* unmanaged<nint, byte*, nuint, int> SetSourceBuffer;
        public delegate* unmanaged<nint, int> ReadHeader;
        public delegate* unmanaged<nint, FrameInfo*, int> GetFrameInfo;
        public delegate* unmanaged<nint, int*, int> GetInterleaveMode;
        public delegate* unmanaged<nint, uint, nuint*, int> GetDestinationSize;
        public delegate* unmanaged<nint, byte*, nuint, uint, int> DecodeToBuffer;
        public delegate* unmanaged<int, byte*> ErrorMessage;
    }
}
