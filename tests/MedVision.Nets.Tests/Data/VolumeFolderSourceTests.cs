using MedVision.Nets.Data;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Transforms;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Data;

public sealed class VolumeFolderSourceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mvn-volumes-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Class(string name) => Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    // (X, Y, Z) = (5, 3, 4) with values x + 10 y + 100 z
    private static NiftiImage Ramp() => new(Enumerable.Range(0, 60).Select(i => (float)(i % 5 + 10 * (i / 5 % 3) + 100 * (i / 15))).ToArray(), new[] { 5, 3, 4 });

    private void CopyDicomSeries(string target)
    {
        Directory.CreateDirectory(target);
        foreach (var name in new[] { "a.dcm", "b.dcm", "c.dcm", "d.dcm" })
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "dicom", "series", name), Path.Combine(target, name));
    }

    [Fact]
    public void NiftiFilesAndDicomSeriesFolders_AreSamplesOfTheirClassFolder()
    {
        NiftiWriter.Write(Path.Combine(Class("AD"), "s1.nii.gz"), Ramp());
        NiftiWriter.Write(Path.Combine(Class("CN"), "s2.nii"), Ramp());
        CopyDicomSeries(Path.Combine(Class("CN"), "s3", "ct"));
        File.WriteAllText(Path.Combine(_root, "CN", "readme.txt"), "ignored");

        var source = VolumeFolderSource.FromSubfolders(_root, depth: 4, height: 3, width: 5);
        source.ClassNames.Should().Equal("AD", "CN");
        source.Samples.Select(s => (Path.GetFileName(s.Path), s.Label)).Should().Equal(("s1.nii.gz", 0), ("s2.nii", 1), ("ct", 1)); // by class, then by path
        source.Labels.Cast<int>().Should().Equal(0, 1, 1);

        var (image, labels) = source.Load(0);
        labels.Should().Equal(0);
        image.Shape.Should().Equal(1, 4, 3, 5);
        // at the stored size nothing is resampled: (v − min) / (max − min), in (D, H, W) = (z, y, x) order
        image.Data.Should().Equal(Ramp().Voxels.Select(v => v / 324f));

        var (dicom, dicomLabels) = source.Load(2);
        dicomLabels.Should().Equal(1);
        dicom.Shape.Should().Equal(1, 4, 3, 5);
        var stored = source.ReadVolume(2);
        stored.Orientation.Should().Be("LPS", "DICOM's patient axes");
        source.Orientation.Should().Be("RAS");
        var hu = stored.Reorient("RAS").Voxels;
        float min = hu.Min(), max = hu.Max();
        dicom.Data.Should().Equal(hu.Select(v => (v - min) / (max - min)));
    }

    [Fact]
    public void VolumesStoredInDifferentOrientations_LoadAlike_UnlessOrientationIsNull()
    {
        // The same anatomy stored twice: as RAS, and as LPS (x and y reversed, the affine saying so).
        var ras = new NiftiImage(Ramp().Voxels, new[] { 5, 3, 4 }, new[] { 1f, 1f, 1f },
            affine: new NiftiAffine(new double[,] { { 1, 0, 0, -2 }, { 0, 1, 0, -1 }, { 0, 0, 1, 0 } }));
        var lps = ras.Reorient("LPS");
        lps.Voxels.Should().NotEqual(ras.Voxels);
        NiftiWriter.Write(Path.Combine(Class("a"), "ras.nii.gz"), ras);
        NiftiWriter.Write(Path.Combine(_root, "a", "lps.nii.gz"), lps);

        var source = VolumeFolderSource.FromSubfolders(_root, 4, 3, 5);
        source.Samples.Select(x => Path.GetFileName(x.Path)).Should().Equal("lps.nii.gz", "ras.nii.gz");
        source.Load(0).Image.Data.Should().Equal(source.Load(1).Image.Data);

        var asStored = VolumeFolderSource.FromSubfolders(_root, 4, 3, 5, orientation: null);
        asStored.Load(0).Image.Data.Should().NotEqual(asStored.Load(1).Image.Data);
        FluentActions.Invoking(() => VolumeFolderSource.FromSubfolders(_root, 4, 3, 5, orientation: "RAA"))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("orientation");
    }

    [Fact]
    public void Volumes_AreResampledToTheRequestedSize_AndAFixedWindowClamps()
    {
        NiftiWriter.Write(Path.Combine(Class("a"), "v.nii.gz"), Ramp());
        var source = VolumeFolderSource.FromSubfolders(_root, depth: 8, height: 6, width: 10, window: (100, 200));
        var (image, _) = source.Load(0);
        image.Shape.Should().Equal(1, 8, 6, 10);
        image.Data.Should().OnlyContain(v => v >= 0 && v <= 1);
        image.Data[0].Should().Be(0, "0 lies at the window's lower edge");
        image.Data[^1].Should().Be(1, "324 lies above the window's upper edge (200)");
    }

    [Fact]
    public void A3dResNet_TrainsOnBatchesOfTheSource()
    {
        NiftiWriter.Write(Path.Combine(Class("a"), "v1.nii.gz"), Ramp());
        NiftiWriter.Write(Path.Combine(Class("b"), "v2.nii.gz"), Ramp());
        var source = VolumeFolderSource.FromSubfolders(_root, 8, 8, 8);
        var loader = new DataLoader(source, new DataLoaderOptions { BatchSize = 2 });
        using var scope = Tensors.NewDisposeScope();
        using var batch = loader.Epoch().First();
        batch.Images.Shape.Should().Equal(2, 1, 8, 8, 8);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 1, spatialDims: 3).WithClasses(2).Build();
        model.Call(batch.Images).Shape.Should().Equal(2, 2);
    }

    [Fact]
    public void EmptyOrMissingFolders_AreRefusedByName()
    {
        var missing = () => VolumeFolderSource.FromSubfolders(Path.Combine(_root, "nope"), 4, 4, 4);
        missing.Should().Throw<DirectoryNotFoundException>();
        var noClasses = () => VolumeFolderSource.FromSubfolders(_root, 4, 4, 4);
        noClasses.Should().Throw<DataFormatException>().WithMessage("*no class sub-folders*");
        File.WriteAllText(Path.Combine(Class("x"), "notes.txt"), "no volumes");
        var noVolumes = () => VolumeFolderSource.FromSubfolders(_root, 4, 4, 4);
        noVolumes.Should().Throw<DataFormatException>().WithMessage("*no NIfTI files or DICOM series*");
        var size = () => VolumeFolderSource.FromSubfolders(_root, 0, 4, 4);
        size.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Theory]
    [InlineData(true, null, false)]
    [InlineData(false, null, false)]
    [InlineData(false, true, false)]
    [InlineData(true, false, true)]
    [InlineData(false, null, true)]
    public void AModelFileOfTheSource_PredictsFromTheFiles_AsTrainingPreparedThem(bool window, bool? perVolumeNonZero, bool crop)
    {
        // Volumes resized (5×3×4 → 8×6×10) and scaled through a CT window or by min–max: the card records the window, and
        // the predictor prepares a file as the source does (orientation, resize, then the intensity mapping); then, when
        // the card says so, each volume normalised by its own statistics (over its non-zero voxels or all), then by the
        // card's mean and sd, as the training pipeline did. With crop, each volume is first cropped to its values above 150
        // (the last two of its four slices along the stored slowest axis, wherever reorienting puts them).
        var lps = Ramp().Reorient("LPS");
        NiftiWriter.Write(Path.Combine(Class("a"), "v1.nii.gz"), lps);
        NiftiWriter.Write(Path.Combine(Class("b"), "v2.nii.gz"), Ramp());
        var source = VolumeFolderSource.FromSubfolders(_root, 8, 6, 10, window: window ? (100, 200) : null, cropForeground: crop ? new CropForeground(150) : null);
        if (crop)
        {
            source.ForegroundCrop!.Threshold.Should().Be(150);
            var plain = VolumeFolderSource.FromSubfolders(_root, 8, 6, 10, window: window ? (100, 200) : null);
            source.Load(1).Image.Data.Should().NotEqual(plain.Load(1).Image.Data, "the crop changes what is resampled");
        }
        if (window) source.Window!.Value.Should().Be((100d, 200d));
        else source.Window.Should().BeNull();
        source.Size.Should().Be((8, 6, 10));
        Tensors.ManualSeed(3);
        using var model = ResNet.Builder().WithDepth(10).WithWidths(2, 2, 4, 4).ForInput(1, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build();
        var preprocessing = new PreprocessingCard
        {
            InputSize = new() { 8, 6, 10 }, Channels = 1, Mean = new() { 0.3f }, Std = new() { 0.2f }, Orientation = source.Orientation,
            IntensityWindow = source.Window is { } w ? new() { w.Center, w.Width } : null,
            IntensityNormalization = perVolumeNonZero is { } nz ? new IntensityNormalizationCard { NonZero = nz } : null,
            CropForeground = source.ForegroundCrop is { } f ? new ForegroundCropCard { Threshold = f.Threshold, Margin = f.Margin } : null,
        };
        source.DescribePreprocessing([0.3f], [0.2f], preprocessing.IntensityNormalization).Should().BeEquivalentTo(preprocessing, "the source describes the card written by hand");
        var card = ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary);
        if (perVolumeNonZero is null && !crop) card.FormatVersion.Should().Be(window ? 2 : 1, "a version-1 reader would scale by min–max instead of the window");
        else card.FormatVersion.Should().Be(3, "a version-2 reader would skip the per-volume normalisation and the crop");
        var path = Path.Combine(_root, "model.safetensors");
        ModelFile.Save(path, model, card);
        using var predictor = Predictor.Load(path);
        var pipeline = TransformPipeline.Create();
        if (perVolumeNonZero is { } nonZero) pipeline = pipeline.NormalizeIntensity(nonZero);
        var normalize = pipeline.Normalize(0.3f, 0.2f).Build();
        model.Eval();
        for (int i = 0; i < source.Count; i++)
        {
            var image = normalize.Apply(source.Load(i).Image, new Random(0));
            if (perVolumeNonZero is true) image.Data.Should().Contain(v => Math.Abs(v + 1.5f) < 1e-5f, "the volume's zeros stay zero before (x − 0.3) / 0.2");
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            var expected = model.Call(Tensors.FromArray(image.Data, 1, 1, 8, 6, 10)).Softmax(1).ToArray<float>();
            predictor.PredictFile(source.Samples[i].Path).Probabilities.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-6);
        }

        // A window that cannot map anything, or a crop that cannot be made, is refused by name.
        preprocessing.CropForeground = new ForegroundCropCard { Threshold = 0, Margin = -1 };
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_root, "bad.safetensors"), model, ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary)))
            .Should().Throw<ModelFormatException>().WithMessage("*foreground crop (threshold 0, margin -1)*");
        preprocessing.CropForeground = null;
        preprocessing.IntensityWindow = new() { 40, 0 };
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_root, "bad.safetensors"), model, ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary)))
            .Should().Throw<ModelFormatException>().WithMessage("*intensity window [40, 0]*");
    }

    [Fact]
    public void MultiContrastNiftiFiles_AreSamplesWithOneChannelPerVolume()
    {
        var multi = Path.Combine(AppContext.BaseDirectory, "Fixtures", "nifti", "multi_4d.nii.gz");
        var root = Directory.CreateTempSubdirectory("mvn-multi-").FullName;
        try
        {
            foreach (var (name, label) in new[] { ("a", "HGG"), ("b", "LGG") })
            {
                Directory.CreateDirectory(Path.Combine(root, label));
                File.Copy(multi, Path.Combine(root, label, name + ".nii.gz"));
            }
            var source = VolumeFolderSource.FromSubfolders(root, 2, 4, 3, orientation: null);
            source.Channels.Should().Be(3);
            var (image, labels) = source.Load(1);
            labels.Should().Equal(1);
            image.Shape.Should().Equal(3, 2, 4, 3);
            // the volumes stacked as channels and scaled together to [0, 1] by their joint minimum and maximum
            var stacked = MedVision.Nets.Data.Nifti.NiftiReader.ReadVolumes(multi).SelectMany(v => v.Voxels).ToArray();
            float min = stacked.Min(), max = stacked.Max();
            image.Data.Should().Equal(stacked.Select(v => (v - min) / (max - min)), (a, b) => Math.Abs(a - b) < 1e-6f);

            // a sample with another number of channels is refused by name
            MedVision.Nets.Data.Nifti.NiftiWriter.Write(Path.Combine(root, "LGG", "c.nii.gz"), new MedVision.Nets.Data.Nifti.NiftiImage(new float[24], new[] { 3, 4, 2 }));
            var mixed = VolumeFolderSource.FromSubfolders(root, 2, 4, 3, orientation: null);
            var act = () => mixed.Load(2);
            act.Should().Throw<DataFormatException>().WithMessage("*c.nii.gz*1 volume(s), but the first sample*holds 3*");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void SubjectFolders_WithNamedModalities_AreSamplesOfOneChannelPerModality()
    {
        var root = Directory.CreateTempSubdirectory("mvn-subjects-").FullName;
        try
        {
            var random = new Random(9);
            NiftiImage Volume(params int[] shape) => new(Enumerable.Range(0, shape[0] * shape[1] * shape[2]).Select(_ => (float)random.NextDouble() * 100).ToArray(), shape);
            var written = new Dictionary<string, NiftiImage>();
            void Subject(string label, string name, bool withT1Ce = true)
            {
                var folder = Directory.CreateDirectory(Path.Combine(root, label, name)).FullName;
                foreach (var (modality, volume) in new[] { ("flair", Volume(3, 4, 2)), ("t1", Volume(3, 4, 2)), ("t1ce", Volume(6, 8, 4)) })
                {
                    if (modality == "t1ce" && !withT1Ce) continue;
                    var path = Path.Combine(folder, $"{name}_{modality}.nii.gz");
                    NiftiWriter.Write(path, volume);
                    written[path] = volume;
                }
                File.WriteAllText(Path.Combine(folder, "notes.txt"), "not a volume");
            }
            Subject("HGG", "BraTS_001");
            Subject("LGG", "BraTS_002");
            var modalities = new[] { "t1ce", "FLAIR", "t1" }; // channel order as given, names case-insensitive; t1 is not t1ce
            var source = VolumeFolderSource.FromSubfolders(root, 2, 4, 3, orientation: null, modalities: modalities);
            source.Modalities.Should().Equal(modalities);
            source.Channels.Should().Be(3);
            source.Samples.Select(s => Path.GetFileName(s.Path)).Should().Equal("BraTS_001", "BraTS_002");
            var (image, labels) = source.Load(1);
            labels.Should().Equal(1);
            image.Shape.Should().Equal(3, 2, 4, 3);
            // the modalities lie on different grids (t1ce is finer): each resized on its own, then scaled together
            var resize = new Resize(2, 4, 3, ResizeMode.Linear);
            var channels = new[] { "t1ce", "flair", "t1" }.Select(m => resize.Apply(written[Path.Combine(root, "LGG", "BraTS_002", $"BraTS_002_{m}.nii.gz")].ToFloatImage(), new Random(0)).Data).SelectMany(v => v).ToArray();
            float min = channels.Min(), max = channels.Max();
            image.Data.Should().Equal(channels.Select(v => (v - min) / (max - min)), (a, b) => Math.Abs(a - b) < 1e-5f);
            var one = () => source.ReadVolume(0);
            one.Should().Throw<InvalidOperationException>().WithMessage("*subject folders of 3 modalities*ReadVolumes*");

            // a subject without one of them, or with one twice, is refused by name
            Subject("LGG", "BraTS_003", withT1Ce: false);
            var missing = () => VolumeFolderSource.FromSubfolders(root, 2, 4, 3, orientation: null, modalities: modalities);
            missing.Should().Throw<DataFormatException>().WithMessage("*BraTS_003*has no t1ce*BraTS_003_flair.nii.gz*");
            Directory.Delete(Path.Combine(root, "LGG", "BraTS_003"), recursive: true);
            NiftiWriter.Write(Path.Combine(root, "LGG", "BraTS_002", "t1.nii.gz"), Volume(3, 4, 2));
            var twice = () => VolumeFolderSource.FromSubfolders(root, 2, 4, 3, orientation: null, modalities: modalities);
            twice.Should().Throw<DataFormatException>().WithMessage("*BraTS_002*holds t1 more than once*");
            FluentActions.Invoking(() => VolumeFolderSource.FromSubfolders(root, 2, 4, 3, modalities: new[] { "t1", "T1" }))
                .Should().Throw<ArgumentException>().WithMessage("*named twice*");
            FluentActions.Invoking(() => VolumeFolderSource.FromSubfolders(root, 2, 4, 3, modalities: Array.Empty<string>()))
                .Should().Throw<ArgumentException>().WithMessage("*at least one modality*");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
