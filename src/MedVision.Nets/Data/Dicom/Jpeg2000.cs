using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MedVision.Nets.Data.Images;

namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// JPEG 2000 (ITU-T T.800) decoding through OpenJPEG 2.x (<c>libopenjp2.so.7</c>): the "JPEG 2000" transfer syntaxes
/// of DICOM (1.2.840.10008.1.2.4.90 lossless and .91), raw codestreams or JP2 files, and High-Throughput JPEG 2000
/// (ISO/IEC 15444-15; .201–.203), which OpenJPEG decodes from 2.5.0 on. The inverse colour transform (RCT/ICT) is
/// OpenJPEG's; truncated codestreams are errors, not partly decoded images.
/// </summary>
internal static unsafe class Jpeg2000
{
    private const int CodecJ2K = 0;
    private const int CodecJp2 = 2;
    private const int ParametersSize = 16384; // opj_dparameters_t is 8,252 bytes in OpenJPEG 2.5; room to spare

    [StructLayout(LayoutKind.Sequential)]
    private struct Image
    {
        public uint X0, Y0, X1, Y1;
        public uint NumComps;
        public int ColorSpace;
        public Component* Comps;
        public byte* IccProfile;
        public uint IccProfileLength;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Component
    {
        public uint Dx, Dy, W, H, X0, Y0;
        public uint Prec;
        public uint Bpp;
        public uint Sgnd;
        public uint ResnoDecoded;
        public uint Factor;
        public int* Data;
        public ushort Alpha;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryStream
    {
        public byte* Data;
        public long Length;
        public long Position;
    }

    private static readonly Lazy<Api> Functions = new(LoadApi, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The OpenJPEG version, e.g. "2.5.0".</summary>
    internal static string Version => Marshal.PtrToStringUTF8((nint)Functions.Value.Version()) ?? "unknown";

    /// <summary>
    /// Decodes one High-Throughput JPEG 2000 codestream, after checking that OpenJPEG can (2.5.0 or later) and may
    /// (2.5.1 or later, or 2.5.0 when <see cref="DicomFile.AllowHighThroughputJpeg2000OnOpenJpeg250"/> is set).
    /// </summary>
    /// <exception cref="NotSupportedException">OpenJPEG is older than 2.5.0, or is 2.5.0 and not allowed.</exception>
    internal static CodecFrame DecodeHighThroughput(ReadOnlySpan<byte> data, string sourceName)
    {
        EnsureHighThroughput(Version, sourceName, DicomFile.AllowHighThroughputJpeg2000OnOpenJpeg250);
        return Decode(data, sourceName);
    }

    /// <summary>Throws unless OpenJPEG <paramref name="version"/> (as <c>opj_version()</c> gives it, e.g. "2.5.0" or
    /// "2.5.3-dev") decodes High-Throughput JPEG 2000 — from 2.5.0 on — without aborting the process on corrupt
    /// codestreams: 2.5.0 asserts on some (its MEL decoder's <c>assert</c>, made an error return by upstream pull request
    /// #1436 for 2.5.1), so it is used only when <paramref name="allowOpenJpeg250"/> says the data are trusted.</summary>
    /// <exception cref="NotSupportedException">The version is older than 2.5.0 or not a version number, or 2.5.0 and not allowed.</exception>
    internal static void EnsureHighThroughput(string version, string sourceName, bool allowOpenJpeg250)
    {
        if (!System.Version.TryParse(version.Split('-', '+')[0], out var parsed) || parsed < new System.Version(2, 5))
            throw new NotSupportedException($"{sourceName}: High-Throughput JPEG 2000 needs OpenJPEG 2.5.0 or later to decode; this is OpenJPEG {version}. Convert the file first (e.g. gdcmconv --raw with a newer GDCM).");
        if (parsed < new System.Version(2, 5, 1) && !allowOpenJpeg250)
            throw new NotSupportedException($"{sourceName}: High-Throughput JPEG 2000 is not decoded with OpenJPEG {version}, which aborts the whole process on some corrupt codestreams (fixed in 2.5.1). Install OpenJPEG 2.5.1 or later, convert the file first (e.g. gdcmconv --raw), or, for files from a trusted source, set DicomFile.AllowHighThroughputJpeg2000OnOpenJpeg250 = true.");
    }

    /// <summary>Decodes one JPEG 2000 codestream (or JP2 file).</summary>
    /// <exception cref="DataFormatException">The stream is corrupt or truncated, or its components differ in size.</exception>
    /// <exception cref="DllNotFoundException">OpenJPEG is not installed.</exception>
    internal static CodecFrame Decode(ReadOnlySpan<byte> data, string sourceName)
    {
        Api api = Functions.Value;
        bool jp2 = data.Length >= 12 && data[3] == 0x0C && data[4] == (byte)'j' && data[5] == (byte)'P';
        if (!jp2 && (data.Length < 4 || data[0] != 0xFF || data[1] != 0x4F))
            throw new DataFormatException(sourceName, "the JPEG 2000 data start with neither a codestream (SOC marker) nor a JP2 signature.");
        var messages = new List<string>();
        GCHandle messagesHandle = GCHandle.Alloc(messages);
        nint codec = 0, stream = 0;
        Image* image = null;
        try
        {
            fixed (byte* source = data)
            {
                var memory = new MemoryStream { Data = source, Length = data.Length };
                codec = api.CreateDecompress(jp2 ? CodecJp2 : CodecJ2K);
                if (codec == 0) throw new InvalidOperationException("OpenJPEG could not create a decoder.");
                nint messagesPointer = GCHandle.ToIntPtr(messagesHandle);
                api.SetErrorHandler(codec, &OnMessage, messagesPointer);
                api.SetWarningHandler(codec, &OnMessage, messagesPointer);
                byte* parameters = stackalloc byte[ParametersSize];
                new Span<byte>(parameters, ParametersSize).Clear();
                api.SetDefaultDecoderParameters(parameters);
                if (api.SetupDecoder(codec, parameters) == 0) throw Failure(sourceName, "the decoder could not be set up", messages);
                if (api.SetStrictMode != null) api.SetStrictMode(codec, 1);

                stream = api.StreamCreate((nuint)Math.Min(Math.Max(data.Length, 1), 1 << 20), 1);
                if (stream == 0) throw new InvalidOperationException("OpenJPEG could not create a stream.");
                api.StreamSetReadFunction(stream, &Read);
                api.StreamSetSkipFunction(stream, &Skip);
                api.StreamSetSeekFunction(stream, &Seek);
                api.StreamSetUserData(stream, &memory, null);
                api.StreamSetUserDataLength(stream, (ulong)data.Length);

                if (api.ReadHeader(stream, codec, &image) == 0 || image == null)
                    throw Failure(sourceName, "the JPEG 2000 header could not be read", messages);
                if (api.Decode(codec, stream, image) == 0 || api.EndDecompress(codec, stream) == 0)
                    throw Failure(sourceName, "the JPEG 2000 data could not be decoded", messages);
                // Without strict mode (OpenJPEG before 2.5) a truncated codestream decodes partly, with a warning.
                if (api.SetStrictMode == null && messages.Any(m => m.Contains("Stream too short", StringComparison.OrdinalIgnoreCase) || m.Contains("truncated", StringComparison.OrdinalIgnoreCase)))
                    throw Failure(sourceName, "the JPEG 2000 data are truncated", messages);
                return Collect(image, sourceName);
            }
        }
        finally
        {
            if (image != null) api.ImageDestroy(image);
            if (stream != 0) api.StreamDestroy(stream);
            if (codec != 0) api.DestroyCodec(codec);
            messagesHandle.Free();
        }
    }

    private static CodecFrame Collect(Image* image, string sourceName)
    {
        int components = checked((int)image->NumComps);
        if (components is < 1 or > 4) throw new DataFormatException(sourceName, $"the JPEG 2000 image has {components} components (1–4 are read).");
        Component first = image->Comps[0];
        int width = checked((int)first.W), height = checked((int)first.H), precision = checked((int)first.Prec);
        for (int c = 0; c < components; c++)
        {
            Component comp = image->Comps[c];
            if (comp.W != first.W || comp.H != first.H || comp.Dx != 1 || comp.Dy != 1)
                throw new DataFormatException(sourceName, $"JPEG 2000 component {c + 1} is {comp.W}×{comp.H} (subsampling {comp.Dx}×{comp.Dy}) where component 1 is {first.W}×{first.H}; subsampled components are not read.");
            if (comp.Prec != first.Prec || comp.Sgnd != first.Sgnd)
                throw new DataFormatException(sourceName, $"JPEG 2000 component {c + 1} has {comp.Prec} bits ({(comp.Sgnd != 0 ? "signed" : "unsigned")}) where component 1 has {first.Prec} ({(first.Sgnd != 0 ? "signed" : "unsigned")}).");
            if (comp.Data == null) throw new DataFormatException(sourceName, $"JPEG 2000 component {c + 1} was not decoded.");
        }
        if (precision is < 1 or > 31) throw new DataFormatException(sourceName, $"the JPEG 2000 image has {precision}-bit samples.");
        int pixels = checked(width * height);
        var samples = new int[checked(pixels * components)];
        for (int c = 0; c < components; c++)
        {
            var plane = new ReadOnlySpan<int>(image->Comps[c].Data, pixels);
            for (int p = 0; p < pixels; p++) samples[p * components + c] = plane[p];
        }
        return new CodecFrame(samples, width, height, components, precision);
    }

    private static DataFormatException Failure(string sourceName, string what, List<string> messages) =>
        new(sourceName, messages.Count == 0 ? $"{what}." : $"{what}: {string.Join("; ", messages.Select(m => m.Trim()).Distinct())}");

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnMessage(byte* message, nint userData)
    {
        if (GCHandle.FromIntPtr(userData).Target is List<string> messages && messages.Count < 20)
            messages.Add(Marshal.PtrToStringUTF8((nint)message) ?? "");
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nuint Read(byte* buffer, nuint count, MemoryStream* stream)
    {
        long left = stream->Length - stream->Position;
        if (left <= 0) return nuint.MaxValue; // (OPJ_SIZE_T)-1: end of stream
        long n = count > (ulong)left ? left : (long)count;
        Buffer.MemoryCopy(stream->Data + stream->Position, buffer, (long)count, n);
        stream->Position += n;
        return (nuint)n;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static long Skip(long count, MemoryStream* stream)
    {
        long target = stream->Position + count;
        if (target < 0 || target > stream->Length)
        {
            stream->Position = stream->Length;
            return -1; // (OPJ_OFF_T)-1: past the end, which OpenJPEG reports as a truncated stream
        }
        stream->Position = target;
        return count;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Seek(long position, MemoryStream* stream)
    {
        if (position < 0 || position > stream->Length) return 0;
        stream->Position = position;
        return 1;
    }

    private static Api LoadApi()
    {
        nint lib = NativeImageLibrary.Load(
            "OpenJPEG, the JPEG 2000 library",
            "Install it (Debian/Ubuntu: apt-get install libopenjp2-7) or convert the file to an uncompressed transfer syntax (e.g. gdcmconv --raw).",
            "libopenjp2.so.7", "libopenjp2.so", "openjp2", "libopenjp2.7.dylib", "libopenjp2.dylib");
        const string Name = "libopenjp2";
        nint Export(string name) => NativeImageLibrary.Export(lib, name, Name);
        return new Api
        {
            Version = (delegate* unmanaged<byte*>)Export("opj_version"),
            CreateDecompress = (delegate* unmanaged<int, nint>)Export("opj_create_decompress"),
            DestroyCodec = (delegate* unmanaged<nint, void>)Export("opj_destroy_codec"),
            SetDefaultDecoderParameters = (delegate* unmanaged<byte*, void>)Export("opj_set_default_decoder_parameters"),
            SetupDecoder = (delegate* unmanaged<nint, byte*, int>)Export("opj_setup_decoder"),
            SetStrictMode = NativeLibrary.TryGetExport(lib, "opj_decoder_set_strict_mode", out nint strict) ? (delegate* unmanaged<nint, int, int>)strict : null,
            SetErrorHandler = (delegate* unmanaged<nint, delegate* unmanaged[Cdecl]<byte*, nint, void>, nint, int>)Export("opj_set_error_handler"),
            SetWarningHandler = (delegate* unmanaged<nint, delegate* unmanaged[Cdecl]<byte*, nint, void>, nint, int>)Export("opj_set_warning_handler"),
            StreamCreate = (delegate* unmanaged<nuint, int, nint>)Export("opj_stream_create"),
            StreamDestroy = (delegate* unmanaged<nint, void>)Export("opj_stream_destroy"),
            StreamSetReadFunction = (delegate* unmanaged<nint, delegate* unmanaged[Cdecl]<byte*, nuint, MemoryStream*, nuint>, void>)Export("opj_stream_set_read_function"),
            StreamSetSkipFunction = (delegate* unmanaged<nint, delegate* unmanaged[Cdecl]<long, MemoryStream*, long>, void>)Export("opj_stream_set_skip_function"),
            StreamSetSeekFunction = (delegate* unmanaged<nint, delegate* unmanaged[Cdecl]<long, MemoryStream*, int>, void>)Export("opj_stream_set_seek_function"),
            StreamSetUserData = (delegate* unmanaged<nint, MemoryStream*, void*, void>)Export("opj_stream_set_user_data"),
            StreamSetUserDataLength = (delegate* unmanaged<nint, ulong, void>)Export("opj_stream_set_user_data_length"),
            ReadHeader = (delegate* unmanaged<nint, nint, Image**, int>)Export("opj_read_header"),
            Decode = (delegate* unmanaged<nint, nint, Image*, int>)Export("opj_decode"),
            EndDecompress = (delegate* unmanaged<nint, nint, int>)Export("opj_end_decompress"),
            ImageDestroy = (delegate* unmanaged<Image*, void>)Export("opj_image_destroy"),
        };
    }

    private sealed class Api
    {
        public delegate* unmanaged<byte*> Version;
        public delegate* unmanaged<int, nint> CreateDecompress;
        public delegate* unmanaged<nint, void> DestroyCodec;
        public delegate* unmanaged<byte*, void> SetDefaultDecoderParameters;
        public delegate* unmanaged<nint, byte*, int> SetupDecoder;
        public delegate* unmanaged<nint, int, int> SetStrictMode;
        public delegate* unmanaged<nint, delegate* unmanaged[Cdecl]<byte*, nint, void>, nint, int> SetErrorHandler;
        public delegate* unmanaged<nint, delegate* unmanaged[Cdecl]<byte*, nint, void>, nint, int> SetWarningHandler;
        public delegate* unmanaged<nuint, int, nint> StreamCreate;
        public delegate* unmanaged<nint, void> StreamDestroy;
        public delegate* unmanaged<nint, delegate* unmanaged[Cdecl]<byte*, nuint, MemoryStream*, nuint>, void> StreamSetReadFunction;
        public delegate* unmanaged<nint, delegate* unmanaged[Cdecl]<long, MemoryStream*, long>, void> StreamSetSkipFunction;
        public delegate* unmanaged<nint, delegate* unmanaged[Cdecl]<long, MemoryStream*, int>, void> StreamSetSeekFunction;
        public delegate* unmanaged<nint, MemoryStream*, void*, void> StreamSetUserData;
        public delegate* unmanaged<nint, ulong, void> StreamSetUserDataLength;
        public delegate* unmanaged<nint, nint, Image**, int> ReadHeader;
        public delegate* unmanaged<nint, nint, Image*, int> Decode;
        public delegate* unmanaged<nint, nint, int> EndDecompress;
        public delegate* unmanaged<Image*, void> ImageDestroy;
    }
}
