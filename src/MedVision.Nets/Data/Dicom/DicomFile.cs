using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// One DICOM Part 10 file (a CT/MR/PET slice, a radiograph, a fundus photograph): the attributes imaging pipelines
/// need and the pixel data of every frame, read without any DICOM toolkit.
/// </summary>
/// <remarks>
/// <para>
/// Transfer syntaxes: Implicit and Explicit VR Little Endian, Deflated Explicit VR Little Endian, RLE Lossless,
/// JPEG Baseline (8-bit, decoded by libjpeg-turbo), JPEG Lossless (process 14, 2–16 bits, any predictor), JPEG-LS
/// lossless and near-lossless (decoded by CharLS, <c>libcharls2</c>) and JPEG 2000 lossless and lossy (decoded by
/// OpenJPEG, <c>libopenjp2-7</c>), High-Throughput JPEG 2000 (OpenJPEG 2.5.1 or later, or 2.5.0 with
/// <see cref="AllowHighThroughputJpeg2000OnOpenJpeg250"/>). Others (big endian, video) are
/// refused with a <see cref="NotSupportedException"/> that names them; convert such files first (e.g. <c>gdcmconv --raw</c>).
/// Files without the 128-byte preamble are read as Implicit VR Little Endian data sets, as DICOM allows.
/// </para>
/// <para>
/// Colour frames come out as RGB: from RGB, YBR_FULL (any of the syntaxes above that keep it), uncompressed
/// YBR_FULL_422, and the YCbCr and colour transforms the JPEG and JPEG 2000 codecs undo themselves. YCbCr is converted
/// with the equations of DICOM PS3.3 C.7.6.3.1.2 (chroma centred at half the range), rounded and clamped. PALETTE COLOR
/// images are mapped through their red, green and blue palettes (plain or segmented) to RGB.
/// </para>
/// <para>
/// <see cref="GetFrame"/> returns modality values (stored values × RescaleSlope + RescaleIntercept: Hounsfield units for
/// CT; or the stored values through a Modality LUT Sequence); <see cref="ToFloatImage"/> and <see cref="ToRasterImage"/> map a frame to display intensities (a window with
/// its VOI LUT Function, a VOI LUT, or the frame's range; MONOCHROME1 inverted so that high is bright) for the image
/// pipelines.
/// </para>
/// <para>
/// Enhanced multi-frame files (Enhanced CT, MR, PET, …) keep each frame's geometry, rescaling and window in their
/// functional groups; <see cref="GetFrameInfo"/> reads them (per frame, then shared, then top level), <see cref="GetFrame"/>
/// rescales every frame with its own slope and intercept, and <see cref="DicomSeries"/> orders the frames in space.
/// Sequences are kept as <see cref="DicomDataSet"/> items (<see cref="GetSequence"/>), nested at most 16 deep.
/// </para>
/// </remarks>
public sealed class DicomFile
{
    private readonly List<byte[]>? _fragments; // encapsulated pixel data: every item after the basic offset table
    private readonly uint[]? _offsets;         // the basic offset table (null when empty)
    private readonly byte[]? _nativePixels;

    /// <summary>
    /// Lets High-Throughput JPEG 2000 frames be decoded with OpenJPEG 2.5.0 (Debian 12's <c>libopenjp2-7</c>), which
    /// aborts the whole process — no exception can be caught — on some corrupt HTJ2K codestreams (an <c>assert</c> in its
    /// block decoder, removed in 2.5.1). Off by default: such frames then give a <see cref="NotSupportedException"/> that
    /// says what to do. Set it only when the files come from a trusted source; OpenJPEG 2.5.1 and later need no setting.
    /// </summary>
    public static bool AllowHighThroughputJpeg2000OnOpenJpeg250 { get; set; }

    /// <summary>The file's transfer syntax UID.</summary>
    public string TransferSyntaxUid { get; }

    /// <summary>The file (for messages).</summary>
    public string SourceName { get; }

    /// <summary>Rows (height) of each frame.</summary>
    public int Rows { get; }

    /// <summary>Columns (width) of each frame.</summary>
    public int Columns { get; }

    /// <summary>Samples per pixel: 1 (grey) or 3 (colour).</summary>
    public int SamplesPerPixel { get; }

    /// <summary>Frames in the file (1 for a plain slice).</summary>
    public int NumberOfFrames { get; }

    /// <summary>Photometric interpretation, e.g. MONOCHROME2, MONOCHROME1, RGB, YBR_FULL_422, PALETTE COLOR.</summary>
    public string PhotometricInterpretation { get; }

    /// <summary>
    /// True for a PALETTE COLOR image (ultrasound, some secondary captures): one stored index per pixel, which
    /// <see cref="GetFrame"/> maps to RGB through the file's red, green and blue palettes.
    /// </summary>
    public bool IsPaletteColor => SamplesPerPixel == 1 && PhotometricInterpretation == "PALETTE COLOR";

    /// <summary>Channels of the frames <see cref="GetFrame"/> returns: 3 for colour (RGB, YBR, PALETTE COLOR), 1 for grey.</summary>
    public int Channels => IsPaletteColor ? 3 : SamplesPerPixel;

    /// <summary>Bits allocated per sample (8, 16 or 32).</summary>
    public int BitsAllocated { get; }

    /// <summary>Bits stored per sample.</summary>
    public int BitsStored { get; }

    /// <summary>True when stored values are signed (PixelRepresentation 1).</summary>
    public bool IsSigned { get; }

    /// <summary>
    /// RescaleSlope (1 when absent): the top-level attribute, or in an enhanced file the shared functional groups' one.
    /// A frame's own value: <see cref="GetFrameInfo"/>.
    /// </summary>
    public double RescaleSlope { get; }

    /// <summary>
    /// RescaleIntercept (0 when absent): the top-level attribute, or in an enhanced file the shared functional groups'
    /// one. A frame's own value: <see cref="GetFrameInfo"/>.
    /// </summary>
    public double RescaleIntercept { get; }

    /// <summary>The top-level data set: every attribute of the file, sequences included.</summary>
    public DicomDataSet DataSet { get; }

    /// <summary>
    /// True for an enhanced multi-frame file: one whose frames describe themselves in functional groups (PS3.3 C.7.6.16).
    /// </summary>
    public bool HasFunctionalGroups => _shared is not null || _perFrame is not null;

    /// <summary>Modality (CT, MR, PT, CR, OP, …), or empty.</summary>
    public string Modality => GetString(0x0008, 0x0060) ?? "";

