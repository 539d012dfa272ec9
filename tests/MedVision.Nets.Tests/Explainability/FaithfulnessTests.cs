using MedVision.Nets.Explainability;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Explainability;

public class FaithfulnessTests
{
    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static readonly float[] Perfect = Enumerable.Range(0, 64).Select(i => SquareDetector.InSquare(i) ? 1f : 0f).ToArray();
    private static readonly float[] Reversed = Perfect.Select(v => 1 - v).ToArray();

    [Fact]
    public void Deletion_FollowsTheProbabilityAsTheMapsPositionsAreRemoved_OnePerStep()
    {
        using var model = new SquareDetector();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Ones(1, 1, 8, 8);
        var perfect = Faithfulness.Deletion(model, input, Perfect, 1, steps: 64, batchSize: 10);
        perfect.Fractions.Should().HaveCount(65);
        for (int k = 0; k <= 64; k++)
        {
            perfect.Fractions[k].Should().Be(k / 64.0);
            // k square pixels gone (the square's 9 first), the square's mean (9 − min(k, 9)) / 9
            perfect.Probabilities[k].Should().BeApproximately(Sigmoid((4 * (9 - Math.Min(k, 9)) / 9.0) - 2), 1e-6, $"point {k}");
        }
        var reversed = Faithfulness.Deletion(model, input, Reversed, 1, steps: 64);
        for (int k = 0; k <= 64; k++)
            reversed.Probabilities[k].Should().BeApproximately(Sigmoid((4 * (9 - Math.Max(0, k - 55)) / 9.0) - 2), 1e-6, $"point {k}");
        perfect.Area.Should().BeLessThan(reversed.Area, "the faithful map removes the evidence first");

        // Fewer steps than positions: ⌊k · 64 / steps⌋ positions at point k; the batch size does not matter.
        var coarse = Faithfulness.Deletion(model, input, Perfect, 1, steps: 7, batchSize: 3);
        coarse.Fractions.Should().Equal(Enumerable.Range(0, 8).Select(k => (k * 64 / 7) / 64.0));
        coarse.Probabilities.Should().Equal(Faithfulness.Deletion(model, input, Perfect, 1, steps: 7, batchSize: 100).Probabilities);
        coarse.Probabilities[1].Should().BeApproximately(Sigmoid(-2), 1e-6, "the first 9 positions are the square's");
    }

    [Fact]
    public void Insertion_RestoresTheMapsPositionsFromTheReplacement()
    {
        using var model = new SquareDetector();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Ones(1, 1, 8, 8);
        var grey = Tensors.Full(new long[] { 1, 1, 8, 8 }, 0.25);
        var perfect = Faithfulness.Insertion(model, input, Perfect, 1, grey, steps: 64);
        for (int k = 0; k <= 64; k++)
            perfect.Probabilities[k].Should().BeApproximately(Sigmoid((4 * ((Math.Min(k, 9) * 1.0) + ((9 - Math.Min(k, 9)) * 0.25)) / 9.0) - 2), 1e-6, $"point {k}");
        var reversed = Faithfulness.Insertion(model, input, Reversed, 1, grey, steps: 64);
        perfect.Area.Should().BeGreaterThan(reversed.Area);
        // deletion towards the same grey ends where insertion starts
        Faithfulness.Deletion(model, input, Perfect, 1, grey, steps: 64).Probabilities[^1].Should().BeApproximately(perfect.Probabilities[0], 1e-9);
        perfect.Probabilities[^1].Should().BeApproximately(Sigmoid(2), 1e-6);
        new FaithfulnessCurve(new[] { 0.0, 0.5, 1.0 }, new[] { 1.0, 0.5, 0.0 }).Area.Should().Be(0.5);
    }

