using MedVision.Nets.Data;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// Physical-scale preparation of volumes: <see cref="VolumeFolderSource"/> with a voxel size (spacing), crop-or-pad
/// instead of resizing, and modalities aligned through their affines; model cards recording them (format 5) and the
/// predictor preparing files as training did.
/// </summary>
public sealed class VolumeSpacingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mvn-spacing-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Folder(params string[] parts) => Directory.CreateDirectory(Path.Combine([_root, .. parts])).FullName;


    // A ball of radius 6 mm (value 100, an edge about 4 mm wide) centred at the world origin, on a background of 0.
    private static float Ball(double x, double y, double z) => (float)(100 / (1 + Math.Exp(Math.Sqrt((x * x) + (y * y) + (z * z)) - 6)));

    [Fact]
    public void WithSpacingAndCropOrPad_ScansOfDifferentResolutionAndFieldOfView_ShowTheBallAtOneScale()
    {
        // The same ball scanned at 1 mm isotropic over 31 mm and at 0.5 × 0.5 × 2 mm over 42 × 42 × 42 mm (voxel centres
        // from −21 to 21): resized to 20³ the ball fills different shares of the input; resampled to 1 mm (31³ and 43³
        // voxels) and center-cropped to 20³ (both from −10 to 9 mm), the two inputs agree.
        var fine = WorldVolume.Sample([31, 31, 31], new double[,] { { 1, 0, 0, -15 }, { 0, 1, 0, -15 }, { 0, 0, 1, -15 } }, Ball);
        var coarse = WorldVolume.Sample([85, 85, 22], new double[,] { { 0.5, 0, 0, -21 }, { 0, 0.5, 0, -21 }, { 0, 0, 2, -21 } }, Ball);
        NiftiWriter.Write(Path.Combine(Folder("a"), "fine.nii.gz"), fine);
        NiftiWriter.Write(Path.Combine(Folder("b"), "coarse.nii.gz"), coarse);

        var resized = VolumeFolderSource.FromSubfolders(_root, 20, 20, 20);
        var scaled = VolumeFolderSource.FromSubfolders(_root, 20, 20, 20, spacing: [1f, 1f, 1f], fit: VolumeFit.CropOrPad);
        scaled.Spacing.Should().Equal(1f, 1f, 1f);
        scaled.Fit.Should().Be(VolumeFit.CropOrPad);
        resized.Fit.Should().Be(VolumeFit.Resize);

        static double Difference(FloatImage a, FloatImage b) => a.Data.Zip(b.Data, (p, q) => Math.Abs(p - q)).Average();
        static double BallShare(FloatImage image) => image.Data.Count(v => v > 0.5f) / (double)image.Data.Length;
        var (r0, r1) = (resized.Load(0).Image, resized.Load(1).Image);
        var (s0, s1) = (scaled.Load(0).Image, scaled.Load(1).Image);
        s0.Shape.Should().Equal(1, 20, 20, 20);
        Difference(s0, s1).Should().BeLessThan(0.01, "at 1 mm and cropped about the same centre, both show the same ball");
        Difference(r0, r1).Should().BeGreaterThan(5 * Difference(s0, s1), "resized, the ball fills different shares of the two inputs");
        // The ball (4/3 π 6³ ≈ 905 mm³) in 20³ = 8000 one-millimetre voxels.
        scaled.ReadVolume(1).Resample([1f, 1f, 1f]).Shape.Should().Equal(43, 43, 43);
        BallShare(s0).Should().BeApproximately(905 / 8000.0, 0.02);
        BallShare(s1).Should().BeApproximately(905 / 8000.0, 0.02);
        BallShare(r0).Should().BeApproximately(905 / 29791.0, 0.02, "resizing 31 mm to 20 voxels keeps the ball's share of the field of view");
    }

    [Fact]
    public void AlignModalities_ResamplesOtherGridsOntoTheFirstModality_ThroughTheirAffines()
    {
        // One subject: a T1 on a 1 mm RAS grid of 24³ mm centred on the ball and a PET on a 2 mm LPS grid covering 48³ mm
        // (so four times as much volume, and flipped): aligned, the PET channel equals the T1 channel up to interpolation;
        // each resized on its own, the PET shows the ball at half the size.
        var subject = Folder("AD", "sub-01");
        var t1 = WorldVolume.Sample([24, 24, 24], new double[,] { { 1, 0, 0, -11.5 }, { 0, 1, 0, -11.5 }, { 0, 0, 1, -11.5 } }, Ball);
        var pet = WorldVolume.Sample([24, 24, 24], new double[,] { { -2, 0, 0, 23 }, { 0, -2, 0, 23 }, { 0, 0, 2, -23 } }, Ball);
        pet.Orientation.Should().Be("LPS");
        NiftiWriter.Write(Path.Combine(subject, "sub-01_t1.nii.gz"), t1);
        NiftiWriter.Write(Path.Combine(subject, "sub-01_pet.nii.gz"), pet);
        Folder("CN");
        NiftiWriter.Write(Path.Combine(Folder("CN", "sub-02"), "t1.nii.gz"), t1);
        NiftiWriter.Write(Path.Combine(Folder("CN", "sub-02"), "pet.nii.gz"), t1);

        var aligned = VolumeFolderSource.FromSubfolders(_root, 16, 16, 16, modalities: ["t1", "pet"], alignModalities: true);
        var apart = VolumeFolderSource.FromSubfolders(_root, 16, 16, 16, modalities: ["t1", "pet"]);
        aligned.AlignModalities.Should().BeTrue();
        static (float[] First, float[] Second) Channels(FloatImage image)
        {
            int n = image.PlaneSize;
            return (image.Data[..n], image.Data[n..]);
        }
        var (a0, a1) = Channels(aligned.Load(0).Image);
        var (p0, p1) = Channels(apart.Load(0).Image);
        double Mean(float[] x, float[] y) => x.Zip(y, (p, q) => Math.Abs(p - q)).Average();
        Mean(a0, a1).Should().BeLessThan(0.02, "aligned, both channels sample the ball at the same places");
        Mean(p0, p1).Should().BeGreaterThan(0.05, "resized apart, the PET's larger field of view shrinks the ball");
        p1.Count(v => v > 0.5f).Should().BeLessThan(p0.Count(v => v > 0.5f) / 4);

        // Channels on other grids without an orientation cannot be aligned: refused with the way out.
        var unknown = new NiftiImage(pet.Voxels, pet.Shape, [2f, 2f, 2f]);
        unknown.AffineCode.Should().Be(NiftiXformCode.Unknown);
        NiftiWriter.Write(Path.Combine(subject, "sub-01_pet.nii.gz"), unknown);
        FluentActions.Invoking(() => aligned.Load(0)).Should().Throw<DataFormatException>()
            .WithMessage("*sub-01*channel 2 of 2 records no orientation*without aligning modalities*");
        apart.Load(0).Image.Shape.Should().Equal(2, 16, 16, 16);
    }

    [Fact]
    public void ModelCards_RecordSpacingFitAndAlignment_InFormat5_AndThePredictorPreparesFilesAsTrainingDid()
    {
        var subject = Folder("AD", "sub-01");
        var t1 = WorldVolume.Sample([20, 18, 16], new double[,] { { 1.2, 0, 0, -11 }, { 0, 1.1, 0, -9 }, { 0, 0, 1.5, -12 } }, Ball);
        var pet = WorldVolume.Sample([14, 14, 12], new double[,] { { -2, 0, 0, 13 }, { 0, -2, 0, 13 }, { 0, 0, 2, -11 } }, (x, y, z) => Ball(x, y, z) * 3 + 10);
        NiftiWriter.Write(Path.Combine(subject, "t1.nii.gz"), t1);
        NiftiWriter.Write(Path.Combine(subject, "pet.nii.gz"), pet);
        NiftiWriter.Write(Path.Combine(Folder("CN", "sub-02"), "t1.nii.gz"), pet);
        NiftiWriter.Write(Path.Combine(Folder("CN", "sub-02"), "pet.nii.gz"), t1);
        var source = VolumeFolderSource.FromSubfolders(_root, 12, 12, 12, modalities: ["t1", "pet"], spacing: [1.5f, 1.5f, 1.5f], alignModalities: true, fit: VolumeFit.CropOrPad);

        Tensors.ManualSeed(4);
        using var model = ResNet.Builder().WithDepth(10).WithWidths(2, 2, 4, 4).ForInput(2, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build();
        var preprocessing = source.DescribePreprocessing([0.2f], [0.3f]);
        preprocessing.Should().BeEquivalentTo(new PreprocessingCard
        {
            InputSize = [12, 12, 12], Channels = 2, Mean = [0.2f], Std = [0.3f], Resize = "linear", Orientation = "RAS", Modalities = ["t1", "pet"],
            Spacing = [1.5f, 1.5f, 1.5f], AlignModalities = true, Fit = "crop_or_pad",
        }, "the source describes every field its preparation depends on");
        FluentActions.Invoking(() => source.DescribePreprocessing([0.2f, 0.1f], [0.3f])).Should().Throw<ArgumentException>().WithMessage("*got 2 and 1*");
        var card = ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary);
        card.FormatVersion.Should().Be(5, "a format-4 reader would resize without resampling, aligning or cropping");
        var path = Path.Combine(_root, "model.safetensors");
        ModelFile.Save(path, model, card);
        var read = ModelFile.ReadCard(path).Preprocessing;
        read.Spacing.Should().Equal(1.5f, 1.5f, 1.5f);
        read.AlignModalities.Should().BeTrue();
        read.Fit.Should().Be("crop_or_pad");

        using var predictor = Predictor.Load(path);
        var normalize = new Normalize([0.2f], [0.3f]);
        model.Eval();
        for (int i = 0; i < source.Count; i++)
        {
            var image = normalize.Apply(source.Load(i).Image, new Random(0));
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            var expected = model.Call(Tensors.FromArray(image.Data, 1, 2, 12, 12, 12)).Softmax(1).ToArray<float>();
            predictor.PredictFile(source.Samples[i].Path).Probabilities.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-6);
        }
        // The same card without the format-5 fields predicts differently: the fields are used, not just stored.
        var plainCard = ModelFile.Describe(model, new PreprocessingCard { InputSize = [12, 12, 12], Channels = 2, Mean = [0.2f], Std = [0.3f], Orientation = "RAS", Modalities = ["t1", "pet"] }, source.ClassNames, MedMnistTask.Binary);
        plainCard.FormatVersion.Should().Be(4);
        ModelFile.Save(Path.Combine(_root, "plain.safetensors"), model, plainCard);
        using (var plain = Predictor.Load(Path.Combine(_root, "plain.safetensors")))
            plain.PredictFile(subject).Probabilities.Should().NotEqual(predictor.PredictFile(subject).Probabilities);

        // Values a reader cannot use are refused by name.
        foreach (var (change, message) in new (Action<PreprocessingCard>, string)[]
        {
            (p => p.Spacing = [1f, 0f, 1f], "*spacing [1, 0, 1] must be three positive, finite voxel sizes*"),
            (p => p.Spacing = [1f, 1f], "*spacing [1, 1] must be three*"),
            (p => p.Fit = "stretch", "*fit must be 'resize' or, for a 3-D model, 'crop_or_pad', not 'stretch'*"),
        })
        {
            var bad = new PreprocessingCard { InputSize = [12, 12, 12], Channels = 2, Mean = [0.2f], Std = [0.3f] };
            change(bad);
            FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_root, "bad.safetensors"), model, ModelFile.Describe(model, bad, source.ClassNames, MedMnistTask.Binary)))
                .Should().Throw<ModelFormatException>().WithMessage(message);
        }
        File.Exists(Path.Combine(_root, "bad.safetensors")).Should().BeFalse();
        FluentActions.Invoking(() => VolumeFolderSource.FromSubfolders(_root, 12, 12, 12, spacing: [1f, -1f, 1f])).Should().Throw<ArgumentException>().WithMessage("*three positive finite voxel sizes*");
    }

    [Fact]
    public void ResizeWithPadOrCrop_CropsLongAxesAtTheCentre_AndPadsShortOnesWithTheMinimum()
    {
        // (C, D, H, W) = (2, 3, 5, 2): depth 3 → 5 padded (1 before, 1 after), height 5 → 2 cropped (start 5 / 2 − 2 / 2 = 1),
        // width 2 → 3 padded (0 before, 1 after), as MONAI's ResizeWithPadOrCrop (symmetric pad, CenterSpatialCrop).
        var data = Enumerable.Range(0, 60).Select(i => (float)(i + 10)).ToArray();
        data[35] = -7; // channel 1's minimum, which pads channel 1
        var image = new FloatImage(data, 2, 3, 5, 2);
        var output = new ResizeWithPadOrCrop(5, 2, 3).Apply(image, new Random(0));
        output.Shape.Should().Equal(2, 5, 2, 3);
        float At(int c, int z, int y, int x) => output.Data[(((c * 5) + z) * 2 + y) * 3 + x];
        float Source(int c, int z, int y, int x) => data[(((c * 3) + z) * 5 + y) * 2 + x];
        At(0, 0, 0, 0).Should().Be(10, "padding takes channel 0's minimum");
        At(1, 4, 1, 2).Should().Be(-7, "padding takes channel 1's minimum");
        At(0, 1, 0, 0).Should().Be(Source(0, 0, 1, 0));
        At(1, 3, 1, 1).Should().Be(Source(1, 2, 2, 1));
        // BraTS depth 155 → 128 starts at 155 / 2 − 128 / 2 = 13, where MONAI starts (round(13.5) would be 14).
        var brats = new FloatImage(Enumerable.Range(0, 155).Select(i => (float)i).ToArray(), 1, 155, 1, 1);
        new ResizeWithPadOrCrop(128, 1, 1).Apply(brats, new Random(0)).Data[0].Should().Be(13);
        At(0, 2, 1, 2).Should().Be(10, "width is padded after");
        new ResizeWithPadOrCrop(5, 2, 3, padValue: 0).Apply(image, new Random(0)).Data[0].Should().Be(0);
        new ResizeWithPadOrCrop(3, 5, 2).Apply(image, new Random(0)).Data.Should().Equal(data, "the input's own size leaves it as it is");
        var flat = new FloatImage(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 1, 3, 4);
        new ResizeWithPadOrCrop(1, 6).Apply(flat, new Random(0)).Data.Should().Equal(0, 4, 5, 6, 7, 0); // row 3 / 2 − 1 / 2 = 1
        FluentActions.Invoking(() => new ResizeWithPadOrCrop(2, 2).Apply(image, new Random(0))).Should().Throw<ArgumentException>().WithMessage("*works on 2-D images*");
        FluentActions.Invoking(() => new ResizeWithPadOrCrop(2, 0, 2)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ResizeWithPadOrCrop(2, 2, 2, float.NaN)).Should().Throw<ArgumentOutOfRangeException>();
    }
}