    /// <summary>SeriesInstanceUID, or empty.</summary>
    public string SeriesInstanceUid => GetString(0x0020, 0x000E) ?? "";

    /// <summary>InstanceNumber, when present.</summary>
    public int? InstanceNumber => GetDecimals(0x0020, 0x0013) is [var n, ..] ? (int)n : null;

    // Geometry at the top level; an enhanced file keeps it in its functional groups instead (GetFrameInfo reads both).

    /// <summary>Top-level PixelSpacing (row spacing, column spacing) in mm, when present (any frame's: <see cref="GetFrameInfo"/>).</summary>
    public IReadOnlyList<double>? PixelSpacing => GetDecimals(0x0028, 0x0030) is { Length: 2 } s ? s : null;

    /// <summary>Top-level SliceThickness in mm, when present (any frame's: <see cref="GetFrameInfo"/>).</summary>
    public double? SliceThickness => GetDecimals(0x0018, 0x0050) is [var t, ..] ? t : null;

    /// <summary>Top-level SpacingBetweenSlices in mm, when present (any frame's: <see cref="GetFrameInfo"/>).</summary>
    public double? SpacingBetweenSlices => GetDecimals(0x0018, 0x0088) is [var t, ..] ? t : null;

    /// <summary>Top-level ImagePositionPatient (x, y, z of the first voxel, mm), when present (any frame's: <see cref="GetFrameInfo"/>).</summary>
    public IReadOnlyList<double>? ImagePositionPatient => GetDecimals(0x0020, 0x0032) is { Length: 3 } p ? p : null;

    /// <summary>Top-level ImageOrientationPatient (row direction cosines, then column direction cosines), when present (any frame's: <see cref="GetFrameInfo"/>).</summary>
    public IReadOnlyList<double>? ImageOrientationPatient => GetDecimals(0x0020, 0x0037) is { Length: 6 } o ? o : null;

    /// <summary>
    /// The first WindowCenter/WindowWidth pair, when present: the top-level attributes, or in an enhanced file the shared
    /// functional groups' (a frame's own window: <see cref="GetFrameInfo"/>).
    /// </summary>
    public (double Center, double Width)? Window => WindowOf(DataSet) ?? (_shared?.GetSequence(0x0028, 0x9132) is [var voi, ..] ? WindowOf(voi) : null);

    private static (double Center, double Width)? WindowOf(DicomDataSet set) =>
        set.GetDecimals(0x0028, 0x1050) is [var c, ..] && set.GetDecimals(0x0028, 0x1051) is [var w, ..] && w > 0 ? (c, w) : null;

    /// <summary>True when the file has pixel data.</summary>
    public bool HasPixelData => _nativePixels is not null || _fragments is not null;

    private DicomFile(string source, string syntax, DicomDataSet dataSet, byte[]? native, List<byte[]>? fragments, uint[]? offsets)
    {
        SourceName = source;
        TransferSyntaxUid = syntax;
        DataSet = dataSet;
        _nativePixels = native;
        _fragments = fragments;
        _offsets = offsets;
        Rows = GetUShort(0x0028, 0x0010) ?? 0;
        Columns = GetUShort(0x0028, 0x0011) ?? 0;
        SamplesPerPixel = GetUShort(0x0028, 0x0002) ?? 1;
        PhotometricInterpretation = (GetString(0x0028, 0x0004) ?? (SamplesPerPixel == 3 ? "RGB" : "MONOCHROME2")).ToUpperInvariant();
        BitsAllocated = GetUShort(0x0028, 0x0100) ?? 8;
        BitsStored = GetUShort(0x0028, 0x0101) ?? BitsAllocated;
        IsSigned = GetUShort(0x0028, 0x0103) == 1;
        NumberOfFrames = GetDecimals(0x0028, 0x0008) is [var f, ..] && f >= 1 ? (int)f : 1;
        _shared = dataSet.GetSequence(0x5200, 0x9229) is [var shared, ..] ? shared : null;
        _perFrame = dataSet.GetSequence(0x5200, 0x9230);
        var transform = _shared?.GetSequence(0x0028, 0x9145) is [var pvt, ..] ? pvt : null;
        RescaleSlope = Slope(dataSet) ?? (transform is null ? null : Slope(transform)) ?? 1;
        RescaleIntercept = Intercept(dataSet) ?? (transform is null ? null : Intercept(transform)) ?? 0;
        _frameInfos = new Lazy<DicomFrameInfo[]>(ReadFrameInfos);
        _palette = new Lazy<DicomPalette>(() => DicomPalette.Read(this));
        // A VOI LUT maps modality values: its first mapped value is signed (VR SS) when they can be negative.
        _voiLut = new Lazy<DicomLut?>(() => DicomLut.Read(DataSet, 0x0028, 0x3010, "VOI LUT", !HasModalityLut && (IsSigned || RescaleIntercept < 0), unitRange: true));
        _modalityLut = new Lazy<DicomLut?>(() => DicomLut.Read(DataSet, 0x0028, 0x3000, "Modality LUT", IsSigned, unitRange: false));
        HasModalityLut = SamplesPerPixel == 1 && !IsPaletteColor && dataSet.GetSequence(0x0028, 0x3000) is { Count: > 0 };
    }

    private readonly Lazy<DicomLut?> _voiLut;
    private readonly Lazy<DicomLut?> _modalityLut;

    /// <summary>
    /// True when a grey image's modality values come from a Modality LUT Sequence (0028,3000) instead of RescaleSlope
    /// and RescaleIntercept (some XA, radiography and ultrasound files): <see cref="GetFrame"/> maps stored values
    /// through it.
    /// </summary>
    public bool HasModalityLut { get; }

    /// <summary>
    /// Presentation LUT Shape (2050,0020): IDENTITY, or INVERSE for images to be shown inverted (some radiographs and
    /// mammograms stored as MONOCHROME2); empty when absent. <see cref="ToFloatImage"/> inverts MONOCHROME1 and INVERSE
    /// images once.
    /// </summary>
    public string PresentationLutShape => (GetString(0x2050, 0x0020) ?? "").ToUpperInvariant();

    /// <summary>True when the file has a VOI LUT Sequence (0028,3010), which <see cref="ToFloatImage"/> uses when the frame has no window.</summary>
    public bool HasVoiLut => DataSet.GetSequence(0x0028, 0x3010) is { Count: > 0 };

    private readonly Lazy<DicomPalette> _palette;

