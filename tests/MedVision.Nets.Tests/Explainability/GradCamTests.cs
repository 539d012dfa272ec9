using MedVision.Nets.Blocks;
using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Nets.Tests.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Explainability;

[Collection(GlobalRandomStateCollection.Name)]
public class GradCamTests
{
    private static ResNet LoadTiny(SafeTensorDictionary tensors, string net)
    {
        var (block, width, stem) = net == "basic_small"
            ? (ResidualBlockKind.Basic, 8, ResNetStem.SmallInput)
            : (ResidualBlockKind.Bottleneck, 4, ResNetStem.ImageNet);
        var model = ResNet.Builder().WithBlocks(block, 1, 1, 1, 1).WithBaseWidth(width).ForInput(3).WithStem(stem).WithClasses(5).Build();
        model.LoadStateDict(tensors.Where(kv => kv.Key is not ("input" or "expected")).ToDictionary(kv => kv.Key, kv => kv.Value), strict: true);
        model.Eval();
        return model;
    }

    // Fixtures/make_gradcam_fixture.py: Grad-CAM of the predicted classes and Grad-CAM++ of classes [4, 0] on layer4
    // of torchvision-block ResNets with the same weights.
    [Theory]
    [InlineData("basic_small", CamMethod.GradCam, "gradcam")]
    [InlineData("basic_small", CamMethod.GradCamPlusPlus, "gradcampp")]
    [InlineData("bottleneck_imagenet", CamMethod.GradCam, "gradcam")]
    [InlineData("bottleneck_imagenet", CamMethod.GradCamPlusPlus, "gradcampp")]
    public void Maps_MatchPyTorchWithTheSameWeights(string net, CamMethod method, string key)
    {
        using var weights = SafeTensors.Load(TestFixtures.PathOf($"resnet_tiny_{net}.safetensors"));
        using var reference = SafeTensors.Load(TestFixtures.PathOf("gradcam_reference.safetensors"));
        using var model = LoadTiny(weights, net);
        using var scope = Tensors.NewDisposeScope();
        var input = net == "basic_small" ? weights["input"] : reference[$"{net}.input"];
        var expectedClasses = reference[$"{net}.{key}.classes"].ToArray<long>();
        IReadOnlyList<long>? asked = method == CamMethod.GradCam ? null : expectedClasses;
        var cam = GradCam.ForResNet(model, method);

        using var raw = cam.Compute(input, asked, resizeToInput: false, normalize: false);
        raw.TargetClasses.Should().Equal(expectedClasses);
        Close(raw.Maps, reference[$"{net}.{key}.raw"], 1e-5);

        using var final = cam.Compute(input, asked);
        final.Maps.Shape.Should().Equal(2, 1, input.Size(2), input.Size(3));
        Close(final.Maps, reference[$"{net}.{key}.final"], 1e-4);
        final.Maps.Max().Item().Should().BeApproximately(1, 1e-6);
        final.Maps.Min().Item().Should().BeApproximately(0, 1e-6);

        using var noGrad = Tensors.NoGrad();
        var logits = model.Call(input).ToArray<float>();
        final.Scores.Should().Equal(expectedClasses.Select((c, i) => logits[(i * 5) + (int)c]));
    }

    [Fact]
    public void Maps_For3DModels_AgreeWithTheGradientRetainedByBackward()
    {
        Tensors.ManualSeed(7);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(channels: 1, spatialDims: 3).WithSmallInputStem().WithClasses(3).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(2, 1, 12, 12, 12);
        using var maps = GradCam.ForResNet(model).Compute(input, new long[] { 2, 1 }, resizeToInput: false, normalize: false);

        // The same map by another route: retain the stage's output gradient and run an ordinary backward pass.
        Tensor? activation = null;
        using (var hook = model.Stages[^1].RegisterForwardHook((_, _, output) => activation = DisposeScope.Detach(output.Alias())))
        {
            var logits = model.Call(input);
            activation!.RetainGrad();
            (logits.Select(1, 2).Narrow(0, 0, 1).Sum() + logits.Select(1, 1).Narrow(0, 1, 1).Sum()).Backward();
        }
        try
        {
            var weights = activation.Grad!.Mean(new long[] { 2, 3, 4 }, keepDim: true);
            var expected = (weights * activation).Sum(1, keepDim: true).Relu();
            maps.Maps.Shape.Should().Equal(expected.Shape);
            Close(maps.Maps, expected, 1e-6);
            expected.Max().Item().Should().BeGreaterThan(0, "a map of zeros would make the comparison empty");
        }
        finally
        {
            activation.Dispose();
        }

        using var resized = GradCam.ForResNet(model, CamMethod.GradCamPlusPlus).Compute(input);
        resized.Maps.Shape.Should().Equal(2, 1, 12, 12, 12);
        resized.ToArray(1).Should().HaveCount(12 * 12 * 12).And.OnlyContain(v => v >= 0 && v <= 1);
    }

    [Fact]
    public void Compute_LeavesParametersGradientsAndTheCallersTensorsAlone_AndWorksWithFrozenWeights()
    {
        Tensors.ManualSeed(3);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(3).WithSmallInputStem().WithClasses(4).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(1, 3, 16, 16);
        using (var maps = GradCam.ForResNet(model).Compute(input)) maps.Maps.Shape.Should().Equal(1, 1, 16, 16);
        model.Parameters().Should().OnlyContain(p => p.Grad == null);
        input.RequiresGrad.Should().BeFalse();

        foreach (var p in model.Parameters()) p.RequiresGrad = false;
        using (Tensors.NoGrad())
        using (var frozen = GradCam.ForResNet(model).Compute(input))
        {
            frozen.Maps.Max().Item().Should().BeGreaterThan(0);
        }
        Tensors.IsGradEnabled.Should().BeTrue();
    }