/// <summary>
/// Percentile intensity scaling (<see cref="ScaleIntensity.FromPercentiles"/>) against NumPy's percentiles and MONAI's
/// formula (Fixtures/intensity/make_percentile_fixture.py), and through the volume source, its card and the predictor.
/// </summary>
public sealed class IntensityPercentileTests : IDisposable
{
    private static readonly Lazy<System.Text.Json.JsonElement> Cases = FixtureJson.Lazy(FixtureJson.Folder("intensity"), "percentile_fixture.json", "cases");
    private readonly string _root = Directory.CreateTempSubdirectory("mvn-percentiles-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<string> CaseNames() => new(Cases.Value.EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ScalingByPercentiles_IsNumPysPercentilesAndMonaisFormula(string name)
    {
        var c = Cases.Value.EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var values = c.GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var image = new FloatImage(values, 1, 1, values.Length);
        var scaled = TransformPipeline.Create().ScaleIntensityPercentiles(c.GetProperty("lower").GetDouble(), c.GetProperty("upper").GetDouble()).Build().Apply(image, new Random(0));
        var expected = c.GetProperty("expected").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        scaled.Data.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-5f, name);
    }

    [Fact]
    public void InfiniteValues_AreLeftOutOfThePercentiles_AndClampToTheEnds()
    {
        // NumPy interpolates towards an infinity as NaN (np.percentile([1, 2, inf], 50) is NaN), which made every value
        // of the scaled image NaN; the percentiles are now those of the finite values, as the minimum–maximum range is.
        var values = new float[] { 1, 2, float.PositiveInfinity, 4, 5, float.NegativeInfinity, float.NaN, 3 };
        var image = new FloatImage((float[])values.Clone(), [1, 1, values.Length]);
        var scaled = ScaleIntensity.FromPercentiles(25, 75).Apply(image, new Random(0)).Data;
        // The finite values 1…5: percentiles 2 and 4.
        scaled.Should().Equal(new[] { 0f, 0f, 1f, 1f, 1f, 0f, float.NaN, 0.5f });
        var channelWise = ScaleIntensity.FromPercentiles(0, 100, channelWise: true).Apply(new FloatImage(new float[] { float.PositiveInfinity, 0, 2, float.NegativeInfinity, 7, 9 }, [2, 1, 3]), new Random(0)).Data;
        channelWise.Should().Equal(1f, 0f, 1f, 0f, 0f, 1f);
        var none = ScaleIntensity.FromPercentiles(1, 99).Apply(new FloatImage(new[] { float.PositiveInfinity, float.NaN }, [1, 1, 2]), new Random(0)).Data;
        none.Should().Equal(1f, float.NaN);
    }