    private static double? Slope(DicomDataSet set) => set.GetDecimals(0x0028, 0x1053) is [var slope, ..] && slope != 0 ? slope : null;

    private static double? Intercept(DicomDataSet set) => set.GetDecimals(0x0028, 0x1052) is [var intercept, ..] ? intercept : null;

    private readonly DicomDataSet? _shared;
    private readonly IReadOnlyList<DicomDataSet>? _perFrame;
    private readonly Lazy<DicomFrameInfo[]> _frameInfos;

    // ------------------------------------------------------------------ frames

    /// <summary>
    /// What frame <paramref name="frame"/> says about itself: position, orientation, spacing, rescaling, window, stack
    /// and time point. In an enhanced file each attribute comes from the frame's functional groups, else the shared ones,
    /// else the top level (see <see cref="DicomFrameInfo"/>); in other files every frame has the top-level attributes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such frame.</exception>
    /// <exception cref="DataFormatException">The functional groups do not match the number of frames, or hold malformed values.</exception>
    public DicomFrameInfo GetFrameInfo(int frame = 0)
    {
        if (frame < 0 || frame >= NumberOfFrames) throw new ArgumentOutOfRangeException(nameof(frame), frame, $"{SourceName} has {NumberOfFrames} frame(s).");
        return _frameInfos.Value[frame];
    }

    private DicomFrameInfo[] ReadFrameInfos()
    {
        if (_perFrame is not null && _perFrame.Count != NumberOfFrames)
            throw new DataFormatException(SourceName, $"the Per-frame Functional Groups Sequence (5200,9230) holds {_perFrame.Count} item(s) for {NumberOfFrames} frame(s).");
        var infos = new DicomFrameInfo[NumberOfFrames];
        for (int f = 0; f < infos.Length; f++)
        {
            var own = _perFrame?[f];
            // A functional group macro sits in the frame's item or in the shared item (PS3.3 C.7.6.16); an attribute
            // missing from it is looked up at the top level (where classic files, and some converters, keep it).
            DicomDataSet[] Sources(ushort group, ushort element)
                => (own?.GetSequence(group, element) ?? _shared?.GetSequence(group, element)) is [var macro, ..] ? [macro, DataSet] : [DataSet];
            static T? First<T>(DicomDataSet[] sources, Func<DicomDataSet, T?> read) where T : class
                => sources.Select(read).FirstOrDefault(v => v is not null);
            static double? FirstNumber(DicomDataSet[] sources, Func<DicomDataSet, double?> read)
                => sources.Select(read).FirstOrDefault(v => v is not null);
            var measures = Sources(0x0028, 0x9110);
            var transform = Sources(0x0028, 0x9145);
            var content = own?.GetSequence(0x0020, 0x9111) is [var fc, ..] ? fc : null;
            infos[f] = new DicomFrameInfo
            {
                // Without per-frame groups the top-level position is the first frame's; the others' are unknown.
                ImagePositionPatient = _perFrame is null && f > 0 ? null : First(Sources(0x0020, 0x9113), s => s.GetDecimals(0x0020, 0x0032) is { Length: 3 } p ? p : null),
                ImageOrientationPatient = First(Sources(0x0020, 0x9116), s => s.GetDecimals(0x0020, 0x0037) is { Length: 6 } o ? o : null),
                PixelSpacing = First(measures, s => s.GetDecimals(0x0028, 0x0030) is { Length: 2 } p ? p : null),
                SliceThickness = FirstNumber(measures, s => s.GetDecimals(0x0018, 0x0050) is [var t, ..] ? t : null),
                SpacingBetweenSlices = FirstNumber(measures, s => s.GetDecimals(0x0018, 0x0088) is [var t, ..] ? t : null),
                RescaleSlope = FirstNumber(transform, Slope) ?? 1,
                RescaleIntercept = FirstNumber(transform, Intercept) ?? 0,
                Window = Sources(0x0028, 0x9132).Select(WindowOf).FirstOrDefault(w => w is not null),
                VoiLutFunction = First(Sources(0x0028, 0x9132), s => s.GetString(0x0028, 0x1056) is { Length: > 0 } name ? name.ToUpperInvariant() : null) ?? "LINEAR",
                StackId = content?.GetString(0x0020, 0x9056),
                InStackPositionNumber = content?.GetULongs(0x0020, 0x9057) is [var position, ..] ? position : null,
                TemporalPositionIndex = content?.GetULongs(0x0020, 0x9128) is [var time, ..] ? time : null,
                DimensionIndexValues = content?.GetULongs(0x0020, 0x9157),
            };
        }
        return infos;
    }

    // ------------------------------------------------------------------ attributes

    /// <summary>The text of a top-level attribute (trailing spaces and NULs removed; several values joined by '\'), or null.</summary>
    public string? GetString(ushort group, ushort element) => DataSet.GetString(group, element);

    /// <summary>The values of a top-level decimal or integer string attribute (DS, IS), or null when absent or empty.</summary>
    public double[]? GetDecimals(ushort group, ushort element) => DataSet.GetDecimals(group, element);

    /// <summary>A top-level unsigned short (US) attribute, or null.</summary>
    public int? GetUShort(ushort group, ushort element) => DataSet.GetUShort(group, element);

    /// <summary>The items of a top-level sequence attribute, or null when the file has no such sequence.</summary>
    public IReadOnlyList<DicomDataSet>? GetSequence(ushort group, ushort element) => DataSet.GetSequence(group, element);

    /// <summary>True when the top-level data set holds the attribute.</summary>
    public bool Contains(ushort group, ushort element) => DataSet.Contains(group, element);

    private static uint Tag(ushort group, ushort element) => DicomDataSet.Tag(group, element);

    // ------------------------------------------------------------------ pixels

