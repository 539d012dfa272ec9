using MedVision.Nets.Data;
using MedVision.Nets.Data.Dicom;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// JPEG Lossless DICOM files encoded by DCMTK (dcmcjpeg, selection values 1–7, a point transform, two frames, RGB, the
/// whole 16-bit range) and by GDCM (gdcmconv), each against the uncompressed file DCMTK's dcmdjpeg decodes from it
/// (Fixtures/dicom/lossless/make_lossless_fixtures.sh).
/// </summary>
public sealed class LosslessJpegDicomTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "dicom", "lossless");

    [Theory]
    [InlineData("ct_sv1", DicomTransferSyntax.JpegLosslessFirstOrder)]
    [InlineData("ct_sv4_pt2", DicomTransferSyntax.JpegLossless)]
    [InlineData("mr_sv6", DicomTransferSyntax.JpegLossless)]
    [InlineData("rgb_sv7", DicomTransferSyntax.JpegLossless)]
    [InlineData("mr16_sv5", DicomTransferSyntax.JpegLossless)]
    [InlineData("mr16_sv1", DicomTransferSyntax.JpegLosslessFirstOrder)]
    [InlineData("ct_gdcm", DicomTransferSyntax.JpegLosslessFirstOrder)]
    [InlineData("restart_sv7", DicomTransferSyntax.JpegLossless)]
    public void EveryFrame_DecodesToWhatDcmtkDecodes(string name, string syntax)
    {
        var compressed = DicomFile.Read(Path.Combine(Dir, name + ".dcm"));
        var reference = DicomFile.Read(Path.Combine(Dir, name + ".raw.dcm"));
        compressed.TransferSyntaxUid.Should().Be(syntax);
        reference.TransferSyntaxUid.Should().NotBe(syntax, "the reference is uncompressed");
        compressed.NumberOfFrames.Should().Be(reference.NumberOfFrames);
        for (int f = 0; f < compressed.NumberOfFrames; f++)
        {
            compressed.GetFrame(f).Should().Equal(reference.GetFrame(f), $"frame {f} of {name}");
        }
    }

    [Fact]
    public void LosslessCompression_KeepsTheOriginalValues()
    {
        // Without a point transform, lossless means the values of the uncompressed source files.
        DicomFile.Read(Path.Combine(Dir, "ct_sv1.dcm")).GetFrame().Should().Equal(DicomFile.Read(Path.Combine(Dir, "..", "ct_explicit.dcm")).GetFrame());
        var mr = DicomFile.Read(Path.Combine(Dir, "mr_sv6.dcm"));
        var source = DicomFile.Read(Path.Combine(Dir, "..", "mr_implicit_2f.dcm"));
        mr.GetFrame(1).Should().Equal(source.GetFrame(1));
        var rgb = DicomFile.Read(Path.Combine(Dir, "rgb_sv7.dcm"));
        rgb.GetFrame().Should().Equal(DicomFile.Read(Path.Combine(Dir, "..", "rgb_planar.dcm")).GetFrame());
        // The 16-bit image uses the whole range, including a 0 → 32768 step (difference category 16).
        var full = DicomFile.Read(Path.Combine(Dir, "mr16_sv1.dcm")).GetFrame();
        full.Min().Should().Be(0);
        full.Max().Should().Be(65535);
    }

    [Fact]
    public void ACorruptOrTruncatedStream_IsNamed()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "mr16_sv5.dcm"));
        // Cut the file inside the entropy-coded data (the pixel data are the last element).
        var truncated = bytes[..(bytes.Length - 600)];
        FluentActions.Invoking(() => DicomFile.Read(truncated, "cut.dcm").GetFrame())
            .Should().Throw<DataFormatException>().WithMessage("*cut.dcm*");
        // Overwrite the SOF3 marker: the stream is no longer a lossless JPEG frame.
        var noFrame = (byte[])bytes.Clone();
        int sof = noFrame.AsSpan().IndexOf(new byte[] { 0xFF, 0xC3 });
        sof.Should().BePositive();
        noFrame[sof + 1] = 0xC1;
        FluentActions.Invoking(() => DicomFile.Read(noFrame, "sof1.dcm").GetFrame())
            .Should().Throw<NotSupportedException>().WithMessage("*sof1.dcm*not lossless*");
        // A frame whose size disagrees with the DICOM header is refused before anything is allocated for it.
        var tall = (byte[])bytes.Clone();
        tall[sof + 5] = 0x7F; // height (bytes sof+5, sof+6) becomes ≥ 32512 rows
        FluentActions.Invoking(() => DicomFile.Read(tall, "tall.dcm").GetFrame())
            .Should().Throw<DataFormatException>().WithMessage("*tall.dcm*the header says 40×24*");
    }
}