    [Fact]
    public void BadInput_IsRefusedByName()
    {
        using var model = new SquareDetector();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Ones(1, 1, 8, 8);
        model.Train();
        FluentActions.Invoking(() => Faithfulness.Deletion(model, input, Perfect, 1)).Should().Throw<InvalidOperationException>().WithMessage("*evaluation mode*");
        model.Eval();
        FluentActions.Invoking(() => Faithfulness.Deletion(model, Tensors.Ones(2, 1, 8, 8), Perfect, 1)).Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*one sample*[2, 1, 8, 8]*");
        FluentActions.Invoking(() => Faithfulness.Deletion(model, input, Perfect.Take(63).ToArray(), 1)).Should().Throw<ArgumentException>().WithParameterName("map").WithMessage("*63 values*64 positions*");
        var nan = Perfect.ToArray();
        nan[5] = float.NaN;
        FluentActions.Invoking(() => Faithfulness.Insertion(model, input, nan, 1)).Should().Throw<ArgumentException>().WithParameterName("map").WithMessage("Map value 5 is NaN*");
        FluentActions.Invoking(() => Faithfulness.Deletion(model, input, Perfect, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("targetClass");
        FluentActions.Invoking(() => Faithfulness.Insertion(model, input, Perfect, 1, Tensors.Ones(1, 1, 8, 7))).Should().Throw<ArgumentException>().WithParameterName("replacement");
        FluentActions.Invoking(() => Faithfulness.Deletion(model, input, Perfect, 1, steps: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("steps");
        FluentActions.Invoking(() => Faithfulness.Deletion(x => x.Sum(), input, Perfect, 1)).Should().Throw<InvalidOperationException>().WithMessage("*logits*");
    }

    [Fact]
    public void Sigmoid_FollowsTheLabelsOwnProbability_WhereSoftmaxWouldMixInTheOtherLabels()
    {
        // Two independent labels: logit 0 a constant 3, logit 1 the square's evidence e = 4·mean − 2.
        using var model = new SquareDetector();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var offset = Tensors.FromArray(new float[] { 3, 0 });
        Tensor Forward(Tensor x) => model.Call(x) + offset;
        var input = Tensors.Ones(1, 1, 8, 8);
        var sigmoid = Faithfulness.Deletion(Forward, input, Perfect, 1, steps: 64, score: FaithfulnessScore.Sigmoid);
        var softmax = Faithfulness.Deletion(Forward, input, Perfect, 1, steps: 64);
        for (int k = 0; k <= 64; k++)
        {
            double e = (4 * (9 - Math.Min(k, 9)) / 9.0) - 2;
            sigmoid.Probabilities[k].Should().BeApproximately(Sigmoid(e), 1e-6, $"point {k}: σ(e)");
            softmax.Probabilities[k].Should().BeApproximately(Sigmoid(e - 3), 1e-6, $"point {k}: e^e / (e^3 + e^e)");
        }
        Faithfulness.Insertion(Forward, input, Perfect, 0, steps: 8, score: FaithfulnessScore.Sigmoid).Probabilities.Should().OnlyContain(p => Math.Abs(p - Sigmoid(3)) < 1e-6);
        FluentActions.Invoking(() => Faithfulness.Deletion(Forward, input, Perfect, 1, score: (FaithfulnessScore)7)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("score");
    }

    // The blur by its definition: along each spatial axis in turn, Σ_k w_k x[i + k − half] with w ∝ exp(−(k − half)²/2σ²),
    // the index reflected at the border (replicated where the axis is no longer than the half-width).
    private static double[] NaiveBlur(double[] x, long[] shape, double sigma, int size)
    {
        int half = size / 2;
        var w = Enumerable.Range(0, size).Select(k => Math.Exp(-0.5 * (k - half) * (k - half) / (sigma * sigma))).ToArray();
        double total = w.Sum();
        var current = x.ToArray();
        var strides = new long[shape.Length];
        strides[^1] = 1;
        for (int d = shape.Length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
        for (int axis = 2; axis < shape.Length; axis++)
        {
            long n = shape[axis];
            var next = new double[current.Length];
            for (long i = 0; i < current.Length; i++)
            {
                long position = i / strides[axis] % n;
                double sum = 0;
                for (int k = 0; k < size; k++)
                {
                    long j = position + k - half;
                    if (half < n) { if (j < 0) j = -j; if (j >= n) j = (2 * (n - 1)) - j; }
                    else j = Math.Clamp(j, 0, n - 1);
                    sum += w[k] / total * current[i + ((j - position) * strides[axis])];
                }
                next[i] = sum;
            }
            current = next;
        }
        return current;
    }

    [Theory]
    [InlineData(new long[] { 2, 3, 9, 10 }, 1.5, 5)]
    [InlineData(new long[] { 1, 1, 12, 12 }, 5.0, 11)]
    [InlineData(new long[] { 1, 2, 2, 6, 7 }, 1.0, 5)]   // depth 2 ≤ half-width: replicated
    [InlineData(new long[] { 1, 1, 4, 4 }, 2.0, 1)]      // one tap: the input
    public void Blur_IsASeparableNormalisedGaussianWithReflectedBorders(long[] shape, double sigma, int size)
    {
        var random = new Random(4);
        var values = Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => random.NextDouble()).ToArray();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(values, shape);
        var blurred = Faithfulness.Blur(input, sigma, size);
        blurred.Shape.Should().Equal(shape);
        blurred.ScalarType.Should().Be(ScalarType.Float64);
        blurred.Should().NotBeSameAs(input);
        var actual = blurred.ToArray<double>();
        var expected = NaiveBlur(values, shape, sigma, size);
        for (int i = 0; i < actual.Length; i++) actual[i].Should().BeApproximately(expected[i], 1e-12, $"element {i}");
        Faithfulness.Blur(Tensors.Full(new long[] { 1, 2, 7, 7 }, 0.3f), sigma, size).ToArray<float>().Should().OnlyContain(v => Math.Abs(v - 0.3f) < 1e-6, "a constant image stays constant");
    }

    [Fact]
    public void Blur_RefusesBadArgumentsByName()
    {
        using var scope = Tensors.NewDisposeScope();
        var image = Tensors.Ones(1, 1, 8, 8);
        FluentActions.Invoking(() => Faithfulness.Blur(image, sigma: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sigma");
        FluentActions.Invoking(() => Faithfulness.Blur(image, sigma: double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sigma");
        FluentActions.Invoking(() => Faithfulness.Blur(image, kernelSize: 4)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("kernelSize");
        FluentActions.Invoking(() => Faithfulness.Blur(Tensors.Ones(1, 8, 8))).Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*[1, 8, 8]*");
        FluentActions.Invoking(() => Faithfulness.Blur(Tensors.Ones(new long[] { 1, 1, 8, 8 }, ScalarType.Int64))).Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*Int64*");
    }
}
