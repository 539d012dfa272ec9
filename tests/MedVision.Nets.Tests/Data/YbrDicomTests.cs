using System.Text;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Dicom;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// Colour DICOM in YBR_FULL (uncompressed interleaved and planar, RLE, JPEG-LS) and uncompressed YBR_FULL_422, against
/// the RGB that DCMTK (dcm2pnm, dcml2pnm) makes of each file, and against the RGB source the YCbCr was computed from
/// (Fixtures/dicom/ybr/make_ybr_fixtures.sh).
/// </summary>
public sealed class YbrDicomTests : IDisposable
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "dicom", "ybr");
    private readonly string _temp = Directory.CreateTempSubdirectory("mvt-ybr-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    /// <summary>A binary PPM (P6, 8 bits) as channel-first floats.</summary>
    private static float[] ReadPpm(string path, out int width, out int height)
    {
        var bytes = File.ReadAllBytes(path);
        int at = 0;
        string Token()
        {
            while (char.IsWhiteSpace((char)bytes[at]) || bytes[at] == '#')
            {
                if (bytes[at] == '#') while (bytes[at] != '\n') at++;
                at++;
            }
            int start = at;
            while (!char.IsWhiteSpace((char)bytes[at])) at++;
            return Encoding.ASCII.GetString(bytes, start, at - start);
        }
        Token().Should().Be("P6");
        width = int.Parse(Token());
        height = int.Parse(Token());
        Token().Should().Be("255");
        at++; // the single whitespace before the samples
        int pixels = width * height;
        (bytes.Length - at).Should().Be(pixels * 3);
        var planes = new float[pixels * 3];
        for (int p = 0; p < pixels; p++)
            for (int c = 0; c < 3; c++)
                planes[c * pixels + p] = bytes[at + 3 * p + c];
        return planes;
    }

    [Theory]
    [InlineData("ybr_full", DicomTransferSyntax.ExplicitVrLittleEndian, "YBR_FULL", "ybr_full")]
    [InlineData("ybr_full_planar", DicomTransferSyntax.ExplicitVrLittleEndian, "YBR_FULL", "ybr_full")]
    [InlineData("ybr_full_422", DicomTransferSyntax.ExplicitVrLittleEndian, "YBR_FULL_422", "ybr_full_422")]
    [InlineData("ybr_rle", DicomTransferSyntax.RleLossless, "YBR_FULL", "ybr_full")]
    [InlineData("ybr_jls", DicomTransferSyntax.JpegLsLossless, "YBR_FULL", "ybr_full")]
    public void YbrColour_DecodesToTheStandardsRgb_AndToDcmtksWithinItsChromaCentring(string name, string syntax, string photometric, string equations)
    {
        var file = DicomFile.Read(Path.Combine(Dir, name + ".dcm"));
        file.TransferSyntaxUid.Should().Be(syntax);
        file.PhotometricInterpretation.Should().Be(photometric);
        var rgb = file.GetFrame();

        // pydicom's convert_color_space applies the equations of PS3.3 C.7.6.3.1.2 to the same YCbCr: equal.
        var standard = ReadPpm(Path.Combine(Dir, equations + ".pydicom.ppm"), out int width, out int height);
        (file.Columns, file.Rows).Should().Be((width, height));
        rgb.Should().Equal(standard, $"{name} decodes to the RGB of the standard's equations");

        // DCMTK decodes the file by itself (its own RLE, JPEG-LS, 4:2:2 and colour code); it centres the chroma at
        // 127.5, not 128, which moves its RGB by up to 2 (R +0.7, G −0.5, B +0.9 on average).
        var dcmtk = ReadPpm(Path.Combine(Dir, name + ".ppm"), out _, out _);
        var differences = rgb.Zip(dcmtk, (a, b) => Math.Abs(a - b)).ToArray();
        differences.Max().Should().BeLessThanOrEqualTo(2, $"{name} decodes to DCMTK's RGB within its chroma centring");
        differences.Average().Should().BeLessThan(1);
    }

    [Theory]
    [InlineData("ybr_full")]
    [InlineData("ybr_full_planar")]
    [InlineData("ybr_rle")]
    [InlineData("ybr_jls")]
    public void FullResolutionYbr_GivesBackTheRgbSource(string name)
    {
        // The YCbCr was computed from ../compressed/rgb.dcm and rounded to 8 bits; back to RGB it is within 3 of it.
        var source = DicomFile.Read(Path.Combine(Dir, "..", "compressed", "rgb.dcm"));
        source.PhotometricInterpretation.Should().Be("RGB");
        var rgb = DicomFile.Read(Path.Combine(Dir, name + ".dcm")).GetFrame();
        var original = source.GetFrame();
        rgb.Zip(original, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThanOrEqualTo(3);
        rgb.Zip(original, (a, b) => Math.Abs(a - b)).Average().Should().BeLessThan(1);
    }

    [Fact]
    public void Ybr422_SharesEachPairsChroma()
    {
        // Two neighbours of a pair differ only in luma, so their RGB differences are equal in all three channels
        // (before clamping at 0 and 255).
        var file = DicomFile.Read(Path.Combine(Dir, "ybr_full_422.dcm"));
        var rgb = file.GetFrame();
        int pixels = file.Rows * file.Columns, checkedPairs = 0;
        for (int p = 0; p < pixels; p += 2)
        {
            var left = new[] { rgb[p], rgb[pixels + p], rgb[2 * pixels + p] };
            var right = new[] { rgb[p + 1], rgb[pixels + p + 1], rgb[2 * pixels + p + 1] };
            if (left.Concat(right).Any(v => v is <= 0 or >= 255)) continue;
            var d = left.Zip(right, (a, b) => b - a).ToArray();
            (d.Max() - d.Min()).Should().BeLessThanOrEqualTo(2, $"pixels {p} and {p + 1} share Cb and Cr (rounding aside)");
            checkedPairs++;
        }
        checkedPairs.Should().BeGreaterThan(pixels / 4);
    }

    private static int IndexOf(byte[] data, byte[] pattern) => data.AsSpan().IndexOf(pattern);

    private string Patched(string name, ushort element, ushort value)
    {
        // Rewrites one US attribute of group 0028 (explicit VR little endian) in a copy of the fixture.
        var bytes = File.ReadAllBytes(Path.Combine(Dir, name + ".dcm"));
        int at = IndexOf(bytes, new byte[] { 0x28, 0x00, (byte)element, (byte)(element >> 8), (byte)'U', (byte)'S', 0x02, 0x00 });
        at.Should().BeGreaterThan(0);
        bytes[at + 8] = (byte)value;
        bytes[at + 9] = (byte)(value >> 8);
        var path = Path.Combine(_temp, $"{name}-{element:x4}-{value}.dcm");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void BadYbr422Headers_AreClearErrorsNamingTheFile()
    {
        var odd = Patched("ybr_full_422", 0x0011, 71); // Columns
        FluentActions.Invoking(() => DicomFile.Read(odd).GetFrame()).Should().Throw<DataFormatException>()
            .WithMessage($"*{odd}*even number of columns*71*");
        var tall = Patched("ybr_full_422", 0x0010, 60); // Rows
        FluentActions.Invoking(() => DicomFile.Read(tall).GetFrame()).Should().Throw<DataFormatException>()
            .WithMessage($"*{tall}*too few*YBR_FULL_422*");
        var planar = Patched("ybr_full_422", 0x0006, 1); // PlanarConfiguration
        FluentActions.Invoking(() => DicomFile.Read(planar).GetFrame()).Should().Throw<DataFormatException>()
            .WithMessage($"*{planar}*planar configuration is 1*");
    }

    [Fact]
    public void SignedYbr_IsRefusedByName()
    {
        var signed = Patched("ybr_full", 0x0103, 1); // PixelRepresentation
        FluentActions.Invoking(() => DicomFile.Read(signed).GetFrame()).Should().Throw<DataFormatException>()
            .WithMessage($"*{signed}*YBR_FULL samples must be unsigned*");
    }
}
