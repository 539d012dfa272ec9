using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Explainability;

[Collection(GlobalRandomStateCollection.Name)]
public class GradientAttributionTests
{
    /// <summary>Logits (N, 2): class c's is Σ a_c ⊙ x² over each sample's elements, so ∂/∂x = 2 a_c x.</summary>
    internal sealed class Quadratic : Module<Tensor, Tensor>
    {
        private readonly double[][] _a;

        public Quadratic(params double[][] a) => _a = a;

        public override Tensor Forward(Tensor input)
        {
            using var scope = Tensors.NewDisposeScope();
            var flat = input.Reshape(input.Size(0), -1);
            var logits = _a.Select(a => (flat * flat * Tensors.FromArray(a).To(input.ScalarType, input.Device)).Sum(1)).ToArray();
            return scope.MoveToOuter(Tensors.Stack(logits, 1));
        }
    }

    /// <summary>Logits (N, 2) = W x + b over each sample's 4 elements: the gradient of class c is W_c everywhere.</summary>
    internal sealed class Affine : Module<Tensor, Tensor>
    {
        public static readonly double[][] W = { new[] { 0.5, -1.5, 2.0, 0.0 }, new[] { -0.25, 1.0, 3.0, -2.0 } };

        public override Tensor Forward(Tensor input)
        {
            using var scope = Tensors.NewDisposeScope();
            var weight = Tensors.FromArray(W.SelectMany(r => r).ToArray(), 2, 4).To(input.ScalarType);
            return scope.MoveToOuter(input.Reshape(input.Size(0), 4).MatMul(weight.T()) + 0.75);
        }
    }

    private static readonly double[] A0 = { 1.0, -2.0, 0.5, 3.0 };
    private static readonly double[] A1 = { -1.0, 0.25, 2.0, 1.5 };
    private static readonly double[] X = { 0.5, -1.0, 2.0, 0.25, /* sample 2 */ -1.5, 1.0, 0.75, -0.5 };

    [Theory]
    [InlineData(IntegrationRule.GaussLegendre, 1, 1.0)]
    [InlineData(IntegrationRule.GaussLegendre, 7, 1.0)]
    [InlineData(IntegrationRule.RiemannMiddle, 3, 1.0)]
    [InlineData(IntegrationRule.RiemannTrapezoid, 2, 1.0)]
    [InlineData(IntegrationRule.RiemannLeft, 4, 0.75)]    // Σ (k/4)/4, k = 0..3
    [InlineData(IntegrationRule.RiemannRight, 4, 1.25)]   // Σ ((k+1)/4)/4
    public void OnAQuadratic_EachRuleGivesItsOwnQuadrature_AndExactRulesAreComplete(IntegrationRule rule, int steps, double factor)
    {
        // With a zero baseline, x · ∫ 2a(αx) dα = a x² exactly; a rule that sums α with weights w gives 2 a x² Σ w α.
        using var model = new Quadratic(A0, A1);
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(X, 2, 1, 2, 2);
        using var attributions = new IntegratedGradients(model, steps, rule, batchSize: 2).Compute(input, new long[] { 0, 1 });
        attributions.Values.ScalarType.Should().Be(ScalarType.Float64);
        attributions.Values.Shape.Should().Equal(2, 1, 2, 2);
        var values = attributions.Values.ToArray<double>();
        var deltas = attributions.ConvergenceDeltas!;
        for (int i = 0; i < 2; i++)
        {
            var a = i == 0 ? A0 : A1;
            double logit = 0;
            for (int j = 0; j < 4; j++)
            {
                double x = X[(i * 4) + j];
                logit += a[j] * x * x;
                values[(i * 4) + j].Should().BeApproximately(a[j] * x * x * factor, 1e-12, $"sample {i}, element {j}");
            }
            deltas[i].Should().BeApproximately(logit * (factor - 1), 1e-12, "the delta is the sum minus F(x) − F(0)");
            attributions.Scores[i].Should().BeApproximately((float)logit, 1e-5f);
        }
        attributions.TargetClasses.Should().Equal(0, 1);
    }

