using System.Text.Json;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Jit;

namespace MedVision.Nets.Tests.Inference;

/// <summary>
/// Model files of any architecture through TorchScript: Fixtures/make_torchscript_classifier_fixture.py scripted a small
/// CNN that this library does not define, stored its model card as the file's extra file and wrote PyTorch's
/// probabilities for four RetinaMNIST test images.
/// </summary>
public sealed class TorchScriptPredictorTests : IDisposable
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny_torchscript_classifier.pt");
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-torchscript-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double[][] ExpectedProbabilities()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "torchscript_classifier_fixture.json")));
        return doc.RootElement.GetProperty("probabilities").EnumerateArray()
            .Select(row => row.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
    }

    private static byte[] TestImage(int index) => MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(index).ToArray();

    private static void ShouldMatch(Prediction prediction, double[] expected, string what)
    {
        prediction.Probabilities.Should().HaveCount(expected.Length);
        for (int k = 0; k < expected.Length; k++)
            prediction.Probabilities[k].Should().BeApproximately((float)expected[k], 1e-5f, "{0}, class {1}", what, k);
        prediction.Label.Should().Be(Array.IndexOf(expected, expected.Max()), what);
    }

    [Fact]
    public void PythonScriptedModelWithItsCard_PredictsLikePyTorch()
    {
        var expected = ExpectedProbabilities();
        using var predictor = Predictor.Load(Fixture);
        predictor.Card.Architecture.Should().Be("torchscript");
        predictor.Card.ResNet.Should().BeNull();
        predictor.CanExplain.Should().BeFalse("the predictor does not know a script's layers");
        predictor.ClassNames.Should().Equal("grade 0", "grade 1", "grade 2", "grade 3", "grade 4");
        for (int i = 0; i < expected.Length; i++)
        {
            var prediction = predictor.PredictPixels(TestImage(i), 28, 28, 3);
            ShouldMatch(prediction, expected[i], $"test image {i}");
            prediction.Grade.Should().Be(prediction.Label, "the card's task is ordinal regression");
        }

        // a batch gives the same probabilities, and several threads may share the predictor
        var images = Enumerable.Range(0, 4).Select(i => FloatImage.FromBytesHwc(TestImage(i), 28, 28, 3)).ToArray();
        var results = new Prediction[4][];
        Parallel.For(0, 4, t => results[t] = predictor.Predict(images).ToArray());
        foreach (var batch in results)
            for (int i = 0; i < 4; i++) ShouldMatch(batch[i], expected[i], $"batched image {i}");
    }

    [Fact]
    public void ScriptModuleSavedWithACardFromDotNet_RoundTripsThroughPredictor()
    {
        var expected = ExpectedProbabilities();
        var path = Path.Combine(_dir, "model.pt");
        using (var script = ScriptModule.Load(Fixture))
        {
            var preprocessing = new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.5f } };
            var card = ModelFile.Describe(script, preprocessing, new[] { "a", "b", "c", "d", "e" }, MedMnistTask.MultiClass, new Dictionary<string, double> { ["val_auc"] = 0.5 });
            card.Temperature = 2;
            ModelFile.Save(path, script, card);
        }
        var read = ModelFile.ReadCard(path);
        read.Architecture.Should().Be("torchscript");
        read.Metrics["val_auc"].Should().Be(0.5);
        read.ClassNames.Should().Equal("a", "b", "c", "d", "e");

        using var predictor = Predictor.Load(path, flips: TestTimeFlips.Horizontal);
        predictor.Card.Temperature.Should().Be(2);
        var prediction = predictor.PredictPixels(TestImage(0), 28, 28, 3);
        prediction.Probabilities.Sum().Should().BeApproximately(1f, 1e-5f);
        prediction.LabelName.Should().Be(read.ClassNames[prediction.Label]);
        // the temperature flattens PyTorch's distribution: the largest probability falls, the smallest rises
        prediction.Probabilities.Max().Should().BeLessThan((float)expected[0].Max());
        prediction.Probabilities.Min().Should().BeGreaterThan((float)expected[0].Min());

        var explain = () => predictor.Explain(FloatImage.FromBytesHwc(TestImage(0), 28, 28, 3), CamMethod.GradCam);
        explain.Should().Throw<NotSupportedException>().WithMessage("*ResNet*AttributionMethod*");

        // gradients flow through a script: its predictions can be attributed to the pixels
        predictor.CanAttribute.Should().BeTrue();
        var attributed = predictor.Explain(FloatImage.FromBytesHwc(TestImage(0), 28, 28, 3), AttributionMethod.Saliency);
        attributed.Prediction.Probabilities.Should().Equal(prediction.Probabilities);
        attributed.MapShape.Should().Equal(28, 28);
        attributed.Map.Max().Should().Be(1f);
        attributed.Map.Count(v => v > 0).Should().BeGreaterThan(28 * 28 / 2, "a convolutional network's logit depends on most pixels");

        // but its ReLUs run inside libtorch's interpreter, so neither the guided methods nor DeepLIFT can change their backward pass
        foreach (var method in new[] { AttributionMethod.GuidedBackprop, AttributionMethod.GuidedGradCam, AttributionMethod.DeepLift, AttributionMethod.DeepLiftShap })
        {
            predictor.CanAttributeWith(method).Should().BeFalse();
            var guided = () => predictor.Explain(FloatImage.FromBytesHwc(TestImage(0), 28, 28, 3), method);
            guided.Should().Throw<NotSupportedException>().WithMessage(method switch
            {
                AttributionMethod.GuidedGradCam => "*Guided Grad-CAM needs a ResNet*",
                AttributionMethod.DeepLift => "DeepLIFT changes*TorchScript*",
                AttributionMethod.DeepLiftShap => "DeepLIFT SHAP changes*TorchScript*",
                _ => "Guided backpropagation changes*TorchScript*",
            });
        }
        predictor.CanAttributeWith(AttributionMethod.IntegratedGradients).Should().BeTrue();
        predictor.CanAttributeWith(AttributionMethod.GradientShap).Should().BeTrue("GradientSHAP takes plain gradients");
        var reference = FloatImage.FromBytesHwc(TestImage(1), 28, 28, 3);
        predictor.Explain(FloatImage.FromBytesHwc(TestImage(0), 28, 28, 3), AttributionMethod.GradientShap, options: AttributionOptions.Default with { References = [reference], Samples = 3 })
            .Map.Max().Should().Be(1f);
    }

    [Fact]
    public void CardsThatDoNotFitTheScript_AreRefusedByName()
    {
        using var script = ScriptModule.Load(Fixture);
        var preprocessing = new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 3 };

        // three class names for a network with five outputs: refused before anything is written
        var threeClasses = ModelFile.Describe(script, preprocessing, new[] { "a", "b", "c" }, MedMnistTask.MultiClass);
        var path = Path.Combine(_dir, "three.pt");
        var save = () => ModelFile.Save(path, script, threeClasses);
        save.Should().Throw<ModelFormatException>().WithMessage("*[1, 5]*not to [1, 3]*");
        File.Exists(path).Should().BeFalse();

        // the same card written by other tools is refused on load
        var json = JsonSerializer.Serialize(threeClasses);
        script.Save(path, new Dictionary<string, string> { [ModelFile.MetadataKey] = json });
        var load = () => Predictor.Load(path);
        load.Should().Throw<ModelFormatException>().WithMessage($"*{path}*[1, 5]*");

        // one channel for a network that takes three
        var grey = ModelFile.Describe(script, new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 1 }, new[] { "a", "b", "c", "d", "e" }, MedMnistTask.MultiClass);
        save = () => ModelFile.Save(Path.Combine(_dir, "grey.pt"), script, grey);
        save.Should().Throw<ModelFormatException>().WithMessage("*fails on an input of the card's shape [1, 1, 28, 28]*");

        // a ResNet card cannot describe a script, nor a TorchScript card a ResNet
        using var resnet = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        var resnetCard = ModelFile.Describe(resnet, preprocessing, new[] { "a", "b", "c", "d", "e" }, MedMnistTask.MultiClass);
        save = () => ModelFile.Save(Path.Combine(_dir, "x.pt"), script, resnetCard);
        save.Should().Throw<ArgumentException>().WithMessage("*torchscript*");
        var scriptCard = ModelFile.Describe(script, preprocessing, new[] { "a", "b", "c", "d", "e" }, MedMnistTask.MultiClass);
        save = () => ModelFile.Save(Path.Combine(_dir, "y.safetensors"), resnet, scriptCard);
        save.Should().Throw<ArgumentException>().WithMessage("*ScriptModule*");

        var resnetCardInScript = Path.Combine(_dir, "resnet-card.pt");
        script.Save(resnetCardInScript, new Dictionary<string, string> { [ModelFile.MetadataKey] = JsonSerializer.Serialize(resnetCard) });
        load = () => Predictor.Load(resnetCardInScript);
        load.Should().Throw<ModelFormatException>().WithMessage("*TorchScript file*'resnet'*");
    }

    [Fact]
    public void ScriptWithoutACard_NeedsASidecar()
    {
        var bare = Path.Combine(_dir, "bare.pt");
        using (var script = ScriptModule.Load(Fixture))
        {
            script.Save(bare);
            var load = () => Predictor.Load(bare);
            load.Should().Throw<ModelFormatException>().WithMessage("*TorchScript file without a model card*_extra_files*");

            var card = ModelFile.Describe(script, new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 3 }, new[] { "a", "b", "c", "d", "e" }, MedMnistTask.MultiClass);
            File.WriteAllText(Path.ChangeExtension(bare, ".json"), JsonSerializer.Serialize(card));
        }
        using var predictor = Predictor.Load(bare);
        predictor.PredictPixels(TestImage(1), 28, 28, 3).Probabilities.Should().HaveCount(5);

        var notScript = Path.Combine(_dir, "archive.pt");
        using (var zip = System.IO.Compression.ZipFile.Open(notScript, System.IO.Compression.ZipArchiveMode.Create))
            zip.CreateEntry("readme.txt");
        var act = () => Predictor.Load(notScript);
        act.Should().Throw<ModelFormatException>().WithMessage("*zip file but not a TorchScript*");
    }
}
