using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Jit;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Explainability;

[Collection(GlobalRandomStateCollection.Name)]
public class GuidedBackpropTests
{
    /// <summary>The input gradient of class <paramref name="target"/> of <see cref="TwoLayerClassifier"/> with ReLU's backward rule <paramref name="rule"/> (0 plain, 1 guided, 2 deconvolution), by hand.</summary>
    private static double[] Expected(double[] x, int target, int rule)
    {
        var (w1, w2) = (TwoLayerClassifier.W1, TwoLayerClassifier.W2);
        var h = new TwoLayerClassifier().Hidden(x);
        var g = Enumerable.Range(0, 5).Select(i =>
        {
            double incoming = w2[target, i];
            return rule switch { 0 => h[i] > 0 ? incoming : 0, 1 => h[i] > 0 ? Math.Max(incoming, 0) : 0, _ => Math.Max(incoming, 0) };
        }).ToArray();
        return Enumerable.Range(0, 4).Select(j => Enumerable.Range(0, 5).Sum(i => w1[i, j] * g[i])).ToArray();
    }

    private static readonly double[] X = { 0.5, -1.0, 2.0, 0.25, /* sample 2 */ -1.5, 1.0, 0.75, -0.5 };

    [Fact]
    public void GuidedBackpropAndDeconvolution_GiveTheHandComputedMaps_ForChosenAndPredictedClasses()
    {
        using var model = new TwoLayerClassifier();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(X, 2, 1, 2, 2);
        var logits = model.Call(input).ToArray<double>();
        foreach (long[]? targets in new[] { new long[] { 2, 1 }, null })
        {
            using var guided = new GuidedBackprop(model).Compute(input, targets);
            using var deconvolution = new Deconvolution(model).Compute(input, targets);
            using var saliency = new Saliency(model).Compute(input, targets, absolute: false);
            guided.Values.Shape.Should().Equal(2, 1, 2, 2);
            guided.Values.ScalarType.Should().Be(ScalarType.Float64);
            for (int n = 0; n < 2; n++)
            {
                var sample = X.Skip(4 * n).Take(4).ToArray();
                int target = (int)(targets?[n] ?? Array.IndexOf(logits, logits.Skip(3 * n).Take(3).Max()) - (3 * n));
                guided.TargetClasses[n].Should().Be(target);
                deconvolution.TargetClasses[n].Should().Be(target);
                guided.Scores[n].Should().BeApproximately((float)logits[3 * n + target], 1e-5f);
                guided.ToArray(n).Select(v => (double)v).Should().Equal(Expected(sample, target, 1), (a, b) => Math.Abs(a - b) < 1e-6);
                deconvolution.ToArray(n).Select(v => (double)v).Should().Equal(Expected(sample, target, 2), (a, b) => Math.Abs(a - b) < 1e-6);
                saliency.ToArray(n).Select(v => (double)v).Should().Equal(Expected(sample, target, 0), (a, b) => Math.Abs(a - b) < 1e-6);
            }
            // the three rules disagree on these samples, so the checks above tell them apart
            guided.Values.AllClose(saliency.Values).Should().BeFalse();
            guided.Values.AllClose(deconvolution.Values).Should().BeFalse();
        }
    }

    [Fact]
    public void OnAResNet_GuidedBackpropDiffersFromTheGradient_LeavesParameterGradientsAlone_AndIsDeterministic()
    {
        Tensors.ManualSeed(3);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(3).WithSmallInputStem().WithClasses(4).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(2, 3, 16, 16);
        using var guided = new GuidedBackprop(model).Compute(input);
        using var again = new GuidedBackprop(model).Compute(input);
        using var gradient = new Saliency(model).Compute(input, absolute: false);
        guided.Values.ToArray<float>().Should().Equal(again.Values.ToArray<float>());
        guided.Values.AllClose(gradient.Values, 1e-3, 1e-6).Should().BeFalse("every ReLU of the network passes back only positive gradients");
        guided.Values.Abs().Sum().Item<float>().Should().BeGreaterThan(0);
        model.Parameters().Should().OnlyContain(p => p.Grad == null);
    }

