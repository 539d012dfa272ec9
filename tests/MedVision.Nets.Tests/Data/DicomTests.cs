using System.Text.Json;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Dicom;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// DICOM files written by pydicom (Fixtures/dicom/make_dicom_fixtures.py) against the values pydicom reads back from
/// them (modality LUT applied); the tests need no Python.
/// </summary>
public sealed class DicomTests : IDisposable
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "dicom");
    private static readonly Lazy<JsonElement> Expected = new(() =>
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(Dir, "dicom_fixtures.json")));
        return doc.RootElement.GetProperty("files").Clone();
    });

    private readonly string _temp = Directory.CreateTempSubdirectory("mvn-dicom-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static double[] Values(string name) => Expected.Value.GetProperty(name).GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
    private static int[] Shape(string name) => Expected.Value.GetProperty(name).GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
    private static string File(string name) => Path.Combine(Dir, name);

    private static int IndexOf(byte[] data, byte[] pattern)
    {
        for (int i = 0; i + pattern.Length <= data.Length; i++)
            if (data.AsSpan(i, pattern.Length).SequenceEqual(pattern)) return i;
        throw new InvalidOperationException("pattern not found in the fixture");
    }

    // pydicom gives (H, W, C) for colour and (frames, H, W) for multi-frame; GetFrame gives (C, H, W) per frame
    private static double[] ChannelFirst(double[] hwc, int h, int w, int c)
        => Enumerable.Range(0, c * h * w).Select(i => hwc[(i % (h * w)) * c + i / (h * w)]).ToArray();

    [Theory]
    [InlineData("ct_explicit.dcm", DicomTransferSyntax.ExplicitVrLittleEndian)]
    [InlineData("ct_deflate.dcm", DicomTransferSyntax.DeflatedExplicitVrLittleEndian)]
    [InlineData("ct_rle.dcm", DicomTransferSyntax.RleLossless)]
    public void CtSlice_GivesPydicomsHounsfieldUnits_InEveryEncoding(string name, string syntax)
    {
        var file = DicomFile.Read(File(name));
        file.TransferSyntaxUid.Should().Be(syntax);
        (file.Rows, file.Columns, file.SamplesPerPixel, file.NumberOfFrames).Should().Be((6, 8, 1, 1));
        (file.BitsAllocated, file.BitsStored, file.IsSigned).Should().Be((16, 12, true));
        (file.RescaleSlope, file.RescaleIntercept).Should().Be((1.0, -1024.0));
        file.Modality.Should().Be("CT");
        file.GetString(0x0010, 0x0020).Should().Be("PHANTOM-001");
        file.GetFrame().Select(v => (double)v).Should().Equal(Values(name));
        Values(name).Min().Should().BeLessThan(-1024, "the fixture holds negative stored values, so sign extension is exercised");
    }

    [Fact]
    public void Attributes_BeforeAndAfterANestedUndefinedLengthSequence_AreRead()
    {
        var file = DicomFile.Read(File("ct_explicit.dcm"));
        file.PixelSpacing.Should().Equal(0.5, 0.75);
        file.SliceThickness.Should().Be(2.5);
        file.Window.Should().Be((40.0, 400.0));
        file.SeriesInstanceUid.Should().Be("1.2.826.0.1.3680043.8.498.1");
        file.Contains(0x0008, 0x2218).Should().BeTrue("sequences are kept");
        file.Contains(0x0008, 0x0100).Should().BeFalse("the nested items' attributes are not top-level attributes");
        var region = file.GetSequence(0x0008, 0x2218)!.Single();
        region.GetString(0x0008, 0x0100).Should().Be("T-A0100");
        region.GetSequence(0x0040, 0xA043)!.Single().GetString(0x0008, 0x0104).Should().Be("nested");
    }

    [Fact]
    public void ImplicitVrMultiFrame_GivesEachFrame()
    {
        var file = DicomFile.Read(File("mr_implicit_2f.dcm"));
        file.TransferSyntaxUid.Should().Be(DicomTransferSyntax.ImplicitVrLittleEndian);
        file.NumberOfFrames.Should().Be(2);
        Shape("mr_implicit_2f.dcm").Should().Equal(2, 5, 7);
        var all = Values("mr_implicit_2f.dcm");
        file.GetFrame(0).Select(v => (double)v).Should().Equal(all[..35]);
        file.GetFrame(1).Select(v => (double)v).Should().Equal(all[35..]);
        var act = () => file.GetFrame(2);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*2 frame(s)*");
    }

    [Fact]
    public void PlanarRgb_AndJpegBaselineRgb_GiveChannelFirstColour()
    {
        var planar = DicomFile.Read(File("rgb_planar.dcm"));
        planar.PhotometricInterpretation.Should().Be("RGB");
        planar.GetFrame().Select(v => (double)v).Should().Equal(ChannelFirst(Values("rgb_planar.dcm"), 4, 5, 3));

        var jpeg = DicomFile.Read(File("rgb_jpeg.dcm"));
        jpeg.TransferSyntaxUid.Should().Be(DicomTransferSyntax.JpegBaseline);
        jpeg.PhotometricInterpretation.Should().Be("YBR_FULL_422");
        var expected = ChannelFirst(Values("rgb_jpeg.dcm"), 16, 24, 3); // Pillow's decode of the same JPEG stream
        var actual = jpeg.GetFrame();
        actual.Should().HaveCount(expected.Length);
        actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max().Should().BeLessThanOrEqualTo(1, "both decoders are libjpeg-based");

        var image = jpeg.ToFloatImage();
        image.Shape.Should().Equal(3, 16, 24);
        image.Data.Should().OnlyContain(v => v >= 0 && v <= 1);
    }

    [Fact]
    public void DisplayMapping_UsesTheWindow_AndInvertsMonochrome1()
    {
        var ct = DicomFile.Read(File("ct_explicit.dcm"));
        var hu = ct.GetFrame();
        // DICOM's LINEAR window (PS3.3 C.11.2.1.2.1): (x − (c − ½)) / (w − 1) + ½, clamped
        static float Linear(double x, double c, double w) => (float)Math.Clamp((x - (c - 0.5)) / (w - 1) + 0.5, 0, 1);
        var windowed = ct.ToFloatImage(); // the file's window: 40, width 400 HU
        for (int i = 0; i < hu.Length; i++)
            windowed.Data[i].Should().BeApproximately(Linear(hu[i], 40, 400), 1e-6f);
        var bone = ct.ToFloatImage(window: (300, 1000));
        for (int i = 0; i < hu.Length; i++)
            bone.Data[i].Should().BeApproximately(Linear(hu[i], 300, 1000), 1e-6f);

        var mono1 = DicomFile.Read(File("mono1.dcm"));
        mono1.PhotometricInterpretation.Should().Be("MONOCHROME1");
        var raw = mono1.GetFrame();
        raw.Select(v => (double)v).Should().Equal(Values("mono1.dcm"));
        var display = mono1.ToRasterImage();
        int darkest = Array.IndexOf(raw, raw.Max()), brightest = Array.IndexOf(raw, raw.Min());
        display.Pixels[darkest].Should().Be(0, "in MONOCHROME1 the largest value is black");
        display.Pixels[brightest].Should().Be(255);
    }

    [Fact]
    public void Series_IsOrderedByGeometry_NotByInstanceNumberOrName_AndBecomesAVolume()
    {
        var all = DicomSeries.ReadFolder(Path.Combine(Dir, "series"));
        all.Should().HaveCount(2, "notes.txt is skipped and other.dcm is another series");
        var uid = Expected.Value.GetProperty("series").GetProperty("uid").GetString()!;
        all[0].SeriesInstanceUid.Should().Be(uid, "the largest series comes first");

        var series = DicomSeries.Read(Path.Combine(Dir, "series"), uid);
        series.Slices.Select(s => Path.GetFileName(s.SourceName)).Should().Equal("b.dcm", "d.dcm", "a.dcm", "c.dcm");
        series.Size.Should().Be((5, 3, 4));
        series.Spacing[0].Should().BeApproximately(0.6, 1e-9);
        series.Spacing[1].Should().BeApproximately(0.8, 1e-9);
        series.Spacing[2].Should().BeApproximately(2.5, 1e-5);

        var volume = series.ToVolume();
        volume.Shape.Should().Equal(5, 3, 4);
        volume.Voxels.Select(v => (double)v).Should().Equal(Values("series"));
        volume.Spacing.Should().Equal(0.6f, 0.8f, (float)series.Spacing[2]);

        var ambiguous = () => DicomSeries.Read(Path.Combine(Dir, "series"));
        ambiguous.Should().Throw<DataFormatException>().WithMessage($"*2 series*{uid}*");
    }

    [Fact]
    public void Series_Volume_CarriesThePatientGeometryAsAnRasAffine()
    {
        var uid = Expected.Value.GetProperty("series").GetProperty("uid").GetString()!;
        var series = DicomSeries.Read(Path.Combine(Dir, "series"), uid);
        var volume = series.ToVolume();
        volume.AffineCode.Should().Be(MedVision.Nets.Data.Nifti.NiftiXformCode.ScannerAnatomical);
        // The first voxel of every slice lies at that slice's ImagePositionPatient (DICOM LPS → NIfTI RAS: x, y negated).
        for (int k = 0; k < 4; k++)
        {
            var p = series.Slices[k].ImagePositionPatient!;
            var w = volume.Affine.Apply(0, 0, k);
            w.X.Should().BeApproximately(-p[0], 1e-4);
            w.Y.Should().BeApproximately(-p[1], 1e-4);
            w.Z.Should().BeApproximately(p[2], 1e-4);
        }
        // Along a row (i): 0.6 mm in the row direction (1, 0, 0); down a column (j): 0.8 mm along (0, cos 0.3, sin 0.3).
        var o = volume.Affine.Apply(0, 0, 0);
        var i1 = volume.Affine.Apply(1, 0, 0);
        var j1 = volume.Affine.Apply(0, 1, 0);
        (i1.X - o.X).Should().BeApproximately(-0.6, 1e-9);
        (i1.Y - o.Y).Should().BeApproximately(0, 1e-9);
        (i1.Z - o.Z).Should().BeApproximately(0, 1e-9);
        (j1.X - o.X).Should().BeApproximately(0, 1e-9);
        (j1.Y - o.Y).Should().BeApproximately(-0.8 * Math.Cos(0.3), 1e-6);
        (j1.Z - o.Z).Should().BeApproximately(0.8 * Math.Sin(0.3), 1e-6);
        volume.Orientation.Should().Be("LPS");
    }

    [Fact]
    public void Series_WithARepeatedOrMissingSlice_IsRefusedByName()
    {
        var source = Path.Combine(Dir, "series");
        var repeated = Directory.CreateDirectory(Path.Combine(_temp, "repeated")).FullName;
        foreach (var name in new[] { "a.dcm", "b.dcm", "c.dcm" }) System.IO.File.Copy(Path.Combine(source, name), Path.Combine(repeated, name));
        System.IO.File.Copy(Path.Combine(source, "a.dcm"), Path.Combine(repeated, "a-copy.dcm"));
        var act = () => DicomSeries.Read(repeated);
        act.Should().Throw<DataFormatException>().WithMessage("*same position*");

        var gap = Directory.CreateDirectory(Path.Combine(_temp, "gap")).FullName;
        foreach (var name in new[] { "a.dcm", "b.dcm", "c.dcm" }) System.IO.File.Copy(Path.Combine(source, name), Path.Combine(gap, name)); // slices 2, 0, 3
        act = () => DicomSeries.Read(gap);
        act.Should().Throw<DataFormatException>().WithMessage("*not evenly spaced*");
    }

    [Fact]
    public void ImagePipelines_ReadDicomLikeJpegAndPng()
    {
        var viaCodec = MedVision.Nets.Data.Images.ImageCodec.DecodeFile(File("rgb_jpeg.dcm"));
        var direct = DicomFile.Read(File("rgb_jpeg.dcm")).ToRasterImage();
        (viaCodec.Width, viaCodec.Height, viaCodec.Channels).Should().Be((24, 16, 3));
        viaCodec.Pixels.Should().Equal(direct.Pixels);

        // a folder of class sub-folders with DICOM photographs and radiographs
        Directory.CreateDirectory(Path.Combine(_temp, "folder", "colour"));
        Directory.CreateDirectory(Path.Combine(_temp, "folder", "grey"));
        System.IO.File.Copy(File("rgb_planar.dcm"), Path.Combine(_temp, "folder", "colour", "a.dcm"));
        System.IO.File.Copy(File("mono1.dcm"), Path.Combine(_temp, "folder", "grey", "b.dcm"));
        var data = MedVision.Nets.Data.Images.ImageFolderDataset.FromSubfolders(Path.Combine(_temp, "folder"));
        data.ClassNames.Should().Equal("colour", "grey");
        data.Samples.Select(x => x.Label).Should().Equal(0, 1);
        var colour = data.LoadImage(0, 5, 4, 3);
        var rgb = ChannelFirst(Values("rgb_planar.dcm"), 4, 5, 3);
        colour.Pixels[0].Should().Be((byte)rgb[0], "the first pixel's red value at the original size");
        data.LoadImage(1, 4, 3, 1).Channels.Should().Be(1);
    }

    [Fact]
    public void Predictor_ClassifiesDicomFilesLikeTheirDecodedPixels()
    {
        using var predictor = MedVision.Nets.Inference.Predictor.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny_torchscript_classifier.pt"));
        var fromFile = predictor.PredictFile(File("rgb_jpeg.dcm"));
        var raster = DicomFile.Read(File("rgb_jpeg.dcm")).ToRasterImage();
        var fromPixels = predictor.PredictPixels(raster.Pixels, raster.Width, raster.Height, raster.Channels);
        fromFile.Probabilities.Should().Equal(fromPixels.Probabilities);
        fromFile.Probabilities.Sum().Should().BeApproximately(1f, 1e-5f);
    }

    [Fact]
    public void AnUnknownSequenceOfUndefinedLength_IsReadAsImplicitVr()
    {
        // Explicit VR file with a private (0009,1010) UN element of undefined length whose item holds implicit-VR
        // elements (as PS3.5 §6.2.2 requires), then a 2×2 uint8 image.
        var body = new List<byte>();
        void U16(int v) { body.Add((byte)v); body.Add((byte)(v >> 8)); }
        void U32(uint v) { for (int i = 0; i < 4; i++) body.Add((byte)(v >> (8 * i))); }
        void Ascii(string t) => body.AddRange(System.Text.Encoding.ASCII.GetBytes(t));
        void Short(int g, int e, string vr, byte[] value) { U16(g); U16(e); Ascii(vr); U16(value.Length); body.AddRange(value); }
        var meta = new List<byte>();
        var syntax = System.Text.Encoding.ASCII.GetBytes(DicomTransferSyntax.ExplicitVrLittleEndian + "\0");
        body.Clear();
        Short(0x0002, 0x0010, "UI", syntax);
        meta.AddRange(body);
        body.Clear();
        Short(0x0008, 0x0060, "CS", "OT"u8.ToArray());
        U16(0x0009); U16(0x1010); Ascii("UN"); U16(0); U32(0xFFFFFFFF);         // UN, undefined length
        U16(0xFFFE); U16(0xE000); U32(0xFFFFFFFF);                              // item, undefined length
        U16(0x0009); U16(0x1011); U32(4); Ascii("ABCD");                        // implicit VR element inside
        U16(0xFFFE); U16(0xE00D); U32(0);                                       // item delimitation
        U16(0xFFFE); U16(0xE0DD); U32(0);                                       // sequence delimitation
        Short(0x0028, 0x0002, "US", new byte[] { 1, 0 });
        Short(0x0028, 0x0004, "CS", "MONOCHROME2 "u8.ToArray());
        Short(0x0028, 0x0010, "US", new byte[] { 2, 0 });
        Short(0x0028, 0x0011, "US", new byte[] { 2, 0 });
        Short(0x0028, 0x0100, "US", new byte[] { 8, 0 });
        Short(0x0028, 0x0101, "US", new byte[] { 8, 0 });
        U16(0x7FE0); U16(0x0010); Ascii("OB"); U16(0); U32(4); body.AddRange(new byte[] { 1, 2, 3, 4 });
        var file = new byte[128].Concat("DICM"u8.ToArray()).Concat(meta).Concat(body).ToArray();

        var dicom = DicomFile.Read(file, "private-un.dcm");
        dicom.Modality.Should().Be("OT");
        dicom.Contains(0x0009, 0x1011).Should().BeFalse("the nested element belongs to the sequence, not the top level");
        dicom.GetSequence(0x0009, 0x1010)!.Single().GetString(0x0009, 0x1011).Should().Be("ABCD", "its item is read as Implicit VR");
        dicom.GetFrame().Should().Equal(1f, 2f, 3f, 4f);
    }

    [Fact]
    public void BadFiles_GiveClearExceptionsNamingThem()
    {
        var video = () => DicomFile.Read(File("mpeg2.dcm"));
        video.Should().Throw<NotSupportedException>().WithMessage("*mpeg2.dcm*1.2.840.10008.1.2.4.100*MPEG2*");

        var bytes = System.IO.File.ReadAllBytes(File("ct_explicit.dcm"));
        var truncated = Path.Combine(_temp, "truncated.dcm");
        System.IO.File.WriteAllBytes(truncated, bytes[..(bytes.Length - 20)]);
        var act = () => DicomFile.Read(truncated);
        act.Should().Throw<DataFormatException>().WithMessage($"*{truncated}*truncated*");

        var cutInHeader = Path.Combine(_temp, "cut.dcm");
        System.IO.File.WriteAllBytes(cutInHeader, bytes[..200]);
        act = () => DicomFile.Read(cutInHeader);
        act.Should().Throw<DataFormatException>().WithMessage($"*{cutInHeader}*");

        var text = Path.Combine(_temp, "notes.txt");
        System.IO.File.WriteAllText(text, "hello, this is not a DICOM file at all");
        act = () => DicomFile.Read(text);
        act.Should().Throw<DataFormatException>().WithMessage("*not a DICOM file*");

        var missing = () => DicomFile.Read(Path.Combine(_temp, "missing.dcm"));
        missing.Should().Throw<FileNotFoundException>();

        // a header promising more rows than the pixel data hold
        var tall = (byte[])bytes.Clone();
        int rowsAt = IndexOf(tall, new byte[] { 0x28, 0x00, 0x10, 0x00, (byte)'U', (byte)'S', 0x02, 0x00 }) + 8;
        tall[rowsAt] = 60;
        var tallPath = Path.Combine(_temp, "tall.dcm");
        System.IO.File.WriteAllBytes(tallPath, tall);
        var tallFile = DicomFile.Read(tallPath);
        tallFile.Rows.Should().Be(60);
        var pixels = () => tallFile.GetFrame();
        pixels.Should().Throw<DataFormatException>().WithMessage($"*{tallPath}*too few*");

        // an RLE header announcing three byte planes for 16-bit grey values
        var rle = System.IO.File.ReadAllBytes(File("ct_rle.dcm"));
        rle[IndexOf(rle, new byte[] { 2, 0, 0, 0, 64, 0, 0, 0 })] = 3;
        var badRle = Path.Combine(_temp, "bad-rle.dcm");
        System.IO.File.WriteAllBytes(badRle, rle);
        var decode = () => DicomFile.Read(badRle).GetFrame();
        decode.Should().Throw<DataFormatException>().WithMessage($"*{badRle}*3 RLE segments*");
    }

    [Fact]
    public void PixelDataWhoseFormDisagreesWithTheTransferSyntax_IsAFormatError()
    {
        // Uncompressed pixel data (defined length) labelled RLE Lossless: both UIDs take 20 bytes with their padding.
        var native = System.IO.File.ReadAllBytes(File("ct_explicit.dcm"));
        var explicitUid = System.Text.Encoding.ASCII.GetBytes("1.2.840.10008.1.2.1\0");
        int at = IndexOf(native, explicitUid);
        System.Text.Encoding.ASCII.GetBytes("1.2.840.10008.1.2.5\0").CopyTo(native, at);
        var act = () => DicomFile.Read(native, "labelled-rle.dcm");
        act.Should().Throw<DataFormatException>().WithMessage("*labelled-rle.dcm*RLE Lossless*defined length*");

        // Encapsulated JPEG fragments labelled Explicit VR Little Endian (22 bytes: the UID, NULs after it).
        var jpeg = System.IO.File.ReadAllBytes(File("rgb_jpeg.dcm"));
        at = IndexOf(jpeg, System.Text.Encoding.ASCII.GetBytes("1.2.840.10008.1.2.4.50"));
        System.Text.Encoding.ASCII.GetBytes("1.2.840.10008.1.2.1\0\0\0").CopyTo(jpeg, at);
        act = () => DicomFile.Read(jpeg, "labelled-native.dcm");
        act.Should().Throw<DataFormatException>().WithMessage("*labelled-native.dcm*encapsulated*Explicit VR Little Endian*");
    }
}
