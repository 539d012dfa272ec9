using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using MedVision.Nets.Data.Nifti;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// Files written by <see cref="NiftiWriter"/> (Fixtures/nifti/written_*) as nibabel 5.0 reads them: 4-D NIfTI-1 and
/// NIfTI-2, gzip, big-endian, int16 with scaling, a NIfTI-2 file chosen for a dimension over 32,767. The committed
/// files were written from <see cref="Cases"/> with their intent in written_intended.json; check_written_files.py
/// (beside them) asserted that nibabel reads that intent from them and recorded what it read in written_fixtures.json.
/// The tests need no Python: the writer must still write the same bytes, the record must match the cases, and
/// <see cref="NiftiReader"/> must read the committed files back.
/// <para>
/// To rewrite the files after a deliberate change to the writer: run these tests with
/// <c>MEDVISION_WRITE_NIFTI_FIXTURES=/absolute/path/to/tests/MedVision.Nets.Tests/Fixtures/nifti</c>, then
/// <c>/usr/bin/python3 check_written_files.py</c> in that folder, and commit both.
/// </para>
/// </summary>
public sealed class NiftiWrittenFixtureTests
{
    private static readonly string Dir = FixtureJson.Folder("nifti");
    private static readonly Lazy<JsonElement> Nibabel = FixtureJson.Lazy(Dir, "written_fixtures.json", "files");

    /// <summary>A file the fixtures hold: what was written and how.</summary>
    public sealed record Case(string Name, NiftiImage[] Volumes, NiftiWriteOptions Options, int Version);

    private static float[] Values(int count, Func<int, float> value) => Enumerable.Range(0, count).Select(value).ToArray();

    private static NiftiImage[] Series(int volumes, int[] shape, float[] spacing, NiftiAffine? affine, NiftiXformCode code, Func<int, int, float> value)
    {
        int n = shape[0] * shape[1] * shape[2];
        return Enumerable.Range(0, volumes).Select(k => new NiftiImage(Values(n, i => value(k, i)), shape, spacing, NiftiDataType.Float32, affine, code)).ToArray();
    }

    /// <summary>The cases, with values every stored type holds exactly (so that nibabel's values equal ours bit for bit).</summary>
    public static IReadOnlyList<Case> Cases { get; } = MakeCases();

    private static Case[] MakeCases()
    {
        var sheared = new double[,] { { 0.8, 0.3, 0, -10 }, { -0.2, 1.2, 0.1, 5 }, { 0, 0.05, 3.0, 20 } };
        var flipped = new double[,] { { -0.75, 0, 0, 30 }, { 0, 0, 1.5, -8 }, { 0, -2, 0, 12 } }; // a permuted, flipped grid (qfac −1)
        return
        [
            // NIfTI-1 float32, 3 volumes, an oblique affine as sform and qform.
            new("written_4d.nii",
                Series(3, [3, 4, 2], [0.9f, 1.1f, 2.5f], NiftiWriterTests.Oblique([0.9f, 1.1f, 2.5f], [-20, 12.5, 7]), NiftiXformCode.ScannerAnatomical,
                    (k, i) => ((((i * 29) + (k * 7)) % 50) - 25) / 8f),
                new NiftiWriteOptions(), 1),
            // NIfTI-1 int16 with scl_slope 0.5 / scl_inter −10, gzip, a sheared affine (sform only, aligned).
            new("written_4d_int16.nii.gz",
                Series(2, [4, 3, 2], [0.82462f, 1.24097f, 3.0017f], new NiftiAffine(sheared), NiftiXformCode.AlignedAnatomical,
                    (k, i) => -10 + ((((i * 13) + (k * 31)) % 400) - 200) * 0.5f),
                new NiftiWriteOptions { DataType = NiftiDataType.Int16, Slope = 0.5f, Intercept = -10f }, 1),
            // NIfTI-2 (asked for), big-endian uint16, 3 volumes, a permuted and flipped affine (qform with qfac −1).
            new("written_nifti2_4d_bigendian.nii",
                Series(3, [2, 3, 4], [0.75f, 2f, 1.5f], new NiftiAffine(flipped), NiftiXformCode.ScannerAnatomical,
                    (k, i) => ((i * 2731) + (k * 17000)) % 65536),
                new NiftiWriteOptions { DataType = NiftiDataType.UInt16, BigEndian = true, Format = NiftiFormat.Nifti2 }, 2),
            // NIfTI-2 (asked for), float64, gzip, one volume with no orientation (codes 0).
            new("written_nifti2_float64.nii.gz",
                Series(1, [3, 2, 2], [0.5f, 0.75f, 1.25f], null, NiftiXformCode.Unknown, (_, i) => (i * 1.1f) - 3.3f),
                new NiftiWriteOptions { DataType = NiftiDataType.Float64, Format = NiftiFormat.Nifti2 }, 2),
            // NIfTI-1 asked for, but 40,000 voxels along x need NIfTI-2; uint8.
            new("written_auto_nifti2.nii.gz",
                Series(1, [40000, 1, 1], [0.5f, 1f, 1f], NiftiAffine.FromSpacing([0.5f, 1f, 1f]), NiftiXformCode.ScannerAnatomical, (_, i) => (i * 7) % 256),
                new NiftiWriteOptions { DataType = NiftiDataType.UInt8 }, 2),
        ];
    }

