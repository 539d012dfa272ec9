using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Jit;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Explainability;

[Collection(GlobalRandomStateCollection.Name)]
public class DeepLiftTests
{
    private static readonly TwoLayerClassifier Network = new(withBias: true);

    /// <summary>DeepLIFT's attributions of class <paramref name="target"/> of <see cref="TwoLayerClassifier"/> (with bias) against <paramref name="reference"/>, by hand.</summary>
    private static double[] Expected(double[] x, double[] reference, int target)
    {
        var (w1, w2) = (TwoLayerClassifier.W1, TwoLayerClassifier.W2);
        var (h, hr) = (Network.Hidden(x), Network.Hidden(reference));
        var m = h.Select((v, i) => Math.Abs(v - hr[i]) < 1e-10 ? (v > 0 ? 1 : 0) : (Math.Max(v, 0) - Math.Max(hr[i], 0)) / (v - hr[i])).ToArray();
        return Enumerable.Range(0, 4).Select(j => (x[j] - reference[j]) * Enumerable.Range(0, 5).Sum(i => w2[target, i] * m[i] * w1[i, j])).ToArray();
    }

    private static readonly double[] X = { 0.5, -1.0, 2.0, 0.25, /* sample 2 */ -1.5, 1.0, 0.75, -0.5 };
    private static readonly double[] Reference = { 0.25, 0.5, -0.5, 1.0, /* sample 2 */ 1.0, -0.25, 0.5, 0.5 };

    private static double[] Sample(double[] values, int n) => values.Skip(4 * n).Take(4).ToArray();

