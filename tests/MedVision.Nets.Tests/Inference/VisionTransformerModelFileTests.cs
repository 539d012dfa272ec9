using System.Text.Json;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Inference;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class VisionTransformerModelFileTests : IDisposable
{
    private static readonly string[] Grades = ["grade 0", "grade 1", "grade 2", "grade 3", "grade 4"];
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-vit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PreprocessingCard Preprocessing28 => new() { InputSize = new() { 28, 28 }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.5f }, Resize = "linear" };

    private static VisionTransformer Tiny()
    {
        Tensors.ManualSeed(5);
        var model = VisionTransformer.Builder().ForInput(channels: 3).WithImageSize(28).WithPatchSize(7).WithHiddenSize(16).WithLayers(2).WithHeads(2).WithMlpDim(32).WithClasses(5).Build();
        using var noGrad = Tensors.NoGrad();
        MedVision.Torch.Nn.Init.Normal(model.Head.Weight, std: 0.5);   // torchvision's zero head would predict uniformly
        return model;
    }

    [Fact]
    public void AModelFile_RebuildsTheVisionTransformer_AndThePredictorPredictsAsItDoes()
    {
        using var model = Tiny();
        var path = Path.Combine(_dir, "vit.safetensors");
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.OrdinalRegression);
        card.Architecture.Should().Be("vit");
        card.FormatVersion.Should().Be(8, "a reader that knows only ResNets must refuse it as from a newer library");
        ModelFile.Save(path, model, card);
        var stored = ModelFile.ReadCard(path);
        (stored.Vit!.HiddenSize, stored.Vit.NumLayers, stored.Vit.PatchSize).Should().BeEquivalentTo((16, 2, new List<int> { 7, 7 }));

        var (loaded, _) = ModelFile.Load(path);
        using (loaded)
        {
            loaded.Should().BeOfType<VisionTransformer>();
            using var scope = Tensors.NewDisposeScope();
            model.Eval();
            var x = Tensors.Randn(2, 3, 28, 28);
            loaded.Call(x).AllClose(model.Call(x), 0, 0).Should().BeTrue("the same weights in the same network");
        }

        using var predictor = Predictor.Load(path);
        predictor.CanExplain.Should().BeTrue("a vision transformer is mapped by attention rollout");
        predictor.CanExplainWith(CamMethod.AttentionRollout).Should().BeTrue();
        predictor.CanExplainWith(CamMethod.GradCam).Should().BeFalse("Grad-CAM needs a ResNet's feature map");
        predictor.CanAttribute.Should().BeTrue();
        var image = FloatImage.FromBytesHwc(MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(3).ToArray(), 28, 28, 3);
        var prediction = predictor.Predict(image.Clone());
        using (var scope = Tensors.NewDisposeScope())
        {
            var expected = model.Call(predictor.Preprocess([image.Clone()])).Softmax(1).ToArray<float>();
            prediction.Probabilities.Select(p => (float)p).Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-6);
        }
        var explanation = predictor.Explain(image.Clone(), AttributionMethod.IntegratedGradients);
        explanation.MapShape.Should().Equal(28, 28);
        explanation.ConvergenceDelta.Should().NotBeNull();
        Math.Abs(explanation.ConvergenceDelta!.Value).Should().BeLessThan(0.05 * Math.Abs(explanation.ScoreChange!.Value) + 0.05);
        FluentActions.Invoking(() => predictor.Explain(image.Clone())).Should().Throw<NotSupportedException>().WithMessage("GradCam needs a ResNet*map it with CamMethod.AttentionRollout*");

        // attention rollout: the AttentionRollout class's map of the prepared image, at the model's input size
        var rollout = predictor.Explain(image.Clone(), CamMethod.AttentionRollout, targetClass: 2);
        rollout.TargetClass.Should().Be(2);
        rollout.MapShape.Should().Equal(28, 28);
        using (var scope = Tensors.NewDisposeScope())
        {
            model.Eval();
            var expected = new AttentionRollout(model).Compute(predictor.Preprocess([image.Clone()]), [2]).ToArray(0);
            rollout.Map.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-5);
        }
        // gradient-weighted rollout: the GradientAttentionRollout class's map, one per class
        predictor.CanExplainWith(CamMethod.GradientAttentionRollout).Should().BeTrue();
        var weighted = predictor.Explain(image.Clone(), CamMethod.GradientAttentionRollout, targetClass: 2);
        weighted.TargetClass.Should().Be(2);
        using (var scope = Tensors.NewDisposeScope())
        {
            model.Eval();
            var x = predictor.Preprocess([image.Clone()]);
            var expected = new GradientAttentionRollout(model).Compute(x, [2]).ToArray(0);
            weighted.Map.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-5);
            var other = new GradientAttentionRollout(model).Compute(x, [4]).ToArray(0);
            predictor.Explain(image.Clone(), CamMethod.GradientAttentionRollout, targetClass: 4).Map.Should().Equal(other, (a, b) => Math.Abs(a - b) < 1e-5);
            expected.Zip(other).Max(p => Math.Abs(p.First - p.Second)).Should().BeGreaterThan(1e-3f, "another class, another map");
        }
        // with flips, the flipped copy's map flipped back joins the average (so a mirrored image gets the mirrored map)
        using var flipping = Predictor.Load(path, flips: TestTimeFlips.Horizontal);
        var averaged = flipping.Explain(image.Clone(), CamMethod.AttentionRollout);
        using (var scope = Tensors.NewDisposeScope())
        {
            var x = predictor.Preprocess([image.Clone()]);
            var sum = new AttentionRollout(model).Compute(x).Maps + new AttentionRollout(model).Compute(x.Flip([3])).Maps.Flip([3]);
            var min = sum.Amin([1, 2, 3], keepDim: true);
            var expected = ((sum - min) / (sum.Amax([1, 2, 3], keepDim: true) - min)).ToArray<float>();
            averaged.Map.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-5);
        }
    }

    [Fact]
    public void CardsThatDoNotFit_AreRefusedByName_BeforeAnythingIsBuilt()
    {
        using var model = Tiny();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.MultiClass);
        FluentActions.Invoking(() => ModelFile.Describe(model, Preprocessing28, Grades[..4], MedMnistTask.MultiClass)).Should().Throw<ArgumentException>().WithMessage("*5 classes but 4 class names*");
        var wrongSize = new PreprocessingCard { InputSize = new() { 32, 32 }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.5f }, Resize = "linear" };
        FluentActions.Invoking(() => ModelFile.Describe(model, wrongSize, Grades, MedMnistTask.MultiClass)).Should().Throw<ArgumentException>().WithMessage("*image size [28, 28]*gives [32, 32]*");

        string Write(string name, Action<ModelCard> change)
        {
            var copy = JsonSerializer.Deserialize<ModelCard>(JsonSerializer.Serialize(card))!;
            change(copy);
            var path = Path.Combine(_dir, name);
            SafeTensors.Save(path, model.StateDict(), new Dictionary<string, string> { [ModelFile.MetadataKey] = JsonSerializer.Serialize(copy) });
            return path;
        }
        // a card claiming 60 layers of E 4096 would build a 12-gigabyte network before the strict load refused it
        var huge = Write("huge.safetensors", c => (c.Vit!.NumLayers, c.Vit.HiddenSize, c.Vit.MlpDim) = (60, 4096, 16384));
        FluentActions.Invoking(() => ModelFile.Load(huge)).Should().Throw<ModelFormatException>().WithMessage("*the card has 60 encoder layers, the weights 2*");
        var patch = Write("patch.safetensors", c => c.Vit!.PatchSize = new() { 4, 4 });
        FluentActions.Invoking(() => ModelFile.Load(patch)).Should().Throw<ModelFormatException>().WithMessage("*conv_proj.weight should be [16, 3, 4, 4], the weights have [16, 3, 7, 7]*");
        var noOptions = Write("none.safetensors", c => c.Vit = null);
        FluentActions.Invoking(() => Predictor.Load(noOptions)).Should().Throw<ModelFormatException>().WithMessage("*describes a vit but has no 'vit' options*");
        var heads = Write("heads.safetensors", c => c.Vit!.NumHeads = 3);
        FluentActions.Invoking(() => Predictor.Load(heads)).Should().Throw<ModelFormatException>().WithMessage("*invalid vision-transformer options*divide into the 3 heads*");
        var input = Write("input.safetensors", c => c.Preprocessing.InputSize = new() { 14, 14 });
        FluentActions.Invoking(() => Predictor.Load(input)).Should().Throw<ModelFormatException>().WithMessage("*input size [14, 14] is not the vision transformer's image size [28, 28]*");
    }
}
