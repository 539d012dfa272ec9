using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// <see cref="VolumeFolderSourceBuilder"/>: each step sets what the matching <see cref="VolumeFolderSource.FromSubfolders"/>
/// parameter sets, bad values are refused when they are given, and the builder is used once.
/// </summary>
public sealed class VolumeFolderSourceBuilderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mvn-volume-builder-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Folder(params string[] parts) => Directory.CreateDirectory(Path.Combine([_root, .. parts])).FullName;

    private static float Ball(double x, double y, double z) => (float)(100 / (1 + Math.Exp(Math.Sqrt((x * x) + (y * y) + (z * z)) - 6)));

    // Two subjects with a T1 and a PET on different grids (the PET stored LPS), so that every step changes the result.
    private void WriteSubjects()
    {
        var t1 = WorldVolume.Sample([20, 18, 16], new double[,] { { 1.2, 0, 0, -11 }, { 0, 1.1, 0, -9 }, { 0, 0, 1.5, -12 } }, Ball);
        var pet = WorldVolume.Sample([14, 14, 12], new double[,] { { -2, 0, 0, 13 }, { 0, -2, 0, 13 }, { 0, 0, 2, -11 } }, (x, y, z) => (Ball(x, y, z) * 3) + 10);
        foreach (var (label, subject) in new[] { ("AD", "sub-01"), ("CN", "sub-02") })
        {
            var folder = Folder(label, subject);
            NiftiWriter.Write(Path.Combine(folder, $"{subject}_t1.nii.gz"), t1);
            NiftiWriter.Write(Path.Combine(folder, $"{subject}_pet.nii.gz"), pet);
        }
    }

    private static void ShouldLoadAlike(VolumeFolderSource built, VolumeFolderSource expected)
    {
        built.Should().BeEquivalentTo(expected, o => o.Excluding(s => s.Labels), "the builder's steps are FromSubfolders' parameters");
        built.Labels.Should().BeEquivalentTo(expected.Labels);
        for (int i = 0; i < expected.Count; i++)
        {
            var (image, labels) = built.Load(i);
            var (expectedImage, expectedLabels) = expected.Load(i);
            image.Shape.Should().Equal(expectedImage.Shape);
            image.Data.Should().Equal(expectedImage.Data);
            labels.Should().Equal(expectedLabels);
        }
    }

    [Fact]
    public void EveryStep_SetsWhatFromSubfoldersParameterSets()
    {
        WriteSubjects();
        var built = VolumeFolderSource.Builder(_root)
            .WithModalities("t1", "pet")
            .ReorientTo("LPS")
            .ResampleToSpacing(1.5f, 1.5f, 2f)
            .AlignModalities()
            .CropToForeground(threshold: 5, margin: 1)
            .ScaleIntensityByPercentiles(2, 98)
            .CropOrPadTo(10, 12, 14)
            .Build();
        var expected = VolumeFolderSource.FromSubfolders(_root, 10, 12, 14, orientation: "LPS", cropForeground: new CropForeground(5, 1),
            modalities: ["t1", "pet"], spacing: [1.5f, 1.5f, 2f], alignModalities: true, fit: VolumeFit.CropOrPad, intensityPercentiles: (2, 98));
        built.Modalities.Should().Equal("t1", "pet");
        built.Orientation.Should().Be("LPS");
        built.Spacing.Should().Equal(1.5f, 1.5f, 2f);
        built.AlignModalities.Should().BeTrue();
        built.ForegroundCrop!.Threshold.Should().Be(5);
        built.ForegroundCrop.Margin.Should().Be(1);
        built.IntensityPercentiles.Should().Be((2.0, 98.0));
        built.Fit.Should().Be(VolumeFit.CropOrPad);
        built.Size.Should().Be((10, 12, 14));
        ShouldLoadAlike(built, expected);

        var windowed = VolumeFolderSource.Builder(_root).WithModalities("t1", "pet").KeepStoredOrientation().ScaleIntensityByWindow(50, 100).ResizeTo(6, 7, 8).Build();
        windowed.Orientation.Should().BeNull();
        windowed.Window.Should().Be((50.0, 100.0));
        windowed.Fit.Should().Be(VolumeFit.Resize);
        ShouldLoadAlike(windowed, VolumeFolderSource.FromSubfolders(_root, 6, 7, 8, window: (50, 100), orientation: null, modalities: ["t1", "pet"]));
    }

    [Fact]
    public void WithoutSteps_TheDefaultsAreFromSubfoldersDefaults()
    {
        WriteSubjects();
        var built = VolumeFolderSource.Builder(_root).ResizeTo(8, 8, 8).Build();
        built.Orientation.Should().Be("RAS");
        built.Samples.Should().HaveCount(4, "without modalities every file is a sample");
        ShouldLoadAlike(built, VolumeFolderSource.FromSubfolders(_root, 8, 8, 8));
    }

    [Fact]
    public void BadSteps_AreRefusedWhenGiven_NamingTheProblem()
    {
        var builder = VolumeFolderSource.Builder(_root);
        builder.Invoking(b => b.WithModalities()).Should().Throw<ArgumentException>().WithMessage("*at least one modality*");
        builder.Invoking(b => b.WithModalities("t1", "T1")).Should().Throw<ArgumentException>().WithMessage("*named twice*");
        builder.Invoking(b => b.ReorientTo("RAA")).Should().Throw<ArgumentException>().WithParameterName("axisCodes");
        builder.Invoking(b => b.ResampleToSpacing(1, 0, 1)).Should().Throw<ArgumentException>().WithMessage("*three positive finite voxel sizes*");
        builder.Invoking(b => b.CropToForeground(float.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("threshold");
        builder.Invoking(b => b.ScaleIntensityByWindow(40, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("width");
        builder.Invoking(b => b.ScaleIntensityByWindow(double.NaN, 400)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("center");
        builder.Invoking(b => b.ScaleIntensityByPercentiles(99, 1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*0 ≤ lower < upper ≤ 100*");
        builder.Invoking(b => b.ResizeTo(8, 0, 8)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*8×0×8*");
        builder.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>().WithMessage("*ResizeTo*CropOrPadTo*");

        builder.ScaleIntensityByWindow(40, 400).Invoking(b => b.ScaleIntensityByPercentiles(1, 99))
            .Should().Throw<InvalidOperationException>().WithMessage("*window or percentiles, not both*");
        VolumeFolderSource.Builder(_root).ScaleIntensityByPercentiles(1, 99).Invoking(b => b.ScaleIntensityByWindow(40, 400))
            .Should().Throw<InvalidOperationException>().WithMessage("*window or percentiles, not both*");
        FluentActions.Invoking(() => VolumeFolderSource.Builder("")).Should().Throw<ArgumentException>().WithParameterName("root");
        FluentActions.Invoking(() => VolumeFolderSource.FromSubfolders(_root, 4, 4, 4, window: (double.PositiveInfinity, 400)))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("window");
    }

    [Fact]
    public void ABuilder_BuildsOnce_AndAMissingFolderIsNamed()
    {
        WriteSubjects();
        var builder = VolumeFolderSource.Builder(_root).WithModalities("t1", "pet").ResizeTo(4, 4, 4);
        builder.Build().Count.Should().Be(2);
        builder.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>().WithMessage("*built its source already*");
        builder.Invoking(b => b.AlignModalities()).Should().Throw<InvalidOperationException>();

        var missing = Path.Combine(_root, "nope");
        FluentActions.Invoking(() => VolumeFolderSource.Builder(missing).ResizeTo(4, 4, 4).Build())
            .Should().Throw<DirectoryNotFoundException>().WithMessage($"*{missing}*");
    }
}