    [Fact]
    public void Normalisation_TreatsRoundingNoiseAsConstant_ButScalesSmallRealRanges()
    {
        using var scope = Tensors.NewDisposeScope();
        // Sample 0: 0.5 with float rounding noise (what an interpolated 1×1 map can look like); sample 1: a real but small
        // range (1e-3 to 2e-3); sample 2: exactly constant; sample 3: zeros.
        var maps = Tensors.FromArray(new float[]
        {
            0.5f, 0.50000006f, 0.49999997f, 0.5f,
            1e-3f, 1.5e-3f, 2e-3f, 1e-3f,
            3f, 3f, 3f, 3f,
            0f, 0f, 0f, 0f,
        }, 4, 1, 2, 2);
        var normalised = GradCam.NormalizePerSample(maps).ToArray<float>();
        normalised[..4].Should().AllSatisfy(v => v.Should().Be(0));
        normalised[4..8].Should().Equal(new[] { 0f, 0.5f, 1f, 0f }, (a, e) => Math.Abs(a - e) < 1e-5);
        normalised[8..].Should().AllSatisfy(v => v.Should().Be(0));
    }

    [Fact]
    public void ConstantMaps_NormaliseToZero()
    {
        Tensors.ManualSeed(5);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(3).WithClasses(2).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        // An ImageNet stem on 16×16 leaves layer4 at 1×1: every resized map is constant.
        using var maps = GradCam.ForResNet(model).Compute(Tensors.Randn(2, 3, 16, 16));
        maps.Maps.Abs().Max().Item().Should().Be(0);
    }

    [Fact]
    public void Explains_MtcsnnsClassesThroughTheModule_AndItsSeverityScoreThroughAFunc()
    {
        Tensors.ManualSeed(9);
        using var mtcsnn = Mtcsnn.Builder().WithBackbone(b => b.WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(3).WithSmallInputStem()).WithClasses(5).Build();
        mtcsnn.Eval();
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(2, 3, 16, 16);
        var stage = mtcsnn.Backbone.Stages[^1];
        using (var classes = new GradCam(mtcsnn, stage).Compute(x)) classes.Maps.Shape.Should().Equal(2, 1, 16, 16);

        using var severity = new GradCam(t => mtcsnn.Predict(t).Scores.Unsqueeze(1), stage).Compute(x);
        severity.TargetClasses.Should().Equal(0, 0);
        using var noGrad = Tensors.NoGrad();
        severity.Scores.Should().Equal(mtcsnn.Predict(x).Scores.ToArray<float>());

        FluentActions.Invoking(() => new GradCam(t => { mtcsnn.Call(t); return mtcsnn.Call(t); }, stage).Compute(x))
            .Should().Throw<InvalidOperationException>().WithMessage("*called 2 times*");
    }

    [Fact]
    public void BadUse_GetsClearExceptions()
    {
        Tensors.ManualSeed(1);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(3).WithSmallInputStem().WithClasses(3).Build();
        using var other = new Linear(2, 2);
        other.Eval();
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(2, 3, 8, 8);

        FluentActions.Invoking(() => GradCam.ForResNet(model).Compute(x)).Should().Throw<InvalidOperationException>().WithMessage("*evaluation mode*");
        model.Eval();
        var cam = GradCam.ForResNet(model);
        FluentActions.Invoking(() => cam.Compute(Tensors.Randn(3, 8, 8))).Should().Throw<ArgumentException>().WithMessage("*(N, C, H, W)*");
        FluentActions.Invoking(() => cam.Compute(x, new long[] { 0 })).Should().Throw<ArgumentException>().WithMessage("*1 target classes*batch of 2*");
        FluentActions.Invoking(() => cam.Compute(x, new long[] { 0, 3 })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*class 3 of sample 1*[0, 3)*");
        FluentActions.Invoking(() => new GradCam(model, model.Stages[0]).Compute(x, null, false)).Should().NotThrow("any stage can be the target");
        FluentActions.Invoking(() => new GradCam(model, other)).Should().Throw<ArgumentException>().WithMessage("*not a submodule*");
        FluentActions.Invoking(() => new GradCam(t => model.Call(t), other).Compute(x)).Should().Throw<InvalidOperationException>().WithMessage("*not called*");
        FluentActions.Invoking(() => new GradCam(model, model.Classifier!).Compute(x)).Should().Throw<InvalidOperationException>().WithMessage("*feature map*");
        FluentActions.Invoking(() => GradCam.ForResNet(model, stage: 4)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*stages 0 to 3*");
        GradCam.ForResNet(model, stage: 2).TargetLayer.Should().BeSameAs(model.Stages[2]);
        using (var layer3 = GradCam.ForResNet(model, stage: 2).Compute(x, resizeToInput: false)) layer3.Maps.Shape.Should().Equal(2, 1, 2, 2);
        using var features = ResNet.Builder().WithDepth(18).ForInput(3).AsBackbone().Build();
        FluentActions.Invoking(() => GradCam.ForResNet(features)).Should().Throw<ArgumentException>().WithMessage("*features-only*");
    }

    private static void Close(Tensor actual, Tensor expected, double tolerance)
    {
        actual.Shape.Should().Equal(expected.Shape);
        var a = actual.To(ScalarType.Float64, Device.Cpu).ToArray<double>();
        var e = expected.To(ScalarType.Float64, Device.Cpu).ToArray<double>();
        for (int i = 0; i < a.Length; i++) a[i].Should().BeApproximately(e[i], tolerance, $"element {i}");
    }
}
