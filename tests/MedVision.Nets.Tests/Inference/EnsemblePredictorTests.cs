using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Nets.Tests.Inference;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class EnsemblePredictorTests : IDisposable
{
    private static readonly string[] Grades = { "grade 0", "grade 1", "grade 2", "grade 3", "grade 4" };
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-ensemble-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A tiny 2-D ResNet model file: its seed, input size and channels, classes and task as given.
    private string Save(string name, int seed, int size = 28, int channels = 3, IReadOnlyList<string>? classes = null, MedMnistTask task = MedMnistTask.OrdinalRegression)
    {
        classes ??= Grades;
        Tensors.ManualSeed((ulong)seed);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(channels).WithSmallInputStem().WithClasses(classes.Count).Build();
        var preprocessing = new PreprocessingCard { InputSize = new() { size, size }, Channels = channels, Mean = new() { 0.5f }, Std = new() { 0.25f }, Resize = "linear" };
        var path = Path.Combine(_dir, name + ".safetensors");
        ModelFile.Save(path, model, ModelFile.Describe(model, preprocessing, classes.ToArray(), task));
        return path;
    }

    [Fact]
    public void AnEnsembleWithATorchScriptMember_AttributesWithGradients_ButRefusesTheGuidedMethodsNamingTheMember()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny_torchscript_classifier.pt");
        using var ensemble = EnsemblePredictor.Load([Save("resnet", 4), script]);
        var image = FloatImage.FromBytesHwc(Pixels(1)[0], 28, 28, 3);
        ensemble.CanAttribute.Should().BeTrue();
        ensemble.CanAttributeWith(AttributionMethod.Saliency).Should().BeTrue();
        ensemble.Explain(image, AttributionMethod.Saliency).MapShape.Should().Equal(28, 28);
        foreach (var (method, reason) in new[] { (AttributionMethod.GuidedBackprop, "*TorchScript model*"), (AttributionMethod.GuidedGradCam, "*needs a ResNet*"), (AttributionMethod.DeepLift, "DeepLIFT*TorchScript model*") })
        {
            ensemble.CanAttributeWith(method).Should().BeFalse();
            ensemble.Members[0].CanAttributeWith(method).Should().BeTrue("the ResNet member can");
            var explain = () => ensemble.Explain(image, method);
            explain.Should().Throw<NotSupportedException>().WithMessage($"Member 1 cannot explain with {method}: {reason}");
        }
    }

    private static byte[][] Pixels(int count) => Enumerable.Range(0, count).Select(i => MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(i).ToArray()).ToArray();

    [Fact]
    public void Probabilities_AreTheWeightedMeanOfTheMembers_WithTheirLabelsAgreementAndSpread()
    {
        var paths = new[] { Save("a", 1), Save("b", 2), Save("c", 3) };
        var weights = new[] { 3.0, 1.0, 0.0 };
        var pixels = Pixels(12);
        var singles = paths.Select(p =>
        {
            using var predictor = Predictor.Load(p);
            return pixels.Select(x => predictor.PredictPixels(x, 28, 28, 3)).ToArray();
        }).ToArray();

        using var ensemble = EnsemblePredictor.Load(paths, weights: weights);
        ensemble.Weights.Should().Equal(0.75, 0.25, 0.0);
        ensemble.ClassNames.Should().Equal(Grades);
        ensemble.Task.Should().Be("OrdinalRegression");
        ensemble.Members.Should().HaveCount(3);
        bool disagreement = false;
        for (int i = 0; i < pixels.Length; i++)
        {
            var p = ensemble.PredictPixels(pixels[i], 28, 28, 3);
            var expected = Enumerable.Range(0, 5).Select(k => (0.75 * singles[0][i].Probabilities[k]) + (0.25 * singles[1][i].Probabilities[k])).ToArray();
            p.Probabilities.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-6);
            int label = Array.IndexOf(expected, expected.Max());
            p.Label.Should().Be(label);
            p.LabelName.Should().Be(Grades[label]);
            p.Grade.Should().Be(label);
            p.ExpectedGrade!.Value.Should().BeApproximately(expected.Select((q, k) => q * k).Sum(), 1e-5);
            for (int m = 0; m < 3; m++) p.Members[m].Should().BeEquivalentTo(singles[m][i], o => o.WithStrictOrdering(), "each member's own prediction is kept, a zero-weight member's too");
            p.Agreement.Should().BeApproximately(singles.Count(s => s[i].Label == label) / 3.0, 1e-12);
            for (int k = 0; k < 5; k++)
            {
                double variance = (0.75 * Math.Pow(singles[0][i].Probabilities[k] - p.Probabilities[k], 2)) + (0.25 * Math.Pow(singles[1][i].Probabilities[k] - p.Probabilities[k], 2));
                p.ProbabilitySpread[k].Should().BeApproximately((float)Math.Sqrt(variance), 1e-6f);
            }
            disagreement |= p.Agreement < 1;
        }
        disagreement.Should().BeTrue("untrained members of different seeds disagree somewhere, so the agreement is checked at values below 1 too");
    }

    [Fact]
    public void OneMember_PredictsAsThePredictorAlone()
    {
        var path = Save("a", 4, task: MedMnistTask.MultiClass);
        using var predictor = Predictor.Load(path);
        using var ensemble = EnsemblePredictor.Load(new[] { path });
        foreach (var x in Pixels(5))
        {
            var alone = predictor.PredictPixels(x, 28, 28, 3);
            var p = ensemble.PredictPixels(x, 28, 28, 3);
            p.Probabilities.Should().Equal(alone.Probabilities);
            p.Label.Should().Be(alone.Label);
            p.Grade.Should().BeNull("a multi-class task has no grades");
            p.ExpectedGrade.Should().BeNull();
            p.Agreement.Should().Be(1);
            p.ProbabilitySpread.Should().OnlyContain(s => s == 0);
        }
    }

    [Fact]
    public void MembersOfDifferentSizesAndChannels_EachPrepareTheFileStreamAndImageTheirOwnWay()
    {
        var paths = new[] { Save("rgb28", 5), Save("grey32", 6, size: 32, channels: 1) };
        var pixels = Pixels(3);
        var files = new List<string>();
        for (int i = 0; i < pixels.Length; i++)
        {
            files.Add(Path.Combine(_dir, $"image{i}.png"));
            ImageCodec.Save(files[i], new RasterImage(28, 28, 3, pixels[i]));
        }
        var singles = paths.Select(p =>
        {
            using var predictor = Predictor.Load(p);
            return predictor.PredictFiles(files).ToArray();
        }).ToArray();
        singles[0][0].Probabilities.Should().NotEqual(singles[1][0].Probabilities);

        using var ensemble = EnsemblePredictor.Load(paths);
        var fromFiles = ensemble.PredictFiles(files, batchSize: 2);
        fromFiles.Should().HaveCount(3);
        for (int i = 0; i < files.Count; i++)
        {
            fromFiles[i].Members[0].Should().BeEquivalentTo(singles[0][i], o => o.WithStrictOrdering());
            fromFiles[i].Members[1].Should().BeEquivalentTo(singles[1][i], o => o.WithStrictOrdering());
            fromFiles[i].Probabilities.Should().Equal(singles[0][i].Probabilities.Select((q, k) => (q + singles[1][i].Probabilities[k]) / 2), (a, e) => Math.Abs(a - e) < 1e-6);
            using (var stream = File.OpenRead(files[i])) ensemble.Predict(stream).Should().BeEquivalentTo(ensemble.PredictFile(files[i]), o => o.WithStrictOrdering());
            // a batch of one against batches of two: oneDNN may choose other kernels (and summation orders) per batch size
            ensemble.PredictPixels(pixels[i], 28, 28, 3).Probabilities.Should().Equal(fromFiles[i].Probabilities, (a, e) => Math.Abs(a - e) < 1e-6);
        }
        // [0, 1] images: each member resizes and normalises (and turns grey to RGB) by its own card; an image that does
        // not suit a member is refused, naming the member.
        var grey = FloatImage.FromBytesHwc(pixels[0].Where((_, j) => j % 3 == 0).ToArray(), 28, 28, 1);
        var fromImage = ensemble.Predict(grey);
        using (var rgb = Predictor.Load(paths[0]))
        using (var one = Predictor.Load(paths[1]))
        {
            fromImage.Members[0].Should().BeEquivalentTo(rgb.Predict(grey), o => o.WithStrictOrdering());
            fromImage.Members[1].Should().BeEquivalentTo(one.Predict(grey), o => o.WithStrictOrdering());
        }
        FluentActions.Invoking(() => ensemble.Predict(FloatImage.FromBytesHwc(pixels[0], 28, 28, 3))).Should().Throw<ArgumentException>()
            .WithMessage("Member 1 of 2: Image 0 of 1 has 3 channel(s); the model expects 1.*").Which.ParamName.Should().Be("images");
        ensemble.Predict(Array.Empty<FloatImage>()).Should().BeEmpty();
    }

    [Fact]
    public void VolumeMembers_PredictAsTheirPredictorsDo()
    {
        var paths = new List<string>();
        foreach (var (seed, size) in new[] { (7, 6), (8, 8) })
        {
            Tensors.ManualSeed((ulong)seed);
            using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 1, spatialDims: 3).WithClasses(2).Build();
            var preprocessing = new PreprocessingCard { InputSize = new() { size, size, size }, Channels = 1, Mean = new() { 0.5f }, Std = new() { 0.5f } };
            paths.Add(Path.Combine(_dir, $"volume{seed}.safetensors"));
            ModelFile.Save(paths[^1], model, ModelFile.Describe(model, preprocessing, new[] { "CN", "AD" }, MedMnistTask.Binary));
        }
        var random = new Random(3);
        var volume = new NiftiImage(Enumerable.Range(0, 7 * 5 * 6).Select(_ => (float)random.NextDouble() * 100).ToArray(), new[] { 7, 5, 6 });
        var before = volume.Voxels.ToArray();
        var singles = paths.Select(p => { using var predictor = Predictor.Load(p); return predictor.PredictVolume(volume); }).ToArray();

        using var ensemble = EnsemblePredictor.Load(paths);
        var p = ensemble.PredictVolume(volume);
        p.Members.Should().BeEquivalentTo(singles, o => o.WithStrictOrdering());
        p.Probabilities.Should().Equal(singles[0].Probabilities.Select((q, k) => (q + singles[1].Probabilities[k]) / 2), (a, e) => Math.Abs(a - e) < 1e-6);
        ensemble.PredictVolumes(new[] { volume }).Should().BeEquivalentTo(p, o => o.WithStrictOrdering());
        volume.Voxels.Should().Equal(before, "the caller's volume is not changed");
        var file = Path.Combine(_dir, "volume.nii.gz");
        NiftiWriter.Write(file, volume);
        ensemble.PredictFile(file).Probabilities.Should().Equal(p.Probabilities, (a, e) => Math.Abs(a - e) < 1e-6);
        FluentActions.Invoking(() => ensemble.PredictVolumes(Array.Empty<NiftiImage>())).Should().Throw<ArgumentException>().WithMessage("*at least one channel*");
    }

    private static float[] Floats(IEnumerable<double> values) => values.Select(v => (float)v).ToArray();

    [Fact]
    public void Explain_AveragesTheMembersMapsOfTheEnsemblesClass()
    {
        var paths = new[] { Save("a", 1), Save("b", 2), Save("c", 3, size: 20) };
        var file = Path.Combine(_dir, "fundus.png");
        ImageCodec.Save(file, new RasterImage(28, 28, 3, Pixels(4)[3]));
        using var a = Predictor.Load(paths[0]);
        using var b = Predictor.Load(paths[1]);
        using var c = Predictor.Load(paths[2]);

        // Members of one input size: the weighted mean of their maps of the ensemble's class.
        using (var ensemble = EnsemblePredictor.Load(paths[..2], weights: new[] { 1.0, 3.0 }))
        {
            ensemble.CanExplain.Should().BeTrue();
            var explanation = ensemble.ExplainFile(file);
            var prediction = explanation.Prediction.Should().BeOfType<EnsemblePrediction>().Subject;
            prediction.Probabilities.Should().Equal(ensemble.PredictFile(file).Probabilities);
            explanation.TargetClass.Should().Be(prediction.Label);
            explanation.TargetClassName.Should().Be(Grades[prediction.Label]);
            explanation.MapShape.Should().Equal(28, 28);
            var mapA = a.ExplainFile(file, targetClass: prediction.Label).Map;
            var mapB = b.ExplainFile(file, targetClass: prediction.Label).Map;
            explanation.Map.Should().Equal(Floats(mapA.Select((v, j) => (0.25 * v) + (0.75 * mapB[j]))), (x, e) => Math.Abs(x - e) < 1e-6);
            explanation.Map.Should().OnlyContain(v => v >= 0 && v <= 1);
            mapA.Max().Should().Be(1, "each member's map spans [0, 1]");

            // Another class on request, by Grad-CAM++ too.
            int other = (prediction.Label + 1) % 5;
            var asked = ensemble.ExplainFile(file, CamMethod.GradCamPlusPlus, other);
            asked.TargetClass.Should().Be(other);
            var plusA = a.ExplainFile(file, CamMethod.GradCamPlusPlus, other).Map;
            var plusB = b.ExplainFile(file, CamMethod.GradCamPlusPlus, other).Map;
            asked.Map.Should().Equal(Floats(plusA.Select((v, j) => (0.25 * v) + (0.75 * plusB[j]))), (x, e) => Math.Abs(x - e) < 1e-6);
            var image = FloatImage.FromBytesHwc(Pixels(4)[3], 28, 28, 3);
            ensemble.Explain(image).Map.Should().Equal(explanation.Map, (x, e) => Math.Abs(x - e) < 1e-6);
            explanation.Overlay(new RasterImage(56, 56, 3, new byte[56 * 56 * 3])).Width.Should().Be(56);
            FluentActions.Invoking(() => ensemble.ExplainFile(file, targetClass: 5)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*5 classes*");
        }

        // Members of different input sizes: the maps are resized to the largest (28×28) before they are averaged.
        using (var mixed = EnsemblePredictor.Load(new[] { paths[2], paths[0] }))
        {
            var explanation = mixed.ExplainFile(file, targetClass: 2);
            explanation.MapShape.Should().Equal(28, 28);
            var small = c.ExplainFile(file, targetClass: 2);
            small.MapShape.Should().Equal(20, 20);
            var resized = new MedVision.Nets.Transforms.Resize(28, 28, ResizeMode.Linear).Apply(new FloatImage(small.Map, [1, 20, 20]), new Random(0)).Data;
            var large = a.ExplainFile(file, targetClass: 2).Map;
            explanation.Map.Should().Equal(Floats(resized.Select((v, j) => (0.5 * v) + (0.5 * large[j]))), (x, e) => Math.Abs(x - e) < 1e-6);
        }
    }

    [Fact]
    public void ExplainWithAnAttribution_AveragesTheMembersAttributionMaps_InTwoAndThreeDimensions()
    {
        var paths = new[] { Save("a", 1), Save("b", 2) };
        var file = Path.Combine(_dir, "fundus.png");
        ImageCodec.Save(file, new RasterImage(28, 28, 3, Pixels(4)[3]));
        using var a = Predictor.Load(paths[0]);
        using var b = Predictor.Load(paths[1]);
        using (var ensemble = EnsemblePredictor.Load(paths, weights: new[] { 1.0, 3.0 }))
        {
            ensemble.CanAttribute.Should().BeTrue();
            var explanation = ensemble.ExplainFile(file, AttributionMethod.IntegratedGradients);
            var prediction = explanation.Prediction.Should().BeOfType<EnsemblePrediction>().Subject;
            prediction.Probabilities.Should().Equal(ensemble.PredictFile(file).Probabilities);
            explanation.TargetClass.Should().Be(prediction.Label);
            var mapA = a.ExplainFile(file, AttributionMethod.IntegratedGradients, prediction.Label).Map;
            var mapB = b.ExplainFile(file, AttributionMethod.IntegratedGradients, prediction.Label).Map;
            mapA.Should().NotEqual(mapB);
            explanation.Map.Should().Equal(Floats(mapA.Select((v, j) => (0.25 * v) + (0.75 * mapB[j]))), (x, e) => Math.Abs(x - e) < 1e-6);
            var image = FloatImage.FromBytesHwc(Pixels(4)[3], 28, 28, 3);
            ensemble.Explain(image, AttributionMethod.Saliency, 1).Map.Should().Equal(
                Floats(a.Explain(image, AttributionMethod.Saliency, 1).Map.Zip(b.Explain(image, AttributionMethod.Saliency, 1).Map, (p, q) => (0.25 * p) + (0.75 * q))), (x, e) => Math.Abs(x - e) < 1e-6);
            ensemble.CanAttributeWith(AttributionMethod.GuidedGradCam).Should().BeTrue();
            ensemble.Explain(image, AttributionMethod.GuidedGradCam, 2).Map.Should().Equal(
                Floats(a.Explain(image, AttributionMethod.GuidedGradCam, 2).Map.Zip(b.Explain(image, AttributionMethod.GuidedGradCam, 2).Map, (p, q) => (0.25 * p) + (0.75 * q))), (x, e) => Math.Abs(x - e) < 1e-6);
            FluentActions.Invoking(() => ensemble.ExplainFile(file, AttributionMethod.SmoothGrad, 5)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*5 classes*");

            // options reach every member
            var options = AttributionOptions.Default with { Samples = 2, Seed = 3, Sign = AttributionSign.Negative };
            ensemble.ExplainFile(file, AttributionMethod.SmoothGrad, 0, options).Map.Should().Equal(
                Floats(a.ExplainFile(file, AttributionMethod.SmoothGrad, 0, options).Map.Zip(b.ExplainFile(file, AttributionMethod.SmoothGrad, 0, options).Map, (p, q) => (0.25 * p) + (0.75 * q))),
                (x, e) => Math.Abs(x - e) < 1e-6);
            ensemble.ExplainFile(file, AttributionMethod.SmoothGrad, 0, options).Map.Should().NotEqual(ensemble.ExplainFile(file, AttributionMethod.SmoothGrad, 0).Map);
            // and so do the SHAP methods' references, each member preparing them as it prepares the image
            var shap = AttributionOptions.Default with { References = Pixels(3).Select(p => FloatImage.FromBytesHwc(p, 28, 28, 3)).ToArray() };
            ensemble.ExplainFile(file, AttributionMethod.DeepLiftShap, 1, shap).Map.Should().Equal(
                Floats(a.ExplainFile(file, AttributionMethod.DeepLiftShap, 1, shap).Map.Zip(b.ExplainFile(file, AttributionMethod.DeepLiftShap, 1, shap).Map, (p, q) => (0.25 * p) + (0.75 * q))),
                (x, e) => Math.Abs(x - e) < 1e-6);
            FluentActions.Invoking(() => ensemble.ExplainFile(file, AttributionMethod.GradientShap)).Should().Throw<ArgumentException>().WithParameterName("options");
            // or read from files by every member
            var referenceFiles = Pixels(3).Select((p, i) =>
            {
                var reference = Path.Combine(_dir, $"reference-{i}.png");
                ImageCodec.Save(reference, new RasterImage(28, 28, 3, p));
                return reference;
            }).ToArray();
            ensemble.ExplainFile(file, AttributionMethod.DeepLiftShap, 1, AttributionOptions.Default with { ReferenceFiles = referenceFiles }).Map
                .Should().Equal(ensemble.ExplainFile(file, AttributionMethod.DeepLiftShap, 1, shap).Map);
            // several members' scaled maps are averaged: no convergence delta holds for the mean
            explanation.ConvergenceDelta.Should().BeNull();
            explanation.ScoreChange.Should().BeNull();
        }

        // 3-D: each member's map placed back on the scan and averaged there, as class-activation maps are.
        Tensors.ManualSeed(6);
        using var model = ResNet.Builder().WithDepth(10).WithWidths(2, 2, 4, 4).ForInput(channels: 1, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build();
        var preprocessing = new PreprocessingCard { InputSize = new() { 8, 8, 8 }, Channels = 1, Mean = new() { 0.5f }, Std = new() { 0.5f } };
        var volumeModel = Path.Combine(_dir, "volume.safetensors");
        ModelFile.Save(volumeModel, model, ModelFile.Describe(model, preprocessing, new[] { "CN", "AD" }, MedMnistTask.Binary));
        var random = new Random(5);
        var scan = new NiftiImage(Enumerable.Range(0, 10 * 9 * 8).Select(_ => (float)random.NextDouble() * 100).ToArray(), new[] { 10, 9, 8 }, null, NiftiDataType.Float32, new NiftiAffine(new double[,] { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 } }));
        using var single = Predictor.Load(volumeModel);
        using var alone = EnsemblePredictor.Load(new[] { volumeModel });
        var own = single.ExplainVolume(scan, AttributionMethod.Saliency, 1);
        own.MapShape.Should().Equal(8, 8, 8);
        own.InputGrid.Should().NotBeNull("a volume's explanation knows its place in the world");
        var averaged = alone.ExplainVolume(scan, AttributionMethod.Saliency, 1);
        averaged.MapShape.Should().Equal(8, 9, 10);
        averaged.ToSourceVolume().Voxels.Should().Equal(own.ToSourceVolume().Voxels, (x, e) => Math.Abs(x - e) < 1e-5, "one member's map is its own, placed on the scan");
        alone.ExplainVolumes(new[] { scan }, AttributionMethod.Saliency, 1).Map.Should().Equal(averaged.Map);
        single.ExplainVolumes(new[] { scan }, AttributionMethod.Saliency, 1).Map.Should().Equal(own.Map);

        // an ensemble of one reports its member's convergence delta
        var integrated = single.ExplainVolume(scan, AttributionMethod.IntegratedGradients, 1);
        integrated.ConvergenceDelta.Should().NotBeNull();
        alone.ExplainVolume(scan, AttributionMethod.IntegratedGradients, 1).ConvergenceDelta.Should().Be(integrated.ConvergenceDelta);
        // reference files of a volume model are read and prepared as the scan is: the scan against itself has nothing to explain
        var scanFile = Path.Combine(_dir, "scan.nii.gz");
        NiftiWriter.Write(scanFile, scan);
        var other = Path.Combine(_dir, "other.nii.gz");
        NiftiWriter.Write(other, new NiftiImage(scan.Voxels.Select(v => 100 - v).ToArray(), new[] { 10, 9, 8 }, null, NiftiDataType.Float32, scan.Affine));
        var itself = alone.ExplainFile(scanFile, AttributionMethod.DeepLiftShap, 1, AttributionOptions.Default with { ReferenceFiles = [scanFile] });
        itself.ScoreChange.Should().Be(0, "the reference file is prepared into the very input");
        itself.ConvergenceDelta.Should().Be(0);
        var against = alone.ExplainFile(scanFile, AttributionMethod.DeepLiftShap, 1, AttributionOptions.Default with { ReferenceFiles = [other] });
        Math.Abs(against.ScoreChange!.Value).Should().BeGreaterThan(1e-4);
        Math.Abs(against.ConvergenceDelta!.Value).Should().BeLessThan(1e-3 * Math.Abs(against.ScoreChange.Value) + 1e-5, "DeepLIFT adds up through a batch-normalised ResNet");
        against.ToSourceVolume().Voxels.Should().Equal(single.ExplainFile(scanFile, AttributionMethod.DeepLiftShap, 1, AttributionOptions.Default with { ReferenceFiles = [other] }).ToSourceVolume().Voxels,
            (x, e) => Math.Abs(x - e) < 1e-5);
    }

    [Fact]
    public void ExplainVolume_AveragesTheMembersMapsOnTheScansOwnGrid()
    {
        var paths = new List<string>();
        foreach (var (seed, size, orientation) in new[] { (5, 12, (string?)"RAS"), (8, 16, null) })
        {
            Tensors.ManualSeed((ulong)seed);
            using var model = ResNet.Builder().WithDepth(10).WithWidths(2, 2, 4, 4).ForInput(channels: 1, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build();
            var preprocessing = new PreprocessingCard { InputSize = new() { size, size, size }, Channels = 1, Mean = new() { 0.5f }, Std = new() { 0.5f }, Orientation = orientation };
            paths.Add(Path.Combine(_dir, $"volume{seed}.safetensors"));
            ModelFile.Save(paths[^1], model, ModelFile.Describe(model, preprocessing, new[] { "CN", "AD" }, MedMnistTask.Binary));
        }
        var random = new Random(5);
        var affine = new NiftiAffine(new double[,] { { -1.5, 0, 0, 10 }, { 0, -1.2, 0, 8 }, { 0, 0, 2, -6 } });
        var scan = new NiftiImage(Enumerable.Range(0, 14 * 12 * 10).Select(_ => (float)random.NextDouble() * 100).ToArray(), new[] { 14, 12, 10 }, null, NiftiDataType.Float32, affine);
        using var ensemble = EnsemblePredictor.Load(paths, weights: new[] { 2.0, 1.0 });
        var predicted = ensemble.ExplainVolume(scan);
        predicted.Prediction.Probabilities.Should().Equal(ensemble.PredictVolume(scan).Probabilities);
        predicted.TargetClass.Should().Be(predicted.Prediction.Label);

        // The class whose members' maps both vary (an untrained network's map of a class can be all zero after the ReLU).
        float[][] Placed(int target) => paths.Select(p => { using var member = Predictor.Load(p); return member.ExplainVolume(scan, targetClass: target).ToSourceVolume().Voxels; }).ToArray();
        int target = Enumerable.Range(0, 2).First(t => Placed(t).All(m => m.Max() > m.Min()));
        var placed = Placed(target);
        var explanation = ensemble.ExplainVolume(scan, targetClass: target);
        explanation.MapShape.Should().Equal(10, 12, 14);
        var onScan = explanation.ToSourceVolume();
        onScan.Shape.Should().Equal(14, 12, 10);
        onScan.Affine.Should().Be(scan.Affine);
        onScan.Voxels.Should().Equal(explanation.ToInputVolume().Voxels, (x, e) => Math.Abs(x - e) < 1e-6, "the ensemble's map already lies on the scan's grid");
        explanation.Map.Should().Equal(Floats(placed[0].Select((v, j) => (2.0 / 3 * v) + (1.0 / 3 * placed[1][j]))), (x, e) => Math.Abs(x - e) < 1e-6);
        // One model alone: its own map on the scan.
        using (var one = EnsemblePredictor.Load(paths.Take(1)))
        using (var member = Predictor.Load(paths[0]))
            one.ExplainVolume(scan, targetClass: target).ToSourceVolume().Voxels.Should().Equal(member.ExplainVolume(scan, targetClass: target).ToSourceVolume().Voxels, (x, e) => Math.Abs(x - e) < 1e-6);
        var file = Path.Combine(_dir, "scan.nii.gz");
        NiftiWriter.Write(file, scan);
        ensemble.ExplainFile(file, targetClass: target).Map.Should().Equal(explanation.Map, (x, e) => Math.Abs(x - e) < 1e-5);
        ensemble.ExplainVolumes(new[] { scan }, targetClass: target).Map.Should().Equal(explanation.Map);
    }

    [Fact]
    public void MembersThatDoNotFitTogether_AndBadWeights_AreRefusedByName()
    {
        var a = Save("a", 1);
        var other = Save("other", 2, classes: new[] { "no", "mild", "moderate", "severe", "proliferative" });
        var multiClass = Save("multi", 3, task: MedMnistTask.MultiClass);
        Tensors.ManualSeed(4);
        using (var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 1, spatialDims: 3).WithClasses(5).Build())
            ModelFile.Save(Path.Combine(_dir, "volume.safetensors"), model, ModelFile.Describe(model, new PreprocessingCard { InputSize = new() { 6, 6, 6 }, Channels = 1, Mean = new() { 0.5f }, Std = new() { 0.5f } }, Grades, MedMnistTask.OrdinalRegression));
        var volume = Path.Combine(_dir, "volume.safetensors");

        long live = Tensors.LiveTensors;
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a, other })).Should().Throw<ArgumentException>().WithMessage("*Member 1 has the classes [no, mild*but member 0 has [grade 0*");
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a, multiClass })).Should().Throw<ArgumentException>().WithMessage("*Member 1 is a MultiClass model but member 0 is a OrdinalRegression model*");
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a, volume })).Should().Throw<ArgumentException>().WithMessage("*Member 1 takes 3-D volumes but member 0 takes 2-D images*");
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a, Path.Combine(_dir, "missing.safetensors") })).Should().Throw<Exception>().WithMessage("*missing.safetensors*");
        Tensors.LiveTensors.Should().BeLessThanOrEqualTo(live, "the members loaded before a refusal are freed");

        FluentActions.Invoking(() => EnsemblePredictor.Load(Array.Empty<string>())).Should().Throw<ArgumentException>().WithMessage("*at least one model file*");
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a, "" })).Should().Throw<ArgumentException>().WithMessage("*Model file 1 of 2 is null or empty*");
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a, Path.Combine(_dir, ".", "a.safetensors") })).Should().Throw<ArgumentException>().WithMessage("*listed twice (members 0 and 1)*");
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a, a }, weights: new[] { 1.0 })).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a }, weights: new[] { 1.0, 2.0 })).Should().Throw<ArgumentException>().WithMessage("*2 weights were given for 1 members*");
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a }, weights: new[] { -1.0 })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Weight 0 must be finite and non-negative*");
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a }, weights: new[] { double.NaN })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => EnsemblePredictor.Load(new[] { a }, weights: new[] { 0.0 })).Should().Throw<ArgumentException>().WithMessage("*all 0*");

        using var one = Predictor.Load(a);
        FluentActions.Invoking(() => EnsemblePredictor.Create(new[] { one, one })).Should().Throw<ArgumentException>().WithMessage("*Members 0 and 1 are the same predictor*");
        FluentActions.Invoking(() => EnsemblePredictor.Create(new Predictor[] { one, null! })).Should().Throw<ArgumentException>().WithMessage("*Member 1 of 2 is null*");
        FluentActions.Invoking(() => EnsemblePredictor.Create(Array.Empty<Predictor>())).Should().Throw<ArgumentException>().WithMessage("*at least one member*");
    }

    [Fact]
    public void AManifest_ListsTheModelsRelativeToItsFolder_AndLoadsAsTheirEnsemble()
    {
        var deploy = Directory.CreateDirectory(Path.Combine(_dir, "deploy")).FullName;
        var folds = new[] { Save("fold0", 1), Save("fold1", 2, size: 32) }.Select((p, i) =>
        {
            var target = Path.Combine(deploy, $"fold{i}", "model.safetensors");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(p, target);
            return target;
        }).ToArray();
        var manifest = Path.Combine(deploy, "ensemble.json");
        EnsemblePredictor.SaveManifest(manifest, folds, new[] { 2.0, 1.0 });
        Directory.EnumerateFiles(deploy).Should().Equal(new[] { manifest }, "the manifest is written whole, no temporary file left");
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(manifest)).RootElement;
        json.GetProperty("format").GetString().Should().Be(EnsemblePredictor.ManifestFormat);
        json.GetProperty("format_version").GetInt32().Should().Be(1);
        json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("path").GetString()).Should().Equal("fold0/model.safetensors", "fold1/model.safetensors");
        json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("weight").GetDouble()).Should().Equal(2.0, 1.0);

        var pixels = Pixels(3);
        using (var expected = EnsemblePredictor.Load(folds, weights: new[] { 2.0, 1.0 }))
        {
            // The folder moved elsewhere whole: the manifest still finds its models.
            var moved = Path.Combine(_dir, "moved");
            Directory.Move(deploy, moved);
            using var loaded = EnsemblePredictor.LoadManifest(Path.Combine(moved, "ensemble.json"));
            loaded.Weights.Should().Equal(expected.Weights);
            foreach (var x in pixels)
                loaded.PredictPixels(x, 28, 28, 3).Probabilities.Should().Equal(expected.PredictPixels(x, 28, 28, 3).Probabilities);

            // A manifest given where a model file belongs is named as what it is, not as a broken safetensors file.
            var movedManifest = Path.Combine(moved, "ensemble.json");
            foreach (var load in new Action[] { () => Predictor.Load(movedManifest), () => ModelFile.ReadCard(movedManifest), () => SegmentationModelFile.ReadCard(movedManifest) })
                load.Should().Throw<ModelFormatException>().WithMessage("*ensemble.json is a JSON file, not a model file*EnsemblePredictor.LoadManifest*");
        }
    }

    [Fact]
    public void AManifestCarriesAConformalCalibrationOfTheAveragedProbabilities()
    {
        var members = new[] { Save("c0", 1), Save("c1", 2) };
        var pixels = Pixels(30);
        MedVision.Nets.Metrics.Conformal.ConformalClassifier conformal;
        using (var plain = EnsemblePredictor.Load(members))
        {
            var predictions = pixels.Take(20).Select(x => plain.PredictPixels(x, 28, 28, 3)).ToArray();
            predictions.Should().OnlyContain(p => p.ConformalSet == null);
            var probabilities = new double[20, 5];
            for (int i = 0; i < 20; i++) for (int k = 0; k < 5; k++) probabilities[i, k] = predictions[i].Probabilities[k];
            conformal = MedVision.Nets.Metrics.Conformal.ConformalClassifier.Create().WithScore(MedVision.Nets.Metrics.Conformal.ConformalScore.Lac).WithCoverage(0.8)
                .Calibrate(MedMnistDataset.LoadEmbeddedRetinaMnist().Test.Labels.Cast<int>().Take(20).ToArray(), probabilities);
        }
        var manifest = Path.Combine(_dir, "calibrated.json");
        EnsemblePredictor.SaveManifest(manifest, members, null, ConformalCard.From(conformal));
        EnsemblePredictor.ReadManifest(manifest).Conformal!.Thresholds.Should().HaveCount(5);
        using (var loaded = EnsemblePredictor.LoadManifest(manifest))
        {
            loaded.Conformal!.Thresholds.Should().Equal(conformal.Thresholds);
            foreach (var x in pixels.Skip(20))
            {
                var p = loaded.PredictPixels(x, 28, 28, 3);
                p.ConformalSet.Should().Equal(conformal.PredictSet(p.Probabilities.ToArray().AsSpan()));
            }
        }
        using (var flipped = EnsemblePredictor.LoadManifest(manifest, flips: TestTimeFlips.Vertical))
        {
            flipped.Conformal.Should().BeNull();
            flipped.ConformalNote.Should().Contain("flips None").And.Contain("flips Vertical");
            flipped.PredictPixels(pixels[0], 28, 28, 3).ConformalSet.Should().BeNull();
        }
        // The manifest records each member file's SHA-256; a member retrained since (another file at the same path) voids the
        // calibration, which is then left out and says why, while the ensemble still predicts.
        var hashes = EnsemblePredictor.ReadManifest(manifest).ModelHashes;
        hashes.Should().HaveCount(2).And.OnlyContain(h => h != null && h.Length == 64);
        hashes[1].Should().Be(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(members[1]))).ToLowerInvariant());
        var original = File.ReadAllBytes(members[1]);
        Save("c1", 3);
        using (var retrained = EnsemblePredictor.LoadManifest(manifest))
        {
            retrained.Conformal.Should().BeNull();
            retrained.ConformalNote.Should().Contain("member 1's model file").And.Contain("c1.safetensors").And.Contain("has changed since the manifest was written");
            retrained.PredictPixels(pixels[0], 28, 28, 3).ConformalSet.Should().BeNull();
        }
        File.WriteAllBytes(members[1], original);
        using (var restored = EnsemblePredictor.LoadManifest(manifest)) restored.Conformal.Should().NotBeNull("the file is the calibrated one again");
        // A manifest without hashes (written before they were recorded) keeps its calibration; a malformed hash is refused.
        var unhashed = Path.Combine(_dir, "unhashed.json");
        File.WriteAllText(unhashed, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(manifest), @",\s*""sha256"": ""[0-9a-f]{64}""", ""));
        EnsemblePredictor.ReadManifest(unhashed).ModelHashes.Should().Equal(null, null);
        using (var old = EnsemblePredictor.LoadManifest(unhashed)) old.Conformal.Should().NotBeNull();
        File.WriteAllText(unhashed, File.ReadAllText(manifest).Replace(hashes[0]!, "xyz"));
        FluentActions.Invoking(() => EnsemblePredictor.ReadManifest(unhashed)).Should().Throw<ModelFormatException>().WithMessage("*unhashed.json*member 0's \"sha256\" is not 64 lower-case hexadecimal digits*");

        // A calibration that does not fit the members' classes, or a damaged one, is refused by name.
        var three = MedVision.Nets.Metrics.Conformal.ConformalClassifier.Create().Calibrate(new[] { 0, 1, 2 }, new double[,] { { 0.8, 0.1, 0.1 }, { 0.1, 0.8, 0.1 }, { 0.1, 0.1, 0.8 } });
        FluentActions.Invoking(() => EnsemblePredictor.SaveManifest(Path.Combine(_dir, "bad.json"), members, null, ConformalCard.From(three)))
            .Should().Throw<ArgumentException>().WithMessage("*3 thresholds but the model has 5 classes*");
        File.Exists(Path.Combine(_dir, "bad.json")).Should().BeFalse();
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"coverage\": 0.8", "\"coverage\": 1.8"));
        FluentActions.Invoking(() => EnsemblePredictor.LoadManifest(manifest)).Should().Throw<ModelFormatException>().WithMessage($"*calibrated.json*coverage 1.8*");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"coverage\": 1.8", "\"coverage\": \"high\""));
        FluentActions.Invoking(() => EnsemblePredictor.ReadManifest(manifest)).Should().Throw<ModelFormatException>().WithMessage($"*calibrated.json*\"conformal\" is not a conformal calibration*");
    }

    [Fact]
    public void AManifestCarriesAReferralOperatingPointOfTheAveragedProbabilities()
    {
        var members = new[] { Save("r0", 1), Save("r1", 2) };
        var pixels = Pixels(40);
        var grades = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.Labels.Cast<int>().ToArray();
        // The operating point is chosen on the ensemble's averaged probabilities of the first 30 images.
        MedVision.Nets.Metrics.Clinical.OperatingPoint point;
        using (var plain = EnsemblePredictor.Load(members))
        {
            var predictions = pixels.Take(30).Select(x => plain.PredictPixels(x, 28, 28, 3)).ToArray();
            predictions.Should().OnlyContain(p => p.ReferralRisk == null && p.Referred == null, "neither the members' cards nor a manifest hold a referral point");
            var probabilities = new double[30, 5];
            for (int i = 0; i < 30; i++) for (int k = 0; k < 5; k++) probabilities[i, k] = predictions[i].Probabilities[k];
            var (labels, risks) = MedVision.Nets.Metrics.Clinical.Referral.FromGrades(grades.Take(30).ToArray(), probabilities, 1);
            labels.Should().Contain(0).And.Contain(1);
            point = MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivity(labels, risks, 0.8);
        }
        var manifest = Path.Combine(_dir, "screening.json");
        EnsemblePredictor.SaveManifest(manifest, members, null, null, ReferralCard.From(point, 1));
        EnsemblePredictor.ReadManifest(manifest).Referral!.Threshold.Should().Be(point.Threshold);
        using (var loaded = EnsemblePredictor.LoadManifest(manifest))
        {
            loaded.Referral!.Threshold.Should().Be(point.Threshold);
            loaded.ReferralNote.Should().BeNull();
            // Through the predictor, the held-out images are referred exactly as the point was fitted: its sensitivity and specificity again.
            var decided = pixels.Take(30).Select(x => loaded.PredictPixels(x, 28, 28, 3)).ToArray();
            decided.Should().OnlyContain(p => p.Referred == (p.ReferralRisk >= point.Threshold) && Math.Abs(p.ReferralRisk!.Value - (1 - p.Probabilities[0])) < 1e-6);
            int tp = Enumerable.Range(0, 30).Count(i => grades[i] >= 1 && decided[i].Referred == true), positives = grades.Take(30).Count(g => g >= 1);
            int tn = Enumerable.Range(0, 30).Count(i => grades[i] == 0 && decided[i].Referred == false);
            ((double)tp / positives).Should().Be(point.Fitted!.Sensitivity);
            ((double)tn / (30 - positives)).Should().Be(point.Fitted.Specificity);
        }
        using (var flipped = EnsemblePredictor.LoadManifest(manifest, flips: TestTimeFlips.Horizontal))
        {
            flipped.Referral.Should().BeNull();
            flipped.ReferralNote.Should().Contain("flips None").And.Contain("flips Horizontal");
            flipped.PredictPixels(pixels[0], 28, 28, 3).Referred.Should().BeNull();
        }

        // Storing a conformal calibration beside it keeps the operating point while the member files are those it was chosen with…
        var conformal = MedVision.Nets.Metrics.Conformal.ConformalClassifier.Create().WithCoverage(0.8)
            .Calibrate(new[] { 0, 1, 2, 3, 4 }, new double[,] { { 0.6, 0.1, 0.1, 0.1, 0.1 }, { 0.1, 0.6, 0.1, 0.1, 0.1 }, { 0.1, 0.1, 0.6, 0.1, 0.1 }, { 0.1, 0.1, 0.1, 0.6, 0.1 }, { 0.1, 0.1, 0.1, 0.1, 0.6 } });
        long hashedBefore = ManifestFile.FilesHashed;
        EnsemblePredictor.UpdateManifest(manifest, m => m with { Conformal = ConformalCard.From(conformal) }).Should().BeEmpty();
        (ManifestFile.FilesHashed - hashedBefore).Should().Be(2, "each member file is hashed once: to check it, and the same hash recorded");
        var both = EnsemblePredictor.ReadManifest(manifest);
        (both.Conformal, both.Referral).Should().NotBe((null, null));
        both.Referral!.Threshold.Should().Be(point.Threshold);
        both.Conformal!.Thresholds.Should().HaveCount(5);
        // …but once a member is retrained, re-saving for a new calibration must not give the old point the new file's hash.
        Save("r1", 3);
        using (var stale = EnsemblePredictor.LoadManifest(manifest))
        {
            (stale.Referral, stale.Conformal).Should().Be((null, null));
            stale.ReferralNote.Should().Contain("member 1's model file").And.Contain("r1.safetensors").And.Contain("choose it again");
        }
        var notes = EnsemblePredictor.UpdateManifest(manifest, m => m with { Conformal = ConformalCard.From(conformal) });
        notes.Should().ContainSingle().Which.Should().Contain("referral operating point was left out").And.Contain("member 1's model file");
        var recalibrated = EnsemblePredictor.ReadManifest(manifest);
        recalibrated.Referral.Should().BeNull();
        recalibrated.Conformal.Should().NotBeNull("it was made for the files as they are now");
        using (var reloaded = EnsemblePredictor.LoadManifest(manifest)) reloaded.Conformal.Should().NotBeNull();
        // Other weights make another ensemble: what was carried over is left out; equal weights written otherwise are the same ensemble.
        EnsemblePredictor.UpdateManifest(manifest, m => m with { Weights = [5.0, 5.0] }).Should().BeEmpty();
        EnsemblePredictor.ReadManifest(manifest).Conformal.Should().NotBeNull();
        EnsemblePredictor.UpdateManifest(manifest, m => m with { Weights = [3.0, 1.0] }).Should().ContainSingle().Which.Should().Contain("conformal calibration was left out").And.Contain("weights");
        EnsemblePredictor.ReadManifest(manifest).Conformal.Should().BeNull();

        // Points that do not fit the ensemble are refused by name, and nothing is written.
        var hot = ReferralCard.From(point, 1, temperature: 2);
        FluentActions.Invoking(() => EnsemblePredictor.SaveManifest(Path.Combine(_dir, "bad.json"), members, null, null, hot))
            .Should().Throw<ArgumentException>().WithMessage("*averaged probabilities at temperature 1*not at 2*");
        FluentActions.Invoking(() => EnsemblePredictor.SaveManifest(Path.Combine(_dir, "bad.json"), members, null, null, ReferralCard.From(point, 5)))
            .Should().Throw<ArgumentException>().WithMessage("*starts at class 5*from 1 to 4*");
        File.Exists(Path.Combine(_dir, "bad.json")).Should().BeFalse();
        FluentActions.Invoking(() => EnsemblePredictor.UpdateManifest(manifest, m => m with { Referral = hot })).Should().Throw<ArgumentException>();
        EnsemblePredictor.SaveManifest(manifest, members, null, null, ReferralCard.From(point, 1));
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"referable_from\": 1", "\"referable_from\": \"one\""));
        FluentActions.Invoking(() => EnsemblePredictor.ReadManifest(manifest)).Should().Throw<ModelFormatException>().WithMessage("*screening.json*\"referral\" is not a referral operating point*");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"referable_from\": \"one\"", "\"referable_from\": 0"));
        FluentActions.Invoking(() => EnsemblePredictor.LoadManifest(manifest)).Should().Throw<ModelFormatException>().WithMessage("*screening.json*starts at class 0*");
    }

    [Fact]
    public void ManifestsThatAreNotRight_AreRefusedNamingTheFileAndTheProblem()
    {
        var a = Save("a", 1);
        var other = Save("other", 2, classes: new[] { "no", "mild", "moderate", "severe", "proliferative" });
        string Write(string name, string text)
        {
            var path = Path.Combine(_dir, name);
            File.WriteAllText(path, text);
            return path;
        }
        string Refusal(string text) => FluentActions.Invoking(() => EnsemblePredictor.LoadManifest(Write("m.json", text))).Should().Throw<ModelFormatException>().Which.Message;
        const string Head = """{"format": "medvision.ensemble", "format_version": 1, "members": """;

        Refusal("not json").Should().Contain("m.json is not an ensemble manifest: it is not JSON");
        Refusal("""{"format": "something else", "format_version": 1, "members": []}""").Should().Contain("""its "format" is not "medvision.ensemble" """.TrimEnd());
        Refusal("""{"format": "medvision.ensemble", "format_version": 2, "members": []}""").Should().Contain("format version 2; this library reads versions up to 1");
        Refusal("""{"format": "medvision.ensemble", "format_version": "1", "members": []}""").Should().Contain("""no positive integer "format_version" """.TrimEnd());
        Refusal(Head + "[]}").Should().Contain("""members" is not a non-empty list""");
        Refusal(Head + """[{"weight": 1}]}""").Should().Contain("""member 0 has no "path" """.TrimEnd());
        Refusal(Head + """[{"path": "a.safetensors", "weight": "high"}]}""").Should().Contain("""member 0's "weight" is not a number""");
        // A key twice (found by fuzzing: JsonNode fails with an ArgumentException when it first reads such an object).
        Refusal(Head + """[{"path": "a.safetensors", "weight": 1, "weight": 2}]}""").Should().Contain("m.json is not a valid ensemble manifest: its JSON cannot be read as a manifest").And.Contain("weight");
        Refusal(Head + """[{"path": "a.safetensors", "weight": -1}]}""").Should().Contain("Weight 0 must be finite and non-negative").And.NotContain("Parameter");
        Refusal(Head + """[{"path": "a.safetensors"}, {"path": "other.safetensors"}]}""").Should().Contain("Member 1 has the classes [no, mild");
        Refusal(Head + """[{"path": "a.safetensors"}, {"path": "./a.safetensors"}]}""").Should().Contain("listed twice");
        FluentActions.Invoking(() => EnsemblePredictor.LoadManifest(Write("m.json", Head + """[{"path": "gone.safetensors"}]}""")))
            .Should().Throw<FileNotFoundException>().WithMessage("*m.json lists the model file 'gone.safetensors' (member 0), which does not exist*");
        FluentActions.Invoking(() => EnsemblePredictor.LoadManifest(Path.Combine(_dir, "none.json"))).Should().Throw<FileNotFoundException>().WithMessage("*none.json*");
        using (var one = EnsemblePredictor.LoadManifest(Write("m.json", Head + """[{"path": "a.safetensors"}]}""")))
            one.Weights.Should().Equal(1.0);

        FluentActions.Invoking(() => EnsemblePredictor.SaveManifest(Path.Combine(_dir, "s.json"), new[] { a, other })).Should().Throw<ArgumentException>().WithMessage("*Member 1 has the classes*").Which.ParamName.Should().Be("modelPaths");
        FluentActions.Invoking(() => EnsemblePredictor.SaveManifest(Path.Combine(_dir, "s.json"), new[] { a, Path.Combine(_dir, "gone.safetensors") })).Should().Throw<FileNotFoundException>().WithMessage("*gone.safetensors*");
        FluentActions.Invoking(() => EnsemblePredictor.SaveManifest(Path.Combine(_dir, "s.json"), new[] { a, a })).Should().Throw<ArgumentException>().WithMessage("*listed twice*");
        FluentActions.Invoking(() => EnsemblePredictor.SaveManifest(Path.Combine(_dir, "s.json"), new[] { a }, new[] { 0.0 })).Should().Throw<ArgumentException>().WithMessage("*all 0*");
        File.Exists(Path.Combine(_dir, "s.json")).Should().BeFalse("nothing is written for a refused manifest");
    }

    [Fact]
    public void Dispose_FreesTheMembers_AndLaterCallsAreRefused()
    {
        var ensemble = EnsemblePredictor.Load(new[] { Save("a", 1), Save("b", 2) });
        var member = ensemble.Members[0];
        var pixels = Pixels(1)[0];
        ensemble.PredictPixels(pixels, 28, 28, 3).Members.Should().HaveCount(2);
        ensemble.Dispose();
        ensemble.Dispose();
        FluentActions.Invoking(() => ensemble.PredictPixels(pixels, 28, 28, 3)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => ensemble.Explain(FloatImage.FromBytesHwc(pixels, 28, 28, 3))).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => member.PredictPixels(pixels, 28, 28, 3)).Should().Throw<ObjectDisposedException>("the ensemble owns its members");
    }

    [Fact]
    public void ManyThreadsGetTheSerialResults()
    {
        using var ensemble = EnsemblePredictor.Load(new[] { Save("a", 1), Save("b", 2, size: 32) });
        var inputs = Pixels(20);
        var serial = inputs.Select(p => ensemble.PredictPixels(p, 28, 28, 3).Probabilities.ToArray()).ToArray();
        static long SettledLiveTensors() { NativeHeap.Settle(); return Tensors.LiveTensors; }
        var liveBefore = SettledLiveTensors();
        int mismatches = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            for (int i = 0; i < 100; i++)
            {
                int index = ((t * 7) + i) % inputs.Length;
                if (!ensemble.PredictPixels(inputs[index], 28, 28, 3).Probabilities.SequenceEqual(serial[index])) Interlocked.Increment(ref mismatches);
            }
        });
        mismatches.Should().Be(0);
        SettledLiveTensors().Should().Be(liveBefore);
    }
}
