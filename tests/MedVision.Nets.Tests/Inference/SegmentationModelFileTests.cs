using System.Text.Json;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Inference;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class SegmentationModelFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mv-segfile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly NiftiSegmentationOptions Preparation = new()
    {
        Orientation = "LPS",
        Spacing = [1f, 1f, 2f],
        Normalization = new NormalizeIntensity(nonZero: true, channelWise: true),
    };

    private static UNet Network() => UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithInstanceNorm().WithLeakyReLU(0.1).WithUpsampling(UNetUpsampling.Interpolation).WithClasses(2).Build();

    [Fact]
    public void SavedFile_RebuildsThePredictor_ThatSegmentsAsTheOriginal()
    {
        using var model = Network();
        var window = new SlidingWindowInferer([8, 8, 8], overlap: 0.25);
        var card = SegmentationModelFile.Describe(model, Preparation, ["background", "lesion"], window, ["MRI", "PET"], new Dictionary<string, double> { ["val_dice"] = 0.5 });
        var path = Path.Combine(_folder, "sub", "unet.safetensors");
        SegmentationModelFile.Save(path, model, card);
        Directory.GetFiles(Path.GetDirectoryName(path)!).Should().Equal(path);

        var read = SegmentationModelFile.ReadCard(path);
        read.Features.Should().Equal(4, 8);
        read.Normalization.Should().Be("instance");
        read.LeakySlope.Should().Be(0.1);
        read.Upsampling.Should().Be("interpolation");
        read.Orientation.Should().Be("LPS");
        read.Spacing.Should().Equal(1f, 1f, 2f);
        read.IntensityNormalization!.NonZero.Should().BeTrue();
        read.WindowSize.Should().Equal(8, 8, 8);
        read.Overlap.Should().Be(0.25);
        read.Modalities.Should().Equal("MRI", "PET");
        read.Metrics!["val_dice"].Should().Be(0.5);

        var subject = new PhantomGenerator(size: 16, seed: 2).Generate(1);
        NiftiImage[] scan = [new NiftiImage(subject.Mri, [16, 16, 16], [1f, 1f, 1.5f]), new NiftiImage(subject.Pet, [16, 16, 16], [1f, 1f, 1.5f])];
        var direct = new SegmentationPredictor(model, Preparation, window).Predict(scan);
        using var loaded = SegmentationPredictor.Load(path);
        loaded.ClassNames.Should().Equal("background", "lesion");
        loaded.Predict(scan).Voxels.Should().Equal(direct.Voxels, "the same network, preparation and window");
    }

    [Fact]
    public void Describe_RefusesWhatTheFileCouldNotReproduce()
    {
        using var model = Network();
        var window = new SlidingWindowInferer([8, 8, 8]);
        var act = () => SegmentationModelFile.Describe(model, Preparation, ["background"], window);
        act.Should().Throw<ArgumentException>().WithMessage("*2 outputs but 1 class names*");
        act = () => SegmentationModelFile.Describe(model, Preparation, ["a", "b"], new SlidingWindowInferer([8, 8, 7]));
        act.Should().Throw<ArgumentException>().WithMessage("*multiple of the network's 2*");
        act = () => SegmentationModelFile.Describe(model, new NiftiSegmentationOptions { Normalization = new ScaleIntensity() }, ["a", "b"], window);
        act.Should().Throw<ArgumentException>().WithMessage("*NormalizeIntensity or a Normalize normalisation, not ScaleIntensity*");
        act = () => SegmentationModelFile.Describe(model, new NiftiSegmentationOptions { Normalization = new Normalize([0.5f, 0.5f, 0.5f], [1f, 1f, 1f]) }, ["a", "b"], window);
        act.Should().Throw<ArgumentException>().WithMessage("*3 means for a network of 2 channels*");
        act = () => SegmentationModelFile.Describe(model, Preparation, ["a", "b"], new SlidingWindowInferer([8, 8, 8], padding: PaddingMode.Reflect));
        act.Should().Throw<ArgumentException>().WithMessage("*pad inputs smaller than the window with zeros*");
        act = () => SegmentationModelFile.Describe(model, Preparation, ["a", "b"], window, ["MRI"]);
        act.Should().Throw<ArgumentException>().WithMessage("*2 channels but 1 modalities*");
        using var sigmoid = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(1).Build();
        act = () => SegmentationModelFile.Describe(sigmoid, Preparation, ["lesion"], window);
        act.Should().Throw<ArgumentException>().WithMessage("*one output channel (a sigmoid) segments two classes*1 class names*").Which.ParamName.Should().Be("classNames");
        act = () => SegmentationModelFile.Describe(model, new ImageSegmentationOptions { Channels = 1 }, ["a", "b"], new SlidingWindowInferer([8, 8]));
        act.Should().Throw<ArgumentException>().WithMessage("*Images need a 2-D U-Net; this one is 3-D*");
        using var other = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(2).Build();
        var card = SegmentationModelFile.Describe(model, Preparation, ["a", "b"], window);
        var save = () => SegmentationModelFile.Save(Path.Combine(_folder, "x.safetensors"), other, card);
        save.Should().Throw<ArgumentException>().WithMessage("*does not describe this network*");
        File.Exists(Path.Combine(_folder, "x.safetensors")).Should().BeFalse();
    }

    [Fact]
    public void BadFiles_AreRefusedByName()
    {
        using var model = Network();
        var card = SegmentationModelFile.Describe(model, Preparation, ["a", "b"], new SlidingWindowInferer([8, 8, 8]));
        string Write(string name, string? json, IReadOnlyDictionary<string, Tensor>? weights = null)
        {
            var path = Path.Combine(_folder, name);
            var metadata = new Dictionary<string, string> { ["format"] = "pt" };
            if (json is not null) metadata[SegmentationModelFile.MetadataKey] = json;
            SafeTensors.Save(path, weights ?? model.StateDict(), metadata);
            return path;
        }
        string Edited(Action<SegmentationCard> edit)
        {
            var copy = JsonSerializer.Deserialize<SegmentationCard>(JsonSerializer.Serialize(card))!;
            edit(copy);
            return JsonSerializer.Serialize(copy);
        }

        var plain = Write("plain.safetensors", null);
        var act = () => SegmentationPredictor.Load(plain);
        act.Should().Throw<ModelFormatException>().WithMessage("*plain.safetensors holds no segmentation card*");
        act = () => SegmentationPredictor.Load(Write("json.safetensors", "{ not json"));
        act.Should().Throw<ModelFormatException>().WithMessage("*json.safetensors is not valid JSON*");
        act = () => SegmentationPredictor.Load(Write("future.safetensors", Edited(c => c.FormatVersion = 9)));
        act.Should().Throw<ModelFormatException>().WithMessage("*format version 9 is newer*");
        act = () => SegmentationPredictor.Load(Write("arch.safetensors", Edited(c => c.Architecture = "resnet")));
        act.Should().Throw<ModelFormatException>().WithMessage("*architecture 'resnet'*");
        act = () => SegmentationPredictor.Load(Write("window.safetensors", Edited(c => c.WindowSize = [8, 8])));
        act.Should().Throw<ModelFormatException>().WithMessage("*window_size needs 3 positive sizes*");
        act = () => SegmentationPredictor.Load(Write("odd.safetensors", Edited(c => c.WindowSize = [8, 8, 5])));
        act.Should().Throw<ModelFormatException>().WithMessage("*not a multiple of the network's 2*");
        act = () => SegmentationPredictor.Load(Write("orient.safetensors", Edited(c => c.Orientation = "QQQ")));
        act.Should().Throw<ModelFormatException>().WithMessage("*'QQQ' is not a set of axis codes*");
        act = () => SegmentationPredictor.Load(Write("features.safetensors", Edited(c => c.Features = [4, 16])));
        act.Should().Throw<ModelFormatException>().WithMessage("*weights in*features.safetensors do not fit the U-Net*");
        act = () => SegmentationPredictor.Load(Write("nullfeatures.safetensors", Edited(c => c.Features = null!)));
        act.Should().Throw<ModelFormatException>().WithMessage("*lists no features*");
        act = () => SegmentationPredictor.Load(Path.Combine(_folder, "missing.safetensors"));
        act.Should().Throw<FileNotFoundException>();

        // Format 2's fields.
        var bad = new (string Name, Action<SegmentationCard> Edit, string Message)[]
        {
            ("output", c => c.Output = "relu", "*output 'relu' is not 'softmax' or 'sigmoid'*"),
            ("sigmoid3", c => { c.Output = "sigmoid"; c.FormatVersion = 2; c.ClassNames = ["a", "b", "c"]; }, "*sigmoid network segments two classes, but it names 3*"),
            ("batch", c => { c.WindowBatchSize = 0; c.FormatVersion = 2; }, "*window_batch_size 0 is not in [1, 4096]*"),
            ("blend", c => { c.WindowBlending = "median"; c.FormatVersion = 2; }, "*window_blending 'median'*"),
            ("sigma", c => { c.SigmaScale = 0.2; c.FormatVersion = 2; }, "*sigma_scale 0.2 needs Gaussian blending*"),
            ("size3d", c => { c.ImageSize = [8, 8]; c.FormatVersion = 2; }, "*image_size needs a 2-D network*"),
            ("meanonly", c => { c.Mean = [0.5f]; c.FormatVersion = 2; }, "*only one of mean and std*"),
            ("meanstd", c => { c.Mean = [0.5f, 0.5f, 0.5f]; c.Std = [1f, 1f, 1f]; c.IntensityNormalization = null; c.FormatVersion = 2; }, "*one value, or one per channel (2)*"),
            ("both", c => { c.Mean = [0.5f]; c.Std = [0.25f]; c.FormatVersion = 2; }, "*both intensity_normalization and mean/std*"),
            ("zerostd", c => { c.Mean = [0.5f]; c.Std = [0f]; c.IntensityNormalization = null; c.FormatVersion = 2; }, "*standard deviations must be positive*"),
            ("long", c => c.WindowSize = [8, 4096, 8], "*window_size [8, 4096, 8] exceeds 2048 along an axis*"),
            ("large", c => c.WindowSize = [512, 512, 512], "*exceeds 2048 along an axis or 16,777,216 elements in all*"),
            ("v1sigmoid", c => c.WindowBatchSize = 4, "*says format 1 but uses fields of format 2*"),
        };
        foreach (var (name, edit, message) in bad)
        {
            act = () => SegmentationPredictor.Load(Write(name + ".safetensors", Edited(edit)));
            act.Should().Throw<ModelFormatException>().WithMessage(message, name);
        }
    }

    [Fact]
    public void FormatOneFiles_StillLoad_AndNewFieldsAreWrittenAsFormatTwo()
    {
        using var model = Network();
        var window = new SlidingWindowInferer([8, 8, 8]);
        var plainCard = SegmentationModelFile.Describe(model, Preparation, ["a", "b"], window);
        plainCard.FormatVersion.Should().Be(1, "nothing in it needs format 2, so older readers still take it");
        // A card as the first version wrote it: no output, no window batch or blending fields.
        var json = JsonSerializer.Serialize(plainCard);
        using (var document = JsonDocument.Parse(json))
        {
            var fields = document.RootElement.EnumerateObject().Where(p => p.Name is not ("output" or "window_batch_size" or "window_blending")).ToDictionary(p => p.Name, p => p.Value.Clone());
            json = JsonSerializer.Serialize(fields);
        }
        json.Should().NotContain("output").And.NotContain("window_batch");
        var path = Path.Combine(_folder, "v1.safetensors");
        SafeTensors.Save(path, model.StateDict(), new Dictionary<string, string> { ["format"] = "pt", [SegmentationModelFile.MetadataKey] = json });
        var read = SegmentationModelFile.ReadCard(path);
        read.Output.Should().Be("softmax");
        read.WindowBatchSize.Should().Be(1);
        read.Inferer().Blending.Should().Be(WindowBlending.Constant);

        var batched = SegmentationModelFile.Describe(model, Preparation, ["a", "b"], new SlidingWindowInferer([8, 8, 8], 0.5, windowBatchSize: 4, blending: WindowBlending.Gaussian, sigmaScale: 0.25));
        batched.FormatVersion.Should().Be(2);
        var batchedPath = Path.Combine(_folder, "v2.safetensors");
        SegmentationModelFile.Save(batchedPath, model, batched);
        var inferer = SegmentationModelFile.ReadCard(batchedPath).Inferer();
        inferer.WindowBatchSize.Should().Be(4);
        inferer.Blending.Should().Be(WindowBlending.Gaussian);
        inferer.SigmaScale.Should().Be(0.25);
        inferer.Overlap.Should().Be(0.5);
    }

    [Fact]
    public void SigmoidNetworks_AreSaved_AndSegmentWhereTheirLogitIsPositive()
    {
        Tensors.ManualSeed(5);
        using var model = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(1).Build();
        var window = new SlidingWindowInferer([16, 16, 16]);
        var asStored = new NiftiSegmentationOptions { Orientation = null, Normalization = new NormalizeIntensity(nonZero: true, channelWise: true) };
        var subject = new PhantomGenerator(size: 16, seed: 3).Generate(0);
        NiftiImage[] scan = [new NiftiImage(subject.Mri, [16, 16, 16]), new NiftiImage(subject.Pet, [16, 16, 16])];
        var prepared = asStored.PrepareChannels(scan, "scan").Image;
        ImageSegmentationPredictorTests.CentreSigmoid(model, new SlidingWindowInferer([16, 16, 16]), prepared.Data, 1, 2, 16, 16, 16);
        var card = SegmentationModelFile.Describe(model, asStored, ["background", "lesion"], window);
        card.Output.Should().Be("sigmoid");
        card.FormatVersion.Should().Be(2);
        var path = Path.Combine(_folder, "sigmoid.safetensors");
        SegmentationModelFile.Save(path, model, card);

        using var predictor = SegmentationPredictor.Load(path);
        predictor.Classes.Should().Be(2);
        var map = predictor.Predict(scan);
        model.Eval();
        float[] logits;
        using (var noGrad = Tensors.NoGrad())
        using (var scope = Tensors.NewDisposeScope())
            logits = model.Call(Tensors.FromArray(prepared.Data, 1, 2, 16, 16, 16)).ToArray<float>();
        var expected = logits.Select(v => v > 0 ? 1f : 0f).ToArray();
        map.Shape.Should().Equal(16, 16, 16);
        map.Voxels.ToArray().Should().Equal(expected, "one logit: the lesion where it is positive, as the trainer validates it");
        expected.Should().Contain(0f).And.Contain(1f, "an untrained network still splits the scan, so both branches are compared");
    }

    [Fact]
    public void EnsemblesOfSigmoidNetworks_AverageTheMembersProbabilities()
    {
        var asStored = new NiftiSegmentationOptions { Orientation = null, Normalization = new NormalizeIntensity(nonZero: true, channelWise: true) };
        var window = new SlidingWindowInferer([8, 8, 8], overlap: 0.25);
        var paths = new List<string>();
        foreach (var seed in new[] { 41, 42, 43 })
        {
            Tensors.ManualSeed((ulong)seed);
            using var member = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(1).Build();
            var path = Path.Combine(_folder, $"sigmoid{seed}.safetensors");
            SegmentationModelFile.Save(path, member, SegmentationModelFile.Describe(member, asStored, ["background", "lesion"], window, ["MRI", "PET"]));
            paths.Add(path);
        }
        var subject = new PhantomGenerator(size: 12, seed: 6).Generate(1);
        NiftiImage[] scan = [new NiftiImage(subject.Mri, [12, 12, 12]), new NiftiImage(subject.Pet, [12, 12, 12])];
        var members = paths.Select(p =>
        {
            using var predictor = SegmentationPredictor.Load(p);
            return predictor.PredictProbabilities(scan)[1].Voxels.ToArray();
        }).ToArray();
        using var ensemble = SegmentationPredictor.LoadEnsemble(paths);
        ensemble.EnsembleSize.Should().Be(3);
        var mean = ensemble.PredictProbabilities(scan)[1].Voxels.ToArray();
        mean.Select(v => (double)v).Should().Equal(Enumerable.Range(0, mean.Length).Select(i => members.Average(m => (double)m[i])), (a, b) => Math.Abs(a - b) < 1e-5);
        ensemble.Predict(scan).Voxels.ToArray().Should().Equal(mean.Select(p => p > 0.5f ? 1f : 0f), "the structure where the mean probability exceeds one half");
        var act = () => SegmentationPredictor.LoadEnsemble([paths[0], Path.Combine(_folder, "absent.safetensors")]);
        act.Should().Throw<FileNotFoundException>();
    }

    [Fact]
    public void OnePredictor_ServesManyThreads_WithTheSerialResults()
    {
        using var model = Network();
        var path = Path.Combine(_folder, "threads.safetensors");
        SegmentationModelFile.Save(path, model, SegmentationModelFile.Describe(model, Preparation, ["a", "b"], new SlidingWindowInferer([8, 8, 8])));
        using var predictor = SegmentationPredictor.Load(path);
        predictor.Flips = TestTimeFlips.Horizontal;
        var scans = new PhantomGenerator(size: 12, seed: 4).Generate(0, 4)
            .Select(s => (IReadOnlyList<NiftiImage>)[new NiftiImage(s.Mri, [12, 12, 12]), new NiftiImage(s.Pet, [12, 12, 12])]).ToArray();
        // Probabilities (an untrained network may label every scan alike; its probabilities still differ) and labels.
        float[] Outputs(IReadOnlyList<NiftiImage> scan) => [.. predictor.PredictProbabilities(scan)[1].Voxels.ToArray(), .. predictor.Predict(scan).Voxels.ToArray()];
        var serial = scans.Select(Outputs).ToArray();
        serial.Select(v => string.Join(",", v)).Distinct().Should().HaveCount(4, "different scans, so a mix-up between threads would show");

        static long SettledLiveTensors() { NativeHeap.Settle(); return Tensors.LiveTensors; }
        var liveBefore = SettledLiveTensors();
        int mismatches = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            for (int i = 0; i < 25; i++)
            {
                int index = (t + i) % scans.Length;
                if (!Outputs(scans[index]).SequenceEqual(serial[index])) Interlocked.Increment(ref mismatches);
            }
        });
        mismatches.Should().Be(0);
        SettledLiveTensors().Should().Be(liveBefore);
        predictor.Dispose();
        var disposed = () => predictor.Predict(scans[0]);
        disposed.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void ADeeplySupervisedNetwork_IsSavedWithoutItsTrainingHeads_AndLoadsToTheSamePredictions()
    {
        Tensors.ManualSeed(17);
        using var model = UNet.Builder().ForInput(2, 3).WithFeatures(2, 4, 4).WithInstanceNorm().WithDeepSupervision().WithClasses(2).Build();
        var card = SegmentationModelFile.Describe(model, Preparation, ["background", "lesion"], new SlidingWindowInferer([8, 8, 8]));
        card.FormatVersion.Should().Be(1, "the heads are not part of the file, so nothing new is recorded");
        var path = Path.Combine(_folder, "supervised.safetensors");
        SegmentationModelFile.Save(path, model, card);
        using (var file = SafeTensors.Load(path))
        {
            file.Keys.Should().NotContain(k => k.StartsWith("supervision"));
            file.Keys.Should().Contain("head.weight");
        }
        var (loaded, _) = SegmentationModelFile.Load(path);
        using (loaded)
        {
            loaded.DeepSupervisionHeads.Should().Be(0);
            model.Eval();
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            var x = Tensors.Randn(1, 2, 8, 8, 8);
            (loaded.Forward(x) - model.Forward(x)).Abs().Max().Item().Should().Be(0);
        }
    }
}