    public static TheoryData<string> Names() => new(Cases.Select(c => c.Name));

    private static Case Get(string name) => Cases.Single(c => c.Name == name);

    private static void WriteCase(Case c, string path)
    {
        if (c.Volumes.Length == 1) NiftiWriter.Write(path, c.Volumes[0], c.Options);
        else NiftiWriter.WriteVolumes(path, c.Volumes, c.Options);
    }

    /// <summary>SHA-256 (hex) of the values as little-endian float64, volume after volume, x fastest: as check_written_files.py hashes nibabel's.</summary>
    private static string Hash(IEnumerable<float> values)
    {
        var bytes = values.SelectMany(v =>
        {
            var b = new byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(b, v);
            return b;
        }).ToArray();
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    /// <summary>Rewrites the committed files and their intent when MEDVISION_WRITE_NIFTI_FIXTURES names the fixture folder.</summary>
    private static readonly Lazy<bool> Regenerated = new(() =>
    {
        string? folder = Environment.GetEnvironmentVariable("MEDVISION_WRITE_NIFTI_FIXTURES");
        if (string.IsNullOrEmpty(folder)) return false;
        var intended = new Dictionary<string, object?>();
        foreach (var c in Cases)
        {
            WriteCase(c, Path.Combine(folder, c.Name));
            File.Copy(Path.Combine(folder, c.Name), Path.Combine(Dir, c.Name), overwrite: true);
            var v = c.Volumes[0];
            var values = c.Volumes.SelectMany(x => x.Voxels).ToArray();
            bool oriented = v.AffineCode != NiftiXformCode.Unknown;
            intended[c.Name] = new
            {
                version = c.Version,
                big_endian = c.Options.BigEndian,
                datatype = (int)c.Options.DataType,
                shape = c.Volumes.Length == 1 ? v.Shape.ToArray() : [.. v.Shape, c.Volumes.Length],
                zooms = c.Volumes.Length == 1 ? v.Spacing.Select(s => (double)s).ToArray() : [.. v.Spacing.Select(s => (double)s), 1.0],
                slope = c.Options.Slope,
                inter = c.Options.Intercept,
                sform_code = (int)v.AffineCode,
                qform_code = oriented && HasQform(c) ? (int)v.AffineCode : 0,
                affine = oriented ? Enumerable.Range(0, 3).Select(r => Enumerable.Range(0, 4).Select(col => v.Affine[r, col]).ToArray()).ToArray() : null,
                values_sha256 = Hash(values),
                values = values.Length <= 1000 ? values.Select(x => (double)x).ToArray() : null,
            };
        }

        string json = JsonSerializer.Serialize(new { writer = "MedVision.Nets NiftiWriter (NiftiWrittenFixtureTests.Cases)", files = intended }, new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(Path.Combine(folder, "written_intended.json"), json + "\n");
        return true;
    });

    // Whether the case's affine is a rotation times voxel sizes (then the writer adds a qform); only the sheared one is not.
    private static bool HasQform(Case c) => c.Name != "written_4d_int16.nii.gz";

    [Theory]
    [MemberData(nameof(Names))]
    public void TheWriter_StillWritesTheCommittedBytes(string name)
    {
        _ = Regenerated.Value;
        using var temp = new TempFolder();
        string path = temp.File(name);
        WriteCase(Get(name), path);
        // Compare decompressed: the gzip stream itself may differ between zlib versions.
        NiftiWriterTests.Content(path).Should().Equal(NiftiWriterTests.Content(Path.Combine(Dir, name)), "the header and voxels of {0} must not change unnoticed", name);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Nibabel_ReadWhatWasWritten(string name)
    {
        var c = Get(name);
        var seen = Nibabel.Value.GetProperty(name);
        var v = c.Volumes[0];
        seen.GetProperty("class").GetString().Should().Be(c.Version == 1 ? "Nifti1Image" : "Nifti2Image");
        seen.GetProperty("endianness").GetString().Should().Be(c.Options.BigEndian ? ">" : "<");
        seen.GetProperty("datatype").GetInt32().Should().Be((int)c.Options.DataType);
        int[] shape = c.Volumes.Length == 1 ? [.. v.Shape] : [.. v.Shape, c.Volumes.Length];
        seen.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).Should().Equal(shape);
        seen.GetProperty("zooms").EnumerateArray().Take(3).Select(x => x.GetDouble()).Should().Equal(v.Spacing.Select(s => (double)s), (a, b) => Math.Abs(a - b) < 1e-5);
        seen.GetProperty("sform_code").GetInt32().Should().Be((int)v.AffineCode);
        seen.GetProperty("values_sha256").GetString().Should().Be(Hash(c.Volumes.SelectMany(x => x.Voxels)), "nibabel's values are ours, bit for bit");
        int qformCode = v.AffineCode != NiftiXformCode.Unknown && HasQform(c) ? (int)v.AffineCode : 0;
        seen.GetProperty("qform_code").GetInt32().Should().Be(qformCode);
        if (v.AffineCode != NiftiXformCode.Unknown)
        {
            // nibabel's affine is the sform; the qform, rebuilt from the quaternion, must be the same affine.
            ShouldBe(seen.GetProperty("affine"), v.Affine, c.Version == 1 ? 1e-5 : 1e-12, $"the affine of {name}");
            if (qformCode > 0) ShouldBe(seen.GetProperty("qform"), v.Affine, c.Version == 1 ? 1e-5 : 1e-6, $"the qform of {name}"); // quatern_a = sqrt(1 - b² - c² - d²) loses precision near a half turn
        }
    }

    private static void ShouldBe(JsonElement rows, NiftiAffine expected, double tolerance, string what)
    {
        var m = rows.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
        for (int r = 0; r < 3; r++)
            for (int col = 0; col < 4; col++)
                m[r][col].Should().BeApproximately(expected[r, col], tolerance, $"[{r}, {col}] of {what}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TheReader_ReadsTheCommittedFilesBack(string name)
    {
        var c = Get(name);
        var back = NiftiReader.ReadVolumes(Path.Combine(Dir, name));
        back.Should().HaveCount(c.Volumes.Length);
        for (int k = 0; k < back.Count; k++)
        {
            back[k].Voxels.Should().Equal(c.Volumes[k].Voxels);
            back[k].Shape.Should().Equal(c.Volumes[k].Shape);
            back[k].SourceDataType.Should().Be(c.Options.DataType);
            back[k].AffineCode.Should().Be(c.Volumes[k].AffineCode);
            for (int r = 0; r < 3; r++)
                for (int col = 0; col < 4; col++)
                    back[k].Affine[r, col].Should().BeApproximately(c.Volumes[k].Affine[r, col], 1e-5);
        }
    }
}
