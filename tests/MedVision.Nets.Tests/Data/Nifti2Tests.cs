using System.Buffers.Binary;
using System.Text.Json;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Nifti;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// NIfTI-2 files written by nibabel 5.0 (Fixtures/nifti/make_nifti2_fixtures.py) against what nibabel reads from them:
/// scaled voxels, voxel sizes, the best affine (sform, else qform with its qfac) and its code; little- and big-endian,
/// gzip. The tests need no Python.
/// </summary>
public sealed class Nifti2Tests
{
    private static readonly string Dir = FixtureJson.Folder("nifti");
    private static readonly Lazy<JsonElement> Expected = FixtureJson.Lazy(Dir, "nifti2_fixtures.json", "cases");

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [Theory]
    [InlineData("nifti2_sform.nii")]
    [InlineData("nifti2_qform.nii.gz")]
    [InlineData("nifti2_bigendian.nii")]
    public void Nifti2Files_ReadAsNibabelReadsThem(string name)
    {
        var expected = Expected.Value.GetProperty(name);
        var image = NiftiReader.Read(Path.Combine(Dir, name));
        image.Shape.Should().Equal(expected.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()));
        image.SourceDataType.Should().Be((NiftiDataType)expected.GetProperty("datatype").GetInt32());
        image.Voxels.Select(v => (double)v).Should().Equal(Doubles(expected.GetProperty("values")), (a, b) => Math.Abs(a - b) <= 1e-6 * Math.Max(1, Math.Abs(b)));
        image.Spacing.Select(v => (double)v).Should().Equal(Doubles(expected.GetProperty("zooms")), (a, b) => Math.Abs(a - b) < 1e-6);
        int sform = expected.GetProperty("sform_code").GetInt32(), qform = expected.GetProperty("qform_code").GetInt32();
        image.AffineCode.Should().Be((NiftiXformCode)(sform > 0 ? sform : qform));
        var rows = expected.GetProperty("affine").EnumerateArray().Select(Doubles).ToArray();
        if (sform == 0 && qform == 0)
        {
            // No orientation: NIfTI's "method 1", diag(pixdim), where nibabel assumes Analyze's LAS (docs/guide.md).
            var zooms = Doubles(expected.GetProperty("zooms"));
            rows = Enumerable.Range(0, 3).Select(r => Enumerable.Range(0, 4).Select(c => r == c ? zooms[r] : 0.0).ToArray()).ToArray();
        }
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                image.Affine[r, c].Should().BeApproximately(rows[r][c], 1e-6, $"affine[{r},{c}] of {name}");
    }

    [Fact]
    public void TheFixturesCoverScalingAndAFlippedQform()
    {
        var sform = NiftiReader.Read(Path.Combine(Dir, "nifti2_sform.nii"));
        sform.Voxels.Should().Contain(v => v != MathF.Round(v), "scl_slope 0.5 makes half values");
        NiftiReader.Read(Path.Combine(Dir, "nifti2_qform.nii.gz")).Affine[2, 2].Should().BeLessThan(0, "qfac −1 flips the third axis");
    }

    [Fact]
    public void BrokenNifti2Headers_GiveClearErrors()
    {
        using var temp = new TempFolder();
        var good = File.ReadAllBytes(Path.Combine(Dir, "nifti2_sform.nii"));

        void Expect(string name, byte[] bytes, string problem)
        {
            string path = temp.File(name);
            File.WriteAllBytes(path, bytes);
            Action act = () => NiftiReader.Read(path);
            act.Should().Throw<DataFormatException>().Where(e => e.FilePath == path && e.Message.Contains(problem), $"{name} should report '{problem}'");
        }

        var magic = (byte[])good.Clone();
        magic[5] = (byte)'x';
        Expect("magic.nii", magic, "invalid NIfTI-2 magic 'nx2'");

        var textMode = good.Take(8).Concat(new byte[] { 0x0A, 0x1A, 0x0A, 0x00 }).Concat(good.Skip(12)).ToArray(); // \r dropped
        Expect("text-mode.nii", textMode, "altered in transfer");

        var offset = (byte[])good.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(offset.AsSpan(168), 540);
        Expect("offset.nii", offset, "a single-file NIfTI-2 needs an integer offset of at least 544");

        var huge = (byte[])good.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(huge.AsSpan(16 + 8), 3_000_000_000); // dim[1]
        Expect("huge.nii", huge, "larger than a volume here can be");

        Expect("truncated.nii", good[..600], "truncated");
    }
}
