using System.Text.Json;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Dicom;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// Enhanced multi-frame DICOM files written by pydicom (Fixtures/dicom/enhanced/make_enhanced_fixtures.py): geometry,
/// rescaling and windows read from the functional groups, frames ordered in space, per-time-point volumes, against what
/// the script computed with pydicom and numpy. The tests need no Python.
/// </summary>
public sealed class EnhancedDicomTests : IDisposable
{
    private static readonly string Dir = FixtureJson.Folder("dicom/enhanced");
    private static readonly Lazy<JsonElement> Expected = FixtureJson.Lazy(Dir, "enhanced_fixtures.json", "files");

    private readonly string _temp = Directory.CreateTempSubdirectory("mvn-enhanced-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static JsonElement Fixture(string name) => Expected.Value.GetProperty(name);
    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();
    private static DicomFile Ct() => DicomFile.Read(Path.Combine(Dir, "enhanced_ct.dcm"));
    private static DicomFile Mr() => DicomFile.Read(Path.Combine(Dir, "enhanced_mr.dcm"));

    private string FolderWith(string name)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_temp, Path.GetFileNameWithoutExtension(name))).FullName;
        File.Copy(Path.Combine(Dir, name), Path.Combine(folder, name));
        return folder;
    }

    private static void AffineShouldBe(MedVision.Nets.Data.Nifti.NiftiAffine affine, JsonElement expected)
    {
        var rows = expected.EnumerateArray().Select(Doubles).ToArray();
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                affine[r, c].Should().BeApproximately(rows[r][c], 1e-5, $"affine[{r},{c}]");
    }

    [Fact]
    public void EnhancedCt_FrameInfo_ComesFromThePerFrameAndSharedFunctionalGroups()
    {
        var file = Ct();
        var expected = Fixture("enhanced_ct.dcm");
        file.HasFunctionalGroups.Should().BeTrue();
        file.NumberOfFrames.Should().Be(5);
        file.PixelSpacing.Should().BeNull("an enhanced file keeps its geometry in the functional groups, not at the top level");
        file.GetSequence(0x5200, 0x9230).Should().HaveCount(5);

        var frames = expected.GetProperty("frames").EnumerateArray().ToArray();
        for (int f = 0; f < 5; f++)
        {
            var info = file.GetFrameInfo(f);
            info.ImagePositionPatient.Should().Equal(Doubles(frames[f].GetProperty("position")), (a, b) => Math.Abs(a - b) < 1e-9);
            info.ImageOrientationPatient.Should().Equal(Doubles(expected.GetProperty("orientation")), (a, b) => Math.Abs(a - b) < 1e-9);
            info.PixelSpacing.Should().Equal(Doubles(expected.GetProperty("pixel_spacing")));
            info.SliceThickness.Should().Be(expected.GetProperty("slice_thickness").GetDouble());
            info.RescaleSlope.Should().Be(frames[f].GetProperty("slope").GetDouble());
            info.RescaleIntercept.Should().Be(frames[f].GetProperty("intercept").GetDouble());
            var window = Doubles(frames[f].GetProperty("window"));
            info.Window.Should().Be((window[0], window[1]));
            info.InStackPositionNumber.Should().Be(frames[f].GetProperty("in_stack_position").GetInt64());
            info.StackId.Should().Be("1");
            info.DimensionIndexValues.Should().Equal(1L, frames[f].GetProperty("in_stack_position").GetInt64());
        }
        file.GetFrameInfo(2).RescaleSlope.Should().NotBe(file.GetFrameInfo(0).RescaleSlope, "the fixture rescales its frames differently");
        var outside = () => file.GetFrameInfo(5);
        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*5 frame(s)*");
    }

    [Fact]
    public void EnhancedCt_EveryFrameIsRescaledWithItsOwnSlopeAndIntercept()
    {
        var file = Ct();
        var frames = Fixture("enhanced_ct.dcm").GetProperty("frames").EnumerateArray().ToArray();
        for (int f = 0; f < 5; f++)
            file.GetFrame(f).Select(v => (double)v).Should().Equal(Doubles(frames[f].GetProperty("values")), $"frame {f}");
    }

    [Fact]
    public void EnhancedCt_DisplayImagesUseEachFramesOwnWindow()
    {
        var file = Ct();
        for (int f = 0; f < 5; f++)
        {
            // DICOM's LINEAR window (PS3.3 C.11.2.1.2.1) with the frame's own center and width
            var (c, w) = file.GetFrameInfo(f).Window!.Value;
            var expected = file.GetFrame(f).Select(x => (float)Math.Clamp((x - (c - 0.5)) / (w - 1) + 0.5, 0, 1));
            file.ToFloatImage(f).Data.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-6f);
        }
        file.GetFrameInfo(0).Window.Should().NotBe(file.GetFrameInfo(1).Window);
    }

    [Fact]
    public void EnhancedCt_SeriesOrdersTheFramesInSpace_AndCarriesTheirGeometry()
    {
        var expected = Fixture("enhanced_ct.dcm").GetProperty("volume");
        var series = DicomSeries.Read(FolderWith("enhanced_ct.dcm"));
        series.FramesAreSlices.Should().BeTrue();
        series.Frames.Should().Equal(Ints(expected.GetProperty("order")), "the frames are stored out of spatial order");
        series.Size.Should().Be((6, 4, 5));
        series.Spacing.Should().Equal(Doubles(expected.GetProperty("spacing")), (a, b) => Math.Abs(a - b) < 1e-5);
        series.SliceInfos.Select(i => i.InStackPositionNumber).Should().Equal(1L, 2L, 3L, 4L, 5L);

        var volume = series.ToVolume();
        volume.Shape.Should().Equal(6, 4, 5);
        volume.Voxels.Select(v => (double)v).Should().Equal(Doubles(expected.GetProperty("values")));
        AffineShouldBe(volume.Affine, expected.GetProperty("affine"));
        volume.AffineCode.Should().Be(MedVision.Nets.Data.Nifti.NiftiXformCode.ScannerAnatomical);
    }

    [Fact]
    public void EnhancedMr_ImplicitVrWithCountedSequences_IsReadThroughTheDataDictionary()
    {
        var file = Mr();
        file.TransferSyntaxUid.Should().Be(DicomTransferSyntax.ImplicitVrLittleEndian);
        file.HasFunctionalGroups.Should().BeTrue();
        var frames = Fixture("enhanced_mr.dcm").GetProperty("frames").EnumerateArray().ToArray();
        for (int f = 0; f < 6; f++)
        {
            var info = file.GetFrameInfo(f);
            info.ImagePositionPatient.Should().Equal(Doubles(frames[f].GetProperty("position")));
            info.TemporalPositionIndex.Should().Be(frames[f].GetProperty("temporal_position").GetInt64());
            info.DimensionIndexValues.Should().Equal(frames[f].GetProperty("dimension_index").EnumerateArray().Select(v => v.GetInt64()));
            info.PixelSpacing.Should().Equal(1.25, 1.5);
            info.SpacingBetweenSlices.Should().Be(3.5);
            (info.RescaleSlope, info.RescaleIntercept).Should().Be((1.0, 0.0), "the MR file has no pixel value transformation");
            file.GetFrame(f).Select(v => (double)v).Should().Equal(Doubles(frames[f].GetProperty("values")));
        }
    }

    [Fact]
    public void EnhancedMr_WithTwoTimePointsAtEachPosition_IsNotOneVolume()
    {
        var file = Mr();
        var act = () => DicomSeries.FromFrames(file, Enumerable.Range(0, file.NumberOfFrames));
        act.Should().Throw<DataFormatException>().WithMessage("*enhanced_mr.dcm*same position*2 temporal positions*DicomSeries.FromFrames*");
    }

    [Fact]
    public void EnhancedMr_ReadFolder_GivesOneVolumePerTimePoint_ToldApartByTheDimensionIndex()
    {
        var folder = FolderWith("enhanced_mr.dcm");
        var all = DicomSeries.ReadFolder(folder);
        all.Should().HaveCount(2);
        all.Select(s => s.Subset).Should().Equal(@"dimension index values 1\1\*", @"dimension index values 1\2\*");
        all.Select(s => s.SeriesInstanceUid).Distinct().Should().ContainSingle();
        for (int t = 1; t <= 2; t++)
        {
            var expected = Fixture("enhanced_mr.dcm").GetProperty("volumes").GetProperty(t.ToString(System.Globalization.CultureInfo.InvariantCulture));
            all[t - 1].Frames.Should().Equal(Ints(expected.GetProperty("order")));
            all[t - 1].ToVolume().Voxels.Select(v => (double)v).Should().Equal(Doubles(expected.GetProperty("values")));
        }

        var one = () => DicomSeries.Read(folder);
        one.Should().Throw<DataFormatException>().WithMessage("*holds 2 volumes*dimension index values 1\\1\\**pick one from DicomSeries.ReadFolder*");
        var byUid = () => DicomSeries.Read(folder, all[0].SeriesInstanceUid);
        byUid.Should().Throw<DataFormatException>().WithMessage("*holds 2 volumes*");

        DicomSeries.Read(FolderWith("enhanced_ct.dcm")).Subset.Should().BeNull("a file that is one volume is not split");
    }

    [Fact]
    public void AVolumeFolderSample_OfAnEnhancedFileWithTwoTimePoints_IsTwoChannels_AsA4DNiftiFileWouldBe()
    {
        // class folder "a" holds the MR series (two time points), class folder "b" the same file as a subject's modality.
        var sample = Directory.CreateDirectory(Path.Combine(_temp, "volumes", "a", "mr")).FullName;
        File.Copy(Path.Combine(Dir, "enhanced_mr.dcm"), Path.Combine(sample, "enhanced_mr.dcm"));
        var all = DicomSeries.ReadFolder(sample);
        var (x, y, z) = all[0].Size;
        var source = MedVision.Nets.Data.Loading.VolumeFolderSource.Builder(Path.Combine(_temp, "volumes")).KeepStoredOrientation().ResizeTo(z, y, x).Build();
        source.Channels.Should().Be(2, "each time point is a channel, in the file's order");
        var channels = source.ReadVolumes(0);
        channels.Select(c => c.Voxels).Should().BeEquivalentTo(all.Select(s => s.ToVolume().Voxels), o => o.WithStrictOrdering());
        var (image, _) = source.Load(0);
        image.Shape.Should().Equal(2, z, y, x);
        float min = channels.Min(c => c.Voxels.Min()), max = channels.Max(c => c.Voxels.Max());
        image.Data.Should().Equal(channels.SelectMany(c => c.Voxels).Select(v => (v - min) / (max - min)), (a, e) => Math.Abs(a - e) < 1e-6,
            "both time points at the stored size, scaled across the channels");
        source.Invoking(s => s.ReadVolume(0)).Should().Throw<DataFormatException>()
            .WithMessage(@"*mr*holds 2 volumes (dimension index values 1\1\*, dimension index values 1\2\*)*ReadVolumes*");

        // As one modality of a subject it is ambiguous: refused, not reduced to its first time point.
        var subject = Directory.CreateDirectory(Path.Combine(_temp, "subjects", "b", "sub-01")).FullName;
        Directory.CreateDirectory(Path.Combine(subject, "pet"));
        File.Copy(Path.Combine(Dir, "enhanced_mr.dcm"), Path.Combine(subject, "pet", "enhanced_mr.dcm"));
        File.Copy(Path.Combine(Dir, "enhanced_ct.dcm"), Path.Combine(Directory.CreateDirectory(Path.Combine(subject, "ct")).FullName, "enhanced_ct.dcm"));
        var subjects = MedVision.Nets.Data.Loading.VolumeFolderSource.Builder(Path.Combine(_temp, "subjects")).WithModalities("ct", "pet").ResizeTo(4, 4, 4).Build();
        subjects.Invoking(s => s.ReadVolumes(0)).Should().Throw<DataFormatException>().WithMessage("*pet*holds 2 volumes*one volume is expected*");
    }

    [Fact]
    public void AFileOfTwoSlabs_GivesTwoVolumesOnDifferentGrids_WhichAVolumeFolderDoesNotStackAsChannels()
    {
        // enhanced_mr.dcm turned into two slabs of three slices, 20 mm apart (make_slab_fixture.py).
        var folder = Directory.CreateDirectory(Path.Combine(_temp, "slabs", "a", "mr")).FullName;
        File.Copy(Path.Combine(Dir, "enhanced_slabs.dcm"), Path.Combine(folder, "enhanced_slabs.dcm"));
        var all = DicomSeries.ReadFolder(folder);
        all.Select(s => s.Subset).Should().Equal(@"dimension index values 1\*", @"dimension index values 2\*");
        all.Select(s => s.Size.Z).Should().Equal(3, 3);
        var first = all[0].ToVolume();
        var second = all[1].ToVolume();
        second.Affine[2, 3].Should().BeApproximately(first.Affine[2, 3] + 20, 1e-6, "the second slab starts 20 mm further along z");
        second.IsOnGridOf(first).Should().BeFalse();

        var source = MedVision.Nets.Data.Loading.VolumeFolderSource.Builder(Path.Combine(_temp, "slabs")).ResizeTo(3, 3, 5).Build();
        source.Invoking(s => s.ReadVolumes(0)).Should().Throw<DataFormatException>()
            .WithMessage("*holds 2 volumes on different grids*stacks or slabs*not channels*DicomSeries.ReadFolder*");
    }

    [Fact]
    public void WithoutDimensionIndexValues_StackAndTimePointTellTheVolumesApart()
    {
        // The MR file with DimensionIndexValues (0020,9157) renamed in every frame content item: the split falls back
        // to StackID and TemporalPositionIndex.
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "enhanced_mr.dcm"));
        var pattern = new byte[] { 0x20, 0x00, 0x57, 0x91, 12, 0, 0, 0 }; // implicit VR: tag, then a 12-byte length (3 ULs)
        int renamed = 0;
        for (int i = 0; i + pattern.Length <= bytes.Length; i++)
            if (bytes.AsSpan(i, pattern.Length).SequenceEqual(pattern)) { bytes[i + 3] = 0x90; renamed++; }
        renamed.Should().Be(6, "one per frame");
        var folder = Directory.CreateDirectory(Path.Combine(_temp, "no-index")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "mr.dcm"), bytes);
        var all = DicomSeries.ReadFolder(folder);
        all.Select(s => s.Subset).Should().Equal("stack 1, temporal position 1", "stack 1, temporal position 2");
        var expected = Fixture("enhanced_mr.dcm").GetProperty("volumes");
        all[1].ToVolume().Voxels.Select(v => (double)v).Should().Equal(Doubles(expected.GetProperty("2").GetProperty("values")));
    }

    [Fact]
    public void AFileWhoseFrameContentCannotTellItsVolumesApart_IsStillRefused()
    {
        // The MR file with its frame content (0020,9111) renamed in every per-frame item: nothing tells the time points apart.
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "enhanced_mr.dcm"));
        var pattern = new byte[] { 0x20, 0x00, 0x11, 0x91 };
        for (int i = 0; i + 4 <= bytes.Length; i++)
            if (bytes.AsSpan(i, 4).SequenceEqual(pattern)) bytes[i + 3] = 0x90; // (0020,9011): not a frame content sequence
        var folder = Directory.CreateDirectory(Path.Combine(_temp, "no-content")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "mr.dcm"), bytes);
        var act = () => DicomSeries.ReadFolder(folder);
        act.Should().Throw<DataFormatException>().WithMessage("*mr.dcm*same position*several volumes*FromFrames*");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void EnhancedMr_FromFrames_BuildsTheVolumeOfOneTimePoint(int timePoint)
    {
        var file = Mr();
        var expected = Fixture("enhanced_mr.dcm").GetProperty("volumes").GetProperty(timePoint.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var frames = Enumerable.Range(0, file.NumberOfFrames).Where(f => file.GetFrameInfo(f).TemporalPositionIndex == timePoint);
        var series = DicomSeries.FromFrames(file, frames);
        series.Frames.Should().Equal(Ints(expected.GetProperty("order")));
        series.Spacing.Should().Equal(Doubles(expected.GetProperty("spacing")), (a, b) => Math.Abs(a - b) < 1e-9);
        var volume = series.ToVolume();
        volume.Shape.Should().Equal(5, 3, 3);
        volume.Voxels.Select(v => (double)v).Should().Equal(Doubles(expected.GetProperty("values")));
        AffineShouldBe(volume.Affine, expected.GetProperty("affine"));
    }

    [Fact]
    public void FromFrames_RefusesNoFramesMissingFramesAndRepeatedFrames()
    {
        var file = Mr();
        var none = () => DicomSeries.FromFrames(file, []);
        none.Should().Throw<ArgumentException>().WithMessage("*at least one frame*");
        var missing = () => DicomSeries.FromFrames(file, [0, 6]);
        missing.Should().Throw<ArgumentException>().WithMessage("*Frame 6 does not exist*6 frame(s)*");
        var negative = () => DicomSeries.FromFrames(file, [-1]);
        negative.Should().Throw<ArgumentException>().WithMessage("*Frame -1*");
        var twice = () => DicomSeries.FromFrames(file, [0, 0]);
        twice.Should().Throw<ArgumentException>().WithMessage("*more than once*");
        var sameSpot = () => DicomSeries.FromFrames(file, [0, 1]); // one slice at two time points
        sameSpot.Should().Throw<DataFormatException>().WithMessage("*same position*");
    }

    [Fact]
    public void ClassicMultiFrameFiles_KeepTheirFrameOrder_AndOnlyTheFirstFramesPosition()
    {
        var file = DicomFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "dicom", "mr_implicit_2f.dcm"));
        file.HasFunctionalGroups.Should().BeFalse();
        file.GetFrameInfo(1).ImagePositionPatient.Should().BeNull();
        var series = DicomSeries.FromFrames(file, [0, 1]);
        series.Frames.Should().Equal(0, 1);
        series.ToVolume().Voxels.Should().Equal(file.GetFrame(0).Concat(file.GetFrame(1)));
    }

    [Fact]
    public void FunctionalGroupsThatDisagreeWithTheFrameCount_AreAFormatError()
    {
        // NumberOfFrames (0028,0008) IS "5 " rewritten as "4 ": five per-frame items for four frames.
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "enhanced_ct.dcm"));
        var pattern = new byte[] { 0x28, 0x00, 0x08, 0x00, (byte)'I', (byte)'S', 0x02, 0x00, (byte)'5', (byte)' ' };
        int at = Enumerable.Range(0, bytes.Length - pattern.Length).First(i => bytes.AsSpan(i, pattern.Length).SequenceEqual(pattern));
        bytes[at + 8] = (byte)'4';
        var file = DicomFile.Read(bytes, "four-frames.dcm");
        file.NumberOfFrames.Should().Be(4);
        var act = () => file.GetFrame(0);
        act.Should().Throw<DataFormatException>().WithMessage("*four-frames.dcm*5 item(s) for 4 frame(s)*");
        var series = () => DicomSeries.FromFrames(file, [0, 1]);
        series.Should().Throw<DataFormatException>().WithMessage("*5 item(s) for 4 frame(s)*");
    }

    // ------------------------------------------------------------------ sequences in hand-made data sets

    private sealed class DataSetBuilder
    {
        private readonly List<byte> _bytes = [];
        public void U16(int v) { _bytes.Add((byte)v); _bytes.Add((byte)(v >> 8)); }
        public void U32(uint v) { for (int i = 0; i < 4; i++) _bytes.Add((byte)(v >> (8 * i))); }
        public void Ascii(string t) => _bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(t));
        public void Short(int g, int e, string vr, byte[] value) { U16(g); U16(e); Ascii(vr); U16(value.Length); _bytes.AddRange(value); }
        public void Sequence(int g, int e, uint length) { U16(g); U16(e); Ascii("SQ"); U16(0); U32(length); }
        public void Item(uint length) { U16(0xFFFE); U16(0xE000); U32(length); }
        public void EndItem() { U16(0xFFFE); U16(0xE00D); U32(0); }
        public void EndSequence() { U16(0xFFFE); U16(0xE0DD); U32(0); }
        public void Image2x2()
        {
            Short(0x0028, 0x0002, "US", [1, 0]);
            Short(0x0028, 0x0004, "CS", "MONOCHROME2 "u8.ToArray());
            Short(0x0028, 0x0010, "US", [2, 0]);
            Short(0x0028, 0x0011, "US", [2, 0]);
            Short(0x0028, 0x0100, "US", [8, 0]);
            Short(0x0028, 0x0101, "US", [8, 0]);
            U16(0x7FE0); U16(0x0010); Ascii("OB"); U16(0); U32(4); _bytes.AddRange(new byte[] { 1, 2, 3, 4 });
        }

        public int Count => _bytes.Count;

        public byte[] ToFile()
        {
            var meta = new DataSetBuilder();
            meta.Short(0x0002, 0x0010, "UI", System.Text.Encoding.ASCII.GetBytes(DicomTransferSyntax.ExplicitVrLittleEndian + "\0"));
            return new byte[128].Concat("DICM"u8.ToArray()).Concat(meta._bytes).Concat(_bytes).ToArray();
        }
    }

    [Fact]
    public void NestedSequences_AreKept_AndCountedLengthsAreChecked()
    {
        var b = new DataSetBuilder();
        b.Short(0x0008, 0x0060, "CS", "OT"u8.ToArray());
        b.Sequence(0x0040, 0x0275, 0xFFFFFFFF);        // delimited sequence
        b.Item(0xFFFFFFFF);                             // delimited item
        b.Short(0x0040, 0x0007, "LO", "outer"u8.ToArray()[..4]);
        b.Sequence(0x0040, 0x0008, 18);                 // counted sequence: one counted item of 10 bytes
        b.Item(10);
        b.Short(0x0008, 0x0100, "SH", "AB"u8.ToArray());
        b.EndItem();
        b.EndSequence();
        b.Image2x2();
        var file = DicomFile.Read(b.ToFile(), "nested.dcm");
        var outer = file.GetSequence(0x0040, 0x0275);
        outer.Should().ContainSingle();
        outer![0].GetString(0x0040, 0x0007).Should().Be("oute");
        outer[0].GetSequence(0x0040, 0x0008)!.Single().GetString(0x0008, 0x0100).Should().Be("AB");
        file.Contains(0x0008, 0x0100).Should().BeFalse("a nested attribute is not a top-level one");
        file.GetFrame().Should().Equal(1f, 2f, 3f, 4f);

        // A counted item that claims more bytes than its sequence holds.
        var bad = new DataSetBuilder();
        bad.Sequence(0x0040, 0x0008, 18);
        bad.Item(12);
        bad.Short(0x0008, 0x0100, "SH", "ABCD"u8.ToArray());
        bad.Image2x2();
        var act = () => DicomFile.Read(bad.ToFile(), "overrun.dcm");
        act.Should().Throw<DataFormatException>().WithMessage("*overrun.dcm*past the end*");
    }

    [Fact]
    public void SequencesNestedTooDeep_AreAFormatError_NotAStackOverflow()
    {
        var b = new DataSetBuilder();
        for (int i = 0; i < 40; i++) { b.Sequence(0x0040, 0x0275, 0xFFFFFFFF); b.Item(0xFFFFFFFF); }
        for (int i = 0; i < 40; i++) { b.EndItem(); b.EndSequence(); }
        b.Image2x2();
        var act = () => DicomFile.Read(b.ToFile(), "deep.dcm");
        act.Should().Throw<DataFormatException>().WithMessage("*deep.dcm*nested more than 16 deep*");

        var shallow = new DataSetBuilder();
        for (int i = 0; i < 10; i++) { shallow.Sequence(0x0040, 0x0275, 0xFFFFFFFF); shallow.Item(0xFFFFFFFF); }
        for (int i = 0; i < 10; i++) { shallow.EndItem(); shallow.EndSequence(); }
        shallow.Image2x2();
        var file = DicomFile.Read(shallow.ToFile(), "ten-deep.dcm");
        var level = file.DataSet;
        for (int i = 0; i < 10; i++) level = level.GetSequence(0x0040, 0x0275)!.Single();
        level.GetSequence(0x0040, 0x0275).Should().BeNull("the innermost item is empty");
    }
}
