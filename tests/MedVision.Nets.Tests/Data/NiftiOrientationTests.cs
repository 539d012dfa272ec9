using System.Text.Json;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Dicom;
using MedVision.Nets.Data.Nifti;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// NIfTI orientation against nibabel 5.0: files written by nibabel (Fixtures/nifti/make_orientation_fixtures.py) with a
/// qform, an sform, both, or neither, and what nibabel reads from them (affine, axis codes) and makes of them when
/// reoriented to RAS, LPS and SPL (voxels and affine).
/// </summary>
public sealed class NiftiOrientationTests : IDisposable
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "nifti");
    private static readonly JsonElement Cases = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "orientation_fixtures.json"))).RootElement.GetProperty("cases");
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> CaseNames() => new(Cases.EnumerateObject().Select(c => c.Name));

    private static double[,] Matrix(JsonElement rows)
    {
        var m = new double[3, 4];
        int r = 0;
        foreach (var row in rows.EnumerateArray())
        {
            int c = 0;
            foreach (var v in row.EnumerateArray()) m[r, c++] = v.GetDouble();
            r++;
        }
        return m;
    }

    private static void ShouldMatch(NiftiAffine actual, double[,] expected, string because, double tolerance = 1e-4)
    {
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                actual[r, c].Should().BeApproximately(expected[r, c], tolerance, $"{because}: element ({r}, {c}) of {actual}");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Reader_GivesNibabelsAffineAndAxisCodes(string name)
    {
        var c = Cases.GetProperty(name);
        var image = NiftiReader.Read(Path.Combine(Dir, c.GetProperty("file").GetString()!));
        int sform = c.GetProperty("sform_code").GetInt32(), qform = c.GetProperty("qform_code").GetInt32();
        image.AffineCode.Should().Be((NiftiXformCode)(sform > 0 ? sform : qform));
        if (name == "none")
        {
            // No orientation recorded: NIfTI's method 1 (diag(pixdim)), where nibabel assumes Analyze's LAS instead.
            image.Orientation.Should().Be("RAS");
            c.GetProperty("axcodes").GetString().Should().Be("LAS");
            return;
        }

        ShouldMatch(image.Affine, Matrix(c.GetProperty("affine")), name);
        image.Orientation.Should().Be(c.GetProperty("axcodes").GetString());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Reorient_MovesVoxelsAndAffineAsNibabelDoes(string name)
    {
        if (name == "none") return; // nibabel reorients by its LAS assumption; see Reader_GivesNibabelsAffineAndAxisCodes
        var c = Cases.GetProperty(name);
        var image = NiftiReader.Read(Path.Combine(Dir, c.GetProperty("file").GetString()!));
        foreach (var target in c.GetProperty("reoriented").EnumerateObject())
        {
            var reoriented = image.Reorient(target.Name);
            var expected = target.Value;
            reoriented.Shape.Should().Equal(expected.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()), $"{name} → {target.Name}");
            reoriented.Voxels.Should().Equal(expected.GetProperty("voxels").EnumerateArray().Select(v => v.GetSingle()), $"{name} → {target.Name}");
            ShouldMatch(reoriented.Affine, Matrix(expected.GetProperty("affine")), $"{name} → {target.Name}");
            reoriented.Orientation.Should().Be(target.Name);
            reoriented.AffineCode.Should().Be(image.AffineCode);
        }
    }

    [Fact]
    public void IsCloseTo_ForgivesHeaderRoundTrips_ButNotAnotherGrid()
    {
        var affine = NiftiAffine.FromQuaternion(0.1, -0.2, 0.3, (-90.5, 126.25, -72.0), [1.5f, 1.5f, 3f]);
        var m = new double[4, 4];
        for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) m[r, c] = affine[r, c];
        // A float32 round trip of every entry (as an sform stores it) is the same grid, though not an equal affine.
        var stored = new double[4, 4];
        for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) stored[r, c] = (float)m[r, c];
        var roundTrip = new NiftiAffine(stored);
        roundTrip.Equals(affine).Should().BeFalse();
        roundTrip.IsCloseTo(affine).Should().BeTrue();
        affine.IsCloseTo(roundTrip).Should().BeTrue();
        // Half a millimetre off, or another voxel size, is another grid.
        var shifted = (double[,])m.Clone();
        shifted[0, 3] += 0.5;
        new NiftiAffine(shifted).IsCloseTo(affine).Should().BeFalse();
        var coarser = (double[,])m.Clone();
        for (int r = 0; r < 3; r++) coarser[r, 2] *= 1.01;
        new NiftiAffine(coarser).IsCloseTo(affine).Should().BeFalse();
        FluentActions.Invoking(() => affine.IsCloseTo(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Reorient_KeepsEveryVoxelAtItsWorldPosition()
    {
        var image = NiftiReader.Read(Path.Combine(Dir, "orient_qform_lps.nii"));
        var ras = image.Reorient();
        ras.Spacing.Should().Equal(image.Spacing, "the axes were flipped, not permuted");
        for (int z = 0; z < 2; z++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++)
                {
                    var world = image.Affine.Apply(x, y, z);
                    // find the voxel of the reoriented volume at the same world position
                    int[] found = Enumerable.Range(0, 24).Select(n => new[] { n % 4, n / 4 % 3, n / 12 })
                        .Single(v => Distance(ras.Affine.Apply(v[0], v[1], v[2]), world) < 1e-6);
                    ras[found[0], found[1], found[2]].Should().Be(image[x, y, z]);
                }

        image.Reorient("LPS").Should().BeSameAs(image, "it is already LPS");
    }

    private static double Distance((double X, double Y, double Z) a, (double X, double Y, double Z) b)
        => Math.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)) + ((a.Z - b.Z) * (a.Z - b.Z)));

    [Theory]
    [InlineData("orient_qform_lps.nii", true)]
    [InlineData("orient_qform_qfac.nii", true)]
    [InlineData("orient_sform_sheared.nii", false)]
    [InlineData("orient_both.nii", true)]
    public void Writer_StoresTheAffine_AsSformAndWhenItCanAsQform(string file, bool qform)
    {
        var image = NiftiReader.Read(Path.Combine(Dir, file));
        var path = _temp.File("round.nii.gz");
        NiftiWriter.Write(path, image.Reorient("SPL"));
        var back = NiftiReader.Read(path);
        back.Orientation.Should().Be("SPL");
        ShouldMatch(back.Affine, image.Reorient("SPL").Affine.ToArray(), file);
        back.AffineCode.Should().Be(image.AffineCode);

        // The qform alone (sform_code cleared) gives the same affine when the affine is a rotation times voxel sizes.
        var bytes = Gunzip(path);
        bytes[254] = 0;
        bytes[255] = 0;
        var qformOnly = _temp.File("qform.nii");
        File.WriteAllBytes(qformOnly, bytes);
        if (qform)
        {
            // float32 quaternion parameters: for rotations near 180° (a ≈ 0), a = √(1 − b² − c² − d²) carries the
            // float32 rounding of b, c and d as ~1e-4 errors in the rotation, as in every NIfTI reader; the sform is exact.
            ShouldMatch(NiftiReader.Read(qformOnly).Affine, back.Affine.ToArray(), file + " (qform)", tolerance: 2e-3);
        }
        else
        {
            NiftiReader.Read(qformOnly).AffineCode.Should().Be(NiftiXformCode.Unknown, "a sheared affine has no qform");
        }
    }

    private static byte[] Gunzip(string path)
    {
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    [Fact]
    public void UnknownOrientation_IsWrittenAsUnknown()
    {
        var image = new NiftiImage(new float[24], [4, 3, 2], [2f, 2f, 2f]);
        image.AffineCode.Should().Be(NiftiXformCode.Unknown);
        image.Orientation.Should().Be("RAS");
        var path = _temp.File("unknown.nii");
        NiftiWriter.Write(path, image);
        var bytes = File.ReadAllBytes(path);
        BitConverter.ToInt16(bytes, 252).Should().Be(0);
        BitConverter.ToInt16(bytes, 254).Should().Be(0);
        NiftiReader.Read(path).Spacing.Should().Equal(2f, 2f, 2f);
    }

    [Theory]
    [InlineData("RA")]
    [InlineData("RAR")]
    [InlineData("RLS")]
    [InlineData("XYZ")]
    [InlineData("RASX")]
    public void BadAxisCodes_AreRefusedByName(string codes)
    {
        var image = new NiftiImage(new float[24], [4, 3, 2]);
        FluentActions.Invoking(() => image.Reorient(codes)).Should().Throw<ArgumentException>()
            .Which.ParamName.Should().Be("axisCodes");
        image.Reorient("ras").Should().BeSameAs(image, "letters are case-insensitive");
    }

    [Fact]
    public void BadAffines_AreRefusedWithTheReason()
    {
        FluentActions.Invoking(() => new NiftiAffine(new double[3, 3])).Should().Throw<ArgumentException>().WithMessage("*4×4 or 3×4*");
        FluentActions.Invoking(() => new NiftiAffine(new double[3, 4])).Should().Throw<ArgumentException>().WithMessage("*singular*");
        FluentActions.Invoking(() => new NiftiAffine(new double[,] { { 1, 0, 0, double.NaN }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 } })).Should().Throw<ArgumentException>().WithMessage("*finite*");
        FluentActions.Invoking(() => new NiftiAffine(new double[,] { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 1, 1 } })).Should().Throw<ArgumentException>().WithMessage("*(0, 0, 0, 1)*");
        FluentActions.Invoking(() => NiftiAffine.FromQuaternion(0.9, 0.9, 0, (0, 0, 0), [1f, 1f, 1f])).Should().Throw<ArgumentException>().WithMessage("*unit quaternion*");
    }

    [Fact]
    public void CorruptOrientationFields_NameTheFileAndTheField()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "orient_qform_lps.nii"));
        var badQuaternion = (byte[])bytes.Clone();
        BitConverter.GetBytes(0.9f).CopyTo(badQuaternion, 256);
        BitConverter.GetBytes(0.9f).CopyTo(badQuaternion, 260);
        var path = _temp.File("badq.nii");
        File.WriteAllBytes(path, badQuaternion);
        FluentActions.Invoking(() => NiftiReader.Read(path)).Should().Throw<DataFormatException>().WithMessage("*badq.nii*qform*unit quaternion*");

        var badCode = (byte[])bytes.Clone();
        BitConverter.GetBytes((short)9).CopyTo(badCode, 254);
        var codePath = _temp.File("badcode.nii");
        File.WriteAllBytes(codePath, badCode);
        FluentActions.Invoking(() => NiftiReader.Read(codePath)).Should().Throw<DataFormatException>().WithMessage("*badcode.nii*sform_code 9*");

        // sform_code set but srow_* zero: the file's qform is used; without a qform it is an error.
        var singular = (byte[])bytes.Clone();
        BitConverter.GetBytes((short)1).CopyTo(singular, 254);
        Array.Clear(singular, 280, 48);
        var fallbackPath = _temp.File("fallback.nii");
        File.WriteAllBytes(fallbackPath, singular);
        var fallback = NiftiReader.Read(fallbackPath);
        fallback.Affine.Should().Be(NiftiReader.Read(Path.Combine(Dir, "orient_qform_lps.nii")).Affine, "the qform stands in for the singular sform");
        BitConverter.GetBytes((short)0).CopyTo(singular, 252);
        var singularPath = _temp.File("singular.nii");
        File.WriteAllBytes(singularPath, singular);
        FluentActions.Invoking(() => NiftiReader.Read(singularPath)).Should().Throw<DataFormatException>().WithMessage("*singular.nii*sform*singular*");
    }
}

