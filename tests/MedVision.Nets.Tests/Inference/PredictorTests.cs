using MedVision.Nets.Blocks;
using System.Text.Json;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch.Tests.Support;
using MedVision.Torch;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Inference;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class PredictorTests : IDisposable
{
    private static readonly string[] Grades = { "grade 0", "grade 1", "grade 2", "grade 3", "grade 4" };
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-predictor-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ResNet TinyResNet() => ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();

    private static PreprocessingCard Preprocessing28 => new() { InputSize = new() { 28, 28 }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.5f }, Resize = "linear" };

    private string SaveTiny(out ResNet model)
    {
        Tensors.ManualSeed(4);
        model = TinyResNet();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.OrdinalRegression, new Dictionary<string, double> { ["val_auc"] = 0.7 });
        var path = Path.Combine(_dir, "tiny.safetensors");
        ModelFile.Save(path, model, card);
        return path;
    }

    [Fact]
    public void ADilatedResNet_RebuildsFromItsModelFile_WithItsDilation()
    {
        using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Bottleneck, 1, 2, 2).WithWidths(4, 8, 16).ForInput(3).WithSmallInputStem()
            .ReplaceStrideWithDilation(false, true).WithClasses(5).Build();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.MultiClass);
        card.ResNet!.ReplaceStrideWithDilation.Should().Equal(false, true);
        card.FormatVersion.Should().Be(2, "a format-1 reader would build the network without the dilation");
        var path = Path.Combine(_dir, "dilated.safetensors");
        ModelFile.Save(path, model, card);
        var (loaded, _) = ModelFile.Load(path);
        using (loaded)
        {
            ((ResNet)loaded).Options.ReplaceStrideWithDilation.Should().Equal(false, true);
            model.Eval();
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            var x = Tensors.Randn(2, 3, 28, 28);
            (loaded.Call(x) - model.Call(x)).Abs().Max().Item().Should().Be(0);
        }
        // A card of a plain network does not mention the option (nor does an all-false list raise the format).
        using var plain = TinyResNet();
        ModelFile.RequiredFormatVersion(new ModelCard { ResNet = new ResNetCard { ReplaceStrideWithDilation = new() { false, false } } }).Should().Be(1);
        File.ReadAllText(Path.Combine(_dir, "dilated.safetensors")).Should().Contain("replace_stride_with_dilation");
        JsonSerializer.Serialize(ModelFile.Describe(plain, Preprocessing28, Grades, MedMnistTask.MultiClass)).Should().NotContain("replace_stride_with_dilation");
    }

    [Fact]
    public void AMedicalNetLayout_RebuildsFromItsModelFile_InCardFormat2()
    {
        // Stage strides, dilated basic blocks and the zero-padding shortcut: options a format-1 reader would not know, so
        // the card says format 2 (a plain network's card stays at 1 for older readers).
        using var model = MedicalNet.CreateBuilder(18).WithWidths(4, 8, 16, 32).WithClasses(2).Build();
        var preprocessing = new PreprocessingCard { InputSize = new() { 20, 20, 20 }, Channels = 1, Mean = new() { 0f }, Std = new() { 1f }, Resize = "linear" };
        var card = ModelFile.Describe(model, preprocessing, new[] { "healthy", "lesion" }, MedMnistTask.MultiClass);
        card.FormatVersion.Should().Be(2);
        card.ResNet!.StageStrides.Should().Equal(1, 2, 1, 1);
        card.ResNet.StageDilations.Should().Equal(1, 1, 2, 4);
        card.ResNet.Shortcut.Should().Be("zero_padding");
        var path = Path.Combine(_dir, "medicalnet.safetensors");
        ModelFile.Save(path, model, card);
        var (loaded, _) = ModelFile.Load(path);
        using (loaded)
        {
            var options = ((ResNet)loaded).Options;
            options.Shortcut.Should().Be(ResidualShortcut.ZeroPadding);
            options.StageDilations.Should().Equal(1, 1, 2, 4);
            model.Eval();
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            var x = Tensors.Randn(2, 1, 20, 20, 20);
            (loaded.Call(x) - model.Call(x)).Abs().Max().Item().Should().Be(0);
        }
        using (var plain = TinyResNet())
            ModelFile.Describe(plain, Preprocessing28, Grades, MedMnistTask.MultiClass).FormatVersion.Should().Be(1);

        card.ResNet.Shortcut = "mirror";
        var unknown = Path.Combine(_dir, "mirror.safetensors");
        SafeTensors.Save(unknown, model.StateDict(), new Dictionary<string, string> { [ModelFile.MetadataKey] = JsonSerializer.Serialize(card) });
        FluentActions.Invoking(() => ModelFile.Load(unknown)).Should().Throw<ModelFormatException>().WithMessage("*unknown ResNet shortcut 'mirror'*");
    }

    [Fact]
    public void SavedModelRebuildsFromTheFileAloneAndPredictsLikeTheOriginal()
    {
        var path = SaveTiny(out var original);
        using var _ = original;
        using var predictor = Predictor.Load(path);
        predictor.Card.ResNet!.Widths.Should().Equal(8, 16, 32, 64);
        predictor.CanExplain.Should().BeTrue();
        predictor.Card.Metrics["val_auc"].Should().Be(0.7);
        predictor.Card.LibraryVersion.Should().NotBeNullOrEmpty();

        var split = MedMnistDataset.LoadEmbeddedRetinaMnist().Test;
        var pixels = split.GetImage(3).ToArray();
        var prediction = predictor.PredictPixels(pixels, 28, 28, 3);

        using var scope = Tensors.NewDisposeScope();
        original.Eval();
        var x = FloatImage.FromBytesHwc(pixels, 28, 28, 3);
        new Normalize(new[] { 0.5f }, new[] { 0.5f }).Apply(x, new Random(0));
        using var noGrad = Tensors.NoGrad();
        var expected = original.Call(Tensors.FromArray(x.Data, 1, 3, 28, 28)).Softmax(1).ToArray<float>();
        prediction.Probabilities.Should().Equal(expected);
        prediction.Label.Should().Be(Array.IndexOf(expected, expected.Max()));
        prediction.LabelName.Should().Be(Grades[prediction.Label]);
        prediction.Grade.Should().Be(prediction.Label);
        prediction.ExpectedGrade.Should().BeApproximately(expected.Select((p, k) => (double)p * k).Sum(), 1e-6);
    }

    [Fact]
    public void MixedPrecision_GivesFloat32ProbabilitiesCloseToFullPrecision()
    {
        var path = SaveTiny(out var original);
        original.Dispose();
        using var full = Predictor.Load(path);
        using var mixed = Predictor.Load(path, mixedPrecision: true);
        mixed.MixedPrecision.Should().BeTrue();
        full.MixedPrecision.Should().BeFalse();
        var split = MedMnistDataset.LoadEmbeddedRetinaMnist().Test;
        double largest = 0;
        for (int i = 0; i < 8; i++)
        {
            var pixels = split.GetImage(i).ToArray();
            var a = full.PredictPixels(pixels, 28, 28, 3).Probabilities;
            var b = mixed.PredictPixels(pixels, 28, 28, 3).Probabilities;
            b.Sum().Should().BeApproximately(1f, 1e-5f, "softmax runs in float32");
            largest = Math.Max(largest, a.Zip(b, (x, y) => Math.Abs(x - y)).Max());
        }
        largest.Should().BeGreaterThan(0, "the network ran in bfloat16").And.BeLessThan(0.03);
        Tensors.AutocastState().Enabled.Should().BeFalse();
    }

    [Fact]
    public void PredictsFromEncodedFilesAndStreams()
    {
        var path = SaveTiny(out var original);
        original.Dispose();
        using var predictor = Predictor.Load(path);
        var split = MedMnistDataset.LoadEmbeddedRetinaMnist().Test;
        var png = Path.Combine(_dir, "a.png");
        MedVision.Nets.Data.Images.ImageCodec.Save(png, new MedVision.Nets.Data.Images.RasterImage(28, 28, 3, split.GetImage(0).ToArray()));
        var fromFile = predictor.PredictFile(png);
        using var stream = File.OpenRead(png);
        predictor.Predict(stream).Probabilities.Should().Equal(fromFile.Probabilities);
        predictor.PredictPixels(split.GetImage(0).ToArray(), 28, 28, 3).Probabilities.Should().Equal(fromFile.Probabilities, "PNG is lossless");
        predictor.PredictFiles(new[] { png, png }).Should().HaveCount(2);
    }

    [Fact]
    public void BadFilesGiveClearExceptions()
    {
        var path = SaveTiny(out var model);
        using var _ = model;
        var weightsOnly = Path.Combine(_dir, "weights.safetensors");
        SafeTensors.Save(weightsOnly, model.StateDict());
        FluentActions.Invoking(() => Predictor.Load(weightsOnly)).Should().Throw<ModelFormatException>().WithMessage("*no model card*");
        if (!Tensors.Cuda.IsAvailable)
        {
            FluentActions.Invoking(() => Predictor.Load(path, Device.Cuda())).Should().Throw<ArgumentException>()
                .Which.Message.Should().Contain("cuda:0 was requested").And.Contain(Tensors.Cuda.UnavailableReason!);
        }

        var card = ModelFile.ReadCard(path);
        card.FormatVersion = 99;
        var newer = Path.Combine(_dir, "newer.safetensors");
        SafeTensors.Save(newer, model.StateDict(), new Dictionary<string, string> { [ModelFile.MetadataKey] = JsonSerializer.Serialize(card) });
        FluentActions.Invoking(() => Predictor.Load(newer)).Should().Throw<ModelFormatException>().WithMessage("*format 99*newer*");

        card = ModelFile.ReadCard(path);
        card.Architecture = "vit";
        var unknown = Path.Combine(_dir, "vit.safetensors");
        SafeTensors.Save(unknown, model.StateDict(), new Dictionary<string, string> { [ModelFile.MetadataKey] = JsonSerializer.Serialize(card) });
        FluentActions.Invoking(() => Predictor.Load(unknown)).Should().Throw<ModelFormatException>().WithMessage("*'vit'*");

        card = ModelFile.ReadCard(path);
        card.ClassNames.Add("grade 5");
        card.ResNet!.NumClasses = card.ClassNames.Count;
        var mismatch = Path.Combine(_dir, "mismatch.safetensors");
        SafeTensors.Save(mismatch, model.StateDict(), new Dictionary<string, string> { [ModelFile.MetadataKey] = JsonSerializer.Serialize(card) });
        FluentActions.Invoking(() => Predictor.Load(mismatch)).Should().Throw<ModelFormatException>().WithMessage("*do not fit*shape mismatches*");
    }

    // NaN in, NaN probabilities out, and the argmax of NaNs is class 0: a confident-looking "grade 0" for a corrupt
    // image. Found by the FormatFuzzer predictor mode; refused now, naming the image and the element, on every path.
    [Fact]
    public void NonFiniteInputsAreRefusedNotPredictedAsClassZero()
    {
        var path = SaveTiny(out var model);
        model.Dispose();
        using var predictor = Predictor.Load(path);
        long live = Tensors.LiveTensors;
        var clean = new FloatImage(Enumerable.Range(0, 3 * 28 * 28).Select(i => (i % 17) / 17f).ToArray(), 3, 28, 28);
        var bad = new FloatImage((float[])clean.Data.Clone(), 3, 28, 28);
        bad.Data[100] = float.NaN;
        FluentActions.Invoking(() => predictor.Predict(bad)).Should().Throw<ArgumentException>().WithMessage("*Image 0 of 1 holds NaN at element 100*");
        FluentActions.Invoking(() => predictor.Predict(new[] { clean, bad })).Should().Throw<ArgumentException>().WithMessage("*Image 1 of 2*");
        bad.Data[100] = float.PositiveInfinity;
        FluentActions.Invoking(() => predictor.Explain(bad)).Should().Throw<ArgumentException>().WithMessage("*holds Infinity at element 100*");
        using (var scope = Tensors.NewDisposeScope())
        {
            var batch = Tensors.Zeros(2, 3, 28, 28);
            batch[1, 0, 5, 5].FillInPlace(double.NaN);
            FluentActions.Invoking(() => predictor.PredictTensor(batch)).Should().Throw<ArgumentException>().WithMessage("*Sample 1 of the batch*");
        }
        Tensors.LiveTensors.Should().Be(live, "a refused call leaves nothing behind");
        predictor.Predict(clean).Probabilities.Should().OnlyContain(p => float.IsFinite(p));
    }

    [Fact]
    public void ImagesOfTheWrongChannelCountOrRank_AreRefusedNamingTheArgument()
    {
        var path = SaveTiny(out var model);
        model.Dispose();
        using var predictor = Predictor.Load(path);
        var two = new FloatImage(new float[2 * 28 * 28], 2, 28, 28);
        FluentActions.Invoking(() => predictor.Predict(two)).Should().Throw<ArgumentException>()
            .WithMessage("Image 0 of 1 has 2 channel(s); the model expects 3 (or 1, repeated).*").Which.ParamName.Should().Be("images");
        FluentActions.Invoking(() => predictor.Explain(two)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("image");
        var volume = new FloatImage(new float[3 * 4 * 28 * 28], 3, 4, 28, 28);
        FluentActions.Invoking(() => predictor.Predict(volume)).Should().Throw<ArgumentException>()
            .WithMessage("Image 0 of 1 has shape [3, 4, 28, 28]; the model takes images (C, H, W).*");
        predictor.Predict(new FloatImage(new float[28 * 28], 1, 28, 28)).Probabilities.Should().HaveCount(5, "a grey image is repeated to RGB");
    }

    [Fact]
    public void CardsThatDoNotFitTheWeights_AreRefusedBeforeAnythingIsBuilt()
    {
        var path = SaveTiny(out var model);
        using var _ = model;
        string Save(string name, Action<ModelCard> change)
        {
            var card = ModelFile.ReadCard(path);
            change(card);
            var file = Path.Combine(_dir, name);
            SafeTensors.Save(file, model.StateDict(), new Dictionary<string, string> { [ModelFile.MetadataKey] = JsonSerializer.Serialize(card) });
            return file;
        }

        // A million blocks would take minutes (and gigabytes) to build before the strict load could refuse them; this
        // message comes only from the comparison made before anything is built (the strict load names missing keys).
        var huge = Save("huge.safetensors", c => c.ResNet!.Layers = new() { 1_000_000, 2, 2, 2 });
        FluentActions.Invoking(() => Predictor.Load(huge)).Should().Throw<ModelFormatException>().WithMessage($"*{huge}*do not fit*1000000 blocks in layer1, the weights 2*");
        FluentActions.Invoking(() => Predictor.Load(Save("stages.safetensors", c => c.ResNet!.Layers = new() { 2, 2, 2 })))
            .Should().Throw<ModelFormatException>().WithMessage("*3 stages, the weights 4*");
        FluentActions.Invoking(() => Predictor.Load(Save("width.safetensors", c => c.ResNet!.Widths = new() { 8, 16, 32, 128 })))
            .Should().Throw<ModelFormatException>().WithMessage("*layer4 a width of 128, the weights 64*");
        FluentActions.Invoking(() => Predictor.Load(Save("channels.safetensors", c => { c.ResNet!.InChannels = 1; c.Preprocessing.Channels = 1; })))
            .Should().Throw<ModelFormatException>().WithMessage("*1 input channel(s)*[8, 3, 3, 3]*");
        // An infinite mean made every prediction NaN; since the transforms refuse one, the card check names it (found by
        // the card fuzzer once Normalize refused non-finite means with an ArgumentOutOfRangeException).
        // JSON has no NaN, but 1e39 overflows a float to infinity when the card is read.
        string SaveJson(string name, string pointer, string number)
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(ModelFile.ReadCard(path)))!;
            json["preprocessing"]![pointer] = System.Text.Json.Nodes.JsonNode.Parse($"[{number}]");
            var file = Path.Combine(_dir, name);
            SafeTensors.Save(file, model.StateDict(), new Dictionary<string, string> { [ModelFile.MetadataKey] = json.ToJsonString() });
            return file;
        }
        FluentActions.Invoking(() => Predictor.Load(SaveJson("inf-mean.safetensors", "mean", "1e39")))
            .Should().Throw<ModelFormatException>().WithMessage("*normalisation means must be finite numbers, got [Infinity]*");
        FluentActions.Invoking(() => Predictor.Load(SaveJson("inf-std.safetensors", "std", "-1e39")))
            .Should().Throw<ModelFormatException>().WithMessage("*positive, finite standard deviations*");
    }

    [Theory]
    [InlineData("class_names", "class_names")]
    [InlineData("preprocessing", "preprocessing")]
    [InlineData("resnet.layers", "resnet.layers")]
    [InlineData("preprocessing.mean", "preprocessing.mean")]
    [InlineData("class_names.1", "an entry of class_names")]
    public void NullValuesInTheCard_AreNamed(string pointer, string named)
    {
        var path = SaveTiny(out var model);
        using var _ = model;
        var card = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(ModelFile.ReadCard(path)))!;
        var parts = pointer.Split('.');
        var parent = parts[..^1].Aggregate(card, (node, part) => node[part]!);
        if (int.TryParse(parts[^1], out int index)) parent[index] = null;
        else parent[parts[^1]] = null;
        var file = Path.Combine(_dir, "nulls.safetensors");
        SafeTensors.Save(file, model.StateDict(), new Dictionary<string, string> { [ModelFile.MetadataKey] = card.ToJsonString() });
        FluentActions.Invoking(() => Predictor.Load(file)).Should().Throw<ModelFormatException>().WithMessage($"*{file}*null values for {named}*");
    }

    [Fact]
    public void TorchvisionWeightsWithASidecarCardLoadAndMatchPython()
    {
        // The fixture holds a torchvision network's weights plus an input and the output PyTorch computed for it.
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "resnet_tiny_basic_small.safetensors");
        if (!File.Exists(fixture)) fixture = FindUp("tests/MedVision.Nets.Tests/Fixtures/resnet_tiny_basic_small.safetensors");
        using var file = SafeTensors.Load(fixture);
        var weights = file.Where(kv => kv.Key is not ("input" or "expected")).ToDictionary(kv => kv.Key, kv => kv.Value);
        var path = Path.Combine(_dir, "torchvision.safetensors");
        SafeTensors.Save(path, weights);
        File.WriteAllText(Path.ChangeExtension(path, ".json"), JsonSerializer.Serialize(new ModelCard
        {
            ResNet = new ResNetCard { Block = "basic", Layers = new() { 1, 1, 1, 1 }, Widths = new() { 8, 16, 32, 64 }, InChannels = 3, Stem = "small_input", NumClasses = 5 },
            Preprocessing = Preprocessing28,
            ClassNames = Grades.ToList(),
            Task = "MultiClass",
        }));
        using var predictor = Predictor.Load(path);
        using var scope = Tensors.NewDisposeScope();
        var predictions = predictor.PredictTensor(file["input"]);
        var expected = file["expected"].Softmax(1).ToArray<float>();
        var k = 5;
        for (int i = 0; i < predictions.Count; i++)
            for (int j = 0; j < k; j++) predictions[i].Probabilities[j].Should().BeApproximately(expected[i * k + j], 1e-4f);
    }

    [Fact]
    public void ATorchSaveStateDictWithASidecarCard_LoadsAndMatchesPython()
    {
        // Python's torch.save(model.state_dict(), path) of the torchvision network above (make_pth_resnet_fixture.py).
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "resnet_tiny_basic_small.safetensors");
        if (!File.Exists(fixture)) fixture = FindUp("tests/MedVision.Nets.Tests/Fixtures/resnet_tiny_basic_small.safetensors");
        var pth = Path.Combine(_dir, "torchvision.pth");
        File.Copy(Path.Combine(Path.GetDirectoryName(fixture)!, "resnet_tiny_basic_small_plain.pth"), pth);
        var card = new ModelCard
        {
            ResNet = new ResNetCard { Block = "basic", Layers = new() { 1, 1, 1, 1 }, Widths = new() { 8, 16, 32, 64 }, InChannels = 3, Stem = "small_input", NumClasses = 5 },
            Preprocessing = Preprocessing28,
            ClassNames = Grades.ToList(),
            Task = "MultiClass",
        };
        var refuse = () => Predictor.Load(pth);
        refuse.Should().Throw<ModelFormatException>().WithMessage("*torchvision.pth is a torch.save state dict*no sidecar model card*torchvision.json*");
        File.WriteAllText(Path.ChangeExtension(pth, ".json"), JsonSerializer.Serialize(card));

        using var file = SafeTensors.Load(fixture);
        using var scope = Tensors.NewDisposeScope();
        var expected = file["expected"].Softmax(1).ToArray<float>();
        using (var predictor = Predictor.Load(pth))
        {
            var predictions = predictor.PredictTensor(file["input"]);
            for (int i = 0; i < predictions.Count; i++)
                for (int j = 0; j < 5; j++) predictions[i].Probabilities[j].Should().BeApproximately(expected[i * 5 + j], 1e-4f);
        }
        ModelFile.ReadCard(pth).ResNet!.Widths.Should().Equal(8, 16, 32, 64);

        // The same weights with DataParallel's "module." prefix load too.
        var prefixed = Path.Combine(_dir, "parallel.pth");
        using (var weights = PyTorchFile.LoadStateDict(pth))
            PyTorchFile.SaveStateDict(prefixed, weights.ToDictionary(kv => "module." + kv.Key, kv => kv.Value));
        File.WriteAllText(Path.ChangeExtension(prefixed, ".json"), JsonSerializer.Serialize(card));
        var (model, _) = ModelFile.Load(prefixed);
        using (model)
        using (var noGrad = Tensors.NoGrad())
            (model.Call(file["input"]).Softmax(1) - file["expected"].Softmax(1)).Abs().Max().Item().Should().BeLessThan(1e-4);
    }

    private static string FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException(relative);
    }

    [Fact]
    public void ManyThreadsGetTheSerialResultsWithoutLeaking()
    {
        var path = SaveTiny(out var original);
        original.Dispose();
        using var predictor = Predictor.Load(path);
        var split = MedMnistDataset.LoadEmbeddedRetinaMnist().Test;
        var inputs = Enumerable.Range(0, 50).Select(i => split.GetImage(i).ToArray()).ToArray();
        var serial = inputs.Select(p => predictor.PredictPixels(p, 28, 28, 3).Probabilities.ToArray()).ToArray();

        // Let finalizers of garbage from earlier tests run first, so only this test's tensors move the count.
        static long SettledLiveTensors() { NativeHeap.Settle(); return Tensors.LiveTensors; }
        var liveBefore = SettledLiveTensors();
        const int threads = 6, perThread = 300;
        var mismatches = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int i = 0; i < perThread; i++)
            {
                int index = (t * 7 + i) % inputs.Length;
                var p = predictor.PredictPixels(inputs[index], 28, 28, 3).Probabilities;
                if (!p.SequenceEqual(serial[index])) Interlocked.Increment(ref mismatches);
            }
        });
        mismatches.Should().Be(0);
        SettledLiveTensors().Should().Be(liveBefore);

        // 10,000 predictions in all: live tensors and native memory stay flat after warm-up. One leaked 3x28x28 float input
        // a prediction would hold 77 MB after the 8,200 below; malloc's in-use bytes (unlike the resident set, which also
        // moves with the allocator's free lists) measure that with little noise — the bound leaves room for a one-off
        // allocation elsewhere in the process (3.9 MB was seen once).
        long warmHeap = NativeHeap.InUseBytes(), warmRss = NativeHeap.ResidentBytes();
        for (int i = 0; i < 10_000 - threads * perThread; i++) predictor.PredictPixels(inputs[i % inputs.Length], 28, 28, 3);
        SettledLiveTensors().Should().Be(liveBefore);
        (NativeHeap.InUseBytes() - warmHeap).Should().BeLessThan(16L << 20, "native memory in use must not grow with the number of predictions");
        (NativeHeap.ResidentBytes() - warmRss).Should().BeLessThan(32L << 20, "resident memory must not grow with the number of predictions");
    }

    [Fact]
    public void Explain_PredictsLikePredict_AndMapsTheClassWithGradCamOnTheLastStage()
    {
        var path = SaveTiny(out var original);
        using var _ = original;
        using var predictor = Predictor.Load(path);
        var pixels = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(5).ToArray();
        var image = FloatImage.FromBytesHwc(pixels, 28, 28, 3);

        var explanation = predictor.Explain(image.Clone());
        explanation.Prediction.Probabilities.Should().Equal(predictor.PredictPixels(pixels, 28, 28, 3).Probabilities);
        explanation.TargetClass.Should().Be(explanation.Prediction.Label);
        explanation.TargetClassName.Should().Be(Grades[explanation.TargetClass]);
        explanation.MapShape.Should().Equal(28, 28);

        // The same map straight from GradCam on the original model and the same normalised batch.
        original.Eval();
        using var scope = Tensors.NewDisposeScope();
        var x = image.Clone();
        new Normalize(new[] { 0.5f }, new[] { 0.5f }).Apply(x, new Random(0));
        using var maps = GradCam.ForResNet(original).Compute(Tensors.FromArray(x.Data, 1, 3, 28, 28), new long[] { explanation.TargetClass });
        explanation.Map.Should().Equal(maps.ToArray(0));
        explanation.Map.Max().Should().BeApproximately(1f, 1e-6f);

        var other = (explanation.TargetClass + 1) % 5;
        var forOther = predictor.Explain(image.Clone(), CamMethod.GradCamPlusPlus, targetClass: other);
        forOther.TargetClass.Should().Be(other);
        forOther.Prediction.Label.Should().Be(explanation.Prediction.Label, "the prediction does not depend on the class explained");

        var photo = new RasterImage(56, 40, 1, new byte[56 * 40]);
        var overlay = explanation.Overlay(photo);
        (overlay.Width, overlay.Height, overlay.Channels).Should().Be((56, 40, 3));

        FluentActions.Invoking(() => predictor.Explain(image, targetClass: 5)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*5 classes*");
        // the attention maps are a vision transformer's
        predictor.CanExplainWith(CamMethod.AttentionRollout).Should().BeFalse();
        predictor.CanExplainWith(CamMethod.GradientAttentionRollout).Should().BeFalse();
        FluentActions.Invoking(() => predictor.Explain(image, CamMethod.GradientAttentionRollout)).Should().Throw<NotSupportedException>()
            .WithMessage("Gradient-weighted attention rollout needs a vision transformer; this model is a ResNet (resnet)*map it with Grad-CAM*");
        FluentActions.Invoking(() => GradCam.ForResNet(original, CamMethod.GradientAttentionRollout)).Should().Throw<ArgumentException>()
            .WithMessage("Gradient-weighted attention rollout is not a Grad-CAM weighting: compute it with the GradientAttentionRollout class*");
    }

    [Theory]
    [InlineData(null)]                                    // Grad-CAM
    [InlineData(AttributionMethod.IntegratedGradients)]
    public void Explain_WithFlips_AveragesTheFlippedMaps_SoMirroredImagesGetMirroredMaps(AttributionMethod? attribution)
    {
        var path = SaveTiny(out var original);
        original.Dispose();
        var pixels = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(5).ToArray();
        var image = FloatImage.FromBytesHwc(pixels, 28, 28, 3);
        var mirrored = image.Clone();
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                    mirrored.Data[(c * 28 + y) * 28 + x] = image.Data[(c * 28 + y) * 28 + 27 - x];
        static float[] Mirror(float[] map) => Enumerable.Range(0, 28 * 28).Select(i => map[i / 28 * 28 + 27 - i % 28]).ToArray();
        static double MaxDifference(float[] a, float[] b) => a.Zip(b, (p, q) => Math.Abs(p - q)).Max();
        Explanation Explain(Predictor predictor, FloatImage x)
            => attribution is { } method ? predictor.Explain(x.Clone(), method, targetClass: 2) : predictor.Explain(x.Clone(), targetClass: 2);

        using (var plain = Predictor.Load(path))
        {
            // without flips a CNN is not mirror-equivariant: this is what the flips fix
            MaxDifference(Explain(plain, image).Map, Mirror(Explain(plain, mirrored).Map)).Should().BeGreaterThan(1e-3);
        }
        using var flipping = Predictor.Load(path, flips: TestTimeFlips.Horizontal);
        var e = Explain(flipping, image);
        var m = Explain(flipping, mirrored);
        MaxDifference(e.Map, Mirror(m.Map)).Should().BeLessThan(attribution is null ? 1e-5 : 1e-4);
        e.Map.Max().Should().BeApproximately(1f, 1e-6f);
        if (attribution is null) e.Map.Min().Should().BeApproximately(0f, 1e-6f, "a class-activation map is rescaled to span [0, 1]");
        e.Prediction.Probabilities.Should().Equal(flipping.Predict(image.Clone()).Probabilities);
        if (attribution is null)
        {
            e.ConvergenceDelta.Should().BeNull("class-activation maps do not add up to anything");
            return;
        }
        // the flipped copies' convergence deltas averaged: the image's and its mirror's, as the plain predictor gives them
        using var plainAgain = Predictor.Load(path);
        var (own, ofMirror) = (Explain(plainAgain, image), Explain(plainAgain, mirrored));
        e.ConvergenceDelta!.Value.Should().BeApproximately((own.ConvergenceDelta!.Value + ofMirror.ConvergenceDelta!.Value) / 2, 1e-9);
        e.ScoreChange!.Value.Should().BeApproximately((own.ScoreChange!.Value + ofMirror.ScoreChange!.Value) / 2, 1e-9);
        own.ConvergenceDelta.Should().NotBe(ofMirror.ConvergenceDelta, "the copies differ, so the average is a real one");
        m.ConvergenceDelta!.Value.Should().BeApproximately(e.ConvergenceDelta.Value, 1e-9, "a mirrored image has the same two copies");
    }

    [Theory]
    [InlineData(AttributionMethod.IntegratedGradients)]
    [InlineData(AttributionMethod.SmoothGrad)]
    [InlineData(AttributionMethod.Saliency)]
    [InlineData(AttributionMethod.GuidedBackprop)]
    [InlineData(AttributionMethod.GuidedGradCam)]
    [InlineData(AttributionMethod.DeepLift)]
    public void ExplainWithAnAttribution_IsTheMethodsMapOfTheSameBatch_AtTheInputsSize(AttributionMethod method)
    {
        var path = SaveTiny(out var original);
        using var _ = original;
        using var predictor = Predictor.Load(path, mixedPrecision: true);
        predictor.CanAttribute.Should().BeTrue();
        predictor.CanAttributeWith(method).Should().BeTrue();
        var pixels = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(5).ToArray();
        var image = FloatImage.FromBytesHwc(pixels, 28, 28, 3);
        var explanation = predictor.Explain(image.Clone(), method, targetClass: 3);
        explanation.TargetClass.Should().Be(3);
        explanation.TargetClassName.Should().Be(Grades[3]);
        explanation.MapShape.Should().Equal(28, 28);
        explanation.Prediction.Probabilities.Should().Equal(predictor.PredictPixels(pixels, 28, 28, 3).Probabilities);

        // the same map from the method itself on the original model and the normalised batch, in float32
        original.Eval();
        using var scope = Tensors.NewDisposeScope();
        var x = image.Clone();
        new Normalize(new[] { 0.5f }, new[] { 0.5f }).Apply(x, new Random(0));
        var batch = Tensors.FromArray(x.Data, 1, 3, 28, 28);
        var targets = new long[] { 3 };
        using var attributions = method switch
        {
            AttributionMethod.IntegratedGradients => new IntegratedGradients(original).Compute(batch, targets),
            AttributionMethod.SmoothGrad => new SmoothGrad(original).Compute(batch, targets),
            AttributionMethod.GuidedBackprop => new GuidedBackprop(original).Compute(batch, targets),
            AttributionMethod.GuidedGradCam => GuidedGradCam.ForResNet(original).Compute(batch, targets),
            AttributionMethod.DeepLift => new DeepLift(original).Compute(batch, targets),
            _ => new Saliency(original).Compute(batch, targets),
        };
        using var maps = attributions.ToMaps();
        explanation.Map.Should().Equal(maps.ToArray(0));
        explanation.Map.Max().Should().Be(1f);
        explanation.Map.Count(v => v == 1f).Should().BeGreaterThan(1, "the top 2 % of the total saturate");
        explanation.Map.Should().AllSatisfy(v => v.Should().BeInRange(0f, 1f));
        if (method == AttributionMethod.IntegratedGradients)
            Math.Abs(attributions.ConvergenceDeltas![0]).Should().BeLessThan(0.05 * Math.Abs(attributions.Scores[0]) + 0.05, "50 Gauss–Legendre points suffice for this network");
        if (method == AttributionMethod.DeepLift)
            Math.Abs(attributions.ConvergenceDeltas![0]).Should().BeLessThan(1e-3 * Math.Abs(attributions.Scores[0]) + 1e-4, "a small-stem ResNet is linear layers and ReLUs");
        if (method is AttributionMethod.IntegratedGradients or AttributionMethod.DeepLift)
        {
            explanation.ConvergenceDelta.Should().Be(attributions.ConvergenceDeltas![0], "the explanation reports the method's own convergence delta");
            double total = attributions.Values.To(ScalarType.Float64).Sum().Item();
            explanation.ScoreChange!.Value.Should().BeApproximately(total - attributions.ConvergenceDeltas[0], 1e-9);
            Math.Abs(explanation.ScoreChange.Value).Should().BeGreaterThan(1e-3, "the logit moves between the baseline and the input");
        }
        else
        {
            (explanation.ConvergenceDelta, explanation.ScoreChange).Should().Be(((double?)null, (double?)null), $"{method} does not add up to a change of the logit");
        }

        FluentActions.Invoking(() => predictor.Explain(image, method, targetClass: 5)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*5 classes*");
        FluentActions.Invoking(() => predictor.Explain(image, (AttributionMethod)17)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("method");
    }

    [Theory]
    [InlineData(AttributionMethod.IntegratedGradients)]
    [InlineData(AttributionMethod.SmoothGrad)]
    [InlineData(AttributionMethod.Saliency)]
    public void ExplainWithOptions_UsesTheGivenSettings_ForTheMethodAndTheMap(AttributionMethod method)
    {
        var path = SaveTiny(out var original);
        using var _ = original;
        using var predictor = Predictor.Load(path);
        var image = FloatImage.FromBytesHwc(MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(7).ToArray(), 28, 28, 3);
        var options = AttributionOptions.Default with
        {
            Steps = 6, Rule = IntegrationRule.RiemannTrapezoid, Samples = 3, NoiseLevel = 0.3, Squared = true, Seed = 9, BatchSize = 2,
            Sign = AttributionSign.Positive, OutlierPercent = 0,
        };
        var explanation = predictor.Explain(image.Clone(), method, targetClass: 1, options: options);

        original.Eval();
        using var scope = Tensors.NewDisposeScope();
        var batch = predictor.Preprocess([image.Clone()]);
        var targets = new long[] { 1 };
        using var attributions = method switch
        {
            AttributionMethod.IntegratedGradients => new IntegratedGradients(original, 6, IntegrationRule.RiemannTrapezoid, 2).Compute(batch, targets),
            AttributionMethod.SmoothGrad => new SmoothGrad(original, 3, 0.3, squared: true, batchSize: 2, seed: 9).Compute(batch, targets),
            _ => new Saliency(original).Compute(batch, targets),
        };
        using var maps = attributions.ToMaps(AttributionSign.Positive, outlierPercent: 0);
        explanation.Map.Should().Equal(maps.ToArray(0), "the predictor uses every given setting");
        explanation.Map.Count(v => v == 1f).Should().Be(1, "with no outliers only the maximum reaches 1");
        if (method != AttributionMethod.Saliency)
            explanation.Map.Should().NotEqual(predictor.Explain(image.Clone(), method, targetClass: 1).Map, "the defaults give another map");
    }

    [Theory]
    [InlineData(AttributionMethod.GradientShap)]
    [InlineData(AttributionMethod.DeepLiftShap)]
    public void TheShapMethods_ExplainAgainstTheGivenReferences_PreparedAsTheInputIs_AndNeedThem(AttributionMethod method)
    {
        var path = SaveTiny(out var original);
        using var _ = original;
        using var predictor = Predictor.Load(path);
        predictor.CanAttributeWith(method).Should().BeTrue();
        var train = MedMnistDataset.LoadEmbeddedRetinaMnist().Train;
        var image = FloatImage.FromBytesHwc(MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(7).ToArray(), 28, 28, 3);
        var references = Enumerable.Range(0, 5).Select(i => FloatImage.FromBytesHwc(train.GetImage(i).ToArray(), 28, 28, 3)).ToArray();
        var options = AttributionOptions.Default with { References = references, Samples = 6, Seed = 4, BatchSize = 3 };
        var explanation = predictor.Explain(image.Clone(), method, targetClass: 2, options: options);
        explanation.TargetClass.Should().Be(2);

        original.Eval();
        using var scope = Tensors.NewDisposeScope();
        var batch = predictor.Preprocess([image.Clone()]);
        var prepared = predictor.Preprocess(references);
        var targets = new long[] { 2 };
        using var attributions = method == AttributionMethod.GradientShap
            ? new GradientShap(original, samples: 6, noiseLevel: 0, batchSize: 3, seed: 4).Compute(batch, prepared, targets)
            : new DeepLiftShap(original, batchSize: 3).Compute(batch, prepared, targets);
        using var maps = attributions.ToMaps();
        explanation.Map.Should().Equal(maps.ToArray(0), "the references are prepared as the image is, and every setting is used");
        explanation.ConvergenceDelta.Should().Be(attributions.ConvergenceDeltas![0]);
        var fewer = predictor.Explain(image.Clone(), method, targetClass: 2, options: options with { References = references[..2] });
        fewer.Map.Should().NotEqual(explanation.Map, "other references give another map");

        var image2 = image.Clone();
        var none = () => predictor.Explain(image2, method);
        none.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage($"{method} explains a prediction against reference images*AttributionOptions.References*");
        var empty = () => predictor.Explain(image2, method, options: options with { References = [] });
        empty.Should().Throw<ArgumentException>().WithParameterName("options");
        var grey = new FloatImage(new float[2 * 28 * 28], 2, 28, 28);
        var wrongChannels = () => predictor.Explain(image2, method, options: options with { References = [references[0], grey] });
        wrongChannels.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("Reference image 1 of 2 has 2 channel(s)*");
        var nan = references[1].Clone();
        nan.Data[5] = float.NaN;
        var withNan = () => predictor.Explain(image2, method, options: options with { References = [nan] });
        withNan.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("Reference image 0 of 1 holds NaN*");
        predictor.Explain(image2, AttributionMethod.Saliency, options: options).Map.Should().Equal(predictor.Explain(image2, AttributionMethod.Saliency).Map, "other methods ignore the references");
    }

    [Theory]
    [InlineData(AttributionMethod.GradientShap)]
    [InlineData(AttributionMethod.DeepLiftShap)]
    public void TheShapMethods_ReadReferenceFiles_AsTheInputFileIsRead(AttributionMethod method)
    {
        var path = SaveTiny(out var original);
        original.Dispose();
        using var predictor = Predictor.Load(path);
        var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
        var file = Path.Combine(_dir, "input.png");
        ImageCodec.Save(file, new RasterImage(28, 28, 3, data.Test.GetImage(7).ToArray()));
        var files = Enumerable.Range(0, 4).Select(i =>
        {
            var reference = Path.Combine(_dir, $"reference-{i}.png");
            ImageCodec.Save(reference, new RasterImage(28, 28, 3, data.Train.GetImage(i).ToArray()));
            return reference;
        }).ToArray();
        var images = Enumerable.Range(0, 4).Select(i => FloatImage.FromBytesHwc(data.Train.GetImage(i).ToArray(), 28, 28, 3)).ToArray();
        var options = AttributionOptions.Default with { Samples = 5, Seed = 2, BatchSize = 4 };

        var fromFiles = predictor.ExplainFile(file, method, targetClass: 1, options: options with { ReferenceFiles = files });
        var fromImages = predictor.ExplainFile(file, method, targetClass: 1, options: options with { References = images });
        fromFiles.Map.Should().Equal(fromImages.Map, "a PNG's pixels read as the input's are the same [0, 1] image");
        fromFiles.ConvergenceDelta.Should().Be(fromImages.ConvergenceDelta);
        predictor.ExplainFile(file, method, targetClass: 1, options: options with { ReferenceFiles = files[..1] }).Map.Should().NotEqual(fromFiles.Map, "the files are the references");

        var both = () => predictor.ExplainFile(file, method, options: options with { References = images, ReferenceFiles = files });
        both.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*both as AttributionOptions.References and as ReferenceFiles*");
        var missing = Path.Combine(_dir, "no-such.png");
        var absent = () => predictor.ExplainFile(file, method, options: options with { ReferenceFiles = [files[0], missing] });
        absent.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage($"Reference file 1 of 2 ({missing}) cannot be read*");
        var corrupt = Path.Combine(_dir, "corrupt.png");
        File.WriteAllBytes(corrupt, File.ReadAllBytes(files[0])[..40]);
        var truncated = () => predictor.ExplainFile(file, method, options: options with { ReferenceFiles = [corrupt] });
        truncated.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("Reference file 0 of 1 (*corrupt.png) cannot be read*").WithInnerException<MedVision.Nets.Data.DataFormatException>();
        var blank = () => predictor.ExplainFile(file, method, options: options with { ReferenceFiles = [files[0], ""] });
        blank.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("Reference file 1 of 2 is empty.*");
        var empty = () => predictor.ExplainFile(file, method, options: options with { ReferenceFiles = [] });
        empty.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*or ReferenceFiles*");
        predictor.ExplainFile(file, AttributionMethod.Saliency, options: options with { ReferenceFiles = [missing] }).Map
            .Should().Equal(predictor.ExplainFile(file, AttributionMethod.Saliency).Map, "other methods do not read the references");
    }

    [Fact]
    public void AttributionOptions_RefuseValuesOutOfRange_WhenSet()
    {
        FluentActions.Invoking(() => AttributionOptions.Default with { Steps = 0 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Steps");
        FluentActions.Invoking(() => AttributionOptions.Default with { Samples = 100_001 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Samples");
        FluentActions.Invoking(() => AttributionOptions.Default with { NoiseLevel = double.NaN }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("NoiseLevel");
        FluentActions.Invoking(() => AttributionOptions.Default with { BatchSize = 0 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("BatchSize");
        FluentActions.Invoking(() => AttributionOptions.Default with { OutlierPercent = 100 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("OutlierPercent");
        FluentActions.Invoking(() => AttributionOptions.Default with { Rule = (IntegrationRule)9 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Rule");
        FluentActions.Invoking(() => AttributionOptions.Default with { Sign = (AttributionSign)9 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Sign");
        var defaults = AttributionOptions.Default;
        (defaults.Steps, defaults.Rule, defaults.Samples, defaults.NoiseLevel, defaults.Seed, defaults.Sign, defaults.OutlierPercent)
            .Should().Be((50, IntegrationRule.GaussLegendre, 25, 0.15, 0, AttributionSign.Absolute, 2.0));

        var path = SaveTiny(out var original);
        using var _ = original;
        using var predictor = Predictor.Load(path);
        var image = FloatImage.FromBytesHwc(MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(7).ToArray(), 28, 28, 3);
        FluentActions.Invoking(() => predictor.Explain(image, AttributionMethod.IntegratedGradients, options: defaults with { Rule = IntegrationRule.RiemannTrapezoid, Steps = 1 }))
            .Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*trapezoid rule needs at least 2 steps*1*");
    }

    [Fact]
    public void Preprocess_GivesTheBatchTheNetworkTakes()
    {
        var path = SaveTiny(out var original);
        using var _ = original;
        using var predictor = Predictor.Load(path);
        var test = MedMnistDataset.LoadEmbeddedRetinaMnist().Test;
        var images = new[] { 3, 4 }.Select(i => FloatImage.FromBytesHwc(test.GetImage(i).ToArray(), 28, 28, 3)).ToArray();
        using var scope = Tensors.NewDisposeScope();
        var batch = predictor.Preprocess(images.Select(i => i.Clone()).ToArray());
        batch.Shape.Should().Equal(2, 3, 28, 28);
        batch.ScalarType.Should().Be(ScalarType.Float32);
        var expected = images.SelectMany(i => new Normalize(new[] { 0.5f }, new[] { 0.5f }).Apply(i.Clone(), new Random(0)).Data).ToArray();
        batch.ToArray<float>().Should().Equal(expected);
        original.Eval();
        using (Tensors.NoGrad())
        {
            var probabilities = original.Call(batch).Softmax(1).ToArray<float>();
            predictor.Predict(images).SelectMany(p => p.Probabilities).Should().Equal(probabilities, (a, e) => Math.Abs(a - e) < 1e-6f);
        }
        FluentActions.Invoking(() => predictor.Preprocess(Array.Empty<FloatImage>())).Should().Throw<ArgumentException>().WithParameterName("images");
        FluentActions.Invoking(() => predictor.Preprocess(new[] { new FloatImage(new float[4 * 28 * 28], 4, 28, 28) })).Should().Throw<ArgumentException>().WithMessage("*4 channel(s)*");
    }

    [Fact]
    public void CardTemperature_SoftensTheProbabilities_WithoutChangingThePrediction()
    {
        Tensors.ManualSeed(4);
        using var model = TinyResNet();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.OrdinalRegression);
        var plain = Path.Combine(_dir, "plain.safetensors");
        ModelFile.Save(plain, model, card);
        card.Temperature = 2.5;
        var scaled = Path.Combine(_dir, "scaled.safetensors");
        ModelFile.Save(scaled, model, card);

        var pixels = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(7).ToArray();
        Prediction p1, p2;
        using (var predictor = Predictor.Load(plain)) p1 = predictor.PredictPixels(pixels, 28, 28, 3);
        using (var predictor = Predictor.Load(scaled))
        {
            predictor.Card.Temperature.Should().Be(2.5);
            p2 = predictor.PredictPixels(pixels, 28, 28, 3);
        }
        // softmax(z / T) from softmax(z): p_k^(1/T) renormalised.
        var expected = p1.Probabilities.Select(p => Math.Pow(p, 1 / 2.5)).ToArray();
        var sum = expected.Sum();
        p2.Probabilities.Select(p => (double)p).Should().Equal(expected.Select(e => e / sum), (a, e) => Math.Abs(a - e) < 1e-5);
        p2.Label.Should().Be(p1.Label);
        p2.Probabilities.Max().Should().BeLessThan(p1.Probabilities.Max(), "T > 1 softens an over-confident model");

        card.Temperature = 0;
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_dir, "bad.safetensors"), model, card)).Should().Throw<ModelFormatException>().WithMessage("*temperature*");
        card.Temperature = 2;
        card.Task = nameof(MedMnistTask.MultiLabel);
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_dir, "bad.safetensors"), model, card)).Should().Throw<ModelFormatException>().WithMessage("*single-label*");
    }

    [Fact]
    public void FindingThresholds_GiveAMultiLabelPredictionItsFindings_AndAreChecked()
    {
        Tensors.ManualSeed(4);
        using var model = TinyResNet();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.MultiLabel);
        var plainPath = Path.Combine(_dir, "findings-plain.safetensors");
        ModelFile.Save(plainPath, model, card);
        var pixels = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(0).ToArray();
        Prediction plain;
        using (var predictor = Predictor.Load(plainPath)) plain = predictor.PredictPixels(pixels, 28, 28, 3);
        plain.Findings.Should().BeNull("the model file records no thresholds");

        // Thresholds around this image's probabilities: the findings are exactly those at or above their own.
        var p = plain.Probabilities;
        card.FindingThresholds = p.Select((v, k) => k % 2 == 0 ? Math.Max(1e-6, v - 1e-4) : Math.Min(1 - 1e-6, v + 1e-4)).ToList();
        var path = Path.Combine(_dir, "findings.safetensors");
        ModelFile.Save(path, model, card);
        using (var predictor = Predictor.Load(path))
        {
            predictor.Card.FindingThresholds.Should().Equal(card.FindingThresholds);
            var prediction = predictor.PredictPixels(pixels, 28, 28, 3);
            prediction.Probabilities.Should().Equal(plain.Probabilities);
            prediction.Findings.Should().Equal(0, 2, 4);
            prediction.FindingNames.Should().Equal(Grades[0], Grades[2], Grades[4]);
            var csv = Path.Combine(_dir, "findings.csv");
            Prediction.WriteCsv(csv, ["x.png"], [prediction], Grades);
            var lines = File.ReadAllLines(csv);
            lines[0].Should().EndWith(",findings");
            lines[1].Should().EndWith($",{Grades[0]};{Grades[2]};{Grades[4]}");
        }

        // Refused: thresholds of another count, outside (0, 1), or for a single-label task.
        card.FindingThresholds = [0.5, 0.5];
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_dir, "bad.safetensors"), model, card)).Should().Throw<ModelFormatException>()
            .WithMessage("*finding thresholds [0.5, 0.5] must be one probability strictly between 0 and 1 for each of the 5 findings*");
        card.FindingThresholds = [0.5, 0.5, 1, 0.5, 0.5];
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_dir, "bad.safetensors"), model, card)).Should().Throw<ModelFormatException>();
        card.FindingThresholds = [0.5, 0.5, 0.5, 0.5, 0.5];
        card.Task = nameof(MedMnistTask.MultiClass);
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_dir, "bad.safetensors"), model, card)).Should().Throw<ModelFormatException>()
            .WithMessage("*finding thresholds apply to multi-label tasks, not to MultiClass ones*");
    }

    [Fact]
    public void FindingThresholds_HoldOnlyForThePredictorSettingsTheyWereChosenUnder()
    {
        Tensors.ManualSeed(4);
        using var model = TinyResNet();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.MultiLabel);
        var pixels = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(0).ToArray();
        double[] thresholds = [0.3, 0.4, 0.5, 0.6, 0.7];
        card.SetFindingThresholds(thresholds, TestTimeFlips.Horizontal);
        var path = Path.Combine(_dir, "findings-flipped.safetensors");
        ModelFile.Save(path, model, card);
        ModelFile.ReadCard(path).FindingThresholdsFlips.Should().Be("Horizontal");

        // Without the flips the thresholds were chosen with: no findings, and the note says why.
        using (var plain = Predictor.Load(path))
        {
            plain.FindingThresholds.Should().BeNull();
            plain.FindingThresholdsNote.Should().Contain("finding thresholds were chosen with flips Horizontal").And.Contain("this predictor uses flips None").And.Contain("predictions carry no findings");
            plain.PredictPixels(pixels, 28, 28, 3).Findings.Should().BeNull();
        }
        // With them: the findings are those whose (flip-averaged) probability reaches its threshold.
        using (var flipped = Predictor.Load(path, Device.Cpu, TestTimeFlips.Horizontal))
        {
            flipped.FindingThresholds.Should().Equal(thresholds);
            flipped.FindingThresholdsNote.Should().BeNull();
            var prediction = flipped.PredictPixels(pixels, 28, 28, 3);
            prediction.Findings.Should().Equal(Enumerable.Range(0, 5).Where(k => prediction.Probabilities[k] >= thresholds[k]));
        }
        // Chosen under bfloat16 autocast: only such a predictor reports them.
        card.SetFindingThresholds(thresholds, mixedPrecision: true);
        card.FindingThresholdsFlips.Should().BeNull();
        var mixedPath = Path.Combine(_dir, "findings-mixed.safetensors");
        ModelFile.Save(mixedPath, model, card);
        using (var plain = Predictor.Load(mixedPath))
            plain.FindingThresholdsNote.Should().Contain("with flips None under bfloat16 autocast").And.Contain("this predictor uses flips None, whose");
        using (var mixed = Predictor.Load(mixedPath, Device.Cpu, TestTimeFlips.None, mixedPrecision: true))
            mixed.FindingThresholds.Should().Equal(thresholds);

        // Refused: unknown flips, and settings without thresholds.
        card.FindingThresholdsFlips = "Sideways";
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_dir, "bad.safetensors"), model, card)).Should().Throw<ModelFormatException>()
            .WithMessage("*finding thresholds' flips 'Sideways' are not test-time flips*");
        card.FindingThresholds = null;
        card.FindingThresholdsFlips = null;
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_dir, "bad.safetensors"), model, card)).Should().Throw<ModelFormatException>()
            .WithMessage("*finding_thresholds_flips and finding_thresholds_mixed_precision describe finding thresholds; the card has none*");
        FluentActions.Invoking(() => card.SetFindingThresholds(thresholds, (TestTimeFlips)64)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void TestTimeFlips_AverageTheProbabilitiesOfEveryFlipCombination()
    {
        var path = SaveTiny(out var original);
        using var _ = original;
        original.Eval();
        var pixels = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(2).ToArray();
        using var scope = Tensors.NewDisposeScope();
        var x = FloatImage.FromBytesHwc(pixels, 28, 28, 3);
        new Normalize(new[] { 0.5f }, new[] { 0.5f }).Apply(x, new Random(0));
        var input = Tensors.FromArray(x.Data, 1, 3, 28, 28);
        float[] Probabilities(Tensor t)
        {
            using var noGrad = Tensors.NoGrad();
            return original.Call(t).Softmax(1).ToArray<float>();
        }
        var plain = Probabilities(input);
        var horizontal = Probabilities(input.Flip(3));
        var vertical = Probabilities(input.Flip(2));
        var both = Probabilities(input.Flip(3, 2));
        horizontal.Should().NotEqual(plain, "the check needs a model that is not flip-invariant");

        using (var predictor = Predictor.Load(path, flips: TestTimeFlips.Horizontal))
        {
            predictor.Flips.Should().Be(TestTimeFlips.Horizontal);
            var expected = plain.Select((p, k) => (p + horizontal[k]) / 2).ToArray();
            predictor.PredictPixels(pixels, 28, 28, 3).Probabilities.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-6);
        }
        using (var predictor = Predictor.Load(path, flips: TestTimeFlips.Horizontal | TestTimeFlips.Vertical))
        {
            var expected = plain.Select((p, k) => (p + horizontal[k] + vertical[k] + both[k]) / 4).ToArray();
            predictor.PredictPixels(pixels, 28, 28, 3).Probabilities.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-6);
        }
        FluentActions.Invoking(() => Predictor.Load(path, flips: TestTimeFlips.Depth)).Should().Throw<ArgumentException>().WithMessage("*3-D model*");
        FluentActions.Invoking(() => Predictor.Load(path, flips: (TestTimeFlips)8)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void PredictVolume_ReorientsToTheCardsOrientation_ThenMatchesTheModelOnThePreprocessedVolume()
    {
        Tensors.ManualSeed(6);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 1, spatialDims: 3).WithClasses(2).Build();
        var preprocessing = new PreprocessingCard { InputSize = new() { 6, 5, 4 }, Channels = 1, Mean = new() { 0.5f }, Std = new() { 0.5f }, Orientation = "RAS" };
        var path = Path.Combine(_dir, "volume.safetensors");
        ModelFile.Save(path, model, ModelFile.Describe(model, preprocessing, new[] { "CN", "AD" }, MedMnistTask.MultiClass));
        ModelFile.ReadCard(path).Preprocessing.Orientation.Should().Be("RAS");

        // One anatomy stored as RAS and as LPS (x and y reversed): (X, Y, Z) = (4, 5, 6), i.e. (D, H, W) = (6, 5, 4).
        var random = new Random(2);
        var voxels = Enumerable.Range(0, 120).Select(_ => (float)random.NextDouble() * 100).ToArray();
        var ras = new MedVision.Nets.Data.Nifti.NiftiImage(voxels, new[] { 4, 5, 6 }, affine: new MedVision.Nets.Data.Nifti.NiftiAffine(new double[,] { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 } }));
        var lps = ras.Reorient("LPS");
        using var predictor = Predictor.Load(path);
        var fromRas = predictor.PredictVolume(ras);
        predictor.PredictVolume(lps).Probabilities.Should().Equal(fromRas.Probabilities, "both are RAS once reoriented");

        // The expected probabilities by hand: min–max to [0, 1], normalise, the model, softmax.
        float min = voxels.Min(), max = voxels.Max();
        var input = voxels.Select(v => ((v - min) / (max - min) - 0.5f) / 0.5f).ToArray();
        model.Eval();
        using (Tensors.NoGrad())
        using (var x = Tensors.FromArray(input, 1, 1, 6, 5, 4))
        using (var logits = model.Call(x))
        using (var probabilities = logits.Softmax(1))
        {
            fromRas.Probabilities.Should().Equal(probabilities.ToArray<float>(), (a, e) => Math.Abs(a - e) < 1e-5);
        }

        // Files: a NIfTI file (stored LPS) and a DICOM series folder predict as the volumes they hold, alone or batched.
        var niftiPath = Path.Combine(_dir, "lps.nii.gz");
        MedVision.Nets.Data.Nifti.NiftiWriter.Write(niftiPath, lps);
        predictor.PredictFile(niftiPath).Probabilities.Should().Equal(fromRas.Probabilities, (a, e) => Math.Abs(a - e) < 1e-6);
        var seriesFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "dicom", "series");
        var series = MedVision.Nets.Data.Dicom.DicomSeries.ReadFolder(seriesFolder)[0].ToVolume();
        var fromSeries = predictor.PredictVolume(series);
        predictor.PredictFile(seriesFolder).Probabilities.Should().Equal(fromSeries.Probabilities);
        var batch = predictor.PredictFiles(new[] { niftiPath, seriesFolder });
        batch.Select(p => p.Label).Should().Equal(fromRas.Label, fromSeries.Label);
        batch[1].Probabilities.Should().Equal(fromSeries.Probabilities, (a, e) => Math.Abs(a - e) < 1e-5);
        var missing = () => predictor.PredictFile(Path.Combine(_dir, "nothere.nii.gz"));
        missing.Should().Throw<Exception>().WithMessage("*nothere.nii.gz*");

        // Without an orientation in the card, volumes are used as stored.
        preprocessing.Orientation = null;
        var asStored = Path.Combine(_dir, "as-stored.safetensors");
        ModelFile.Save(asStored, model, ModelFile.Describe(model, preprocessing, new[] { "CN", "AD" }, MedMnistTask.MultiClass));
        using var plain = Predictor.Load(asStored);
        plain.PredictVolume(lps).Probabilities.Should().NotEqual(fromRas.Probabilities);

        preprocessing.Orientation = "RAX";
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_dir, "bad.safetensors"), model, ModelFile.Describe(model, preprocessing, new[] { "CN", "AD" }, MedMnistTask.MultiClass)))
            .Should().Throw<ModelFormatException>().WithMessage("*orientation 'RAX'*");
    }

    [Fact]
    public void MultiContrastVolumes_PredictFromTheirFile_AsFromTheirChannels_AsTheModelOnTheStackedVolume()
    {
        // The nibabel fixture with three volumes of 3×4×2 voxels (X, Y, Z): (C, D, H, W) = (3, 2, 4, 3).
        var file = Path.Combine(AppContext.BaseDirectory, "Fixtures", "nifti", "multi_4d.nii.gz");
        var channels = MedVision.Nets.Data.Nifti.NiftiReader.ReadVolumes(file);
        Tensors.ManualSeed(8);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 3, spatialDims: 3).WithClasses(2).Build();
        var preprocessing = new PreprocessingCard { InputSize = new() { 2, 4, 3 }, Channels = 3, Mean = new() { 0.5f, 0.5f, 0.5f }, Std = new() { 0.5f, 0.5f, 0.5f } };
        var path = Path.Combine(_dir, "multi.safetensors");
        ModelFile.Save(path, model, ModelFile.Describe(model, preprocessing, new[] { "LGG", "HGG" }, MedMnistTask.MultiClass));
        using var predictor = Predictor.Load(path);
        var fromFile = predictor.PredictFile(file);
        predictor.PredictVolumes(channels).Probabilities.Should().Equal(fromFile.Probabilities);

        // By hand: the three volumes stacked as channels, min–max over all of them, normalised, the model.
        var stacked = channels.SelectMany(c => c.Voxels).ToArray();
        float min = stacked.Min(), max = stacked.Max();
        var input = stacked.Select(v => ((v - min) / (max - min) - 0.5f) / 0.5f).ToArray();
        model.Eval();
        using (Tensors.NoGrad())
        using (var x = Tensors.FromArray(input, 1, 3, 2, 4, 3))
        using (var logits = model.Call(x))
        using (var probabilities = logits.Softmax(1))
        {
            fromFile.Probabilities.Should().Equal(probabilities.ToArray<float>(), (a, e) => Math.Abs(a - e) < 1e-5);
        }

        var one = () => predictor.PredictVolume(channels[0]);
        one.Should().Throw<ArgumentException>().WithMessage("*1 channel(s); the model expects 3*");
        // Channels on different grids (modalities acquired apart): each resized to the input size on its own, then
        // stacked and scaled together — as the model sees them through Predict(FloatImage) on that stack.
        var random = new Random(4);
        var finer = new MedVision.Nets.Data.Nifti.NiftiImage(Enumerable.Range(0, 6 * 8 * 4).Select(_ => (float)random.NextDouble() * 300).ToArray(), new[] { 6, 8, 4 });
        var uneven = new[] { channels[0], finer, channels[2] };
        var finerBefore = (float[])finer.Voxels.Clone();
        var resize = new Resize(2, 4, 3, ResizeMode.Linear);
        var parts = uneven.Select(v => resize.Apply(v.ToFloatImage(), new Random(0)).Data).ToArray();
        var joint = parts.SelectMany(p => p).ToArray();
        float lo = joint.Min(), hi = joint.Max();
        var expectedImage = new FloatImage(joint.Select(v => (v - lo) / (hi - lo)).ToArray(), 3, 2, 4, 3);
        predictor.PredictVolumes(uneven).Probabilities.Should().Equal(predictor.Predict(expectedImage).Probabilities, (a, e) => Math.Abs(a - e) < 1e-6);
        finer.Voxels.Should().Equal(finerBefore, "the caller's volumes are left as they were");
        var none = () => predictor.PredictVolumes(Array.Empty<MedVision.Nets.Data.Nifti.NiftiImage>());
        none.Should().Throw<ArgumentException>().WithMessage("*at least one channel*");
    }

    [Fact]
    public void SubjectFolderModels_RecordTheirModalities_InFormat4_AndPredictFromSubjectFolders()
    {
        var subject = Directory.CreateDirectory(Path.Combine(_dir, "BraTS_007")).FullName;
        var random = new Random(5);
        MedVision.Nets.Data.Nifti.NiftiImage Volume() => new(Enumerable.Range(0, 24).Select(_ => (float)random.NextDouble() * 50).ToArray(), new[] { 3, 4, 2 });
        var volumes = new Dictionary<string, MedVision.Nets.Data.Nifti.NiftiImage> { ["t2"] = Volume(), ["flair"] = Volume() };
        foreach (var (name, volume) in volumes) MedVision.Nets.Data.Nifti.NiftiWriter.Write(Path.Combine(subject, $"BraTS_007_{name}.nii.gz"), volume);

        Tensors.ManualSeed(9);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 2, spatialDims: 3).WithClasses(2).Build();
        var preprocessing = new PreprocessingCard { InputSize = new() { 2, 4, 3 }, Channels = 2, Mean = new() { 0.5f, 0.5f }, Std = new() { 0.5f, 0.5f }, Modalities = new() { "flair", "t2" } };
        var card = ModelFile.Describe(model, preprocessing, new[] { "LGG", "HGG" }, MedMnistTask.MultiClass);
        card.FormatVersion.Should().Be(4, "a reader that ignored the modalities would put the files in the wrong channels");
        var path = Path.Combine(_dir, "subjects.safetensors");
        ModelFile.Save(path, model, card);
        ModelFile.ReadCard(path).Preprocessing.Modalities.Should().Equal("flair", "t2");

        using var predictor = Predictor.Load(path);
        predictor.PredictFile(subject).Probabilities.Should().Equal(predictor.PredictVolumes(new[] { volumes["flair"], volumes["t2"] }).Probabilities);
        predictor.PredictFile(subject).Probabilities.Should().NotEqual(predictor.PredictVolumes(new[] { volumes["t2"], volumes["flair"] }).Probabilities, "the channel order matters");
        var file = () => predictor.PredictFile(Path.Combine(subject, "BraTS_007_t2.nii.gz"));
        file.Should().Throw<ArgumentException>().WithMessage("*subject folders holding flair, t2*not a folder*");

        preprocessing.Modalities = new() { "flair" };
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_dir, "bad.safetensors"), model, ModelFile.Describe(model, preprocessing, new[] { "LGG", "HGG" }, MedMnistTask.MultiClass)))
            .Should().Throw<ModelFormatException>().WithMessage("*modalities [flair] must name each of the 2 input channels*");
    }
}