    [Fact]
    public void GuidedGradCam_IsGuidedBackpropTimesTheNearestUpsampledGradCamMap_In2DAnd3D()
    {
        Tensors.ManualSeed(4);
        foreach (int dims in new[] { 2, 3 })
        {
            using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(channels: 2, spatialDims: dims).WithSmallInputStem().WithClasses(3).Build();
            model.Eval();
            using var scope = Tensors.NewDisposeScope();
            int size = dims == 2 ? 32 : 16;
            var input = Tensors.Randn(dims == 2 ? new long[] { 2, 2, size, size } : new long[] { 2, 2, size, size, size });
            var targets = new long[] { 1, 2 };
            using var result = GuidedGradCam.ForResNet(model).Compute(input, targets);
            using var guided = new GuidedBackprop(model).Compute(input, targets);
            using var cam = GradCam.ForResNet(model).Compute(input, targets, resizeToInput: false, normalize: false);
            result.Values.Shape.Should().Equal(input.Shape);
            result.TargetClasses.Should().Equal(1L, 2L);
            result.Scores.Should().Equal(cam.Scores);
            long camSize = cam.Maps.Size(2);
            int factor = (int)(size / camSize);
            factor.Should().BeGreaterThan(1, "the map is upsampled");
            var camValues = cam.Maps.ToArray<float>();
            var guidedValues = guided.Values.ToArray<float>();
            var values = result.Values.ToArray<float>();
            int volume = dims == 2 ? size * size : size * size * size, camVolume = (int)Math.Pow(camSize, dims);
            for (int n = 0; n < 2; n++)
                for (int c = 0; c < 2; c++)
                    for (int i = 0; i < volume; i++)
                    {
                        // the element's position, and its cell of the class map (nearest: integer division)
                        int x = i % size, y = i / size % size, z = i / (size * size);
                        int cell = dims == 2 ? (y / factor) * (int)camSize + x / factor
                                             : ((z / factor) * (int)camSize + y / factor) * (int)camSize + x / factor;
                        float camValue = camValues[n * camVolume + cell];
                        int index = (n * 2 + c) * volume + i;
                        values[index].Should().BeApproximately(guidedValues[index] * camValue, 1e-6f + 1e-5f * Math.Abs(guidedValues[index] * camValue));
                    }
            camValues.Should().Contain(v => v > 0);
            var linear = GuidedGradCam.ForResNet(model).Compute(input, targets, InterpolationMode.Linear);
            linear.Values.AllClose(result.Values).Should().BeFalse("linear upsampling blends neighbouring cells");
        }
    }

    [Fact]
    public void NetworksWithoutRecordedRelus_AndBadInput_AreRefusedByName()
    {
        using var scope = Tensors.NewDisposeScope();
        using var linear = new Sequential(new Flatten(), new Linear(4, 3));
        linear.Eval();
        var input = Tensors.Randn(2, 1, 2, 2);
        var noRelu = () => new GuidedBackprop(linear).Compute(input);
        noRelu.Should().Throw<InvalidOperationException>().WithMessage("*GuidedBackprop*recorded none*plain gradient*");
        var noReluDeconvolution = () => new Deconvolution(linear).Compute(input);
        noReluDeconvolution.Should().Throw<InvalidOperationException>().WithMessage("*Deconvolution*recorded none*");

        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny_torchscript_classifier.pt");
        using var script = ScriptModule.Load(fixture);
        script.Eval();
        var scripted = () => new GuidedBackprop(script).Compute(Tensors.Rand(1, 3, 28, 28));
        scripted.Should().Throw<InvalidOperationException>().WithMessage("*TorchScript*");

        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 1).WithSmallInputStem().WithClasses(2).Build();
        model.Train();
        var training = () => new GuidedBackprop(model).Compute(Tensors.Randn(1, 1, 8, 8));
        training.Should().Throw<InvalidOperationException>().WithMessage("*evaluation mode*");
        model.Eval();
        var integers = () => new Deconvolution(model).Compute(Tensors.Zeros(new long[] { 1, 1, 8, 8 }, ScalarType.Int64));
        integers.Should().Throw<ArgumentException>().WithParameterName("input");
        var nan = () => new GuidedBackprop(model).Compute(Tensors.Full(new long[] { 1, 1, 8, 8 }, double.NaN));
        nan.Should().Throw<ArgumentException>().WithMessage("*NaN*");
        var target = () => new GuidedBackprop(model).Compute(Tensors.Randn(1, 1, 8, 8), new long[] { 2 });
        target.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("targetClasses");
        var bicubic = () => GuidedGradCam.ForResNet(model).Compute(Tensors.Randn(1, 1, 8, 8), null, InterpolationMode.Bicubic);
        bicubic.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("interpolation");
        var flat = () => GuidedGradCam.ForResNet(model).Compute(Tensors.Randn(1, 64));
        flat.Should().Throw<ArgumentException>().WithParameterName("input");
        var stage = () => GuidedGradCam.ForResNet(model, stage: 4);
        stage.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("stage");
        var foreign = () => new GuidedGradCam(model, new Conv2d(1, 1, 1));
        foreign.Should().Throw<ArgumentException>().WithParameterName("targetLayer");
    }
}
