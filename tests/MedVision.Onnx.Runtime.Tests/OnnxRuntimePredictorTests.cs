using MedVision.Nets.Blocks;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Onnx.Runtime.Tests;

/// <summary>The ONNX Runtime predictor against the libtorch predictor on the same model file.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class OnnxRuntimePredictorTests : IDisposable
{
    private static readonly string[] Grades = { "0", "1", "2", "3", "4" };
    private readonly string _folder = Directory.CreateTempSubdirectory("medvision-ort-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A small RGB ResNet with non-trivial batch-norm statistics, saved as a model file and exported to ONNX.</summary>
    private (string ModelFile, string OnnxFile) Export(MedMnistTask task = MedMnistTask.OrdinalRegression, double temperature = 1.3, bool dynamicSize = false, bool normalizeInGraph = false, bool float16 = false, int seed = 4, bool coral = false, bool cumulative = false)
    {
        Tensors.ManualSeed((ulong)seed);
        using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16).ForInput(3).WithSmallInputStem().WithClasses(5)
            .WithHead(coral ? ClassifierHead.Coral : ClassifierHead.Linear).Build();
        using (Tensors.NoGrad())
            foreach (var (name, buffer) in model.NamedBuffers())
                if (name.EndsWith("running_var", StringComparison.Ordinal)) buffer.FillInPlace(1.7);
                else if (name.EndsWith("running_mean", StringComparison.Ordinal)) buffer.FillInPlace(0.2);
        var card = ModelFile.Describe(model, new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 3, Mean = new() { 0.4f, 0.5f, 0.6f }, Std = new() { 0.2f, 0.25f, 0.3f } }, Grades, task);
        card.Temperature = temperature;
        // A temperature on the grades' probabilities would move the median grade; one on the cumulative logits keeps it.
        if (coral && cumulative) card.CoralTemperature = MedVision.Nets.Losses.CoralTemperature.CumulativeLogits;
        else if (coral && temperature != 1) card.OrdinalDecision = OrdinalDecision.MostProbable;
        var stem = $"{task}{(seed != 4 ? $"-{seed}" : "")}{(coral ? "-coral" : "")}{(cumulative ? "-cumulative" : "")}";
        var modelFile = Path.Combine(_folder, $"{stem}.safetensors");
        ModelFile.Save(modelFile, model, card);
        var onnxFile = Path.Combine(_folder, $"{stem}{(float16 ? "-float16" : "")}.onnx");
        OnnxModelFile.Export(modelFile, onnxFile, new OnnxModelFileOptions { DynamicSpatialSize = dynamicSize, NormalizeInGraph = normalizeInGraph, Float16 = float16 });
        return (modelFile, onnxFile);
    }

    private string[] WritePngs(int count, int size = 28)
    {
        var random = new Random(9);
        return Enumerable.Range(0, count).Select(i =>
        {
            var pixels = new byte[size * size * 3];
            random.NextBytes(pixels);
            var path = Path.Combine(_folder, $"image{i}.png");
            ImageCodec.Save(path, new RasterImage(size, size, 3, pixels));
            return path;
        }).ToArray();
    }

    private static void ShouldMatch(IReadOnlyList<Prediction> actual, IReadOnlyList<Prediction> expected)
    {
        actual.Should().HaveSameCount(expected);
        for (int i = 0; i < expected.Count; i++)
        {
            actual[i].Label.Should().Be(expected[i].Label);
            actual[i].LabelName.Should().Be(expected[i].LabelName);
            actual[i].Grade.Should().Be(expected[i].Grade);
            actual[i].Probabilities.Select(p => (double)p).Should().Equal(expected[i].Probabilities.Select(p => (double)p), (a, b) => Math.Abs(a - b) <= 2e-5);
            if (expected[i].ExpectedGrade is { } grade) actual[i].ExpectedGrade!.Value.Should().BeApproximately(grade, 1e-4);
        }
    }

    [Fact]
    public void PredictsImageFilesPixelsAndStreamsAsTheLibtorchPredictorDoes()
    {
        var (modelFile, onnxFile) = Export();
        using var libtorch = Predictor.Load(modelFile);
        using var onnx = OnnxRuntimePredictor.Load(onnxFile);
        onnx.Card.ClassNames.Should().Equal(Grades);
        onnx.Card.Temperature.Should().Be(1.3);
        onnx.CanExplain.Should().BeFalse();

        var files = WritePngs(5);
        ShouldMatch(onnx.PredictFiles(files, batchSize: 3), libtorch.PredictFiles(files));
        // Another size is resized to the card's 28×28 first; a grey image becomes RGB.
        var large = WritePngs(1, size: 40)[0];
        ShouldMatch(new[] { onnx.PredictFile(large) }, new[] { libtorch.PredictFile(large) });
        var grey = Enumerable.Range(0, 28 * 28).Select(i => (byte)(i % 251)).ToArray();
        ShouldMatch(new[] { onnx.PredictPixels(grey, 28, 28, 1) }, new[] { libtorch.PredictPixels(grey, 28, 28, 1) });
        using (var stream = File.OpenRead(files[0])) ShouldMatch(new[] { onnx.Predict(stream, "first") }, new[] { libtorch.PredictFile(files[0]) });

        FluentActions.Invoking(() => onnx.ExplainFile(files[0])).Should().Throw<NotSupportedException>().WithMessage("*ResNet*OnnxRuntimeNetwork*");
    }

    [Fact]
    public void AFloat16Graph_ServesTheLibtorchPredictorsPredictionsToFloat16sPrecision()
    {
        var (modelFile, onnxFile) = Export(float16: true);
        using var libtorch = Predictor.Load(modelFile);
        using var onnx = OnnxRuntimePredictor.Load(onnxFile);
        onnx.Card.ClassNames.Should().Equal(Grades);
        var files = WritePngs(5);
        var expected = libtorch.PredictFiles(files);
        var actual = onnx.PredictFiles(files, batchSize: 2);
        for (int i = 0; i < expected.Count; i++)
        {
            actual[i].Probabilities.Select(p => (double)p).Should().Equal(expected[i].Probabilities.Select(p => (double)p), (a, b) => Math.Abs(a - b) <= 5e-3, $"image {i}");
            actual[i].ExpectedGrade!.Value.Should().BeApproximately(expected[i].ExpectedGrade!.Value, 2e-2);
        }
        // Half the weights' bytes: the float32 graph of the same model file is larger by about two bytes a weight.
        var float32 = Path.Combine(_folder, "float32.onnx");
        OnnxModelFile.Export(modelFile, float32);
        using var network = ModelFile.Load(modelFile).Model;
        long weights = network.NamedParameters().Concat(network.NamedBuffers()).Where(p => p.Item2.ScalarType.IsFloatingPoint()).Sum(p => p.Item2.NumElements);
        ((double)(new FileInfo(float32).Length - new FileInfo(onnxFile).Length)).Should().BeInRange(weights * 2 * 0.95 - 512, weights * 2 * 1.05 + 512);
    }

    [Theory]
    [InlineData(MedMnistTask.OrdinalRegression)]
    [InlineData(MedMnistTask.MultiLabel)]
    public void AnEnsembleManifest_ExportsAsOneGraph_ThatServesTheEnsemblesPredictions(MedMnistTask task)
    {
        // Two members with their own weights and temperatures, weighted 2 : 1, with the ensemble's referral point.
        bool multiLabel = task == MedMnistTask.MultiLabel; // (a temperature scales softmaxes only)
        var first = Export(task, temperature: multiLabel ? 1 : 1.3, seed: 4).ModelFile;
        var second = Export(task, temperature: multiLabel ? 1 : 0.8, seed: 9).ModelFile;
        // A member's finding thresholds hold for it alone: neither the ensemble nor its graph reports findings by them.
        if (multiLabel) ModelFile.UpdateCard(first, c => c.SetFindingThresholds([0.3, 0.3, 0.3, 0.3, 0.3]));
        var manifest = Path.Combine(_folder, $"ensemble-{task}.json");
        var referral = task == MedMnistTask.MultiLabel ? null : ReferralCard.From(Nets.Metrics.Clinical.OperatingPoint.AtThreshold(0.3), referableFrom: 3);
        EnsemblePredictor.SaveManifest(manifest, new[] { first, second }, new[] { 2.0, 1.0 }, null, referral);
        var onnxFile = Path.Combine(_folder, $"ensemble-{task}.onnx");
        var card = OnnxModelFile.ExportEnsemble(manifest, onnxFile);
        card.Temperature.Should().Be(1, "each member's temperature is inside the graph");
        card.Metrics["ensemble_members"].Should().Be(2);
        card.FindingThresholds.Should().BeNull("the first member's thresholds are not the averaged probabilities'");

        var files = WritePngs(5);
        using var ensemble = EnsemblePredictor.LoadManifest(manifest);
        using var onnx = OnnxRuntimePredictor.Load(onnxFile);
        var expected = files.Select(f => ensemble.PredictFile(f)).ToArray();
        var actual = onnx.PredictFiles(files, batchSize: 2);
        for (int i = 0; i < files.Length; i++)
        {
            actual[i].Probabilities.Select(p => (double)p).Should().Equal(expected[i].Probabilities.Select(p => (double)p), (a, b) => Math.Abs(a - b) <= 1e-5, $"image {i}");
            (actual[i].Findings, expected[i].Findings).Should().Be((null, null));
            if (task != MedMnistTask.MultiLabel)
            {
                actual[i].Label.Should().Be(expected[i].Label);
                actual[i].Referred.Should().Be(expected[i].Referred, "the manifest's referral point travels with the graph");
            }
        }

        // In float16 too, to float16's precision.
        var halfFile = Path.Combine(_folder, $"ensemble-{task}-float16.onnx");
        OnnxModelFile.ExportEnsemble(manifest, halfFile, new OnnxModelFileOptions { Float16 = true });
        using (var half = OnnxRuntimePredictor.Load(halfFile))
        {
            var halves = half.PredictFiles(files);
            for (int i = 0; i < files.Length; i++)
                halves[i].Probabilities.Select(p => (double)p).Should().Equal(expected[i].Probabilities.Select(p => (double)p), (a, b) => Math.Abs(a - b) <= 5e-3, $"image {i} in float16");
        }

        // The graph's own outputs: the average, and each member's probabilities beside it.
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnxFile);
        session.OutputMetadata.Keys.Should().Equal(OnnxModelFile.LogitsName, OnnxModelFile.ProbabilitiesName, OnnxModelFile.MemberProbabilitiesName);
        session.ModelMetadata.CustomMetadataMap[OnnxModelFile.EnsembleKey].Should().Contain("\"weights\":[0.6666666666666666,0.3333333333333333]");
        using var firstMember = Predictor.Load(first);
        var pixels = ImageCodec.DecodeFile(files[0]);
        using (var scope = Tensors.NewDisposeScope())
        {
            var image = new MedVision.Nets.Transforms.Normalize([0.4f, 0.5f, 0.6f], [0.2f, 0.25f, 0.3f]).Apply(MedVision.Nets.Transforms.FloatImage.FromBytesHwc(pixels.Pixels, 28, 28, 3), new Random(0));
            var feed = new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(image.Data.ToArray(), new[] { 1, 3, 28, 28 })) };
            using var results = session.Run(feed);
            var members = results.First(r => r.Name == OnnxModelFile.MemberProbabilitiesName).AsTensor<float>();
            members.Dimensions.ToArray().Should().Equal(1, 2, 5);
            var own = firstMember.PredictFile(files[0]).Probabilities;
            for (int k = 0; k < 5; k++) ((double)members[0, 0, k]).Should().BeApproximately(own[k], 1e-5, "member 0's probabilities as its own predictor gives them");
        }
    }

    [Theory]
    [InlineData(1.0, false)]
    [InlineData(1.3, false)]
    [InlineData(1.3, true)]
    public void ACoralHeadsGraph_GivesTheGradesProbabilitiesTheLibtorchPredictorGives(double temperature, bool cumulative)
    {
        // The graph's logits are the K − 1 cumulative ones; its probabilities output is the grades' (at the card's
        // temperature, on the grades' probabilities or on the cumulative logits).
        var (modelFile, onnxFile) = Export(temperature: temperature, coral: true, cumulative: cumulative);
        using var libtorch = Predictor.Load(modelFile);
        using var onnx = OnnxRuntimePredictor.Load(onnxFile);
        onnx.Card.HasCoralHead.Should().BeTrue();
        onnx.Card.CoralTemperature.Should().Be(cumulative ? MedVision.Nets.Losses.CoralTemperature.CumulativeLogits : MedVision.Nets.Losses.CoralTemperature.GradeProbabilities);
        onnx.Card.OrdinalDecision.Should().Be(temperature == 1 || cumulative ? OrdinalDecision.Median : OrdinalDecision.MostProbable);
        var files = WritePngs(6);
        var expected = libtorch.PredictFiles(files);
        ShouldMatch(onnx.PredictFiles(files, batchSize: 4), expected);
        expected.SelectMany(p => p.Probabilities).Count(v => v > 0.01).Should().BeGreaterThan(2 * files.Length, "several grades of each image get some probability, or the comparison proves little");

        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnxFile);
        session.OutputMetadata[OnnxModelFile.LogitsName].Dimensions[1].Should().Be(4);
        session.OutputMetadata[OnnxModelFile.ProbabilitiesName].Dimensions[1].Should().Be(5);
        var pixels = ImageCodec.DecodeFile(files[0]);
        var image = new MedVision.Nets.Transforms.Normalize([0.4f, 0.5f, 0.6f], [0.2f, 0.25f, 0.3f]).Apply(MedVision.Nets.Transforms.FloatImage.FromBytesHwc(pixels.Pixels, 28, 28, 3), new Random(0));
        var feed = new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(image.Data.ToArray(), new[] { 1, 3, 28, 28 })) };
        using var results = session.Run(feed);
        var probabilities = results.First(r => r.Name == OnnxModelFile.ProbabilitiesName).AsTensor<float>();
        for (int k = 0; k < 5; k++) ((double)probabilities[0, k]).Should().BeApproximately(expected[0].Probabilities[k], 1e-5, $"grade {k}'s probability in the graph");
    }

    [Fact]
    public void AnEnsembleOfACoralAndASoftmaxMember_IsOneGraph_ThatServesTheEnsemblesPredictions()
    {
        var coral = Export(temperature: 1.2, seed: 4, coral: true).ModelFile;
        var softmax = Export(temperature: 0.9, seed: 9).ModelFile;
        var manifest = Path.Combine(_folder, "ensemble-coral.json");
        EnsemblePredictor.SaveManifest(manifest, new[] { coral, softmax }, new[] { 1.0, 1.0 });
        var onnxFile = Path.Combine(_folder, "ensemble-coral.onnx");
        var card = OnnxModelFile.ExportEnsemble(manifest, onnxFile);
        card.HasCoralHead.Should().BeFalse("the ensemble graph's logits are the log of its averaged probabilities, one per grade");

        var files = WritePngs(5);
        using var ensemble = EnsemblePredictor.LoadManifest(manifest);
        using var onnx = OnnxRuntimePredictor.Load(onnxFile);
        var actual = onnx.PredictFiles(files);
        for (int i = 0; i < files.Length; i++)
        {
            var expected = ensemble.PredictFile(files[i]);
            actual[i].Probabilities.Select(p => (double)p).Should().Equal(expected.Probabilities.Select(p => (double)p), (a, b) => Math.Abs(a - b) <= 1e-5, $"image {i}");
            actual[i].Grade.Should().Be(expected.Grade);
        }
        ensemble.OrdinalDecision.Should().Be(OrdinalDecision.MostProbable, "the softmax member decides by the most probable grade");

        // Two CORAL members decide by the median grade, in EnsemblePredictor and in the exported graph's card alike (one
        // with a temperature on its cumulative logits, which keeps its median; the graph's card holds no such temperature).
        var both = Path.Combine(_folder, "ensemble-coral-2.json");
        EnsemblePredictor.SaveManifest(both, new[] { Export(temperature: 1.4, seed: 5, coral: true, cumulative: true).ModelFile, Export(temperature: 1, seed: 6, coral: true).ModelFile });
        var bothOnnx = Path.Combine(_folder, "ensemble-coral-2.onnx");
        var bothCard = OnnxModelFile.ExportEnsemble(both, bothOnnx);
        bothCard.OrdinalDecision.Should().Be(OrdinalDecision.Median);
        bothCard.CoralTemperatureName.Should().BeNull("the ensemble graph's logits are the log of its averaged probabilities");
        using var coralEnsemble = EnsemblePredictor.LoadManifest(both);
        coralEnsemble.OrdinalDecision.Should().Be(OrdinalDecision.Median);
        using var coralOnnx = OnnxRuntimePredictor.Load(bothOnnx);
        var served = coralOnnx.PredictFiles(files);
        for (int i = 0; i < files.Length; i++)
        {
            var expected = coralEnsemble.PredictFile(files[i]);
            served[i].Label.Should().Be(expected.Label, $"image {i}");
            served[i].Probabilities.Select(p => (double)p).Should().Equal(expected.Probabilities.Select(p => (double)p), (a, b) => Math.Abs(a - b) <= 1e-5, $"image {i}");
            var row = new double[1, 5];
            for (int k = 0; k < 5; k++) row[0, k] = expected.Probabilities[k];
            expected.Label.Should().Be(MedVision.Nets.Losses.OrdinalDecoding.MedianGrades(row)[0]);
        }
    }

    [Fact]
    public void AnEnsembleWhoseMembersNormaliseDifferently_IsOneGraphOfPixels_ButOtherwisePreparedMembersAreNot()
    {
        // Folds normalised by their own training images: the same preparation but for the mean and standard deviation.
        var first = Export(seed: 4).ModelFile;
        var other = Export(seed: 9).ModelFile;
        void Change(string file, Action<ModelCard> change)
        {
            var (model, card) = ModelFile.Load(file);
            using (model)
            {
                change(card);
                ModelFile.Save(file, model, card);
            }
        }
        Change(other, card => (card.Preprocessing.Mean, card.Preprocessing.Std) = (new() { 0.5f }, new() { 0.5f }));
        var manifest = Path.Combine(_folder, "folds.json");
        EnsemblePredictor.SaveManifest(manifest, new[] { first, other });
        var onnxFile = Path.Combine(_folder, "folds.onnx");
        FluentActions.Invoking(() => OnnxModelFile.ExportEnsemble(manifest, onnxFile))
            .Should().Throw<ArgumentException>().WithMessage("*another mean and standard deviation*NormalizeInGraph*");
        File.Exists(onnxFile).Should().BeFalse();

        // With the normalisation in the graph each member normalises the pixels as it was trained.
        OnnxModelFile.ExportEnsemble(manifest, onnxFile, new OnnxModelFileOptions { NormalizeInGraph = true });
        var files = WritePngs(4);
        using (var ensemble = EnsemblePredictor.LoadManifest(manifest))
        using (var onnx = OnnxRuntimePredictor.Load(onnxFile))
            for (int i = 0; i < files.Length; i++)
                onnx.PredictFile(files[i]).Probabilities.Select(p => (double)p).Should()
                    .Equal(ensemble.PredictFile(files[i]).Probabilities.Select(p => (double)p), (a, b) => Math.Abs(a - b) <= 1e-5, $"image {i}");

        // Another input size cannot share the input: refused, with the way to serve them.
        Change(other, card => card.Preprocessing.InputSize = new() { 32, 32 });
        EnsemblePredictor.SaveManifest(manifest, new[] { first, other });
        FluentActions.Invoking(() => OnnxModelFile.ExportEnsemble(manifest, Path.Combine(_folder, "mixed.onnx"), new OnnxModelFileOptions { NormalizeInGraph = true }))
            .Should().Throw<ArgumentException>().WithMessage("*prepares its input otherwise*export the members one at a time*EnsemblePredictor*");
    }

    [Fact]
    public void AModelFilesConformalCalibrationTravelsToTheOnnxFile()
    {
        var (modelFile, _) = Export();
        var files = WritePngs(12);
        // Calibrate on the libtorch predictor's probabilities of six files with made-up grades, store, export again.
        Nets.Metrics.Conformal.ConformalClassifier conformal;
        using (var libtorch = Predictor.Load(modelFile))
        {
            var predictions = libtorch.PredictFiles(files.Take(6));
            var p = new double[6, 5];
            for (int i = 0; i < 6; i++) for (int k = 0; k < 5; k++) p[i, k] = predictions[i].Probabilities[k];
            conformal = Nets.Metrics.Conformal.ConformalClassifier.Create().WithScore(Nets.Metrics.Conformal.ConformalScore.Lac).WithCoverage(0.7)
                .Calibrate(new[] { 0, 1, 2, 3, 4, 2 }, p);
        }
        var (model, card) = ModelFile.Load(modelFile);
        using (model)
        {
            card.Conformal = ConformalCard.From(conformal, card.Temperature);
            ModelFile.Save(modelFile, model, card);
        }
        var onnxFile = Path.Combine(_folder, "conformal.onnx");
        OnnxModelFile.Export(modelFile, onnxFile);
        using var onnx = OnnxRuntimePredictor.Load(onnxFile);
        onnx.Conformal.Should().NotBeNull();
        onnx.Conformal!.Thresholds.Should().Equal(conformal.Thresholds);
        foreach (var prediction in onnx.PredictFiles(files.Skip(6)))
            prediction.ConformalSet.Should().Equal(conformal.PredictSet(prediction.Probabilities.ToArray().AsSpan()));
    }

    [Fact]
    public void AModelFilesReferralDecisionTravelsToTheOnnxFile()
    {
        var (modelFile, _) = Export();
        var files = WritePngs(6);
        var (model, card) = ModelFile.Load(modelFile);
        using (model)
        {
            // Refer grades 3 and 4 from a risk of 0.3 on: a point set by hand (the stored point is what matters here).
            card.Referral = ReferralCard.From(Nets.Metrics.Clinical.OperatingPoint.AtThreshold(0.3), referableFrom: 3, card.Temperature);
            ModelFile.Save(modelFile, model, card);
        }
        var onnxFile = Path.Combine(_folder, "referral.onnx");
        OnnxModelFile.Export(modelFile, onnxFile);
        using var onnx = OnnxRuntimePredictor.Load(onnxFile);
        onnx.Referral.Should().NotBeNull();
        onnx.Referral!.ReferableFrom.Should().Be(3);
        foreach (var prediction in onnx.PredictFiles(files))
        {
            prediction.ReferralRisk!.Value.Should().BeApproximately(prediction.Probabilities[3] + (double)prediction.Probabilities[4], 1e-6);
            prediction.Referred.Should().Be(prediction.ReferralRisk >= 0.3);
        }
    }

    [Fact]
    public void JoinsAnEnsembleWithLibtorchMembers()
    {
        var (modelFile, onnxFile) = Export();
        var files = WritePngs(4);
        IReadOnlyList<Prediction> expected;
        using (var libtorch = Predictor.Load(modelFile)) expected = libtorch.PredictFiles(files);
        using var ensemble = EnsemblePredictor.Create(new[] { Predictor.Load(modelFile), OnnxRuntimePredictor.Load(onnxFile) });
        var predictions = ensemble.PredictFiles(files);
        ShouldMatch(predictions, expected);
        foreach (var p in predictions)
        {
            p.Agreement.Should().Be(1, "both engines run the same network");
            p.ProbabilitySpread.Should().OnlyContain(s => s < 2e-5f);
            ShouldMatch(p.Members, new[] { p.Members[0], p.Members[0] });
        }
        ensemble.CanExplain.Should().BeFalse("ONNX Runtime does not expose the network's layers");
        FluentActions.Invoking(() => ensemble.ExplainFile(files[0])).Should().Throw<NotSupportedException>().WithMessage("*member 1 is a resnet model on another engine*");
    }

    [Fact]
    public void TestTimeFlips_MultiLabelTasks_AndGraphsOfAnySize_AgreeToo()
    {
        var files = WritePngs(3);
        var (modelFile, onnxFile) = Export(MedMnistTask.MultiLabel, temperature: 1, dynamicSize: true);
        using (var libtorch = Predictor.Load(modelFile, flips: TestTimeFlips.Horizontal | TestTimeFlips.Vertical))
        using (var onnx = OnnxRuntimePredictor.Load(onnxFile, TestTimeFlips.Horizontal | TestTimeFlips.Vertical))
            ShouldMatch(onnx.PredictFiles(files), libtorch.PredictFiles(files));
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(true, true, false)]
    [InlineData(true, false, true)]
    public void PredictsVolumesWithA3DModelAsTheLibtorchPredictorDoes(bool perVolume, bool normalizeInGraph, bool physicalScale)
    {
        // perVolume: each volume cropped to its values above 100 and normalised over its non-zero voxels (card format 3),
        // which the predictor does before the graph whether or not the graph does the card's mean and sd itself;
        // physicalScale: first resampled to 0.8 mm voxels, and cropped or padded to the input size instead of resized
        // (format 5), which the ONNX Runtime predictor reads from the card in the graph's metadata as well.
        Tensors.ManualSeed(5);
        using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(4, 8).ForInput(1, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build();
        var preprocessing = new PreprocessingCard
        {
            InputSize = new() { 12, 16, 16 }, Channels = 1, Mean = new() { 0.1f }, Std = new() { 0.9f },
            IntensityNormalization = perVolume ? new IntensityNormalizationCard { NonZero = true } : null,
            CropForeground = perVolume ? new ForegroundCropCard { Threshold = 100, Margin = 1 } : null,
            Spacing = physicalScale ? new() { 0.8f, 0.8f, 0.8f } : null,
            Fit = physicalScale ? "crop_or_pad" : null,
        };
        var card = ModelFile.Describe(model, preprocessing, new[] { "control", "disease" }, MedMnistTask.Binary);
        var modelFile = Path.Combine(_folder, "volume.safetensors");
        ModelFile.Save(modelFile, model, card);
        var onnxFile = Path.Combine(_folder, "volume.onnx");
        OnnxModelFile.Export(modelFile, onnxFile, new OnnxModelFileOptions { NormalizeInGraph = normalizeInGraph });
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnxFile))
        {
            var description = session.ModelMetadata.Description;
            if (physicalScale)
                description.Should().Contain("volumes resampled to 0.8 × 0.8 × 0.8 mm voxels, cropped to their stored values above 100 (margin 1) before being center-cropped or padded (with their minimum) to the input size, pixels scaled to [0, 1]");
            else if (perVolume)
                description.Should().Contain("volumes cropped to their stored values above 100 (margin 1) before resizing, pixels scaled to [0, 1], each input normalised by its own mean and sd over its non-zero values (zeros kept)");
            else description.Should().NotContain("its own mean");
        }
        using var libtorch = Predictor.Load(modelFile, flips: TestTimeFlips.Depth);
        using var onnx = OnnxRuntimePredictor.Load(onnxFile, TestTimeFlips.Depth);
        var random = new Random(2);
        // A volume of another size (min–max scaled and resized to the card's 12×16×16 first) whose values lie inside a
        // zero border, which the crop removes.
        var voxels = new float[10 * 20 * 18];
        for (int z = 2; z < 8; z++)
            for (int y = 4; y < 16; y++)
                for (int x = 3; x < 15; x++) voxels[(z * 20 + y) * 18 + x] = (float)random.NextDouble() * 300;
        var volume = new MedVision.Nets.Data.Nifti.NiftiImage(voxels, new[] { 18, 20, 10 });
        ShouldMatch(new[] { onnx.PredictVolume(volume) }, new[] { libtorch.PredictVolume(volume) });
        onnx.Card.Preprocessing.Spacing.Should().Equal(preprocessing.Spacing);
    }

    [Fact]
    public void AGraphThatNormalisesItsInputServesTheSamePredictions()
    {
        var files = WritePngs(3);
        var (modelFile, onnxFile) = Export(normalizeInGraph: true);
        using var libtorch = Predictor.Load(modelFile);
        using var onnx = OnnxRuntimePredictor.Load(onnxFile);
        onnx.Card.Preprocessing.Mean.Should().Equal(0f);
        onnx.Card.Preprocessing.Std.Should().Equal(1f);
        ShouldMatch(onnx.PredictFiles(files), libtorch.PredictFiles(files));

        // Raw ONNX Runtime: pixels / 255, channels first, no normalisation by the caller.
        var raster = ImageCodec.DecodeFile(files[0]);
        var pixels = new float[3 * 28 * 28];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 28 * 28; i++) pixels[c * 28 * 28 + i] = raster.Pixels[i * 3 + c] / 255f;
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnxFile);
        session.ModelMetadata.CustomMetadataMap[OnnxModelFile.InputKindKey].Should().Be("unit_range");
        using var results = session.Run(new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(pixels, new[] { 1, 3, 28, 28 })) });
        var probabilities = results.Single(r => r.Name == "probabilities").AsEnumerable<float>().ToArray();
        probabilities.Select(p => (double)p).Should().Equal(libtorch.PredictFile(files[0]).Probabilities.Select(p => (double)p), (a, b) => Math.Abs(a - b) <= 2e-5);
    }

    [Fact]
    public void IsSafeToCallFromManyThreads()
    {
        var (_, onnxFile) = Export();
        var files = WritePngs(4);
        using var onnx = OnnxRuntimePredictor.Load(onnxFile);
        var serial = files.Select(onnx.PredictFile).ToArray();
        var results = new Prediction[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
            results[t] = Enumerable.Range(0, 40).Select(i => onnx.PredictFile(files[(t + i) % files.Length])).ToArray());
        for (int t = 0; t < 8; t++)
            for (int i = 0; i < 40; i++)
                results[t][i].Probabilities.Should().Equal(serial[(t + i) % files.Length].Probabilities, "concurrent calls give the serial result");
    }

    [Fact]
    public void TheNetworkAlone_DisposedWhileThreadsRunIt_FinishesTheirCalls_AndRefusesNewOnes()
    {
        var (_, onnxFile) = Export();
        var network = new OnnxRuntimeNetwork(new Microsoft.ML.OnnxRuntime.InferenceSession(onnxFile), OnnxModelFile.InputName, OnnxModelFile.LogitsName);
        float[] expected;
        using (var scope = Tensors.NewDisposeScope())
        using (var batch = Tensors.Full([2, 3, 28, 28], 0.3))
            expected = network.Logits(batch).ToArray<float>();
        // Four threads call it in a loop; it is disposed while they run. Every call either gives the logits in full or is
        // refused as disposed — never a call on a disposed session (a native crash) or a wrong result.
        long answered = 0, refused = 0;
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        using var started = new CountdownEvent(4);
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            started.Signal();
            for (int i = 0; i < 400; i++)
            {
                try
                {
                    using var scope = Tensors.NewDisposeScope();
                    using var batch = Tensors.Full([2, 3, 28, 28], 0.3);
                    network.Logits(batch).ToArray<float>().Should().Equal(expected);
                    Interlocked.Increment(ref answered);
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref refused);
                }
                catch (Exception e)
                {
                    failures.Add(e);   // reported below: an exception escaping a thread would end the test process
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        started.Wait();
        while (Interlocked.Read(ref answered) < 20 && failures.IsEmpty) Thread.Yield();
        network.Dispose();
        threads.ForEach(t => t.Join());
        failures.Should().BeEmpty();
        (answered + refused).Should().Be(1600);
        answered.Should().BeGreaterThanOrEqualTo(20);
        refused.Should().BeGreaterThan(0, "calls after Dispose are refused");
        using (var batch = Tensors.Full([2, 3, 28, 28], 0.3))
            FluentActions.Invoking(() => network.Logits(batch)).Should().Throw<ObjectDisposedException>();
        network.Dispose();   // idempotent
    }

    [Fact]
    public void FilesItCannotServeAreRefusedWithTheReason()
    {
        var missing = Path.Combine(_folder, "missing.onnx");
        FluentActions.Invoking(() => OnnxRuntimePredictor.Load(missing)).Should().Throw<FileNotFoundException>().WithMessage($"*{missing}*");

        var notOnnx = Path.Combine(_folder, "text.onnx");
        File.WriteAllText(notOnnx, "not a model");
        FluentActions.Invoking(() => OnnxRuntimePredictor.Load(notOnnx)).Should().Throw<ModelFormatException>().WithMessage($"*{notOnnx} is not an ONNX model*");

        // A graph exported without a model file has no card.
        using var bare = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1).WithWidths(8).ForInput(3).WithSmallInputStem().WithClasses(5).Build();
        var bareFile = Path.Combine(_folder, "bare.onnx");
        bare.ExportOnnx(bareFile, new long[] { 1, 3, 28, 28 });
        FluentActions.Invoking(() => OnnxRuntimePredictor.Load(bareFile)).Should().Throw<ModelFormatException>().WithMessage("*carries no model card*OnnxModelFile.Export*");

        // A card whose classes do not fit the graph.
        var named = Path.Combine(_folder, "named.onnx");
        var options = new OnnxExportOptions { OutputName = "logits" };
        using var six = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1).WithWidths(8).ForInput(3).WithSmallInputStem().WithClasses(6).Build();
        var card = ModelFile.Describe(six, new PreprocessingCard { Channels = 3 }, Grades.Append("extra").ToArray(), MedMnistTask.MultiClass);
        options.Metadata[ModelFile.MetadataKey] = System.Text.Json.JsonSerializer.Serialize(card);
        bare.ExportOnnx(named, new long[] { 1, 3, 28, 28 }, options);
        FluentActions.Invoking(() => OnnxRuntimePredictor.Load(named)).Should().Throw<ModelFormatException>().WithMessage("*logits [-1, 5]*6 classes*");

        // A CORAL card (4 cumulative logits for 5 grades) on a graph of 5 class logits.
        var coralNamed = Path.Combine(_folder, "coral-named.onnx");
        using var coral = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1).WithWidths(8).ForInput(3).WithSmallInputStem().WithClasses(5).WithCoralHead().Build();
        var coralOptions = new OnnxExportOptions { OutputName = "logits" };
        coralOptions.Metadata[ModelFile.MetadataKey] = System.Text.Json.JsonSerializer.Serialize(ModelFile.Describe(coral, new PreprocessingCard { Channels = 3 }, Grades, MedMnistTask.OrdinalRegression));
        bare.ExportOnnx(coralNamed, new long[] { 1, 3, 28, 28 }, coralOptions);
        FluentActions.Invoking(() => OnnxRuntimePredictor.Load(coralNamed)).Should().Throw<ModelFormatException>().WithMessage("*logits [-1, 5] are not the 4 cumulative logits of the card's CORAL head for 5 grades*");
    }
}