    /// <summary>
    /// The modality values of frame <paramref name="frame"/>, channel-first (C, H, W): stored values × slope + intercept
    /// (the frame's own, <see cref="GetFrameInfo"/>) for grey images, 0–255 RGB for colour images (PALETTE COLOR ones
    /// through their palettes; 16-bit palette entries as round(v / 257)): <see cref="Channels"/> planes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such frame.</exception>
    /// <exception cref="DataFormatException">The pixel data are missing, truncated or inconsistent with the header.</exception>
    /// <exception cref="NotSupportedException">The encoding (transfer syntax, bit depth, colour model) is not supported.</exception>
    public float[] GetFrame(int frame = 0)
    {
        if (frame < 0 || frame >= NumberOfFrames) throw new ArgumentOutOfRangeException(nameof(frame), frame, $"{SourceName} has {NumberOfFrames} frame(s).");
        if (!HasPixelData) throw new DataFormatException(SourceName, "the file has no pixel data (7FE0,0010).");
        if (Rows < 1 || Columns < 1) throw new DataFormatException(SourceName, $"invalid image size {Columns}×{Rows}.");
        if (SamplesPerPixel is not (1 or 3)) throw new NotSupportedException($"{SourceName}: {SamplesPerPixel} samples per pixel are not supported (1 or 3).");
        var values = TransferSyntaxUid switch
        {
            DicomTransferSyntax.JpegBaseline or DicomTransferSyntax.JpegExtended => JpegFrame(frame),
            DicomTransferSyntax.JpegLossless or DicomTransferSyntax.JpegLosslessFirstOrder => LosslessJpegFrame(frame),
            DicomTransferSyntax.JpegLsLossless or DicomTransferSyntax.JpegLsNearLossless => CodecFrame(frame, JpegLs.Decode, "JPEG-LS", decodedToRgb: false),
            DicomTransferSyntax.Jpeg2000Lossless or DicomTransferSyntax.Jpeg2000 => CodecFrame(frame, Jpeg2000.Decode, "JPEG 2000", decodedToRgb: true),
            DicomTransferSyntax.HighThroughputJpeg2000Lossless or DicomTransferSyntax.HighThroughputJpeg2000RpclLossless or DicomTransferSyntax.HighThroughputJpeg2000
                => CodecFrame(frame, Jpeg2000.DecodeHighThroughput, "High-Throughput JPEG 2000", decodedToRgb: true),
            DicomTransferSyntax.RleLossless => NativeFrame(RleFrame(frame), frame, slot: 0, planar: SamplesPerPixel == 3),
            _ when SamplesPerPixel == 3 && PhotometricInterpretation == "YBR_FULL_422" => NativeFrame(ExpandYbrFull422(frame), frame, slot: 0, planar: false),
            _ => NativeFrame(_nativePixels!, frame, slot: frame, planar: GetUShort(0x0028, 0x0006) == 1),
        };
        if (IsPaletteColor) return _palette.Value.Apply(values);
        if (HasModalityLut) _modalityLut.Value!.Apply(values);
        return values;
    }

    // Uncompressed YBR_FULL_422 (PS3.3 C.7.6.3.1.2): each horizontal pair of pixels is stored as Y1 Y2 Cb Cr,
    // the pair sharing its chroma. Expanded to interleaved full-resolution Y Cb Cr, which NativeFrame converts to RGB.
    private byte[] ExpandYbrFull422(int frame)
    {
        if (BitsAllocated != 8) throw new NotSupportedException($"{SourceName}: YBR_FULL_422 with {BitsAllocated} bits allocated per sample is not supported (8).");
        if (Columns % 2 != 0) throw new DataFormatException(SourceName, $"YBR_FULL_422 needs an even number of columns; the header says {Columns}.");
        if (GetUShort(0x0028, 0x0006) == 1) throw new DataFormatException(SourceName, "YBR_FULL_422 pixel data are interleaved by definition, but the planar configuration is 1.");
        var pixels = _nativePixels!;
        long pairBytes = 4, frameBytes = (long)Rows * Columns / 2 * pairBytes, start = frame * frameBytes;
        if (start + frameBytes > pixels.LongLength)
            throw new DataFormatException(SourceName, $"the pixel data hold {pixels.LongLength} bytes, too few for frame {frame + 1} of {NumberOfFrames} ({Columns}×{Rows} YBR_FULL_422, 2 bytes per pixel).");
        var result = new byte[Rows * Columns * 3];
        var source = pixels.AsSpan((int)start, (int)frameBytes);
        for (int pair = 0, pairs = Rows * Columns / 2; pair < pairs; pair++)
        {
            byte y1 = source[4 * pair], y2 = source[4 * pair + 1], cb = source[4 * pair + 2], cr = source[4 * pair + 3];
            int o = 6 * pair;
            result[o] = y1; result[o + 1] = cb; result[o + 2] = cr;
            result[o + 3] = y2; result[o + 4] = cb; result[o + 5] = cr;
        }
        return result;
    }

    private bool TransferSyntaxIsUncompressed => _fragments is null;

    // YBR_FULL (and expanded YBR_FULL_422) to RGB with the equations of PS3.3 C.7.6.3.1.2, for samples of BitsStored bits
    // (chroma centred on half the range), rounded and clamped to the sample range, as decoders that write RGB do.
    private static void YbrFullToRgb(float[] planes, int pixels, int bitsStored)
    {
        double half = 1 << (bitsStored - 1), max = (1L << bitsStored) - 1;
        for (int p = 0; p < pixels; p++)
        {
            double y = planes[p], cb = planes[pixels + p] - half, cr = planes[2 * pixels + p] - half;
            planes[p] = (float)Math.Clamp(Math.Round(y + 1.402 * cr), 0, max);
            planes[pixels + p] = (float)Math.Clamp(Math.Round(y - 0.344136 * cb - 0.714136 * cr), 0, max);
            planes[2 * pixels + p] = (float)Math.Clamp(Math.Round(y + 1.772 * cb), 0, max);
        }
    }

