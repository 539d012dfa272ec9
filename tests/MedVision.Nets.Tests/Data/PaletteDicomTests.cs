using System.Text.Json;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Dicom;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// PALETTE COLOR DICOM files written by pydicom (Fixtures/dicom/palette/make_palette_fixtures.py) against the RGB that
/// pydicom's apply_color_lut gives for them: plain 16-bit and 8-bit palettes, a first mapped value above 0, signed
/// indices, segmented palettes, RLE. The tests need no Python.
/// </summary>
public sealed class PaletteDicomTests
{
    private static readonly string Dir = FixtureJson.Folder("dicom/palette");
    private static readonly Lazy<JsonElement> Expected = FixtureJson.Lazy(Dir, "palette_fixtures.json", "files");

    private static DicomFile Read(string name) => DicomFile.Read(Path.Combine(Dir, name));

    // pydicom gives (H, W, 3); GetFrame gives (3, H, W)
    private static float[] ChannelFirst(JsonElement hwc, int h, int w)
    {
        var values = hwc.EnumerateArray().Select(v => v.GetSingle()).ToArray();
        return Enumerable.Range(0, 3 * h * w).Select(i => values[(i % (h * w)) * 3 + i / (h * w)]).ToArray();
    }

    [Theory]
    [InlineData("us_palette16.dcm")]
    [InlineData("palette_first10.dcm")]
    [InlineData("palette_signed.dcm")]
    [InlineData("palette_segmented.dcm")]
    [InlineData("palette_rle.dcm")]
    public void PaletteImages_AreMappedToPydicomsRgb(string name)
    {
        var expected = Expected.Value.GetProperty(name);
        var shape = expected.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var file = Read(name);
        file.IsPaletteColor.Should().BeTrue();
        (file.SamplesPerPixel, file.Channels, file.NumberOfFrames).Should().Be((1, 3, shape[0]));
        var frames = expected.GetProperty("rgb255").EnumerateArray().ToArray();
        for (int f = 0; f < shape[0]; f++)
            file.GetFrame(f).Should().Equal(ChannelFirst(frames[f], shape[1], shape[2]), $"frame {f} of {name}");
    }

    [Fact]
    public void SixteenBitEntries_AreScaledTo8Bits_EightBitEntriesKeptAsStored()
    {
        var sixteen = Expected.Value.GetProperty("us_palette16.dcm");
        sixteen.GetProperty("lut_bits").GetInt32().Should().Be(16);
        var raw = sixteen.GetProperty("rgb").EnumerateArray().First().EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var mapped = sixteen.GetProperty("rgb255").EnumerateArray().First().EnumerateArray().Select(v => v.GetInt32()).ToArray();
        mapped.Should().Equal(raw.Select(v => (int)Math.Round(v / 257.0)), "the fixture's mapping is the documented one");
        raw.Max().Should().BeGreaterThan(255, "the fixture's palette really has 16-bit entries");

        var eight = Expected.Value.GetProperty("palette_first10.dcm");
        eight.GetProperty("lut_bits").GetInt32().Should().Be(8);
        eight.GetProperty("rgb255")[0].EnumerateArray().Select(v => v.GetInt32()).Should().Equal(eight.GetProperty("rgb")[0].EnumerateArray().Select(v => v.GetInt32()));
    }

    [Fact]
    public void PaletteImages_FeedTheImagePipelinesAsRgb()
    {
        var file = Read("us_palette16.dcm");
        var image = file.ToFloatImage(1);
        image.Shape.Should().Equal(3, 5, 7);
        image.Data.Should().Equal(file.GetFrame(1).Select(v => v / 255f));
        var raster = MedVision.Nets.Data.Images.ImageCodec.DecodeFile(Path.Combine(Dir, "us_palette16.dcm"));
        (raster.Width, raster.Height, raster.Channels).Should().Be((7, 5, 3));
        raster.Pixels[0].Should().Be((byte)file.GetFrame(0)[0], "the first pixel's red value");
    }