    [Fact]
    public void VolumeSources_ScaledByPercentiles_AreRecordedAndPredictedAlike()
    {
        // Two volumes with a few very bright voxels: by min–max their tissue is squeezed near 0; by the 1st and 99th
        // percentiles it spans [0, 1].
        var random = new Random(8);
        for (int i = 0; i < 2; i++)
        {
            var voxels = Enumerable.Range(0, 6 * 6 * 6).Select(_ => (float)(100 + (random.NextDouble() * 50))).ToArray();
            voxels[7] = 20000;
            NiftiWriter.Write(Path.Combine(Directory.CreateDirectory(Path.Combine(_root, i == 0 ? "a" : "b")).FullName, "v.nii.gz"), new NiftiImage(voxels, [6, 6, 6]));
        }
        var source = VolumeFolderSource.FromSubfolders(_root, 6, 6, 6, intensityPercentiles: (1, 99));
        var plain = VolumeFolderSource.FromSubfolders(_root, 6, 6, 6);
        source.IntensityPercentiles.Should().Be((1d, 99d));
        source.Load(0).Image.Data.Average().Should().BeGreaterThan(0.3f, "the tissue spans [0, 1]");
        plain.Load(0).Image.Data.Average().Should().BeLessThan(0.01f, "min–max squeezes the tissue near 0 under the bright voxel");

        Tensors.ManualSeed(2);
        using var model = ResNet.Builder().WithDepth(10).WithWidths(2, 2, 4, 4).ForInput(1, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build();
        var preprocessing = source.DescribePreprocessing([0.5f], [0.25f]);
        preprocessing.IntensityPercentiles.Should().Equal(1d, 99d);
        var card = ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary);
        card.FormatVersion.Should().Be(5, "a format-4 reader would scale by min–max");
        var path = Path.Combine(_root, "model.safetensors");
        ModelFile.Save(path, model, card);
        using var predictor = Predictor.Load(path);
        model.Eval();
        var normalize = new Normalize([0.5f], [0.25f]);
        for (int i = 0; i < source.Count; i++)
        {
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            var image = normalize.Apply(source.Load(i).Image, new Random(0));
            var expected = model.Call(Tensors.FromArray(image.Data, 1, 1, 6, 6, 6)).Softmax(1).ToArray<float>();
            predictor.PredictFile(source.Samples[i].Path).Probabilities.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-6);
        }

