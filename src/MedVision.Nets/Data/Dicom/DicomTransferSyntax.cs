namespace MedVision.Nets.Data.Dicom;

/// <summary>DICOM transfer syntax UIDs (PS3.5 §10 and annex A) and which of them <see cref="DicomFile"/> reads.</summary>
public static class DicomTransferSyntax
{
    /// <summary>Implicit VR Little Endian, the default.</summary>
    public const string ImplicitVrLittleEndian = "1.2.840.10008.1.2";

    /// <summary>Explicit VR Little Endian.</summary>
    public const string ExplicitVrLittleEndian = "1.2.840.10008.1.2.1";

    /// <summary>Deflated Explicit VR Little Endian.</summary>
    public const string DeflatedExplicitVrLittleEndian = "1.2.840.10008.1.2.1.99";

    /// <summary>Explicit VR Big Endian (retired; not read).</summary>
    public const string ExplicitVrBigEndian = "1.2.840.10008.1.2.2";

    /// <summary>JPEG Baseline (process 1): 8-bit lossy JPEG.</summary>
    public const string JpegBaseline = "1.2.840.10008.1.2.4.50";

    /// <summary>JPEG Extended (processes 2 and 4): read when the samples are 8-bit.</summary>
    public const string JpegExtended = "1.2.840.10008.1.2.4.51";

    /// <summary>JPEG Lossless (process 14, any predictor).</summary>
    public const string JpegLossless = "1.2.840.10008.1.2.4.57";

    /// <summary>JPEG Lossless, first-order prediction (process 14, selection value 1): the usual lossless JPEG of DICOM archives.</summary>
    public const string JpegLosslessFirstOrder = "1.2.840.10008.1.2.4.70";

    /// <summary>JPEG-LS Lossless (decoded by CharLS).</summary>
    public const string JpegLsLossless = "1.2.840.10008.1.2.4.80";

    /// <summary>JPEG-LS Near-Lossless: each sample within a bound set by the encoder (decoded by CharLS).</summary>
    public const string JpegLsNearLossless = "1.2.840.10008.1.2.4.81";

    /// <summary>JPEG 2000 Image Compression, Lossless Only (decoded by OpenJPEG).</summary>
    public const string Jpeg2000Lossless = "1.2.840.10008.1.2.4.90";

    /// <summary>JPEG 2000 Image Compression, lossless or lossy (decoded by OpenJPEG).</summary>
    public const string Jpeg2000 = "1.2.840.10008.1.2.4.91";

    /// <summary>High-Throughput JPEG 2000 (ISO/IEC 15444-15), Lossless Only (decoded by OpenJPEG 2.5 or later).</summary>
    public const string HighThroughputJpeg2000Lossless = "1.2.840.10008.1.2.4.201";

    /// <summary>High-Throughput JPEG 2000 with RPCL Options, Lossless Only (decoded by OpenJPEG 2.5 or later).</summary>
    public const string HighThroughputJpeg2000RpclLossless = "1.2.840.10008.1.2.4.202";

    /// <summary>High-Throughput JPEG 2000, lossless or lossy (decoded by OpenJPEG 2.5 or later).</summary>
    public const string HighThroughputJpeg2000 = "1.2.840.10008.1.2.4.203";

    /// <summary>RLE Lossless.</summary>
    public const string RleLossless = "1.2.840.10008.1.2.5";

    private static readonly Dictionary<string, string> Names = new()
    {
        [ImplicitVrLittleEndian] = "Implicit VR Little Endian",
        [ExplicitVrLittleEndian] = "Explicit VR Little Endian",
        [DeflatedExplicitVrLittleEndian] = "Deflated Explicit VR Little Endian",
        [ExplicitVrBigEndian] = "Explicit VR Big Endian (retired)",
        [JpegBaseline] = "JPEG Baseline",
        [JpegExtended] = "JPEG Extended",
        [JpegLossless] = "JPEG Lossless",
        [JpegLosslessFirstOrder] = "JPEG Lossless, first-order prediction",
        [JpegLsLossless] = "JPEG-LS Lossless",
        [JpegLsNearLossless] = "JPEG-LS Near-Lossless",
        [Jpeg2000Lossless] = "JPEG 2000 Lossless",
        [Jpeg2000] = "JPEG 2000",
        [HighThroughputJpeg2000Lossless] = "High-Throughput JPEG 2000 Lossless",
        [HighThroughputJpeg2000RpclLossless] = "High-Throughput JPEG 2000 with RPCL Options, Lossless",
        [HighThroughputJpeg2000] = "High-Throughput JPEG 2000",
        ["1.2.840.10008.1.2.4.100"] = "MPEG2 Main Profile / Main Level (video)",
        ["1.2.840.10008.1.2.4.102"] = "MPEG-4 AVC/H.264 High Profile (video)",
        ["1.2.840.10008.1.2.4.110"] = "MPEG-4 AVC/H.264 High Profile for 2D video",
        [RleLossless] = "RLE Lossless",
    };

    private static readonly HashSet<string> Supported = new()
    {
        ImplicitVrLittleEndian, ExplicitVrLittleEndian, DeflatedExplicitVrLittleEndian, JpegBaseline, JpegExtended, JpegLossless, JpegLosslessFirstOrder,
        JpegLsLossless, JpegLsNearLossless, Jpeg2000Lossless, Jpeg2000,
        HighThroughputJpeg2000Lossless, HighThroughputJpeg2000RpclLossless, HighThroughputJpeg2000, RleLossless,
    };

    /// <summary>True when <see cref="DicomFile"/> reads files in this transfer syntax.</summary>
    public static bool IsSupported(string uid) => Supported.Contains(uid ?? throw new ArgumentNullException(nameof(uid)));

    /// <summary>
    /// True when pixel data in this transfer syntax are encapsulated (compressed, stored as fragments): every supported
    /// syntax except the three uncompressed ones.
    /// </summary>
    public static bool IsEncapsulated(string uid) =>
        (uid ?? throw new ArgumentNullException(nameof(uid))) is not (ImplicitVrLittleEndian or ExplicitVrLittleEndian or DeflatedExplicitVrLittleEndian or ExplicitVrBigEndian);

    /// <summary>The transfer syntax's name, or "unknown transfer syntax".</summary>
    public static string Describe(string uid) => Names.TryGetValue(uid ?? throw new ArgumentNullException(nameof(uid)), out var name) ? name : "unknown transfer syntax";
}
