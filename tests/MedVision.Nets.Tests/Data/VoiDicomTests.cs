using System.Text.Json;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Dicom;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// Modality and display mapping of grey DICOM images as DICOM viewers do it (PS3.3 C.11), against pydicom's
/// apply_modality_lut and apply_voi_lut on files it wrote (Fixtures/dicom/voi/make_voi_fixtures.py): a Modality LUT,
/// VOI LUTs (OW and US data, a first mapped value), and windows with the LINEAR, LINEAR_EXACT and SIGMOID VOI LUT
/// Functions. The tests need no Python.
/// </summary>
public sealed class VoiDicomTests
{
    private static readonly string Dir = FixtureJson.Folder("dicom/voi");
    private static readonly Lazy<JsonElement> Expected = FixtureJson.Lazy(Dir, "voi_fixtures.json", "files");

    private static DicomFile Read(string name) => DicomFile.Read(Path.Combine(Dir, name));

    [Theory]
    [InlineData("dx_voilut.dcm", "LINEAR", true)]
    [InlineData("dx_voilut_us.dcm", "LINEAR", true)]
    [InlineData("dx_sigmoid.dcm", "SIGMOID", false)]
    [InlineData("ct_linear.dcm", "LINEAR", false)]
    [InlineData("ct_linear_exact.dcm", "LINEAR_EXACT", false)]
    public void DisplayImages_MatchPydicomsVoiTransform(string name, string function, bool lut)
    {
        var file = Read(name);
        file.HasVoiLut.Should().Be(lut);
        file.GetFrameInfo().VoiLutFunction.Should().Be(function);
        var expected = Expected.Value.GetProperty(name).GetProperty("unit").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var image = file.ToFloatImage();
        image.Data.Select(v => (double)v).Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-6);
        expected.Distinct().Count().Should().BeGreaterThan(5, "the fixture spreads over the mapping, not only its ends");
    }

    [Fact]
    public void AGivenWindow_OverridesTheFilesLut_AndItsFunction()
    {
        var file = Read("dx_sigmoid.dcm");
        var values = file.GetFrame();
        var linear = file.ToFloatImage(window: (1000, 900)).Data;
        for (int i = 0; i < values.Length; i++)
            linear[i].Should().BeApproximately((float)Math.Clamp((values[i] - 999.5) / 899 + 0.5, 0, 1), 1e-6f);
        linear.Should().NotEqual(file.ToFloatImage().Data, "the file's own window is a sigmoid");

        var withLut = Read("dx_voilut.dcm");
        withLut.ToFloatImage(window: (1000, 900)).Data.Should().Equal(linear, "a given window replaces the VOI LUT");
    }

    [Fact]
    public void AModalityLut_GivesTheModalityValues_InsteadOfARescale()
    {
        var file = Read("xa_modality_lut.dcm");
        file.HasModalityLut.Should().BeTrue();
        var expected = Expected.Value.GetProperty("xa_modality_lut.dcm").GetProperty("modality").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        file.GetFrame().Select(v => (double)v).Should().Equal(expected);
        expected.Max().Should().Be(60000, "stored values past the LUT's end take its last entry");
        expected.Min().Should().Be(0, "stored values below its first mapped value take its first entry");
        Read("dx_voilut.dcm").HasModalityLut.Should().BeFalse();
    }

    [Fact]
    public void PresentationLutShapeInverse_InvertsAMonochrome2Image_AndAMonochrome1OneOnlyOnce()
    {
        static byte[] WithShape(byte[] file, string shape)
        {
            // (2050,0020) CS inserted before the pixel data (7FE0,0010), keeping the tags in order.
            var pixelData = new byte[] { 0xE0, 0x7F, 0x10, 0x00 };
            int at = Enumerable.Range(0, file.Length - 4).Last(i => file.AsSpan(i, 4).SequenceEqual(pixelData));
            var value = System.Text.Encoding.ASCII.GetBytes(shape.Length % 2 == 0 ? shape : shape + " ");
            var element = new byte[] { 0x50, 0x20, 0x20, 0x00, (byte)'C', (byte)'S', (byte)value.Length, 0 }.Concat(value);
            return file[..at].Concat(element).Concat(file[at..]).ToArray();
        }

        var plain = File.ReadAllBytes(Path.Combine(Dir, "dx_sigmoid.dcm"));
        var identity = DicomFile.Read(plain, "dx.dcm").ToFloatImage().Data;
        var inverse = DicomFile.Read(WithShape(plain, "INVERSE"), "dx-inverse.dcm");
        inverse.PresentationLutShape.Should().Be("INVERSE");
        inverse.ToFloatImage().Data.Should().Equal(identity.Select(v => 1 - v));
        DicomFile.Read(WithShape(plain, "IDENTITY"), "dx-identity.dcm").ToFloatImage().Data.Should().Equal(identity);

        var mono1 = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "dicom", "mono1.dcm"));
        DicomFile.Read(WithShape(mono1, "INVERSE"), "mono1-inverse.dcm").ToFloatImage().Data
            .Should().Equal(DicomFile.Read(mono1, "mono1.dcm").ToFloatImage().Data, "MONOCHROME1 with INVERSE (as DX requires) is inverted once");
    }

    [Fact]
    public void ABrokenVoiLut_IsAFormatError()
    {
        // The LUT descriptor (0028,3002) inside the sequence: 1,024 entries from 500, 12 bits. Claim 2,000 entries.
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "dx_voilut.dcm"));
        var pattern = new byte[] { 0x28, 0x00, 0x02, 0x30, (byte)'U', (byte)'S', 6, 0 };
        int at = Enumerable.Range(0, bytes.Length - pattern.Length).First(i => bytes.AsSpan(i, pattern.Length).SequenceEqual(pattern)) + 8;
        bytes[at] = 0xD0; bytes[at + 1] = 0x07; // 2000
        var act = () => DicomFile.Read(bytes, "long-lut.dcm").ToFloatImage();
        act.Should().Throw<DataFormatException>().WithMessage("*long-lut.dcm*VOI LUT Data hold 2048 bytes for 2000 16-bit entries*");

        bytes[at] = 0x00; bytes[at + 1] = 0x04; // back to 1,024
        bytes[at + 4] = 20; // 20 bits per entry
        act = () => DicomFile.Read(bytes, "wide-lut.dcm").ToFloatImage();
        act.Should().Throw<DataFormatException>().WithMessage("*wide-lut.dcm*20 bits per entry*");
    }
}