        FluentActions.Invoking(() => VolumeFolderSource.FromSubfolders(_root, 6, 6, 6, window: (40, 400), intensityPercentiles: (1, 99)))
            .Should().Throw<ArgumentException>().WithMessage("*window or intensity percentiles, not both*");
        FluentActions.Invoking(() => VolumeFolderSource.FromSubfolders(_root, 6, 6, 6, intensityPercentiles: (99, 1))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("intensityPercentiles");
        preprocessing.IntensityPercentiles = [50, 50];
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_root, "bad.safetensors"), model, ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary)))
            .Should().Throw<ModelFormatException>().WithMessage("*intensity percentiles [50, 50] must be (lower, upper) with 0 ≤ lower < upper ≤ 100*");
        FluentActions.Invoking(() => ScaleIntensity.FromPercentiles(-1, 50)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Percentiles_BySelection_AreThoseOfTheSortedValues_WithNaNLeftOut()
    {
        var random = new Random(21);
        foreach (int n in new[] { 1, 2, 3, 10, 257, 5000 })
        {
            // Many ties (values 0..9) and a NaN now and then.
            var values = Enumerable.Range(0, n).Select(_ => random.Next(12) == 0 ? float.NaN : random.Next(10)).ToArray();
            var sorted = values.Where(v => !float.IsNaN(v)).Order().ToArray();
            foreach (var p in new[] { 0.0, 0.5, 1, 25, 50, 73.3, 99, 99.5, 100 })
            {
                var (low, _) = MedVision.Nets.Data.IntensityWindow.Percentiles([values, Array.Empty<float>()], p, 100);
                if (sorted.Length == 0)
                {
                    low.Should().Be(0);
                    continue;
                }
                double position = p / 100 * (sorted.Length - 1);
                int below = (int)Math.Floor(position);
                double expected = below >= sorted.Length - 1 ? sorted[^1] : sorted[below] + ((position - below) * (sorted[below + 1] - sorted[below]));
                low.Should().BeApproximately(expected, 1e-9, $"n = {n}, p = {p}");
            }
        }
    }

    [Fact]
    public void PercentilesOfASample_AreTakenBeforeTheFit_SoPaddingDoesNotMoveThem()
    {
        // A 6³ volume padded into 14³ (92% padding): scaled by the percentiles of its own voxels, not of the padded input.
        var random = new Random(4);
        var voxels = Enumerable.Range(0, 216).Select(_ => (float)(50 + (random.NextDouble() * 100))).ToArray();
        NiftiWriter.Write(Path.Combine(Directory.CreateDirectory(Path.Combine(_root, "a")).FullName, "v.nii.gz"), new NiftiImage(voxels, [6, 6, 6]));
        var source = VolumeFolderSource.FromSubfolders(_root, 14, 14, 14, fit: VolumeFit.CropOrPad, intensityPercentiles: (5, 95));
        var image = source.Load(0).Image;
        var expected = ScaleIntensity.FromPercentiles(5, 95).Apply(new NiftiImage((float[])voxels.Clone(), [6, 6, 6]).ToFloatImage(), new Random(0));
        for (int z = 0; z < 6; z++)
            for (int y = 0; y < 6; y++)
                for (int x = 0; x < 6; x++)
                    image.Data[(((z + 4) * 14) + y + 4) * 14 + x + 4].Should().BeApproximately(expected.Data[(((z * 6) + y) * 6) + x], 1e-5f);
        image.Data[0].Should().Be(0, "padding holds the volume's minimum, below its 5th percentile");
    }
}
