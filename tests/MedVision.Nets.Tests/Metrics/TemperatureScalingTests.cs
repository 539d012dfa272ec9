using System.Text.Json;
using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Metrics;

public class TemperatureScalingTests
{
    private static readonly Lazy<JsonElement[]> Cases = new(() => FixtureJson.Load("calibration_fixture.json").GetProperty("temperature").EnumerateArray().ToArray());

    private static (int[] Labels, double[,] Logits) Read(JsonElement c)
    {
        return (c.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray(), FixtureJson.Matrix(c.GetProperty("logits")));
    }

    // Fixtures/make_calibration_fixture.py: the NLL-optimal temperature from scipy's bounded scalar minimiser.
    [Theory]
    [InlineData("overconfident")]
    [InlineData("underconfident")]
    public void Fit_FindsScipysOptimum_AndLowersTheNll(string name)
    {
        var c = Cases.Value.Single(e => e.GetProperty("name").GetString() == name);
        var (labels, logits) = Read(c);
        var scaling = TemperatureScaling.Fit(labels, logits);
        scaling.Temperature.Should().BeApproximately(c.GetProperty("temperature").GetDouble(), 1e-6);
        scaling.NegativeLogLikelihoodBefore.Should().BeApproximately(c.GetProperty("nll_before").GetDouble(), 1e-12);
        scaling.NegativeLogLikelihoodAfter.Should().BeApproximately(c.GetProperty("nll_after").GetDouble(), 1e-10);
        scaling.NegativeLogLikelihoodAfter.Should().BeLessThan(scaling.NegativeLogLikelihoodBefore);
        // The calibrated probabilities give the NLL reported and keep every prediction.
        var calibrated = scaling.Apply(logits);
        Calibration.Evaluate(MedMnistTask.MultiClass, labels, calibrated).NegativeLogLikelihood.Should().BeApproximately(scaling.NegativeLogLikelihoodAfter, 1e-10);
        for (int i = 0; i < labels.Length; i++) ArgMax(calibrated, i).Should().Be(ArgMax(logits, i));
    }

    [Fact]
    public void FittingOnProbabilities_GivesTheSameTemperatureAsOnLogits()
    {
        var (labels, logits) = Read(Cases.Value[0]);
        var probabilities = TemperatureScaling.WithTemperature(1).Apply(logits);
        var fromLogits = TemperatureScaling.Fit(labels, logits);
        var fromProbabilities = TemperatureScaling.FitFromProbabilities(labels, probabilities);
        fromProbabilities.Temperature.Should().BeApproximately(fromLogits.Temperature, 1e-9);
        var viaProbabilities = fromProbabilities.ApplyToProbabilities(probabilities);
        var viaLogits = fromLogits.Apply(logits);
        for (int i = 0; i < 10; i++)
            for (int j = 0; j < 4; j++) viaProbabilities[i, j].Should().BeApproximately(viaLogits[i, j], 1e-9);
        var matrix = new int[labels.Length, 1];
        for (int i = 0; i < labels.Length; i++) matrix[i, 0] = labels[i];
        TemperatureScaling.FitFromProbabilities(matrix, probabilities).Temperature.Should().Be(fromProbabilities.Temperature);
    }

    [Fact]
    public void CalibratedModel_KeepsATemperatureOfOne()
    {
        // Labels drawn from the model's own probabilities: T = 1 is (close to) optimal.
        var rng = new Random(3);
        int n = 4000;
        var logits = new double[n, 3];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < 3; j++) logits[i, j] = 2 * ((rng.NextDouble() * 2) - 1);
            double e0 = Math.Exp(logits[i, 0]), e1 = Math.Exp(logits[i, 1]), e2 = Math.Exp(logits[i, 2]), u = rng.NextDouble() * (e0 + e1 + e2);
            labels[i] = u < e0 ? 0 : u < e0 + e1 ? 1 : 2;
        }
        TemperatureScaling.Fit(labels, logits).Temperature.Should().BeApproximately(1, 0.08);
    }

    [Fact]
    public void BadInput_GetsClearExceptions()
    {
        FluentActions.Invoking(() => TemperatureScaling.Fit(new[] { 0 }, new double[,] { { 1 } })).Should().Throw<ArgumentException>().WithMessage("*at least 2 columns*");
        FluentActions.Invoking(() => TemperatureScaling.Fit(new[] { 0, 1 }, new double[,] { { 1, 0 } })).Should().Throw<ArgumentException>().WithMessage("*2 labels for 1 rows*");
        FluentActions.Invoking(() => TemperatureScaling.Fit(new[] { 2 }, new double[,] { { 1, 0 } })).Should().Throw<ArgumentException>().WithMessage("*Label 2*");
        FluentActions.Invoking(() => TemperatureScaling.Fit(new[] { 0 }, new double[,] { { double.NaN, 0 } })).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => TemperatureScaling.FitFromProbabilities(new[] { 0 }, new double[,] { { 3, -2 } })).Should().Throw<ArgumentException>().WithMessage("*not a probability*logits*");
        FluentActions.Invoking(() => TemperatureScaling.WithTemperature(0)).Should().Throw<ArgumentOutOfRangeException>();
        TemperatureScaling.WithTemperature(2).ToString().Should().Be("TemperatureScaling(T = 2)");
    }

    private static int ArgMax(double[,] m, int row)
    {
        int best = 0;
        for (int j = 1; j < m.GetLength(1); j++) if (m[row, j] > m[row, best]) best = j;
        return best;
    }
}
