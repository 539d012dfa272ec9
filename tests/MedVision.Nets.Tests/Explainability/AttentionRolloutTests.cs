using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Nets.Tests.Models;
using MedVision.Torch;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Explainability;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class AttentionRolloutTests
{
    // torchvision's VisionTransformer(28, patch 7, 2 layers, 2 heads, E 16, MLP 32, 5 classes) with the attention weights
    // and rollouts make_vit_fixture.py computed with PyTorch.
    private static (VisionTransformer Model, SafeTensorDictionary Reference) ReferenceModel()
    {
        var reference = SafeTensors.Load(TestFixtures.PathOf("vit_reference.safetensors"));
        var model = VisionTransformer.Builder().ForInput(channels: 3).WithImageSize(28).WithPatchSize(7)
            .WithHiddenSize(16).WithLayers(2).WithHeads(2).WithMlpDim(32).WithClasses(5).Build();
        var torchvision = reference.Where(kv => kv.Key.StartsWith("state.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[6..], kv => kv.Value);
        model.LoadStateDict(VisionTransformer.FromTorchvisionStateDict(torchvision), strict: true);
        model.Eval();
        return (model, reference);
    }

    // A 3-D ViT (1 channel, 16×16×8 volumes in 8×8×4 patches: a 2×2×2 grid), in evaluation mode, and two volumes.
    private static (VisionTransformer Model, Tensor Volumes) VolumeModel(ulong seed)
    {
        Tensors.ManualSeed(seed);
        var model = VisionTransformer.Builder().ForInput(channels: 1, spatialDims: 3).WithImageSize(16, 16, 8).WithPatchSize(8, 8, 4)
            .WithHiddenSize(32).WithLayers(2).WithHeads(4).WithMlpDim(64).WithClasses(2).Build();
        model.Eval();
        return (model, Tensors.Randn(2, 1, 16, 16, 8));
    }

    [Fact]
    public void AttentionWeights_ArePyTorchsPerLayerAndHead_AndTheirMeanWhenAveraged()
    {
        var (model, reference) = ReferenceModel();
        using var _ = model;
        using var __ = reference;
        using var scope = Tensors.NewDisposeScope();
        var perHead = model.AttentionWeights(reference["input"]);
        perHead.Should().HaveCount(2);
        for (int i = 0; i < 2; i++)
        {
            perHead[i].Shape.Should().Equal(2, 2, 17, 17);
            perHead[i].AllClose(reference[$"attn.{i}"], 1e-4, 1e-6).Should().BeTrue($"layer {i}'s weights are PyTorch's (largest difference {(perHead[i] - reference[$"attn.{i}"]).Abs().Max().Item():E2})");
        }
        var (logits, fromOnePass) = model.ForwardWithAttention(reference["input"]);
        logits.AllClose(model.Call(reference["input"]), 0, 0).Should().BeTrue("the logits of the same forward pass");
        fromOnePass[1].AllClose(perHead[1], 0, 0).Should().BeTrue();
        var averaged = model.AttentionWeights(reference["input"], averageHeads: true);
        averaged[1].Shape.Should().Equal(2, 17, 17);
        averaged[1].AllClose(reference["attn.1"].Mean([1]), 1e-5, 1e-7).Should().BeTrue();
        // the encoder's output with the weights is its plain forward's
        var (tokens, weights) = model.Encoder.ForwardWithAttention(Tensors.Randn(2, 17, 16));
        weights.Should().HaveCount(2);
        weights[0].Sum([-1]).AllClose(Tensors.Ones(2, 17), 1e-5, 1e-6).Should().BeTrue("each row of an attention matrix is a softmax");
        tokens.Shape.Should().Equal(2, 17, 16);
    }

    [Theory]
    [InlineData(AttentionHeadFusion.Mean, 0.0, "rollout.mean")]
    [InlineData(AttentionHeadFusion.Max, 0.0, "rollout.max")]
    [InlineData(AttentionHeadFusion.Min, 0.0, "rollout.min")]
    [InlineData(AttentionHeadFusion.Max, 0.5, "rollout.max.discard50")]
    public void Rollout_IsTheReferenceImplementations(AttentionHeadFusion fusion, double discard, string key)
    {
        var (model, reference) = ReferenceModel();
        using var _ = model;
        using var __ = reference;
        using var scope = Tensors.NewDisposeScope();
        using var maps = new AttentionRollout(model, fusion, discard).Compute(reference["input"], resizeToInput: false, normalize: false);
        maps.Maps.Shape.Should().Equal(2, 1, 4, 4);
        var expected = reference[key].Unsqueeze(1);
        maps.Maps.AllClose(expected, 1e-4, 1e-6).Should().BeTrue($"the {fusion} rollout (discard {discard}) is the reference's (largest difference {(maps.Maps - expected).Abs().Max().Item():E2})");
        // labelled with the predicted classes and their logits; the map is the same for any class
        var logits = reference["logits"];
        maps.TargetClasses.Should().Equal(logits.ArgMax(1).ToArray<long>());
        maps.Scores[0].Should().BeApproximately(logits.Amax([1]).ToArray<float>()[0], 1e-4f);
        using var forClassOne = new AttentionRollout(model, fusion, discard).Compute(reference["input"], [1, 1], resizeToInput: false, normalize: false);
        forClassOne.TargetClasses.Should().Equal(1L, 1L);
        forClassOne.Maps.ToArray<float>().Should().Equal(maps.Maps.ToArray<float>());
    }

    [Fact]
    public void Maps_AreResizedToTheInputAndScaledToTheUnitRange()
    {
        var (model, reference) = ReferenceModel();
        using var _ = model;
        using var __ = reference;
        using var scope = Tensors.NewDisposeScope();
        using var maps = new AttentionRollout(model).Compute(reference["input"]);
        maps.Maps.Shape.Should().Equal(2, 1, 28, 28);
        var raw = reference["rollout.mean"].Unsqueeze(1);
        var resized = MedVision.Torch.Nn.Functional.Interpolate(raw, [28L, 28], MedVision.Torch.Nn.InterpolationMode.Linear);
        var min = resized.Amin([1, 2, 3], keepDim: true);
        var expected = (resized - min) / (resized.Amax([1, 2, 3], keepDim: true) - min);
        maps.Maps.AllClose(expected, 1e-4, 1e-5).Should().BeTrue("the rollout is resized linearly and scaled per sample, as Grad-CAM's maps are");
        maps.ToArray(1).Max().Should().BeApproximately(1f, 1e-6f);
    }

    [Fact]
    public void Volumes_GetMapsOnTheirCubeGrid()
    {
        using var scope = Tensors.NewDisposeScope();
        var (model, volumes) = VolumeModel(3);
        using var _ = model;
        using var grid = new AttentionRollout(model).Compute(volumes, resizeToInput: false, normalize: false);
        grid.Maps.Shape.Should().Equal(2, 1, 2, 2, 2);
        // each row of the rolled-out matrix sums to 1, so the class token's weights over the patches sum to 1 minus its own
        var own = grid.Maps.Sum([1, 2, 3, 4]).ToArray<float>();
        own.Should().OnlyContain(s => s > 0 && s < 1);
        using var full = new AttentionRollout(model).Compute(volumes);
        full.Maps.Shape.Should().Equal(2, 1, 16, 16, 8);
    }

    [Fact]
    public void GradientRollout_IsChefersRelevance_ForThePredictedClassesOrTheClassesAsked()
    {
        var (model, reference) = ReferenceModel();
        using var _ = model;
        using var __ = reference;
        using var scope = Tensors.NewDisposeScope();
        var explainer = new GradientAttentionRollout(model);
        using var predicted = explainer.Compute(reference["input"], resizeToInput: false, normalize: false);
        predicted.Maps.Shape.Should().Equal(2, 1, 4, 4);
        var expected = reference["gradrollout.predicted"].Unsqueeze(1);
        predicted.Maps.AllClose(expected, 1e-4, 1e-6).Should().BeTrue($"the predicted classes' relevance is the reference's (largest difference {(predicted.Maps - expected).Abs().Max().Item():E2})");
        var logits = reference["logits"];
        predicted.TargetClasses.Should().Equal(logits.ArgMax(1).ToArray<long>());
        predicted.Scores[1].Should().BeApproximately(logits.Amax([1]).ToArray<float>()[1], 1e-4f);
        // another class, another map: inside a no-grad scope too (the explainer turns gradients on for itself)
        using (Tensors.NoGrad())
        {
            using var classThree = explainer.Compute(reference["input"], [3, 3], resizeToInput: false, normalize: false);
            var three = reference["gradrollout.class3"].Unsqueeze(1);
            classThree.Maps.AllClose(three, 1e-4, 1e-6).Should().BeTrue($"class 3's relevance is the reference's (largest difference {(classThree.Maps - three).Abs().Max().Item():E2})");
            classThree.Maps.AllClose(predicted.Maps, 1e-3, 1e-4).Should().BeFalse("the map depends on the class");
        }
        // the parameters' gradients are left alone; frozen parameters do not stop it
        model.Parameters().Should().OnlyContain(p => p.Grad == null);
        foreach (var p in model.Parameters()) p.RequiresGrad = false;
        using var frozen = explainer.Compute(reference["input"], resizeToInput: false, normalize: false);
        frozen.Maps.AllClose(predicted.Maps, 0, 0).Should().BeTrue();
        // resized and scaled as the rollout's maps are
        using var shown = explainer.Compute(reference["input"]);
        shown.Maps.Shape.Should().Equal(2, 1, 28, 28);
        shown.ToArray(0).Max().Should().BeApproximately(1f, 1e-6f);
        shown.ToArray(0).Min().Should().BeApproximately(0f, 1e-6f);
    }

    [Fact]
    public void GradientRollout_OfVolumes_IsOnTheirCubeGrid_AndRefusesTrainingMode()
    {
        using var scope = Tensors.NewDisposeScope();
        var (model, volumes) = VolumeModel(4);
        using var _ = model;
        using var grid = new GradientAttentionRollout(model).Compute(volumes, resizeToInput: false, normalize: false);
        grid.Maps.Shape.Should().Equal(2, 1, 2, 2, 2);
        // the relevance starts as the identity and only adds non-negative shares: no patch has a negative value
        grid.Maps.ToArray<float>().Should().OnlyContain(v => v >= 0);
        using var full = new GradientAttentionRollout(model).Compute(volumes);
        full.Maps.Shape.Should().Equal(2, 1, 16, 16, 8);
        FluentActions.Invoking(() => new GradientAttentionRollout(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new GradientAttentionRollout(model).Compute(volumes, [0])).Should().Throw<ArgumentException>().WithParameterName("targetClasses");
        model.Train();
        FluentActions.Invoking(() => new GradientAttentionRollout(model).Compute(volumes)).Should().Throw<InvalidOperationException>()
            .WithMessage("GradientAttentionRollout needs the model in evaluation mode*");
    }

    [Fact]
    public void BadUse_IsRefusedByName()
    {
        var (model, reference) = ReferenceModel();
        using var _ = model;
        using var __ = reference;
        using var scope = Tensors.NewDisposeScope();
        FluentActions.Invoking(() => new AttentionRollout(model, discardRatio: 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("discardRatio");
        FluentActions.Invoking(() => new AttentionRollout(model, discardRatio: double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new AttentionRollout(model, (AttentionHeadFusion)7)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("headFusion");
        FluentActions.Invoking(() => new AttentionRollout(null!)).Should().Throw<ArgumentNullException>();
        var rollout = new AttentionRollout(model);
        FluentActions.Invoking(() => rollout.Compute(Tensors.Zeros(2, 3, 32, 32))).Should().Throw<ArgumentException>().WithMessage("*takes (N, 3, 28, 28) inputs*");
        FluentActions.Invoking(() => rollout.Compute(reference["input"], [1])).Should().Throw<ArgumentException>().WithMessage("1 target classes were given for a batch of 2.*").WithParameterName("targetClasses");
        FluentActions.Invoking(() => rollout.Compute(reference["input"], [1, 5])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Target class 5 of sample 1*");
        model.Train();
        FluentActions.Invoking(() => rollout.Compute(reference["input"])).Should().Throw<InvalidOperationException>().WithMessage("*evaluation mode*");
    }
}