/// <summary>
/// The integer data types beyond uint8/int16/int32 against nibabel 5.0: files nibabel wrote
/// (Fixtures/nifti/make_datatype_fixtures.py; uint16 big-endian) with scl_slope 0.5 and scl_inter −3.
/// </summary>
public sealed class NiftiDataTypeTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "nifti");
    private static readonly JsonElement Cases = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "datatype_fixtures.json"))).RootElement.GetProperty("cases");

    [Theory]
    [InlineData("int8", NiftiDataType.Int8)]
    [InlineData("uint16", NiftiDataType.UInt16)]
    [InlineData("uint32", NiftiDataType.UInt32)]
    [InlineData("int64", NiftiDataType.Int64)]
    public void Reader_GivesNibabelsScaledValues(string name, NiftiDataType type)
    {
        var c = Cases.GetProperty(name);
        c.GetProperty("datatype").GetInt32().Should().Be((int)type);
        var image = NiftiReader.Read(Path.Combine(Dir, c.GetProperty("file").GetString()!));
        image.SourceDataType.Should().Be(type);
        image.Shape.Should().Equal(3, 2, 2);
        var expected = c.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        image.Voxels.Should().HaveCount(expected.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            // float32 voxels: 24-bit mantissa, so a relative tolerance for the 32- and 64-bit integers.
            ((double)image.Voxels[i]).Should().BeApproximately(expected[i], Math.Max(1e-6, Math.Abs(expected[i]) * 1e-7), $"voxel {i}");
        }
    }
}
