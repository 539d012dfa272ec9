using MedVision.Nets.Data;
using MedVision.Nets.Data.Dicom;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// JPEG-LS (DCMTK's dcmcjpls, GDCM's gdcmconv), JPEG 2000 (gdcmconv, OpenJPEG's opj_compress) and High-Throughput
/// JPEG 2000 (OpenJPH's ojph_compress) DICOM files, each against the uncompressed file another decoder made from it
/// (dcmdjpls, gdcmconv --raw, opj_decompress, ojph_expand), and the lossless ones against their sources
/// (Fixtures/dicom/compressed/make_compressed_fixtures.sh).
/// </summary>
public sealed class CompressedDicomTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "dicom", "compressed");

    // The fixtures are trusted files: let OpenJPEG 2.5.0 (Debian 12's) decode their HTJ2K frames. Only this class reads
    // HTJ2K files in this process (the fuzzer runs apart, with the default), and its tests run one at a time.
    static CompressedDicomTests() => DicomFile.AllowHighThroughputJpeg2000OnOpenJpeg250 = true;

    private static DicomFile Read(string name) => DicomFile.Read(Path.Combine(Dir, name));

    [Theory]
    [InlineData("ls_ct", DicomTransferSyntax.JpegLsLossless)]
    [InlineData("ls_mr_2f", DicomTransferSyntax.JpegLsLossless)]
    [InlineData("ls_mono1", DicomTransferSyntax.JpegLsLossless)]
    [InlineData("ls_mr16", DicomTransferSyntax.JpegLsLossless)]
    [InlineData("ls_rgb_line", DicomTransferSyntax.JpegLsLossless)]
    [InlineData("ls_rgb_sample", DicomTransferSyntax.JpegLsLossless)]
    [InlineData("ls_rgb_none", DicomTransferSyntax.JpegLsLossless)]
    [InlineData("ls_near", DicomTransferSyntax.JpegLsNearLossless)]
    [InlineData("ls_gdcm", DicomTransferSyntax.JpegLsLossless)]
    [InlineData("j2k_ct", DicomTransferSyntax.Jpeg2000Lossless)]
    [InlineData("j2k_mr_2f", DicomTransferSyntax.Jpeg2000Lossless)]
    [InlineData("j2k_mr16", DicomTransferSyntax.Jpeg2000Lossless)]
    [InlineData("j2k_rgb", DicomTransferSyntax.Jpeg2000Lossless)]
    [InlineData("j2k_mr16_lossy", DicomTransferSyntax.Jpeg2000)]
    [InlineData("j2k_rgb_ict", DicomTransferSyntax.Jpeg2000)]
    public void EveryFrame_DecodesToWhatAnotherDecoderMakesOfIt(string name, string syntax)
    {
        var compressed = Read(name + ".dcm");
        var reference = Read(name + ".raw.dcm");
        compressed.TransferSyntaxUid.Should().Be(syntax);
        reference.TransferSyntaxUid.Should().Be(DicomTransferSyntax.ExplicitVrLittleEndian, "the reference is uncompressed");
        compressed.NumberOfFrames.Should().Be(reference.NumberOfFrames);
        for (int f = 0; f < compressed.NumberOfFrames; f++)
        {
            compressed.GetFrame(f).Should().Equal(reference.GetFrame(f), $"frame {f} of {name}");
        }
    }

    [Theory]
    [InlineData("ls_ct", "../ct_explicit")]
    [InlineData("ls_mr_2f", "../mr_implicit_2f")]
    [InlineData("ls_mono1", "../mono1")]
    [InlineData("ls_mr16", "mr16")]
    [InlineData("ls_gdcm", "mr16")]
    [InlineData("ls_rgb_line", "rgb")]
    [InlineData("ls_rgb_sample", "rgb")]
    [InlineData("ls_rgb_none", "rgb")]
    [InlineData("j2k_ct", "ct12")]
    [InlineData("j2k_mr_2f", "mr12_2f")]
    [InlineData("j2k_mr16", "mr16")]
    [InlineData("j2k_rgb", "rgb")]
    [InlineData("j2k_rgb_rct", "rgb")]
    [InlineData("j2k_rgb_jp2", "rgb")]
    [InlineData("ht_mr16", "mr16")]
    [InlineData("ht_rgb", "rgb")]
    public void LosslessFiles_GiveBackTheirSourcesValues(string name, string source)
    {
        var compressed = Read(name + ".dcm");
        var original = Read(source + ".dcm");
        original.TransferSyntaxUid.Should().BeOneOf(DicomTransferSyntax.ExplicitVrLittleEndian, DicomTransferSyntax.ImplicitVrLittleEndian);
        compressed.NumberOfFrames.Should().Be(original.NumberOfFrames);
        for (int f = 0; f < compressed.NumberOfFrames; f++)
        {
            compressed.GetFrame(f).Should().Equal(original.GetFrame(f), $"frame {f} of {name}");
        }
    }

    [Fact]
    public void SignedAndFullRangeSamples_SurviveTheCodecs()
    {
        // The CT source is signed 12-bit with a rescale (−2048 and 2047 stored → −3072 and 1023 HU); the MR source uses
        // all 16 bits.
        foreach (var name in new[] { "ls_ct.dcm", "j2k_ct.dcm" })
        {
            var ct = Read(name);
            ct.IsSigned.Should().BeTrue();
            ct.RescaleIntercept.Should().Be(-1024);
        }
        var j2kCt = Read("j2k_ct.dcm").GetFrame();
        j2kCt.Min().Should().Be(-2048 - 1024);
        j2kCt.Max().Should().Be(2047 - 1024);
        var mr = Read("ls_mr16.dcm").GetFrame();
        mr.Min().Should().Be(0);
        mr.Max().Should().Be(65535);
    }

    [Fact]
    public void LossyFiles_StayWithinTheirBounds()
    {
        var source = Read("mr16.dcm").GetFrame();
        // Near-lossless JPEG-LS with NEAR = 3: every sample within 3 of the source, and not all equal to it.
        var near = Read("ls_near.dcm").GetFrame();
        var nearErrors = near.Zip(source, (a, b) => Math.Abs(a - b)).ToArray();
        nearErrors.Max().Should().BeLessThanOrEqualTo(3);
        nearErrors.Should().Contain(e => e > 0, "near-lossless coding with NEAR = 3 changes some samples");
        // Irreversible JPEG 2000 at 40 dB PSNR: the mean error a few hundred of 65,535, not zero.
        var lossy = Read("j2k_mr16_lossy.dcm").GetFrame();
        double mse = lossy.Zip(source, (a, b) => (double)(a - b) * (a - b)).Average();
        double psnr = 10 * Math.Log10(65535.0 * 65535.0 / mse);
        psnr.Should().BeInRange(35, 60);
        // Irreversible High-Throughput JPEG 2000 (quantisation step 0.002 of the range): close, not equal.
        var ht = Read("ht_lossy.dcm").GetFrame();
        double htMse = ht.Zip(source, (a, b) => (double)(a - b) * (a - b)).Average();
        (10 * Math.Log10(65535.0 * 65535.0 / htMse)).Should().BeInRange(45, 90);
        ht.Should().NotEqual(source);
        // OpenJPH's own decoder rounds the irreversible wavelet differently in places: within two stored values (the
        // quantisation step is ≈131).
        var htReference = Read("ht_lossy.raw.dcm").GetFrame();
        var htDifferences = ht.Zip(htReference, (a, b) => Math.Abs(a - b)).ToArray();
        htDifferences.Max().Should().BeLessThanOrEqualTo(2);
        htDifferences.Count(d => d == 0).Should().BeGreaterThan(htDifferences.Length * 9 / 10);
        var rgb = Read("j2k_rgb_ict.dcm");
        rgb.PhotometricInterpretation.Should().Be("YBR_ICT");
        var rgbErrors = rgb.GetFrame().Zip(Read("rgb.dcm").GetFrame(), (a, b) => Math.Abs(a - b)).ToArray();
        rgbErrors.Average().Should().BeInRange(0.1f, 12f, "ICT-coded colour decodes to RGB close to the source");
    }

    [Fact]
    public void CodecFiles_FeedTheImagePipelines()
    {
        Read("ht_rgb.dcm").TransferSyntaxUid.Should().Be(DicomTransferSyntax.HighThroughputJpeg2000Lossless);
        Read("ht_rgb.dcm").PhotometricInterpretation.Should().Be("YBR_RCT");
        var raster = Read("j2k_rgb_rct.dcm").ToRasterImage();
        raster.Channels.Should().Be(3);
        raster.Pixels.Should().Equal(Read("rgb.dcm").ToRasterImage().Pixels);
        var image = Read("ls_mr16.dcm").ToFloatImage();
        image.Data.Should().Equal(Read("mr16.dcm").ToFloatImage().Data);
    }

    [Fact]
    public void ManyThreadsDecodingAtOnce_GetWhatOneThreadGets()
    {
        // Data loaders decode on several threads: each call has its own CharLS/OpenJPEG decoder and stream.
        var names = new[] { "ls_mr16", "ls_rgb_none", "j2k_mr16", "j2k_rgb_ict", "ht_mr16", "ht_rgb" };
        var files = names.Select(n => File.ReadAllBytes(Path.Combine(Dir, n + ".dcm"))).ToArray();
        var expected = names.Select(n => Read(n + ".dcm").GetFrame()).ToArray();
        var mismatches = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 96, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            int k = i % names.Length;
            var frame = DicomFile.Read(files[k], names[k]).GetFrame();
            if (!frame.AsSpan().SequenceEqual(expected[k])) mismatches.Add($"{names[k]} (call {i})");
        });
        mismatches.Should().BeEmpty();
    }

    [Fact]
    public void ACorruptOrTruncatedStream_IsNamed()
    {
        foreach (var name in new[] { "ls_mr16.dcm", "j2k_mr16.dcm", "ht_mr16.dcm" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(Dir, name));
            // Cut the file inside the coded data (the pixel data are the last element).
            var truncated = bytes[..(bytes.Length - 3000)];
            FluentActions.Invoking(() => DicomFile.Read(truncated, "cut.dcm").GetFrame())
                .Should().Throw<DataFormatException>().WithMessage("*cut.dcm*", name);
            // Garbage in place of the codestream's first bytes.
            var garbage = (byte[])bytes.Clone();
            byte[] marker = name.StartsWith("ls", StringComparison.Ordinal) ? [0xFF, 0xD8, 0xFF] : [0xFF, 0x4F, 0xFF, 0x51];
            int start = garbage.AsSpan().IndexOf(marker);
            start.Should().BePositive();
            garbage.AsSpan(start, 16).Fill(0x5A);
            FluentActions.Invoking(() => DicomFile.Read(garbage, "garbage.dcm").GetFrame())
                .Should().Throw<DataFormatException>().WithMessage("*garbage.dcm*", name);
        }
        // A JPEG 2000 codestream that stops after its SIZ marker.
        FluentActions.Invoking(() => DicomFile.Read(Path.Combine(Dir, "..", "jpeg2000.dcm")).GetFrame())
            .Should().Throw<DataFormatException>().WithMessage("*jpeg2000.dcm*JPEG 2000*");
    }

    [Fact]
    public void AFrameOfAnotherSizeThanTheHeaderSays_IsRefused()
    {
        foreach (var name in new[] { "ls_mr16.dcm", "j2k_mr16.dcm", "ht_mr16.dcm" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(Dir, name));
            // Rows (0028,0010) US 70 → 69: the codestream still holds 130×70.
            int rows = bytes.AsSpan().IndexOf(new byte[] { 0x28, 0x00, 0x10, 0x00, (byte)'U', (byte)'S', 0x02, 0x00, 70, 0 });
            rows.Should().BePositive();
            bytes[rows + 8] = 69;
            FluentActions.Invoking(() => DicomFile.Read(bytes, "rows.dcm").GetFrame())
                .Should().Throw<DataFormatException>().WithMessage("*rows.dcm*decodes to 130×70*header says 130×69*", name);
        }
    }

    [Theory]
    [InlineData("2.4.0", false, true)]
    [InlineData("2.3.1", false, true)]
    [InlineData("1.5.2", false, true)]
    [InlineData("unknown", false, true)]
    [InlineData("2.5.0", true, true)]
    [InlineData("2.5.1", true, false)]
    [InlineData("2.5.3", true, false)]
    [InlineData("2.5.3-dev", true, false)]
    [InlineData("3.0.0", true, false)]
    public void HighThroughputJpeg2000_NeedsOpenJpeg25(string version, bool decodes, bool allowOpenJpeg250)
    {
        // Debian 12 and 13 ship OpenJPEG 2.5.0 and 2.5.3, so the refusal is checked on the version test itself.
        var check = () => Jpeg2000.EnsureHighThroughput(version, "ht.dcm frame 1", allowOpenJpeg250);
        if (decodes) check.Should().NotThrow();
        else check.Should().Throw<NotSupportedException>().WithMessage($"ht.dcm frame 1: High-Throughput JPEG 2000 needs OpenJPEG 2.5.0 or later*this is OpenJPEG {version}*gdcmconv --raw*");
    }

    [Fact]
    public void HighThroughputJpeg2000_IsNotHandedToOpenJpeg250_UnlessAllowed()
    {
        // OpenJPEG 2.5.0 aborts the process (an assert) on some corrupt HTJ2K data: off by default, with the way out named.
        var refused = () => Jpeg2000.EnsureHighThroughput("2.5.0", "ht.dcm frame 1", allowOpenJpeg250: false);
        refused.Should().Throw<NotSupportedException>()
            .WithMessage("ht.dcm frame 1: High-Throughput JPEG 2000 is not decoded with OpenJPEG 2.5.0*aborts*2.5.1*gdcmconv --raw*DicomFile.AllowHighThroughputJpeg2000OnOpenJpeg250*");

        if (Jpeg2000.Version != "2.5.0") return; // a newer OpenJPEG decodes HTJ2K by default
        DicomFile.AllowHighThroughputJpeg2000OnOpenJpeg250 = false;
        try
        {
            var file = Read("ht_mr16.dcm");
            var frame = () => file.GetFrame();
            frame.Should().Throw<NotSupportedException>().WithMessage("*ht_mr16.dcm frame 1*OpenJPEG 2.5.0*");
        }
        finally
        {
            DicomFile.AllowHighThroughputJpeg2000OnOpenJpeg250 = true;
        }
        Read("ht_mr16.dcm").GetFrame().Should().NotBeEmpty("allowed, OpenJPEG 2.5.0 decodes the trusted file");
    }
}