    [Fact]
    public void ASharedBaseline_GivesTheChangeFromIt()
    {
        // (x − b) · ∫ 2a(b + α(x − b)) dα = a (x² − b²), for every sample against the one baseline.
        using var model = new Quadratic(A0, A1);
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var b = new[] { 0.25, 0.5, -1.0, 1.0 };
        var input = Tensors.FromArray(X, 2, 4);
        using var attributions = new IntegratedGradients(model, steps: 2).Compute(input, new long[] { 1, 1 }, Tensors.FromArray(b, 1, 4));
        var values = attributions.Values.ToArray<double>();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++)
                values[(i * 4) + j].Should().BeApproximately(A1[j] * ((X[(i * 4) + j] * X[(i * 4) + j]) - (b[j] * b[j])), 1e-12);
        attributions.ConvergenceDeltas.Should().AllSatisfy(d => Math.Abs(d).Should().BeLessThan(1e-12));
    }

    [Fact]
    public void OnAResNet_AttributionsAddUpToTheLogitsChange_AndDoNotDependOnTheBatchSize()
    {
        Tensors.ManualSeed(11);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(channels: 3).WithSmallInputStem().WithClasses(3).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(2, 3, 12, 12);
        var baseline = Tensors.Randn(1, 3, 12, 12) * 0.1;
        using var fine = new IntegratedGradients(model, steps: 128, batchSize: 64).Compute(input, baseline: baseline);
        using var chunked = new IntegratedGradients(model, steps: 128, batchSize: 5).Compute(input, baseline: baseline);
        using var coarse = new IntegratedGradients(model, steps: 2, rule: IntegrationRule.RiemannLeft).Compute(input, baseline: baseline);

        using var noGrad = Tensors.NoGrad();
        var atInput = model.Call(input).ToArray<float>();
        var atBaseline = model.Call(baseline).ToArray<float>();
        for (int i = 0; i < 2; i++)
        {
            long target = fine.TargetClasses[i];
            target.Should().Be(Array.IndexOf(atInput, atInput.Skip(3 * i).Take(3).Max()) - (3 * i), "the predicted class is explained by default");
            double change = atInput[(3 * i) + target] - atBaseline[target];
            double sum = fine.ToArray(i).Sum(v => (double)v);
            (sum - change).Should().BeApproximately(fine.ConvergenceDeltas![i], 1e-4);
            Math.Abs(fine.ConvergenceDeltas[i]).Should().BeLessThan(0.05 * Math.Abs(change), "128 Gauss–Legendre points integrate the path within the paper's 5 %");
            Math.Abs(coarse.ConvergenceDeltas![i]).Should().BeGreaterThan(Math.Abs(fine.ConvergenceDeltas[i]), "2 left Riemann points do not");
        }
        fine.Values.AllClose(chunked.Values, rtol: 1e-5, atol: 1e-6).Should().BeTrue("the batch size only groups the path points");
        foreach (var parameter in model.Parameters())
        {
            using var grad = parameter.Grad;
            grad.Should().BeNull("the parameters' gradients are left untouched");
        }
    }

    [Fact]
    public void Saliency_IsTheTargetRowOfTheJacobian()
    {
        using var model = new Affine();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(X.Select(v => (float)v).ToArray(), 2, 1, 2, 2);
        var saliency = new Saliency(model);
        using var absolute = saliency.Compute(input, new long[] { 0, 1 });
        using var signed = saliency.Compute(input, new long[] { 0, 1 }, absolute: false);
        using var predicted = saliency.Compute(input);
        absolute.ToArray(0).Should().Equal(Affine.W[0].Select(w => (float)Math.Abs(w)));
        absolute.ToArray(1).Should().Equal(Affine.W[1].Select(w => (float)Math.Abs(w)));
        signed.ToArray(1).Should().Equal(Affine.W[1].Select(w => (float)w));
        // predicted: sample 0 scores 0.75 + (0.25 + 1.5 + 4) = 6.5 vs 0.75 + (−0.125 − 1 + 6 − 0.5) = 5.125 → class 0;
        // sample 1 0.75 + (−0.75 − 1.5 + 1.5) = 0 vs 0.75 + (0.375 + 1 + 2.25 + 1) = 5.375 → class 1
        predicted.TargetClasses.Should().Equal(0, 1);
        predicted.Scores[0].Should().BeApproximately(6.5f, 1e-5f);
        predicted.ConvergenceDeltas.Should().BeNull();
    }

    [Fact]
    public void SmoothGrad_OfAnAffineModelIsItsGradient_AndOfAQuadraticAddsTheNoiseVariance()
    {
        using var scope = Tensors.NewDisposeScope();
        using (var affine = new Affine())
        {
            affine.Eval();
            var input = Tensors.FromArray(X.Select(v => (float)v).ToArray(), 2, 4);
            using var mean = new SmoothGrad(affine, samples: 9, batchSize: 4).Compute(input, new long[] { 1, 0 });
            using var squared = new SmoothGrad(affine, samples: 9, squared: true).Compute(input, new long[] { 1, 0 });
            mean.ToArray(0).Should().Equal(Affine.W[1].Select(w => (float)w), "noise does not move a constant gradient");
            squared.ToArray(1).Should().Equal(Affine.W[0].Select(w => (float)(w * w)));
        }

        // E[(2a(x + ε))²] = 4a²(x² + σ²), σ = 0.2 · (max − min) = 0.2 · 2 = 0.4.
        using var model = new Quadratic(new[] { 1.0, -0.5, 2.0, 0.25 });
        model.Eval();
        var x = new[] { -1.0, 0.0, 1.0, 0.5 };
        var sample = Tensors.FromArray(x, 1, 4);
        using var smooth = new SmoothGrad(model, samples: 20_000, noiseLevel: 0.2, squared: true, batchSize: 5_000, seed: 3).Compute(sample);
        var values = smooth.ToArray(0);
        double[] a = { 1.0, -0.5, 2.0, 0.25 };
        for (int j = 0; j < 4; j++)
        {
            double expected = 4 * a[j] * a[j] * ((x[j] * x[j]) + 0.16);
            values[j].Should().BeApproximately((float)expected, (float)(0.05 * expected), $"element {j}");
        }
    }

    [Fact]
    public void SmoothGrad_IsReproducibleUnderItsSeed_WhateverTheBatchSize()
    {
        Tensors.ManualSeed(5);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 1).WithSmallInputStem().WithClasses(2).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(2, 1, 10, 10);
        using var a = new SmoothGrad(model, samples: 6, batchSize: 6, seed: 7).Compute(input);
        using var b = new SmoothGrad(model, samples: 6, batchSize: 4, seed: 7).Compute(input);
        using var c = new SmoothGrad(model, samples: 6, seed: 8).Compute(input);
        using var plain = new Saliency(model).Compute(input, absolute: false);
        a.Values.AllClose(b.Values, rtol: 1e-5, atol: 1e-7).Should().BeTrue();
        a.Values.AllClose(c.Values, rtol: 1e-5, atol: 1e-7).Should().BeFalse("another seed draws other noise");
        a.Values.AllClose(plain.Values, rtol: 1e-3, atol: 1e-6).Should().BeFalse("the noise changes a ReLU network's gradient");
        using var noNoise = new SmoothGrad(model, samples: 3, noiseLevel: 0).Compute(input);
        noNoise.Values.AllClose(plain.Values, rtol: 1e-5, atol: 1e-7).Should().BeTrue("without noise every copy is the input");
    }

    [Fact]
    public void Maps_SumTheChannels_KeepTheSign_AndSaturateTheTopPercentOfTheTotal_AsCaptum()
    {
        using var scope = Tensors.NewDisposeScope();
        // one sample, two channels, 1×5: summed = [1, −1, 1, 1, 6]; the second sample is all zero
        var values = Tensors.FromArray(new float[] { 2, 0, 1, 1, 4, /* c1 */ -1, -1, 0, 0, 2, /* sample 2 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 2, 2, 1, 5);
        var attributions = new Attributions(values, new long[] { 0, 1 }, new float[] { 1, 2 });
        // |summed| = [1, 1, 1, 1, 6], total 10: 98 % (9.8) is reached only with the 6 → scale by 6
        attributions.ToMaps().ToArray(0).Should().Equal(1f / 6, 1f / 6, 1f / 6, 1f / 6, 1f);
        // 30 % (3) is reached at the third 1 → scale by 1, the 6 clipped
        attributions.ToMaps(outlierPercent: 70).ToArray(0).Should().Equal(1f, 1f, 1f, 1f, 1f);
        attributions.ToMaps(AttributionSign.Positive, outlierPercent: 0).ToArray(0).Should().Equal(1f / 6, 0f, 1f / 6, 1f / 6, 1f);
        attributions.ToMaps(AttributionSign.Negative, outlierPercent: 0).ToArray(0).Should().Equal(0f, 1f, 0f, 0f, 0f);
        var maps = attributions.ToMaps();
        maps.Maps.Shape.Should().Equal(2, 1, 1, 5);
        maps.ToArray(1).Should().AllSatisfy(v => v.Should().Be(0), "nothing to show is 0, not NaN");
        maps.TargetClasses.Should().Equal(0, 1);

        var act = () => new Attributions(Tensors.Zeros(2, 4), new long[] { 0, 1 }, new float[] { 0, 0 }).ToMaps();
        act.Should().Throw<InvalidOperationException>().WithMessage("*channel axis*[2, 4]*");
        var badPercent = () => attributions.ToMaps(outlierPercent: 100);
        badPercent.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("outlierPercent");
    }

    [Fact]
    public void In3D_AttributionsAndMapsHaveTheVolumesShape()
    {
        Tensors.ManualSeed(4);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 2, spatialDims: 3).WithSmallInputStem().WithClasses(3).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var volumes = Tensors.Randn(1, 2, 6, 7, 8);
        using var attributions = new IntegratedGradients(model, steps: 8).Compute(volumes, new long[] { 2 });
        attributions.Values.Shape.Should().Equal(1, 2, 6, 7, 8);
        using var maps = attributions.ToMaps();
        maps.Maps.Shape.Should().Equal(1, 1, 6, 7, 8);
        maps.ToArray(0).Max().Should().Be(1f);
        maps.ToArray(0).Should().AllSatisfy(v => v.Should().BeInRange(0f, 1f));
    }

    [Fact]
    public void QuadraturePoints_AreCaptumsAndTheirWeightsSumToOne()
    {
        IntegratedGradients.Points(4, IntegrationRule.RiemannLeft).Alphas.Should().Equal(0, 0.25, 0.5, 0.75);
        IntegratedGradients.Points(4, IntegrationRule.RiemannRight).Alphas.Should().Equal(0.25, 0.5, 0.75, 1);
        IntegratedGradients.Points(4, IntegrationRule.RiemannMiddle).Alphas.Should().Equal(0.125, 0.375, 0.625, 0.875);
        var trapezoid = IntegratedGradients.Points(5, IntegrationRule.RiemannTrapezoid);
        trapezoid.Alphas.Should().Equal(0, 0.25, 0.5, 0.75, 1);
        trapezoid.Weights.Should().Equal(0.125, 0.25, 0.25, 0.25, 0.125);
        var gauss = IntegratedGradients.Points(2, IntegrationRule.GaussLegendre);
        gauss.Alphas[0].Should().BeApproximately(0.5 - (0.5 / Math.Sqrt(3)), 1e-15);
        gauss.Weights.Should().Equal(0.5, 0.5);
        foreach (var rule in Enum.GetValues<IntegrationRule>())
            foreach (var n in new[] { 2, 3, 50 })
                IntegratedGradients.Points(n, rule).Weights.Sum().Should().BeApproximately(1, 1e-9, $"{rule}, {n} points");
    }

    [Fact]
    public void BadInput_IsRefusedByName()
    {
        using var model = new Quadratic(A0, A1);
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(X, 2, 4);
        var ig = new IntegratedGradients(model);

        model.Train();
        var training = () => ig.Compute(input);
        training.Should().Throw<InvalidOperationException>().WithMessage("*evaluation mode*");
        model.Eval();

        var integers = () => new Saliency(model).Compute(Tensors.FromArray(new long[] { 1, 2, 3, 4 }, 1, 4));
        integers.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*floating point*Int64*");
        var withNaN = Tensors.FromArray(new[] { 0.0, 1, 2, 3, 4, double.NaN, 6, 7 }, 2, 4);
        var nan = () => new SmoothGrad(model).Compute(withNaN);
        nan.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("Sample 1 of the input holds NaN*");
        var count = () => ig.Compute(input, new long[] { 0 });
        count.Should().Throw<ArgumentException>().WithParameterName("targetClasses").WithMessage("1 target classes were given for a batch of 2*");
        var range = () => ig.Compute(input, new long[] { 0, 2 });
        range.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("targetClasses").WithMessage("*Target class 2 of sample 1*");
        var shape = () => ig.Compute(input, baseline: Tensors.Zeros(new long[] { 2, 3 }, ScalarType.Float64));
        shape.Should().Throw<ArgumentException>().WithParameterName("baseline").WithMessage("*[2, 3]*[2, 4]*");
        var badBaseline = () => ig.Compute(input, baseline: Tensors.FromArray(new[] { 0.0, double.PositiveInfinity, 0, 0 }, 1, 4));
        badBaseline.Should().Throw<ArgumentException>().WithParameterName("baseline").WithMessage("Sample 0 of the baseline*");
        var empty = () => new Saliency(model).Compute(Tensors.Zeros(new long[] { 0, 4 }, ScalarType.Float64));
        empty.Should().Throw<ArgumentException>().WithParameterName("input");

        var notLogits = () => new Saliency(x => x.Sum()).Compute(input);
        notLogits.Should().Throw<InvalidOperationException>().WithMessage("*logits (2, classes)*");
        var trapezoid = () => new IntegratedGradients(model, steps: 1, rule: IntegrationRule.RiemannTrapezoid);
        trapezoid.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("steps");
        var overflow = () => new SmoothGrad(model, noiseLevel: 1e300).Compute(input.To(ScalarType.Float32));
        overflow.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("A noise level of 1E+300 times sample 0's range*beyond the range of Float32*");
        var tooMany = () => new SmoothGrad(model, samples: 100_001);
        tooMany.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("samples");
        var noise = () => new SmoothGrad(model, noiseLevel: double.NaN);
        noise.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("noiseLevel");
        var rule = () => new IntegratedGradients(model, rule: (IntegrationRule)9);
        rule.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rule");
    }
}

[Collection(NativeMemoryCollection.Name)]
public class GradientAttributionMemoryTests
{
    [Fact]
    public void EveryMethod_LeavesNoTensorBehindOnceItsResultIsDisposed()
    {
        Tensors.ManualSeed(1);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 1).WithSmallInputStem().WithClasses(2).Build();
        model.Eval();
        using var input = Tensors.Randn(2, 1, 8, 8);
        using var baselines = Tensors.Randn(3, 1, 8, 8);
        void Run(Action<long> check)
        {
            using var a = new IntegratedGradients(model, steps: 5, batchSize: 2).Compute(input);
            using var maps = a.ToMaps();
            using var b = new SmoothGrad(model, samples: 3, batchSize: 2).Compute(input);
            using var c = new Saliency(model).Compute(input);
            using var d = new GradientShap(model, samples: 3, noiseLevel: 0.1, batchSize: 2).Compute(input, baselines);
            using var e = new GuidedBackprop(model).Compute(input);
            using var f = new Deconvolution(model).Compute(input);
            using var g = GuidedGradCam.ForResNet(model).Compute(input);
            using var h = new DeepLift(model, batchSize: 1).Compute(input);
            using var i = new DeepLiftShap(model, batchSize: 2).Compute(input, baselines);
            check(Tensors.LiveTensors);
        }
        Run(_ => { });
        long before = Tensors.LiveTensors;
        Run(live => live.Should().Be(before + 10, "only the ten results are alive"));
        Tensors.LiveTensors.Should().Be(before);
    }
}
