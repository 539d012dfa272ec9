using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Torch;
using static MedVision.Nets.Tests.Explainability.GradientAttributionTests;

namespace MedVision.Nets.Tests.Explainability;

[Collection(GlobalRandomStateCollection.Name)]
public class GradientShapTests
{
    private static readonly double[] X = { 0.5, -1.0, 2.0, 0.25, /* sample 2 */ -1.5, 1.0, 0.75, -0.5 };

    [Fact]
    public void OnAnAffineModel_EachDrawGivesTheWeightTimesTheDifference_SoOneBaselineIsExact_AndDeltasVanish()
    {
        using var model = new Affine();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(X, 2, 1, 2, 2);
        var b = new[] { 0.25, 0.5, -1.0, 1.0 };
        using var attributions = new GradientShap(model, samples: 7, batchSize: 3).Compute(input, Tensors.FromArray(b, 1, 1, 2, 2), new long[] { 0, 1 });
        attributions.Values.Shape.Should().Equal(2, 1, 2, 2);
        var values = attributions.Values.ToArray<double>();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++)
                values[(i * 4) + j].Should().BeApproximately(Affine.W[i][j] * (X[(i * 4) + j] - b[j]), 1e-12, $"sample {i}, element {j}: w (x − b) whatever α");
        attributions.ConvergenceDeltas.Should().HaveCount(2).And.OnlyContain(d => Math.Abs(d) < 1e-12);
        attributions.TargetClasses.Should().Equal(0, 1);

        // Several baselines and noise: still linear per draw, so the sum of the attributions equals the mean logit change.
        var baselines = Tensors.FromArray(new[] { 0.25, 0.5, -1.0, 1.0, -2.0, 0.0, 3.0, 0.5, 1.0, 1.0, 1.0, 1.0 }, 3, 1, 2, 2);
        using var noisy = new GradientShap(model, samples: 50, noiseLevel: 0.3, batchSize: 8, seed: 2).Compute(input, baselines);
        noisy.ConvergenceDeltas.Should().OnlyContain(d => Math.Abs(d) < 1e-10);
        noisy.Values.ToArray<double>().Should().NotEqual(values, "other baselines were drawn");
    }

    [Fact]
    public void OnAQuadratic_TheDrawsShareOnePointPerCopy_AndAverageToHalfTheGradientAtTheInput()
    {
        // From the zero baseline without noise each draw gives 2aα x ⊙ x; the mean over draws is 2ā x² with ā the mean
        // α, the same factor for every element of a sample, and ā → 1/2 (a x²: the integrated-gradients answer).
        using var model = new Quadratic(new[] { 1.0, -2.0, 0.5, 3.0 }, new[] { -1.0, 0.25, 2.0, 1.5 });
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(X, 2, 4);
        using var attributions = new GradientShap(model, samples: 20_000, batchSize: 5_000, seed: 5).Compute(input, Tensors.Zeros([1, 4], ScalarType.Float64), new long[] { 0, 0 });
        var values = attributions.Values.ToArray<double>();
        var a = new[] { 1.0, -2.0, 0.5, 3.0 };
        for (int i = 0; i < 2; i++)
        {
            var factors = Enumerable.Range(0, 4).Select(j => values[(i * 4) + j] / (a[j] * X[(i * 4) + j] * X[(i * 4) + j])).ToArray();
            factors.Should().OnlyContain(f => Math.Abs(f - factors[0]) < 1e-9, $"sample {i}: one α per draw for all elements");
            factors[0].Should().BeApproximately(1.0, 0.02, "2 × the mean of 20,000 uniform α");
            // the delta: the attributions' sum minus the logit's change from the zero baseline, Σ a x² − 0
            double logit = Enumerable.Range(0, 4).Sum(j => a[j] * X[(i * 4) + j] * X[(i * 4) + j]);
            attributions.ConvergenceDeltas![i].Should().BeApproximately(values.Skip(i * 4).Take(4).Sum() - logit, 1e-9);
        }
    }

    [Fact]
    public void DrawsAreReproducibleUnderTheSeed_ForAnyBatchSize_AndLeaveNoGradientOnTheParameters()
    {
        Tensors.ManualSeed(21);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 3).WithSmallInputStem().WithClasses(3).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(2, 3, 12, 12);
        var baselines = Tensors.Randn(4, 3, 12, 12);
        float[] Run(int batch, int seed)
        {
            using var a = new GradientShap(model, samples: 6, noiseLevel: 0.1, batchSize: batch, seed: seed).Compute(input, baselines);
            return a.Values.ToArray<float>();
        }
        var reference = Run(6, 1);
        Run(1, 1).Should().Equal(reference, (x, e) => Math.Abs(x - e) < 1e-5f, "the draws do not depend on the batch size");
        Run(4, 1).Should().Equal(reference, (x, e) => Math.Abs(x - e) < 1e-5f);
        Run(6, 2).Should().NotEqual(reference);
        model.Parameters().Should().OnlyContain(p => p.Grad == null);
        using var predicted = new GradientShap(model).Compute(input, baselines);
        using (Tensors.NoGrad()) predicted.TargetClasses.Should().Equal(model.Call(input).ArgMax(1).ToArray<long>());
        predicted.ToMaps().Maps.Shape.Should().Equal(2, 1, 12, 12);
    }

    [Fact]
    public void BadInput_IsRefusedByName()
    {
        using var model = new Affine();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(X, 2, 1, 2, 2);
        var baselines = Tensors.Zeros(3, 1, 2, 2);
        FluentActions.Invoking(() => new GradientShap(model, samples: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("samples");
        FluentActions.Invoking(() => new GradientShap(model, noiseLevel: -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("noiseLevel");
        FluentActions.Invoking(() => new GradientShap(model, batchSize: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("batchSize");
        model.Train();
        FluentActions.Invoking(() => new GradientShap(model).Compute(input, baselines)).Should().Throw<InvalidOperationException>().WithMessage("*evaluation mode*");
        model.Eval();
        var shap = new GradientShap(model);
        FluentActions.Invoking(() => shap.Compute(input, Tensors.Zeros(3, 1, 2, 3))).Should().Throw<ArgumentException>().WithParameterName("baselines").WithMessage("*[3, 1, 2, 3]*[1, 2, 2]*");
        FluentActions.Invoking(() => shap.Compute(input, Tensors.Zeros(0, 1, 2, 2))).Should().Throw<ArgumentException>().WithParameterName("baselines");
        FluentActions.Invoking(() => shap.Compute(input, Tensors.Zeros([1, 1, 2, 2], ScalarType.Int64))).Should().Throw<ArgumentException>().WithParameterName("baselines").WithMessage("*Int64*");
        FluentActions.Invoking(() => shap.Compute(input, Tensors.Full([2, 1, 2, 2], double.NaN))).Should().Throw<ArgumentException>().WithParameterName("baselines").WithMessage("Sample 0 of the baselines*");
        FluentActions.Invoking(() => shap.Compute(input, baselines, new long[] { 0 })).Should().Throw<ArgumentException>().WithParameterName("targetClasses");
        FluentActions.Invoking(() => shap.Compute(input, null!)).Should().Throw<ArgumentNullException>();
    }
}
