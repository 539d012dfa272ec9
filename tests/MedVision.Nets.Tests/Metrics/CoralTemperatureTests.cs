using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Metrics;

/// <summary>
/// A temperature on a CORAL head's cumulative logits (<see cref="TemperatureScaling.FitCumulative(int[], double[,])"/>,
/// <see cref="CoralTemperature.CumulativeLogits"/>): fitted by maximum likelihood, it keeps the median grade, where a
/// temperature on the grades' probabilities moves it.
/// </summary>
public class CoralTemperatureTests
{
    private static readonly double[] Biases = { 1.5, 0.5, -0.5, -1.5 };

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    // The grades' probabilities of ordered cumulative logits, written out: P0 = 1 − σ(z0), Pk = σ(z(k−1)) − σ(zk), P4 = σ(z3).
    private static double[] Grades(double[] z, double temperature)
    {
        var p = new double[z.Length + 1];
        for (int k = 0; k <= z.Length; k++)
            p[k] = (k == 0 ? 1 : Sigmoid(z[k - 1] / temperature)) - (k == z.Length ? 0 : Sigmoid(z[k] / temperature));
        return p;
    }

    private static double Nll(int[] labels, double[,] z, double temperature)
    {
        double sum = 0;
        for (int i = 0; i < labels.Length; i++)
            sum -= Math.Log(Grades(Enumerable.Range(0, z.GetLength(1)).Select(k => z[i, k]).ToArray(), temperature)[labels[i]]);
        return sum / labels.Length;
    }

    // Cumulative logits score + bias (scaled by `confidence`), and grades drawn from the unscaled model's probabilities.
    private static (int[] Labels, double[,] Logits) Sample(int count, double confidence, int seed)
    {
        var random = new Random(seed);
        var labels = new int[count];
        var logits = new double[count, Biases.Length];
        for (int i = 0; i < count; i++)
        {
            double score = 2 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            var z = Biases.Select(b => score + b).ToArray();
            var p = Grades(z, 1);
            double u = random.NextDouble(), cumulative = 0;
            labels[i] = p.Length - 1;
            for (int k = 0; k < p.Length; k++)
            {
                cumulative += p[k];
                if (u < cumulative) { labels[i] = k; break; }
            }
            for (int k = 0; k < z.Length; k++) logits[i, k] = confidence * z[k];
        }
        return (labels, logits);
    }

    [Theory]
    [InlineData(3.0, 0.15)]    // over-confident logits: T ≈ 3 undoes them
    [InlineData(0.5, 0.03)]    // under-confident: T ≈ 0.5
    [InlineData(1.0, 0.06)]    // already calibrated: T ≈ 1
    public void FitCumulative_RecoversTheScaleOfMiscalibratedLogits(double confidence, double tolerance)
    {
        var (labels, logits) = Sample(20000, confidence, seed: 3);
        var scaling = TemperatureScaling.FitCumulative(labels, logits);
        scaling.OnCumulativeLogits.Should().BeTrue();
        scaling.Temperature.Should().BeApproximately(confidence, tolerance);
        scaling.NegativeLogLikelihoodAfter.Should().BeLessThanOrEqualTo(scaling.NegativeLogLikelihoodBefore);
        scaling.ToString().Should().Contain("on cumulative logits");
    }