    [Fact]
    public void DeepLift_GivesTheHandComputedAttributions_WhichAddUpToTheLogitsChange_ForEveryBaselineForm()
    {
        using var model = new TwoLayerClassifier(withBias: true);
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(X, 2, 1, 2, 2);
        var logits = model.Call(input).ToArray<double>();
        var cases = new (string Name, Tensor? Baseline, Func<int, double[]> ReferenceOf, long[]? Targets, int BatchSize)[]
        {
            ("zero reference, predicted classes", null, _ => new double[4], null, 32),
            ("a reference per sample, chosen classes, one sample per pass", Tensors.FromArray(Reference, 2, 1, 2, 2), n => Sample(Reference, n), new long[] { 2, 1 }, 1),
            ("one shared reference", Tensors.FromArray(Sample(Reference, 1), 1, 1, 2, 2), _ => Sample(Reference, 1), new long[] { 0, 0 }, 32),
        };
        foreach (var (name, baseline, referenceOf, targets, batchSize) in cases)
        {
            using var attributions = new DeepLift(model, batchSize).Compute(input, targets, baseline);
            attributions.Values.Shape.Should().Equal(2, 1, 2, 2);
            attributions.Values.ScalarType.Should().Be(ScalarType.Float64);
            for (int n = 0; n < 2; n++)
            {
                int target = (int)(targets?[n] ?? Array.IndexOf(logits, logits.Skip(3 * n).Take(3).Max()) - (3 * n));
                attributions.TargetClasses[n].Should().Be(target, name);
                attributions.Scores[n].Should().BeApproximately((float)logits[3 * n + target], 1e-5f, name);
                var expected = Expected(Sample(X, n), referenceOf(n), target);
                attributions.Values[n].Flatten().ToArray<double>().Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-9, name);
                attributions.ConvergenceDeltas![n].Should().BeApproximately(0, 1e-9, name);
                expected.Sum().Should().BeApproximately(Network.Logit(Sample(X, n), target) - Network.Logit(referenceOf(n), target), 1e-9, "summation-to-delta of the hand computation");
            }
        }
        // These samples cross ReLU's hinge on the way from the reference, so the multipliers are not the derivatives:
        // DeepLIFT here is not gradient × (input − reference).
        using var deepLift = new DeepLift(model).Compute(input, new long[] { 2, 1 }, Tensors.FromArray(Reference, 2, 1, 2, 2));
        using var gradient = new Saliency(model).Compute(input, new long[] { 2, 1 }, absolute: false);
        var gradientTimesDifference = gradient.Values * (input - Tensors.FromArray(Reference, 2, 1, 2, 2));
        deepLift.Values.AllClose(gradientTimesDifference, 1e-6, 1e-9).Should().BeFalse();
    }

    [Fact]
    public void OnResNets_TheAttributionsAddUpToTheLogitsChange_In2DAnd3D_WithEitherStem_AndLeaveParameterGradientsAlone()
    {
        Tensors.ManualSeed(5);
        using var model2d = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(3).WithSmallInputStem().WithClasses(4).Build();
        using var model3d = ResNet.Builder().WithDepth(10).WithWidths(4, 4, 4, 4).ForInput(1, spatialDims: 3).WithSmallInputStem().WithClasses(3).Build();
        // the ImageNet stem max-pools (3, stride 2, padding 1: overlapping windows), which gets DeepLIFT's max-pooling rule
        using var imageNet2d = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(3).WithImageNetStem().WithClasses(4).Build();
        using var imageNet3d = ResNet.Builder().WithDepth(10).WithWidths(4, 4, 4, 4).ForInput(1, spatialDims: 3).WithImageNetStem().WithClasses(2).Build();
        foreach (var (model, shape) in new (ResNet, long[])[]
                 {
                     (model2d, new long[] { 3, 3, 16, 16 }), (model3d, new long[] { 2, 1, 8, 8, 8 }),
                     (imageNet2d, new long[] { 2, 3, 40, 40 }), (imageNet3d, new long[] { 2, 1, 20, 20, 20 }),
                 })
        {
            model.Eval();
            using var scope = Tensors.NewDisposeScope();
            var input = Tensors.Randn(shape);
            var baseline = Tensors.Randn(shape) * 0.5;
            using var attributions = new DeepLift(model, batchSize: 2).Compute(input, null, baseline);
            using var logits = model.Call(input);
            using var references = model.Call(baseline);
            for (int n = 0; n < shape[0]; n++)
            {
                long target = attributions.TargetClasses[n];
                double change = logits[n, target].Item<float>() - references[n, target].Item<float>();
                double sum = attributions.ToArray(n).Sum(v => (double)v);
                sum.Should().BeApproximately(change, 1e-3 * Math.Max(1, Math.Abs(change)), $"sample {n} of {string.Join("×", shape)}: linear layers, ReLUs and max pooling all follow DeepLIFT's rules");
                attributions.ConvergenceDeltas![n].Should().BeApproximately(sum - change, 1e-4);
            }
            using var gradient = new Saliency(model).Compute(input, attributions.TargetClasses, absolute: false);
            using var gradientTimesDifference = gradient.Values * (input - baseline);
            attributions.Values.AllClose(gradientTimesDifference, 1e-3, 1e-6).Should().BeFalse("the rescale rule is not the gradient");
            using var again = new DeepLift(model).Compute(input, null, baseline);
            again.Values.AllClose(attributions.Values, 1e-5, 1e-6).Should().BeTrue("the batch size does not change the result");
            model.Parameters().Should().OnlyContain(p => p.Grad == null);
        }
    }

    [Fact]
    public void DeepLiftShap_IsTheMeanOfDeepLiftOverTheReferences_AndAddsUpToTheMeanChange()
    {
        using var model = new TwoLayerClassifier(withBias: true);
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(X, 2, 1, 2, 2);
        var references = Tensors.FromArray(Reference.Concat(new[] { 0.0, 1.0, -1.0, 2.0 }).ToArray(), 3, 1, 2, 2);
        using var shap = new DeepLiftShap(model, batchSize: 2).Compute(input, references, new long[] { 1, 2 });
        for (int n = 0; n < 2; n++)
        {
            int target = n + 1;
            var expected = new double[4];
            double change = 0;
            for (int k = 0; k < 3; k++)
            {
                var reference = references[k].Flatten().ToArray<double>();
                var one = Expected(Sample(X, n), reference, target);
                for (int j = 0; j < 4; j++) expected[j] += one[j] / 3;
                change += (Network.Logit(Sample(X, n), target) - Network.Logit(reference, target)) / 3;
            }
            shap.Values[n].Flatten().ToArray<double>().Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-9);
            shap.ConvergenceDeltas![n].Should().BeApproximately(0, 1e-9);
            expected.Sum().Should().BeApproximately(change, 1e-9);
        }

        Tensors.ManualSeed(2);
        using var resnet = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(1).WithSmallInputStem().WithClasses(3).Build();
        resnet.Eval();
        var images = Tensors.Randn(2, 1, 8, 8);
        var baselines = Tensors.Randn(3, 1, 8, 8);
        using var all = new DeepLiftShap(resnet, batchSize: 2).Compute(images, baselines);
        var mean = Tensors.ZerosLike(images);
        for (int k = 0; k < 3; k++)
            mean = mean + new DeepLift(resnet).Compute(images, all.TargetClasses, baselines.Narrow(0, k, 1)).Values / 3;
        all.Values.AllClose(mean, 1e-4, 1e-6).Should().BeTrue();
        all.ConvergenceDeltas.Should().OnlyContain(d => Math.Abs(d) < 1e-3);
    }

    [Fact]
    public void ANetworkOfOtherActivations_IsRescaledToo_SoItsAttributionsAddUp()
    {
        Tensors.ManualSeed(8);
        using var model = new Sequential(new Flatten(), new Linear(16, 12), new Tanh(), new Linear(12, 8), new LeakyReLU(0.2), new Linear(8, 3));
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(3, 1, 4, 4) * 2;
        var baseline = Tensors.Randn(1, 1, 4, 4);
        using var attributions = new DeepLift(model).Compute(input, null, baseline);
        attributions.ConvergenceDeltas.Should().OnlyContain(d => Math.Abs(d) < 1e-4, "tanh and leaky ReLU follow the rescale rule");
        using var shap = new DeepLiftShap(model).Compute(input, Tensors.Randn(4, 1, 4, 4));
        shap.ConvergenceDeltas.Should().OnlyContain(d => Math.Abs(d) < 1e-4);
        using var gradient = new Saliency(model).Compute(input, attributions.TargetClasses, absolute: false);
        var gradientTimesDifference = gradient.Values * (input - baseline);
        attributions.Values.AllClose(gradientTimesDifference, 1e-3, 1e-5).Should().BeFalse("the rescale rule is not the gradient");
    }

    [Fact]
    public void NetworksWithoutRecordedRelus_AndBadInput_AreRefusedByName()
    {
        using var scope = Tensors.NewDisposeScope();
        using var linear = new Sequential(new Flatten(), new Linear(4, 3));
        linear.Eval();
        var input = Tensors.Randn(2, 1, 2, 2);
        var noRelu = () => new DeepLift(linear).Compute(input);
        noRelu.Should().Throw<InvalidOperationException>().WithMessage("*DeepLift*recorded none*");
        var noReluShap = () => new DeepLiftShap(linear).Compute(input, Tensors.Zeros(1, 1, 2, 2));
        noReluShap.Should().Throw<InvalidOperationException>().WithMessage("*DeepLiftShap*recorded none*");

        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny_torchscript_classifier.pt");
        using var script = ScriptModule.Load(fixture);
        script.Eval();
        var scripted = () => new DeepLift(script).Compute(Tensors.Rand(1, 3, 28, 28));
        scripted.Should().Throw<InvalidOperationException>().WithMessage("*TorchScript*");

        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 1).WithSmallInputStem().WithClasses(2).Build();
        model.Train();
        var training = () => new DeepLift(model).Compute(Tensors.Randn(1, 1, 8, 8));
        training.Should().Throw<InvalidOperationException>().WithMessage("*evaluation mode*");
        model.Eval();
        var image = Tensors.Randn(2, 1, 8, 8);
        var integers = () => new DeepLift(model).Compute(Tensors.Zeros(new long[] { 1, 1, 8, 8 }, ScalarType.Int64));
        integers.Should().Throw<ArgumentException>().WithParameterName("input");
        var nan = () => new DeepLift(model).Compute(Tensors.Full(new long[] { 1, 1, 8, 8 }, double.NaN));
        nan.Should().Throw<ArgumentException>().WithMessage("*NaN*");
        var target = () => new DeepLift(model).Compute(image, new long[] { 0, 2 });
        target.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("targetClasses");
        var shape = () => new DeepLift(model).Compute(image, null, Tensors.Zeros(2, 1, 8, 7));
        shape.Should().Throw<ArgumentException>().WithParameterName("baseline");
        var nanBaseline = () => new DeepLift(model).Compute(image, null, Tensors.Full(new long[] { 1, 1, 8, 8 }, double.NaN));
        nanBaseline.Should().Throw<ArgumentException>().WithParameterName("baseline").WithMessage("*NaN*");
        var batchSize = () => new DeepLift(model, batchSize: 0);
        batchSize.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("batchSize");
        var shapBatchSize = () => new DeepLiftShap(model, batchSize: 0);
        shapBatchSize.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("batchSize");
        var noBaselines = () => new DeepLiftShap(model).Compute(image, null!);
        noBaselines.Should().Throw<ArgumentNullException>().WithParameterName("baselines");
        var emptyBaselines = () => new DeepLiftShap(model).Compute(image, Tensors.Zeros(0, 1, 8, 8));
        emptyBaselines.Should().Throw<ArgumentException>().WithParameterName("baselines");
        var intBaselines = () => new DeepLiftShap(model).Compute(image, Tensors.Zeros(new long[] { 1, 1, 8, 8 }, ScalarType.Int64));
        intBaselines.Should().Throw<ArgumentException>().WithParameterName("baselines");
        var nullModel = () => new DeepLift((Module<Tensor, Tensor>)null!);
        nullModel.Should().Throw<ArgumentNullException>().WithParameterName("model");
        var nullForward = () => new DeepLiftShap((Func<Tensor, Tensor>)null!);
        nullForward.Should().Throw<ArgumentNullException>().WithParameterName("forward");
    }
}