    // Frame `frame`'s samples, stored at position `slot` of `pixels` (the frame itself for uncompressed data, 0 for the
    // output of a codec), as modality values with the frame's own rescaling. decodedToRgb: the codec has already undone
    // the colour transform its photometric interpretation names (JPEG 2000's YBR_RCT and YBR_ICT decode to RGB).
    private float[] NativeFrame(byte[] pixels, int frame, int slot, bool planar, bool decodedToRgb = false)
    {
        if (BitsAllocated is not (8 or 16 or 32)) throw new NotSupportedException($"{SourceName}: {BitsAllocated} bits allocated per sample are not supported (8, 16 or 32).");
        if (BitsStored < 1 || BitsStored > BitsAllocated) throw new DataFormatException(SourceName, $"{BitsStored} bits stored in {BitsAllocated} allocated.");
        // YBR_FULL_422 arrives here expanded by ExpandYbrFull422 (uncompressed data only; compressed 4:2:2 is the codec's to upsample).
        bool ybr = SamplesPerPixel == 3 && (PhotometricInterpretation == "YBR_FULL" || PhotometricInterpretation == "YBR_FULL_422" && TransferSyntaxIsUncompressed);
        if (SamplesPerPixel == 3 && !ybr && PhotometricInterpretation != "RGB" && !(decodedToRgb && PhotometricInterpretation is "YBR_RCT" or "YBR_ICT"))
            throw new NotSupportedException($"{SourceName}: colour in {PhotometricInterpretation} is not supported here (RGB, YBR_FULL{(TransferSyntaxIsUncompressed ? ", YBR_FULL_422" : "")}{(decodedToRgb ? ", YBR_RCT or YBR_ICT" : "")}).");
        if (ybr && IsSigned) throw new DataFormatException(SourceName, $"{PhotometricInterpretation} samples must be unsigned (pixel representation 0).");
        int bytes = BitsAllocated / 8, samples = SamplesPerPixel, pixelsPerFrame = Rows * Columns;
        long frameBytes = (long)pixelsPerFrame * samples * bytes;
        long start = slot * frameBytes;
        if (start + frameBytes > pixels.LongLength)
            throw new DataFormatException(SourceName, $"the pixel data hold {pixels.LongLength} bytes, too few for frame {frame + 1} of {NumberOfFrames} ({Columns}×{Rows}, {samples} sample(s) of {BitsAllocated} bits).");
        var result = new float[pixelsPerFrame * samples];
        uint mask = BitsStored >= 32 ? uint.MaxValue : (1u << BitsStored) - 1;
        int shift = 32 - BitsStored;
        var info = GetFrameInfo(frame);
        double slope = info.RescaleSlope, intercept = info.RescaleIntercept;
        // palette indices are not rescaled; a modality LUT replaces the rescale (GetFrame applies it)
        bool rescale = samples == 1 && !IsPaletteColor && !HasModalityLut && (slope != 1 || intercept != 0);
        var span = pixels.AsSpan((int)start, (int)frameBytes);
        for (int p = 0; p < pixelsPerFrame; p++)
            for (int c = 0; c < samples; c++)
            {
                int index = planar ? c * pixelsPerFrame + p : p * samples + c;
                uint raw = bytes switch
                {
                    1 => span[index],
                    2 => BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(index * 2, 2)),
                    _ => BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(index * 4, 4)),
                } & mask;
                double value = IsSigned ? (int)(raw << shift) >> shift : raw; // sign-extend from BitsStored
                if (rescale) value = value * slope + intercept;
                result[c * pixelsPerFrame + p] = (float)value;
            }
        if (ybr) YbrFullToRgb(result, pixelsPerFrame, BitsStored);
        return result;
    }

    private byte[] FrameFragments(int frame)
    {
        var fragments = _fragments!;
        if (NumberOfFrames == 1) return Concat(fragments);
        if (_offsets is { } offsets && offsets.Length == NumberOfFrames)
        {
            // offsets are from the first fragment's item header: each fragment adds its 8-byte header
            var result = new List<byte[]>();
            long position = 0;
            long begin = offsets[frame], end = frame + 1 < offsets.Length ? offsets[frame + 1] : long.MaxValue;
            foreach (var f in fragments)
            {
                if (position >= begin && position < end) result.Add(f);
                position += 8 + f.Length;
            }
            return Concat(result);
        }
        if (fragments.Count == NumberOfFrames) return fragments[frame];
        throw new DataFormatException(SourceName, $"{fragments.Count} pixel-data fragments for {NumberOfFrames} frames and no basic offset table to tell them apart.");
    }

    private static byte[] Concat(List<byte[]> parts)
    {
        if (parts.Count == 1) return parts[0];
        var result = new byte[parts.Sum(p => p.Length)];
        int at = 0;
        foreach (var p in parts) { p.CopyTo(result, at); at += p.Length; }
        return result;
    }

    // Lossless JPEG decodes to the stored values; they are laid out as native little-endian pixels so the bit masking,
    // sign extension and rescaling are those of uncompressed data.
    private float[] LosslessJpegFrame(int frame)
    {
        if (BitsAllocated is not (8 or 16)) throw new NotSupportedException($"{SourceName}: lossless JPEG with {BitsAllocated} bits allocated per sample is not supported (8 or 16).");
        LosslessJpeg.Image image;
        try
        {
            image = LosslessJpeg.Decode(FrameFragments(frame), $"{SourceName} frame {frame + 1}", Columns, Rows, SamplesPerPixel);
        }
        catch (DataFormatException e)
        {
            throw new DataFormatException(SourceName, $"frame {frame + 1}: {e.Problem}", e);
        }
        var bytes = new byte[image.Samples.Length * (BitsAllocated / 8)];
        for (int i = 0; i < image.Samples.Length; i++)
        {
            if (BitsAllocated == 8) bytes[i] = (byte)image.Samples[i];
            else BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), image.Samples[i]);
        }
        return NativeFrame(bytes, frame, slot: 0, planar: false);
    }

    private delegate CodecFrame FrameDecoder(ReadOnlySpan<byte> data, string sourceName);

    // JPEG-LS and JPEG 2000 decode to the stored values; as with lossless JPEG they are laid out as native little-endian
    // pixels (two's complement in BitsAllocated bits when signed) so that masking, sign extension and rescaling are
    // those of uncompressed data.
    private float[] CodecFrame(int frame, FrameDecoder decode, string codec, bool decodedToRgb)
    {
        if (BitsAllocated is not (8 or 16 or 32)) throw new NotSupportedException($"{SourceName}: {codec} with {BitsAllocated} bits allocated per sample is not supported (8, 16 or 32).");
        CodecFrame image;
        try
        {
            image = decode(FrameFragments(frame), $"{SourceName} frame {frame + 1}");
        }
        catch (DataFormatException e)
        {
            throw new DataFormatException(SourceName, $"frame {frame + 1}: {e.Problem}", e);
        }
        if (image.Width != Columns || image.Height != Rows || image.Components != SamplesPerPixel)
            throw new DataFormatException(SourceName, $"frame {frame + 1} decodes to {image.Width}×{image.Height} with {image.Components} sample(s) per pixel, but the header says {Columns}×{Rows} with {SamplesPerPixel}.");
        if (image.Precision > BitsAllocated)
            throw new DataFormatException(SourceName, $"frame {frame + 1} holds {image.Precision}-bit samples, more than the {BitsAllocated} bits allocated.");
        int width = BitsAllocated / 8;
        var bytes = new byte[image.Samples.Length * width];
        for (int i = 0; i < image.Samples.Length; i++)
        {
            int value = image.Samples[i];
            switch (width)
            {
                case 1: bytes[i] = (byte)value; break;
                case 2: BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)value); break;
                default: BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), value); break;
            }
        }
        return NativeFrame(bytes, frame, slot: 0, planar: false, decodedToRgb);
    }

    private float[] JpegFrame(int frame)
    {
        if (BitsAllocated != 8) throw new NotSupportedException($"{SourceName}: JPEG with {BitsAllocated}-bit samples is not supported (8-bit baseline only).");
        var data = FrameFragments(frame);
        RasterImage image;
        try
        {
            image = TurboJpeg.Decode(data, $"{SourceName} frame {frame + 1}");
        }
        catch (DataFormatException e)
        {
            throw new DataFormatException(SourceName, $"frame {frame + 1}: {e.Problem}", e);
        }
        if (image.Width != Columns || image.Height != Rows)
            throw new DataFormatException(SourceName, $"frame {frame + 1} decodes to {image.Width}×{image.Height}, but the header says {Columns}×{Rows}.");
        if (image.Channels != SamplesPerPixel) image = image.WithChannels(SamplesPerPixel);
        int n = Rows * Columns, channels = image.Channels;
        var info = GetFrameInfo(frame);
        var result = new float[n * channels];
        for (int p = 0; p < n; p++)
            for (int c = 0; c < channels; c++)
            {
                double v = image.Pixels[p * channels + c];
                result[c * n + p] = (float)(channels == 1 && !IsPaletteColor && !HasModalityLut ? v * info.RescaleSlope + info.RescaleIntercept : v);
            }
        return result;
    }

    // RLE Lossless (PS3.5 annex G): a 64-byte header of segment offsets, one PackBits segment per byte plane (most
    // significant byte first, sample by sample). The planes are reassembled into little-endian, planar samples.
    private byte[] RleFrame(int frame)
    {
        var data = FrameFragments(frame);
        if (data.Length < 64) throw new DataFormatException(SourceName, $"frame {frame + 1}: the RLE header is truncated.");
        int bytes = BitsAllocated / 8, segments = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (BitsAllocated is not (8 or 16 or 32) || segments != bytes * SamplesPerPixel || segments > 15)
            throw new DataFormatException(SourceName, $"frame {frame + 1}: {segments} RLE segments for {SamplesPerPixel} sample(s) of {BitsAllocated} bits.");
        int n = Rows * Columns;
        var output = new byte[n * SamplesPerPixel * bytes];
        for (int s = 0; s < segments; s++)
        {
            int begin = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4 + 4 * s));
            int end = s + 1 < segments ? (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(8 + 4 * s)) : data.Length;
            if (begin < 64 || end > data.Length || begin > end) throw new DataFormatException(SourceName, $"frame {frame + 1}: RLE segment {s + 1} lies outside the frame.");
            int sample = s / bytes, significance = bytes - 1 - s % bytes; // byte index within the little-endian value
            int written = 0, i = begin;
            while (i < end && written < n)
            {
                sbyte header = (sbyte)data[i++];
                if (header >= 0)
                {
                    int count = header + 1;
                    if (i + count > end || written + count > n) throw new DataFormatException(SourceName, $"frame {frame + 1}: RLE segment {s + 1} is corrupt.");
                    for (int k = 0; k < count; k++) output[((sample * n) + written++) * bytes + significance] = data[i++];
                }
                else if (header != -128)
                {
                    int count = 1 - header;
                    if (i >= end || written + count > n) throw new DataFormatException(SourceName, $"frame {frame + 1}: RLE segment {s + 1} is corrupt.");
                    byte value = data[i++];
                    for (int k = 0; k < count; k++) output[((sample * n) + written++) * bytes + significance] = value;
                }
            }
            if (written != n) throw new DataFormatException(SourceName, $"frame {frame + 1}: RLE segment {s + 1} decodes to {written} of {n} values.");
        }
        return output;
    }

    /// <summary>
    /// Frame <paramref name="frame"/> as a [0, 1] image (C, H, W) for the image pipelines, grey values mapped as a DICOM
    /// viewer maps them (PS3.3 C.11.2): through <paramref name="window"/> (center, width) when given, else the frame's
    /// own window with its VOI LUT Function (LINEAR, LINEAR_EXACT or SIGMOID; an enhanced file's Frame VOI LUT), else
    /// the file's VOI LUT (radiographs and mammograms often carry one instead of a window), else the frame's
    /// minimum–maximum; MONOCHROME1 images, and those whose Presentation LUT Shape is INVERSE, inverted (once) so that
    /// bright is high. Colour values are divided by 255.
    /// </summary>
    /// <param name="frame">The frame (0-based).</param>
    /// <param name="window">A window to use instead of the file's: LINEAR, or LINEAR_EXACT for a width under 1.</param>
    public FloatImage ToFloatImage(int frame = 0, (double Center, double Width)? window = null)
    {
        var values = GetFrame(frame);
        if (Channels == 3)
        {
            for (int i = 0; i < values.Length; i++) values[i] /= 255f;
            return new FloatImage(values, 3, Rows, Columns);
        }
        if (window is { } given && !(given.Width > 0)) throw new ArgumentOutOfRangeException(nameof(window), given.Width, "The window width must be positive.");
        var info = GetFrameInfo(frame);
        if (window is { } w) DicomVoi.Window(values, w.Center, w.Width, w.Width >= 1 ? "LINEAR" : "LINEAR_EXACT", SourceName);
        else if (info.Window is { } own) DicomVoi.Window(values, own.Center, own.Width, own.Width < 1 && info.VoiLutFunction == "LINEAR" ? "LINEAR_EXACT" : info.VoiLutFunction, SourceName);
        else if (_voiLut.Value is { } lut) lut.Apply(values);
        else IntensityWindow.MapToUnitRange(values, null);
        if (PhotometricInterpretation == "MONOCHROME1" || PresentationLutShape == "INVERSE")
            for (int i = 0; i < values.Length; i++) values[i] = 1 - values[i];
        return new FloatImage(values, 1, Rows, Columns);
    }

    /// <summary>Frame <paramref name="frame"/> as an 8-bit image (see <see cref="ToFloatImage"/> for the intensity mapping).</summary>
    public RasterImage ToRasterImage(int frame = 0, (double Center, double Width)? window = null)
    {
        var image = ToFloatImage(frame, window);
        int channels = image.Channels, n = Rows * Columns;
        var pixels = new byte[n * channels];
        for (int p = 0; p < n; p++)
            for (int c = 0; c < channels; c++)
                pixels[p * channels + c] = (byte)Math.Round(image.Data[c * n + p] * 255);
        return new RasterImage(Columns, Rows, channels, pixels);
    }

    // ------------------------------------------------------------------ reading

    /// <summary>True when <paramref name="data"/> starts with a DICOM Part 10 preamble ("DICM" at byte 128).</summary>
    public static bool HasPreamble(ReadOnlySpan<byte> data) => data.Length >= 132 && data[128] == 'D' && data[129] == 'I' && data[130] == 'C' && data[131] == 'M';

    /// <summary>Reads a DICOM file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">The file is not DICOM, or is truncated or corrupt.</exception>
    /// <exception cref="NotSupportedException">The transfer syntax is not supported.</exception>
    public static DicomFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The DICOM file '{path}' does not exist.", path);
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads DICOM content (a Part 10 file, or a bare Implicit VR Little Endian data set).</summary>
    public static DicomFile Read(byte[] data, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(sourceName);
        var elements = new Dictionary<uint, byte[]>();
        var sequences = new Dictionary<uint, IReadOnlyList<DicomDataSet>>();
        string syntax = DicomTransferSyntax.ImplicitVrLittleEndian;
        int position = 0;
        try
        {
            if (HasPreamble(data))
            {
                // the file meta information (group 0002) is always Explicit VR Little Endian
                position = 132;
                var meta = new Reader(data, position, explicitVr: true, sourceName);
                while (meta.Position + 4 <= data.Length && BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(meta.Position)) == 0x0002)
                {
                    var (tag, value, _) = meta.Next();
                    if (value is not null) elements[tag] = value;
                }
                position = meta.Position;
                syntax = (elements.TryGetValue(Tag(0x0002, 0x0010), out var ts) ? Encoding.ASCII.GetString(ts).TrimEnd('\0', ' ') : "")
                    is { Length: > 0 } s ? s : throw new DataFormatException(sourceName, "the file meta information has no transfer syntax (0002,0010).");
            }
            else if (data.Length < 8 || BinaryPrimitives.ReadUInt16LittleEndian(data) is not (0x0008 or 0x0002))
                throw new DataFormatException(sourceName, data.Length == 0 ? "the file is empty." : "not a DICOM file (no 'DICM' preamble and no data set at the start).");

            if (!DicomTransferSyntax.IsSupported(syntax))
                throw new NotSupportedException($"{sourceName}: the transfer syntax {syntax} ({DicomTransferSyntax.Describe(syntax)}) is not supported; decompress the file first (e.g. gdcmconv --raw).");
            var body = data;
            if (syntax == DicomTransferSyntax.DeflatedExplicitVrLittleEndian)
            {
                using var inflated = new MemoryStream();
                using (var deflate = new DeflateStream(new MemoryStream(data, position, data.Length - position), CompressionMode.Decompress))
                    deflate.CopyTo(inflated);
                body = inflated.ToArray();
                position = 0;
            }
            var reader = new Reader(body, position, explicitVr: syntax != DicomTransferSyntax.ImplicitVrLittleEndian, sourceName);
            byte[]? native = null;
            List<byte[]>? fragments = null;
            uint[]? offsets = null;
            while (reader.Position < body.Length)
            {
                if (reader.PeekTag() == Tag(0x7FE0, 0x0010))
                {
                    if (reader.PixelData() is { } pixel)
                    {
                        (native, fragments, offsets) = pixel;
                    }
                    break; // nothing after the pixel data matters for imaging (trailing padding, signatures)
                }
                var (tag, value, items) = reader.Next();
                if (value is not null) elements[tag] = value;
                if (items is not null) sequences[tag] = items;
            }
            // The pixel data's form must be the one the transfer syntax prescribes (a corrupt or mislabelled file otherwise).
            if (native is not null && DicomTransferSyntax.IsEncapsulated(syntax))
                throw new DataFormatException(sourceName, $"the transfer syntax is {DicomTransferSyntax.Describe(syntax)} ({syntax}), whose pixel data are encapsulated fragments, but the pixel data element has a defined length (uncompressed data).");
            if (fragments is not null && !DicomTransferSyntax.IsEncapsulated(syntax))
                throw new DataFormatException(sourceName, $"the pixel data are encapsulated fragments, but the transfer syntax is {DicomTransferSyntax.Describe(syntax)} ({syntax}), which stores them uncompressed.");
            return new DicomFile(sourceName, syntax, new DicomDataSet(sourceName, elements, sequences), native, fragments, offsets);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(sourceName, $"the deflated data set is corrupt: {e.Message}", e);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new DataFormatException(sourceName, "the file is truncated.", e);
        }
    }

    // A cursor over a data set: element headers, values, and the items of sequences (read as nested data sets).
    private sealed class Reader(byte[] data, int position, bool explicitVr, string source, int depth = 0)
    {
        private static readonly HashSet<string> LongVrs = new() { "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV" };
        private const uint Undefined = 0xFFFFFFFF;
        private const uint PixelDataTag = 0x7FE00010;
        private const int MaxDepth = 16;

        // Sequences an Implicit VR reader must recognise from their tag alone when their length is counted: the
        // functional groups and the macros GetFrameInfo reads (PS3.6 gives them VR SQ).
        private static readonly HashSet<uint> ImplicitSequences = new()
        {
            0x52009229, 0x52009230, // Shared / Per-frame Functional Groups Sequence
            0x00289110, 0x00209113, 0x00209116, 0x00289145, 0x00289132, 0x00209111, // pixel measures, plane position and
            // orientation, pixel value transformation, frame VOI LUT, frame content
            0x00209222, 0x00209221, // Dimension Index / Dimension Organization Sequence
        };

        public int Position { get; private set; } = position;

        public uint PeekTag() => Position + 4 <= data.Length
            ? (uint)BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(Position)) << 16 | BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(Position + 2))
            : throw Truncated();

        private Exception Truncated() => new DataFormatException(source, $"the file is truncated (at byte {Position} of {data.Length}).");

        private ushort U16(int at) => at + 2 <= data.Length ? BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(at)) : throw Truncated();

        private uint U32(int at) => at + 4 <= data.Length ? BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at)) : throw Truncated();

        // One element header: tag, VR (or "" when implicit), value length; leaves Position at the value.
        private (uint Tag, string Vr, uint Length) Header()
        {
            uint tag = PeekTag();
            Position += 4;
            if ((tag >> 16) == 0xFFFE) // item and delimitation items carry no VR
            {
                uint length = U32(Position);
                Position += 4;
                return (tag, "", length);
            }
            if (!explicitVr)
            {
                uint length = U32(Position);
                Position += 4;
                return (tag, "", length);
            }
            if (Position + 2 > data.Length) throw Truncated();
            string vr = Encoding.ASCII.GetString(data, Position, 2);
            Position += 2;
            if (LongVrs.Contains(vr))
            {
                uint length = U32(Position + 2);
                Position += 6;
                return (tag, vr, length);
            }
            if (!char.IsAsciiLetterUpper(vr[0]) || !char.IsAsciiLetterUpper(vr[1]))
                throw new DataFormatException(source, $"element ({tag >> 16:X4},{tag & 0xFFFF:X4}) at byte {Position - 6} has no valid value representation ('{vr}'): the data set is corrupt or not explicit VR.");
            uint shortLength = U16(Position);
            Position += 2;
            return (tag, vr, shortLength);
        }

        // The next element: its value, or the items of a sequence (both null for encapsulated data nested in an item,
        // which is skipped).
        public (uint Tag, byte[]? Value, List<DicomDataSet>? Items) Next()
        {
            var (tag, vr, length) = Header();
            if (vr == "UN" && length == Undefined)
            {
                // a sequence of unknown type: its items are encoded in Implicit VR Little Endian (PS3.5 §6.2.2)
                var nested = new Reader(data, Position, explicitVr: false, source, depth);
                var items = nested.Items(Undefined);
                Position = nested.Position;
                return (tag, null, items);
            }
            if (vr == "SQ" || (vr == "" && (length == Undefined || ImplicitSequences.Contains(tag))) && tag != PixelDataTag)
                return (tag, null, Items(length));
            if (length == Undefined)
            {
                SkipSequence(length); // encapsulated pixel data inside an item (an icon): fragments, not data sets
                return (tag, null, null);
            }
            if (Position + (long)length > data.Length)
                throw new DataFormatException(source, $"element ({tag >> 16:X4},{tag & 0xFFFF:X4}) claims {length} bytes but the file ends after {data.Length - Position}: it is truncated.");
            var value = data.AsSpan(Position, (int)length).ToArray();
            Position += (int)length;
            return (tag, value, null);
        }

        // The items of a sequence whose value starts here: counted (length bytes) or delimited (Undefined).
        private List<DicomDataSet> Items(uint length)
        {
            if (depth >= MaxDepth) throw new DataFormatException(source, $"sequences are nested more than {MaxDepth} deep at byte {Position}: the data set is corrupt.");
            long end = length == Undefined ? long.MaxValue : Position + (long)length;
            if (end != long.MaxValue && end > data.Length) throw Truncated();
            var items = new List<DicomDataSet>();
            while (Position < end)
            {
                var (tag, _, itemLength) = Header();
                if (tag == 0xFFFEE0DD) return items; // sequence delimitation
                if (tag != 0xFFFEE000) throw new DataFormatException(source, $"expected a sequence item at byte {Position - 8}, found ({tag >> 16:X4},{tag & 0xFFFF:X4}).");
                items.Add(DataSet(itemLength));
            }
            if (Position != end) throw new DataFormatException(source, $"a sequence item runs past the end of its sequence (byte {Position}, the sequence ends at {end}).");
            return items;
        }

        // One item's data set: counted (length bytes) or delimited (Undefined).
        private DicomDataSet DataSet(uint length)
        {
            var nested = new Reader(data, Position, explicitVr, source, depth + 1);
            var elements = new Dictionary<uint, byte[]>();
            var sequences = new Dictionary<uint, IReadOnlyList<DicomDataSet>>();
            long end = length == Undefined ? long.MaxValue : Position + (long)length;
            if (end != long.MaxValue && end > data.Length) throw Truncated();
            while (length == Undefined ? nested.PeekTag() != 0xFFFEE00D : nested.Position < end)
            {
                var (tag, value, items) = nested.Next();
                if (value is not null) elements[tag] = value;
                if (items is not null) sequences[tag] = items;
            }
            if (length == Undefined) nested.Header(); // item delimitation
            else if (nested.Position != end) throw new DataFormatException(source, $"an element runs past the end of its sequence item (byte {nested.Position}, the item ends at {end}).");
            Position = nested.Position;
            return new DicomDataSet(source, elements, sequences);
        }

        private void SkipSequence(uint length)
        {
            if (length != Undefined)
            {
                if (Position + (long)length > data.Length) throw Truncated();
                Position += (int)length;
                return;
            }
            while (true)
            {
                var (tag, _, itemLength) = Header();
                if (tag == 0xFFFEE0DD) return; // sequence delimitation
                if (tag != 0xFFFEE000 || itemLength == Undefined) throw new DataFormatException(source, $"expected a fragment item at byte {Position - 8}, found ({tag >> 16:X4},{tag & 0xFFFF:X4}).");
                if (Position + (long)itemLength > data.Length) throw Truncated();
                Position += (int)itemLength;
            }
        }

        // Pixel data: native bytes, or the fragments of encapsulated data with the basic offset table.
        public (byte[]? Native, List<byte[]>? Fragments, uint[]? Offsets)? PixelData()
        {
            var (_, _, length) = Header();
            if (length != Undefined)
            {
                if (Position + (long)length > data.Length)
                    throw new DataFormatException(source, $"the pixel data claim {length} bytes but the file ends after {data.Length - Position}: it is truncated.");
                var native = data.AsSpan(Position, (int)length).ToArray();
                Position += (int)length;
                return (native, null, null);
            }
            var fragments = new List<byte[]>();
            uint[]? offsets = null;
            bool first = true;
            while (true)
            {
                var (tag, _, itemLength) = Header();
                if (tag == 0xFFFEE0DD) break;
                if (tag != 0xFFFEE000 || itemLength == Undefined) throw new DataFormatException(source, "the encapsulated pixel data are corrupt (expected a fragment item).");
                if (Position + (long)itemLength > data.Length) throw new DataFormatException(source, "the encapsulated pixel data are truncated.");
                var item = data.AsSpan(Position, (int)itemLength).ToArray();
                Position += (int)itemLength;
                if (first)
                {
                    first = false;
                    if (item.Length > 0) offsets = Enumerable.Range(0, item.Length / 4).Select(i => BinaryPrimitives.ReadUInt32LittleEndian(item.AsSpan(4 * i))).ToArray();
                    continue;
                }
                fragments.Add(item);
            }
            if (fragments.Count == 0) throw new DataFormatException(source, "the encapsulated pixel data hold no fragments.");
            return (null, fragments, offsets);
        }
    }
}
