using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Models;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class VisionTransformerTests
{
    [Theory]
    [InlineData("base", 224, 16, 1000, 86_567_656L)]   // torchvision's vit_b_16
    [InlineData("tiny", 224, 16, 1000, 5_717_416L)]    // VisionTransformer(224, 16, 12, 3, 192, 768)
    [InlineData("tiny", 28, 4, 5, 5_358_917L)]         // the same on RetinaMNIST: 49 patches, 5 classes
    public void ParameterCount_EqualsTorchvisions(string size, int image, int patch, int classes, long expected)
    {
        var builder = VisionTransformer.Builder().ForInput(channels: 3).WithImageSize(image).WithPatchSize(patch).WithClasses(classes);
        using var model = (size == "base" ? builder.Base() : builder.Tiny()).Build();
        model.ParameterCount().Should().Be(expected);
    }

    [Fact]
    public void TorchvisionsWeights_LoadStrictly_AndGiveItsLogitsAndGradients()
    {
        // torchvision's VisionTransformer(28, patch 7, 2 layers, 2 heads, E 16, MLP 32, 5 classes): make_vit_fixture.py
        using var reference = SafeTensors.Load(TestFixtures.PathOf("vit_reference.safetensors"));
        using var scope = Tensors.NewDisposeScope();
        using var model = VisionTransformer.Builder().ForInput(channels: 3).WithImageSize(28).WithPatchSize(7)
            .WithHiddenSize(16).WithLayers(2).WithHeads(2).WithMlpDim(32).WithClasses(5).Build();
        var torchvision = reference.Where(kv => kv.Key.StartsWith("state.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[6..], kv => kv.Value);
        var state = VisionTransformer.FromTorchvisionStateDict(torchvision);
        var result = model.LoadStateDict(state, strict: true);
        result.MissingKeys.Should().BeEmpty();
        result.UnexpectedKeys.Should().BeEmpty();
        model.Eval();
        var input = reference["input"].Clone().RequiresGradInPlace();
        var logits = model.Call(input);
        logits.AllClose(reference["logits"], 1e-4, 1e-5).Should().BeTrue($"the logits are torchvision's (largest difference {(logits - reference["logits"]).Abs().Max().Item():E2})");
        (logits * reference["w"]).Sum().Backward();
        input.Grad!.AllClose(reference["grad.input"], 1e-3, 1e-5).Should().BeTrue("the input's gradient is torchvision's");
        var renamedGrads = VisionTransformer.FromTorchvisionStateDict(reference.Where(kv => kv.Key.StartsWith("pgrad.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[6..], kv => kv.Value));
        foreach (var (name, parameter) in model.NamedParameters())
            parameter.Grad!.AllClose(renamedGrads[name], 1e-3, 1e-5).Should().BeTrue($"the gradient of {name} is torchvision's");

        FluentActions.Invoking(() => VisionTransformer.FromTorchvisionStateDict(new Dictionary<string, Tensor> { ["heads.pre_logits.weight"] = input }))
            .Should().Throw<ArgumentException>().WithMessage("'heads.pre_logits.weight' is not a key*");
        // One key at a time, as FromTorchvisionStateDict renames them
        VisionTransformer.FromTorchvisionKey("encoder.layers.encoder_layer_3.mlp.0.weight").Should().Be("encoder.layers.3.linear1.weight");
        VisionTransformer.FromTorchvisionKey("encoder.layers.encoder_layer_11.self_attention.in_proj_weight").Should().Be("encoder.layers.11.self_attn.in_proj_weight");
        VisionTransformer.FromTorchvisionKey("encoder.ln.bias").Should().Be("encoder.norm.bias");
        VisionTransformer.FromTorchvisionKey("heads.head.weight").Should().Be("head.weight");
        FluentActions.Invoking(() => VisionTransformer.FromTorchvisionKey("encoder.layers.encoder_layer_x.ln_1.weight")).Should().Throw<ArgumentException>()
            .Which.ParamName.Should().Be("key");
        FluentActions.Invoking(() => VisionTransformer.FromTorchvisionKey(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Volumes_AreCutIntoCubes_AndTheModelSummaryCountsTheAttention()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(1);
        using var model = VisionTransformer.Builder().ForInput(channels: 1, spatialDims: 3).WithImageSize(16, 16, 8).WithPatchSize(8, 8, 4)
            .WithHiddenSize(32).WithLayers(2).WithHeads(4).WithMlpDim(64).WithClasses(2).Build();
        model.Options.PatchCount.Should().Be(8);
        var volumes = Tensors.Randn(2, 1, 16, 16, 8);
        model.Call(volumes).Shape.Should().Equal(2, 2);
        model.Tokens(volumes).Shape.Should().Equal(2, 9, 32);
        model.ExtractFeatures(volumes).Shape.Should().Equal(2, 32);
        var summary = model.Summary(1, 1, 16, 16, 8);
        // the patch embedding: 8 patches × 32 outputs × (1 · 8 · 8 · 4) weights; per layer: attention 3·9·32·32 + 2·9·9·32, out-projection 9·32·32, MLP 2·9·32·64
        long perLayer = 3 * 9 * 32 * 32 + 2 * 9 * 9 * 32 + 9 * 32 * 32 + 2 * 9 * 32 * 64;
        summary.TotalMultiplyAccumulates.Should().Be(8 * 32 * (8 * 8 * 4) + 2 * perLayer + 32 * 2);
        FluentActions.Invoking(() => model.Call(Tensors.Randn(2, 1, 16, 16, 16))).Should().Throw<ArgumentException>().WithMessage("*takes (N, 1, 16, 16, 8) inputs*");
    }

    [Fact]
    public void InitialisesAsTorchvision_AndTrains()
    {
        Tensors.ManualSeed(2);
        using var model = VisionTransformer.Builder().ForInput(channels: 3).WithImageSize(28).WithPatchSize(7).WithHiddenSize(32).WithLayers(2).WithHeads(2).WithMlpDim(64).WithClasses(3).Build();
        using (var scope = Tensors.NewDisposeScope())
        {
            model.Head.Weight.Abs().Sum().Item().Should().Be(0, "torchvision starts the head at zero");
            model.ClassToken.Abs().Sum().Item().Should().Be(0);
            model.PositionEmbedding.Std().Item().Should().BeApproximately(0.02, 0.004);
            var layers = model.Encoder.Layers;
            layers[1].Linear1.Weight.AllClose(layers[0].Linear1.Weight).Should().BeFalse("each layer is drawn afresh, as torchvision draws them");
            layers[1].SelfAttention.InProjWeight.AllClose(layers[0].SelfAttention.InProjWeight).Should().BeFalse();
            layers[0].Linear1.Bias!.Abs().Max().Item().Should().BeLessThan(1e-4, "MLP biases start at N(0, 1e-6²)");
        }
        // a few Adam steps on a fixed batch drive the loss down
        using var optimizer = new MedVision.Torch.Optim.Adam(model.Parameters().ToList(), 1e-3);
        using var images = Tensors.Randn(8, 3, 28, 28);
        using var labels = Tensors.FromArray(new long[] { 0, 1, 2, 0, 1, 2, 0, 1 });
        double first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            using var scope = Tensors.NewDisposeScope();
            optimizer.ZeroGrad();
            var loss = Functional.CrossEntropy(model.Call(images), labels);
            loss.Backward();
            optimizer.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        first.Should().BeApproximately(Math.Log(3), 1e-5, "a zero head gives every class the same score");
        last.Should().BeLessThan(first / 2);
    }

    [Fact]
    public void BadOptions_AreRefusedByName()
    {
        FluentActions.Invoking(() => VisionTransformer.Builder().WithImageSize(28).WithPatchSize(5).Build()).Should().Throw<ArgumentException>().WithMessage("*multiple of the patch size*");
        FluentActions.Invoking(() => VisionTransformer.Builder().WithImageSize(28).WithPatchSize(4).WithHiddenSize(10).WithHeads(3).Build()).Should().Throw<ArgumentException>().WithMessage("The hidden size 10 must divide into the 3 heads.*");
        FluentActions.Invoking(() => VisionTransformer.Builder().WithImageSize(28).WithPatchSize(4).WithLayers(0).Build()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("NumLayers");
        FluentActions.Invoking(() => VisionTransformer.Builder().ForInput(3, spatialDims: 3).WithImageSize(28, 28).WithPatchSize(4).Build()).Should().Throw<ArgumentException>().WithMessage("The image size needs 3 positive sizes*");
        var builder = VisionTransformer.Builder().WithImageSize(28).WithPatchSize(4).WithHiddenSize(8).WithLayers(1).WithHeads(2).WithMlpDim(8).WithClasses(2);
        builder.Build().Dispose();
        FluentActions.Invoking(() => builder.Build()).Should().Throw<InvalidOperationException>();
    }
}