    [Fact]
    public void PaletteImages_AreNotStackedIntoVolumes()
    {
        var act = () => DicomSeries.FromFrames(Read("us_palette16.dcm"), [0, 1]);
        act.Should().Throw<DataFormatException>().WithMessage("*us_palette16.dcm*grey images*PALETTE COLOR (3 channels)*");
    }

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(Dir, name));

    private static int IndexOf(byte[] data, byte[] pattern)
        => Enumerable.Range(0, data.Length - pattern.Length + 1).First(i => data.AsSpan(i, pattern.Length).SequenceEqual(pattern));

    [Fact]
    public void BrokenPalettes_GiveFormatErrorsNamingTheFile()
    {
        // Red descriptor (0028,1101) US, 6 bytes: 256 entries from 0, 16 bits; make its bit depth 12.
        var bytes = Fixture("us_palette16.dcm");
        int red = IndexOf(bytes, [0x28, 0x00, 0x01, 0x11, (byte)'U', (byte)'S', 6, 0]) + 8;
        var twelve = (byte[])bytes.Clone();
        twelve[red + 4] = 12;
        var act = () => DicomFile.Read(twelve, "twelve.dcm").GetFrame();
        act.Should().Throw<DataFormatException>().WithMessage("*twelve.dcm*red palette has 12 bits per entry*");

        // The green descriptor says 200 entries: the descriptors disagree.
        var differ = (byte[])bytes.Clone();
        int green = IndexOf(differ, [0x28, 0x00, 0x02, 0x11, (byte)'U', (byte)'S', 6, 0]) + 8;
        differ[green] = 200;
        act = () => DicomFile.Read(differ, "differ.dcm").GetFrame();
        act.Should().Throw<DataFormatException>().WithMessage("*differ.dcm*palette descriptors differ*");

        // All three descriptors say 300 entries: the 512-byte tables hold neither 300 bytes nor 300 words.
        var longer = (byte[])bytes.Clone();
        foreach (byte element in new byte[] { 0x01, 0x02, 0x03 })
        {
            int at = IndexOf(longer, [0x28, 0x00, element, 0x11, (byte)'U', (byte)'S', 6, 0]) + 8;
            longer[at] = 0x2C; longer[at + 1] = 0x01; // 300
        }
        act = () => DicomFile.Read(longer, "longer.dcm").GetFrame();
        act.Should().Throw<DataFormatException>().WithMessage("*longer.dcm*red palette data (0028,1201) hold 512 bytes for 300 entries*");

        // No palette at all: the tag of the red descriptor renamed to a private one.
        var none = (byte[])bytes.Clone();
        none[red - 8 + 2] = 0x01; none[red - 8 + 3] = 0x10; // (0028,1001): not a palette descriptor
        act = () => DicomFile.Read(none, "none.dcm").GetFrame();
        act.Should().Throw<DataFormatException>().WithMessage("*none.dcm*PALETTE COLOR image without its red palette descriptor*");
    }

    [Fact]
    public void CorruptSegmentedPalettes_GiveFormatErrors()
    {
        // The red segments (0028,1221): discrete 4 values, linear 100 to 60000, linear 152 to 0. Make the first
        // segment's opcode 7, then make the last linear segment's count 153 (257 entries for a 256-entry descriptor).
        var bytes = Fixture("palette_segmented.dcm");
        int red = IndexOf(bytes, [0x28, 0x00, 0x21, 0x12, (byte)'O', (byte)'W', 0, 0]) + 12;
        var unknown = (byte[])bytes.Clone();
        unknown[red] = 7;
        var act = () => DicomFile.Read(unknown, "unknown.dcm").GetFrame();
        act.Should().Throw<DataFormatException>().WithMessage("*unknown.dcm*red segmented palette is corrupt: unknown segment type 7*");

        var tooMany = (byte[])bytes.Clone();
        tooMany[red + 2 * 10] = 153; // the count of the third segment (words: 0 4 0 1000 2000 3000 1 100 60000 1 [152] 0)
        act = () => DicomFile.Read(tooMany, "too-many.dcm").GetFrame();
        act.Should().Throw<DataFormatException>().WithMessage("*too-many.dcm*more than the 256 entries*");

        var tooFew = (byte[])bytes.Clone();
        tooFew[red + 2 * 10] = 151;
        act = () => DicomFile.Read(tooFew, "too-few.dcm").GetFrame();
        act.Should().Throw<DataFormatException>().WithMessage("*too-few.dcm*expands to 255 entries*says 256*");
    }
}