    [Fact]
    public void FitCumulative_MinimisesTheLikelihood_WrittenOutByHand()
    {
        var (labels, logits) = Sample(300, 2.2, seed: 8);
        var scaling = TemperatureScaling.FitCumulative(labels, logits);
        scaling.NegativeLogLikelihoodBefore.Should().BeApproximately(Nll(labels, logits, 1), 1e-12);
        scaling.NegativeLogLikelihoodAfter.Should().BeApproximately(Nll(labels, logits, scaling.Temperature), 1e-12);
        // No temperature on a fine grid does better; the neighbours 1 % either side do worse.
        for (double t = 0.05; t <= 20; t *= 1.01)
            Nll(labels, logits, t).Should().BeGreaterThanOrEqualTo(scaling.NegativeLogLikelihoodAfter - 1e-12, $"T = {t}");
        Nll(labels, logits, scaling.Temperature * 1.01).Should().BeGreaterThan(scaling.NegativeLogLikelihoodAfter);
        Nll(labels, logits, scaling.Temperature / 1.01).Should().BeGreaterThan(scaling.NegativeLogLikelihoodAfter);
        // Its probabilities are those of z / T, and the MedMNIST-layout overload agrees.
        var applied = scaling.ApplyToCumulativeLogits(logits);
        for (int i = 0; i < 5; i++)
        {
            var expected = Grades(Enumerable.Range(0, 4).Select(k => logits[i, k]).ToArray(), scaling.Temperature);
            Enumerable.Range(0, 5).Select(k => applied[i, k]).Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-12);
        }
        var column = new int[labels.Length, 1];
        for (int i = 0; i < labels.Length; i++) column[i, 0] = labels[i];
        TemperatureScaling.FitCumulative(column, logits).Temperature.Should().Be(scaling.Temperature);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(3.0)]
    public void ATemperatureOnTheCumulativeLogits_KeepsTheMedianGrade_WhereOneOnTheGradeProbabilitiesMovesIt(double temperature)
    {
        using var scope = Tensors.NewDisposeScope();
        // One severity score per row against thresholds 0.5 apart, as a CORAL head fits noisy grades.
        var scores = new[] { -3.0, -1.2, -0.6, -0.2, 0.1, 0.4, 0.9, 1.4, 3.0 };
        var bias = new[] { 0.75, 0.25, -0.25, -0.75 };
        var values = scores.SelectMany(s => bias.Select(b => s + b)).ToArray();
        var logits = Tensors.FromArray(values).Reshape(scores.Length, 4);
        var coral = OrdinalDecoding.ToGrades(logits).ToArray<long>().Select(g => (int)g).ToArray();
        double[,] Table(Tensor probabilities)
        {
            var flat = probabilities.ToArray<double>();
            var table = new double[scores.Length, 5];
            for (int i = 0; i < scores.Length; i++)
                for (int k = 0; k < 5; k++) table[i, k] = flat[(i * 5) + k];
            return table;
        }
        var cumulative = Table(OrdinalDecoding.ToClassProbabilities(logits, temperature, CoralTemperature.CumulativeLogits));
        OrdinalDecoding.MedianGrades(cumulative).Should().Equal(coral, "every threshold keeps its side of 0");
        var onGrades = Table(OrdinalDecoding.ToClassProbabilities(logits, temperature, CoralTemperature.GradeProbabilities));
        OrdinalDecoding.MedianGrades(onGrades).Should().NotEqual(coral, "P^(1/T) reshapes the spread probabilities around the middle grades");
        // The grade-probability overload without a mode is that mode; the tensor path equals TemperatureScaling's.
        Table(OrdinalDecoding.ToClassProbabilities(logits, temperature)).Should().BeEquivalentTo(onGrades);
        var matrix = new double[scores.Length, 4];
        for (int i = 0; i < scores.Length; i++)
            for (int k = 0; k < 4; k++) matrix[i, k] = values[(i * 4) + k];
        var byHand = TemperatureScaling.WithTemperature(temperature, onCumulativeLogits: true).ApplyToCumulativeLogits(matrix);
        for (int i = 0; i < scores.Length; i++)
            for (int k = 0; k < 5; k++) cumulative[i, k].Should().BeApproximately(byHand[i, k], 1e-12);
        FluentActions.Invoking(() => OrdinalDecoding.ToClassProbabilities(logits, 0, CoralTemperature.CumulativeLogits)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => OrdinalDecoding.ToClassProbabilities(logits, 2, (CoralTemperature)7)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void ToCumulativeLogits_InvertsTheGradesProbabilities_OfOrderedThresholds()
    {
        using var scope = Tensors.NewDisposeScope();
        var values = new[] { 8.0, 2.0, -1.0, -7.5, 0.4, 0.3, 0.2, 0.1, -2.0, -3.0, -9.0, -12.0 };
        var probabilities = OrdinalDecoding.ToClassProbabilities(Tensors.FromArray(values).Reshape(3, 4)).ToArray<double>();
        var table = new double[3, 5];
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 5; k++) table[i, k] = probabilities[(i * 5) + k];
        var logits = OrdinalDecoding.ToCumulativeLogits(table);
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 4; k++) logits[i, k].Should().BeApproximately(values[(i * 4) + k], 1e-6, $"row {i}, threshold {k}");
        // Rows are renormalised; an empty side is 1e-300, not infinite.
        var unnormalised = OrdinalDecoding.ToCumulativeLogits(new double[,] { { 2, 2 }, { 0, 1 } });
        unnormalised[0, 0].Should().Be(0);
        unnormalised[1, 0].Should().BeApproximately(-Math.Log(1e-300), 1e-9);
        FluentActions.Invoking(() => OrdinalDecoding.ToCumulativeLogits(new double[,] { { 1 } })).Should().Throw<ArgumentException>().WithMessage("*at least 2 grades*");
        FluentActions.Invoking(() => OrdinalDecoding.ToCumulativeLogits(new double[,] { { 0.5, -0.1, 0.6 } })).Should().Throw<ArgumentException>().WithMessage("*Row 0*-0.1*grade 1*");
        FluentActions.Invoking(() => OrdinalDecoding.ToCumulativeLogits(new double[,] { { 0.5, 0.5 }, { 0, 0 } })).Should().Throw<ArgumentException>().WithMessage("*Row 1 holds no probability*");
    }

    [Fact]
    public void FitCumulative_RefusesBadInput_ByName()
    {
        var logits = new double[,] { { 1, 0 }, { -1, -2 } };
        FluentActions.Invoking(() => TemperatureScaling.FitCumulative(new[] { 0 }, logits)).Should().Throw<ArgumentException>().WithMessage("*1 grades for 2 rows*");
        FluentActions.Invoking(() => TemperatureScaling.FitCumulative(new[] { 0, 3 }, logits)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => TemperatureScaling.FitCumulative(new[] { 0, 1 }, new double[2, 0])).Should().Throw<ArgumentException>().WithMessage("*no columns*");
        FluentActions.Invoking(() => TemperatureScaling.FitCumulative(new[] { 0, 1 }, new double[,] { { double.NaN, 0 }, { 0, 0 } })).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => TemperatureScaling.WithTemperature(-1, onCumulativeLogits: true)).Should().Throw<ArgumentOutOfRangeException>();
        TemperatureScaling.WithTemperature(2, onCumulativeLogits: false).OnCumulativeLogits.Should().BeFalse();
    }
}
