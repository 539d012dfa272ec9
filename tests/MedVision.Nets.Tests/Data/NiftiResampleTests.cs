using System.Text.Json;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// <see cref="NiftiImage.Resample"/> and <see cref="NiftiImage.ResampleTo(NiftiImage, ResizeMode, VolumePadding)"/>
/// against nibabel 5.0's <c>resample_from_to</c> (SciPy 1.10 <c>map_coordinates</c>) on an oblique volume
/// (Fixtures/nifti/make_resample_fixtures.py), and against functions they must reproduce exactly.
/// </summary>
public sealed class NiftiResampleTests
{
    private static readonly string Dir = FixtureJson.Folder("nifti");
    private static readonly Lazy<JsonElement> Cases = FixtureJson.Lazy(Dir, "resample_fixtures.json", "cases");

    public static TheoryData<string> CaseNames() => new(Cases.Value.EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    private static JsonElement Case(string name) => Cases.Value.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static NiftiAffine Affine(JsonElement rows)
    {
        var m = new double[4, 4];
        int r = 0;
        foreach (var row in rows.EnumerateArray())
        {
            int c = 0;
            foreach (var v in row.EnumerateArray()) m[r, c++] = v.GetDouble();
            r++;
        }
        return new NiftiAffine(m);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Resampling_GivesNibabelsVoxels(string name)
    {
        var c = Case(name);
        var source = NiftiReader.Read(Path.Combine(Dir, "resample_source.nii"));
        var interpolation = Enum.Parse<ResizeMode>(c.GetProperty("interpolation").GetString()!);
        var padding = Enum.Parse<VolumePadding>(c.GetProperty("padding").GetString()!);
        var shape = c.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var affine = Affine(c.GetProperty("affine"));
        var result = c.TryGetProperty("spacing", out var spacing)
            ? source.Resample(spacing.EnumerateArray().Select(v => v.GetSingle()).ToArray(), interpolation, padding)
            : source.ResampleTo(shape, affine, interpolation, padding);

        result.Shape.Should().Equal(shape, name);
        for (int r = 0; r < 3; r++)
            for (int col = 0; col < 4; col++)
                result.Affine[r, col].Should().BeApproximately(affine[r, col], 1e-6, $"{name}: affine ({r}, {col})");
        var expected = c.GetProperty("voxels").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        result.Voxels.Should().HaveCount(expected.Length);
        for (int i = 0; i < expected.Length; i++)
            result.Voxels[i].Should().BeApproximately((float)expected[i], 2e-3f, $"{name}: voxel {i}");
        if (padding == VolumePadding.Zeros) result.Voxels.Count(v => v == 0).Should().BeGreaterThan(0, "the reference grid reaches beyond the oblique volume");
        result.AffineCode.Should().Be(source.AffineCode);
        result.Spacing.Select(s => (double)s).Should().Equal(affine.VoxelSizes.Select(s => (double)(float)s));
    }

    // A function linear in world coordinates, sampled on an oblique grid: trilinear interpolation reproduces it exactly
    // wherever the new grid lies within the old one, whatever the two affines.
    private static float Plane(double x, double y, double z) => (float)((0.5 * x) - (1.25 * y) + (2 * z) + 3);


    private static NiftiAffine Oblique(double degrees, double sx, double sy, double sz, double tx, double ty, double tz)
    {
        double a = degrees * Math.PI / 180, cos = Math.Cos(a), sin = Math.Sin(a);
        return new NiftiAffine(new double[,] { { cos * sx, -sin * sy, 0, tx }, { sin * sx, cos * sy, 0, ty }, { 0, 0, sz, tz } });
    }

    [Fact]
    public void LinearResampling_ReproducesAFunctionLinearInWorldCoordinates()
    {
        var source = WorldVolume.Sample([20, 18, 12], Oblique(25, 1.1, 0.8, 2.0, -10, -5, 3), Plane);
        var target = Oblique(-15, 0.6, 0.6, 0.6, -5, 2, 6);
        var resampled = source.ResampleTo([14, 12, 10], target, ResizeMode.Linear, VolumePadding.Zeros);
        int checkedVoxels = 0;
        for (int k = 0, at = 0; k < 10; k++)
            for (int j = 0; j < 12; j++)
                for (int i = 0; i < 14; i++, at++)
                {
                    if (resampled.Voxels[at] == 0) continue; // outside the source
                    var (x, y, z) = target.Apply(i, j, k);
                    resampled.Voxels[at].Should().BeApproximately(Plane(x, y, z), 1e-3f, $"voxel ({i}, {j}, {k})");
                    checkedVoxels++;
                }
        checkedVoxels.Should().BeGreaterThan(14 * 12 * 10 / 2, "most of the target grid lies inside the source");

        var spaced = source.Resample([0.5f, 0.5f, 1.0f]);
        spaced.Shape.Should().Equal(43, 28, 23); // round(19 · 1.1 / 0.5 + 1), round(17 · 0.8 / 0.5 + 1), 11 · 2 + 1
        spaced.Orientation.Should().Be(source.Orientation);
        spaced.Affine.Apply(0, 0, 0).Should().Be(source.Affine.Apply(0, 0, 0), "voxel (0, 0, 0) keeps its world position");
        spaced.Spacing.Select(s => Math.Round(s, 5)).Should().Equal(0.5, 0.5, 1.0);
        var (wx, wy, wz) = spaced.Affine.Apply(20, 15, 9);
        spaced[20, 15, 9].Should().BeApproximately(Plane(wx, wy, wz), 1e-3f);
    }

    [Fact]
    public void NearestResampling_KeepsTheLabelsOfALabelMap()
    {
        var labels = WorldVolume.Sample([12, 12, 8], Oblique(10, 1.5, 1.5, 3, 0, 0, 0), (x, y, z) => x < 4 ? 0 : y < 6 ? 1 : 7);
        var resampled = labels.Resample([1f, 1f, 1f], ResizeMode.Nearest);
        resampled.Voxels.Distinct().Order().Should().Equal(0f, 1f, 7f);
        resampled.SourceDataType.Should().Be(labels.SourceDataType, "nearest neighbour only copies stored values");
        labels.Resample([1f, 1f, 1f]).SourceDataType.Should().Be(NiftiDataType.Float32, "trilinear makes new values");
    }

    [Fact]
    public void ResampleTo_AnotherModality_LinesItUpVoxelForVoxel()
    {
        // One subject's "MRI" on a 1 mm RAS grid and its "PET" on a coarser, flipped (LPS), shifted grid: resampled onto
        // the MRI's grid, the PET agrees with the MRI wherever both sample the same smooth anatomy.
        static float Anatomy(double x, double y, double z) => (float)(100 * Math.Exp(-(((x - 2) * (x - 2)) + (y * y) + ((z + 1) * (z + 1))) / 800.0));
        var mri = WorldVolume.Sample([32, 32, 24], new NiftiAffine(new double[,] { { 1, 0, 0, -16 }, { 0, 1, 0, -16 }, { 0, 0, 1, -12 } }), Anatomy);
        var pet = WorldVolume.Sample([20, 20, 14], new NiftiAffine(new double[,] { { -2, 0, 0, 19 }, { 0, -2, 0, 20 }, { 0, 0, 2, -14 } }), Anatomy);
        pet.Orientation.Should().Be("LPS");

        var aligned = pet.ResampleTo(mri);
        aligned.Shape.Should().Equal(mri.Shape);
        aligned.Affine.Should().Be(mri.Affine);
        aligned.IsOnGridOf(mri).Should().BeTrue();
        pet.IsOnGridOf(mri).Should().BeFalse();
        mri.Reorient("LPS").IsOnGridOf(mri).Should().BeFalse("the same voxels in another order are another grid");
        mri.Resample([1f, 1f, 2f]).IsOnGridOf(mri).Should().BeFalse();
        FluentActions.Invoking(() => mri.IsOnGridOf(null!)).Should().Throw<ArgumentNullException>();
        double worst = 0;
        for (int i = 0; i < mri.Voxels.Length; i++) worst = Math.Max(worst, Math.Abs(aligned.Voxels[i] - mri.Voxels[i]));
        worst.Should().BeLessThan(0.4, "trilinear interpolation at 2 mm of a 100-unit Gaussian blob with σ = 20 mm errs by at most 3 · h²/8 · max|f″| = 0.375");
    }

    [Fact]
    public void Resample_ToItsOwnSpacing_ReturnsTheSameVolume()
    {
        var volume = WorldVolume.Sample([4, 5, 6], Oblique(30, 1.2, 1.2, 2.5, 0, 0, 0), Plane);
        volume.Resample([1.2f, 1.2f, 2.5f]).Should().BeSameAs(volume);
        volume.ResampleTo(volume).Voxels.Should().Equal(volume.Voxels, "resampling onto its own grid reads every voxel at its centre");
    }

    [Fact]
    public void BadArguments_GiveClearErrors()
    {
        var volume = WorldVolume.Sample([4, 5, 6], Oblique(0, 1, 1, 1, 0, 0, 0), Plane);
        FluentActions.Invoking(() => volume.Resample([1f, 0f, 1f])).Should().Throw<ArgumentException>().WithMessage("*three positive finite voxel sizes*[1, 0, 1]*");
        FluentActions.Invoking(() => volume.Resample([1f, 1f])).Should().Throw<ArgumentException>().WithMessage("*three positive*");
        FluentActions.Invoking(() => volume.Resample([1f, float.NaN, 1f])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => volume.ResampleTo([4, 0, 6], volume.Affine)).Should().Throw<ArgumentException>().WithMessage("*three positive dimensions*");
        var far = new NiftiAffine(new double[,] { { 1, 0, 0, 500 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 } });
        FluentActions.Invoking(() => volume.ResampleTo([4, 5, 6], far)).Should().Throw<ArgumentException>().WithParameterName("affine").WithMessage("*does not overlap*same world coordinates*");
        FluentActions.Invoking(() => volume.ResampleTo(new NiftiImage(new float[120], [4, 5, 6], null, NiftiDataType.Float32, far))).Should().Throw<ArgumentException>().WithParameterName("reference");
        FluentActions.Invoking(() => volume.Resample([1e-5f, 1e-5f, 1e-5f])).Should().Throw<ArgumentException>().WithParameterName("spacing").WithMessage("*no usable affine*");
        FluentActions.Invoking(() => volume.Resample([1f, 1f, 0.5f], (ResizeMode)7)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
