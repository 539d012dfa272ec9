using System.Text.Json;
using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Metrics;

public class CalibrationTests
{
    private static readonly Lazy<JsonElement[]> Fixture = new(() => FixtureJson.Load("calibration_fixture.json").GetProperty("calibration").EnumerateArray().ToArray());

    public static TheoryData<string> Cases() => FixtureJson.Names(Fixture.Value);

    // Fixtures/make_calibration_fixture.py: scikit-learn's brier_score_loss, log_loss and calibration_curve.
    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_ScikitLearn(string name)
    {
        var c = Fixture.Value.Single(e => e.GetProperty("name").GetString() == name);
        var labels = c.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var p = FixtureJson.Matrix(c.GetProperty("probabilities"));
        var task = c.GetProperty("binary").GetBoolean() ? MedMnistTask.Binary : MedMnistTask.MultiClass;

        var result = Calibration.Evaluate(task, labels, p, c.GetProperty("bins").GetInt32());

        result.SampleCount.Should().Be(labels.Length);
        result.BrierScore.Should().BeApproximately(c.GetProperty("brier").GetDouble(), 1e-12);
        result.NegativeLogLikelihood.Should().BeApproximately(c.GetProperty("nll").GetDouble(), 1e-12);
        result.Bins.Select(b => b.Count).Should().Equal(c.GetProperty("counts").EnumerateArray().Select(e => e.GetInt32()));
        var nonEmpty = result.Bins.Where(b => b.Count > 0).ToArray();
        nonEmpty.Select(b => b.Accuracy).Should().Equal(c.GetProperty("accuracy").EnumerateArray().Select(e => e.GetDouble()), (a, e) => Math.Abs(a - e) < 1e-12);
        nonEmpty.Select(b => b.MeanConfidence).Should().Equal(c.GetProperty("mean_confidence").EnumerateArray().Select(e => e.GetDouble()), (a, e) => Math.Abs(a - e) < 1e-12);
        result.ExpectedCalibrationError.Should().BeApproximately(c.GetProperty("ece").GetDouble(), 1e-12);
        result.MaximumCalibrationError.Should().BeApproximately(c.GetProperty("mce").GetDouble(), 1e-12);
        result.Bins.Where(b => b.Count == 0).Should().OnlyContain(b => double.IsNaN(b.Accuracy) && double.IsNaN(b.MeanConfidence));
    }

    [Fact]
    public void WorkedExample_ByHand()
    {
        // Top-label confidences 0.9 (right), 0.9 (wrong), 0.6 (right), 0.4 (wrong) over 2 bins:
        // bin (0, 0.5]: {0.4 → wrong}, bin (0.5, 1]: {0.9 ✓, 0.9 ✗, 0.6 ✓}.
        var p = new double[,] { { 0.9, 0.05, 0.05 }, { 0.05, 0.9, 0.05 }, { 0.2, 0.6, 0.2 }, { 0.3, 0.4, 0.3 } };
        int[] labels = { 0, 0, 1, 2 };
        var result = Calibration.Evaluate(MedMnistTask.OrdinalRegression, labels, p, bins: 2);
        result.Bins.Select(b => b.Count).Should().Equal(1, 3);
        result.Bins[1].MeanConfidence.Should().BeApproximately(0.8, 1e-12);
        result.Bins[1].Accuracy.Should().BeApproximately(2.0 / 3, 1e-12);
        result.ExpectedCalibrationError.Should().BeApproximately((0.25 * 0.4) + (0.75 * Math.Abs((2.0 / 3) - 0.8)), 1e-12);
        result.MaximumCalibrationError.Should().BeApproximately(0.4, 1e-12);
        double brier = (0.01 + 0.0025 + 0.0025 + 0.9025 + 0.81 + 0.0025 + 0.04 + 0.16 + 0.04 + 0.09 + 0.16 + 0.49) / 4;
        result.BrierScore.Should().BeApproximately(brier, 1e-12);
        result.NegativeLogLikelihood.Should().BeApproximately(-(Math.Log(0.9) + Math.Log(0.05) + Math.Log(0.6) + Math.Log(0.3)) / 4, 1e-12);
    }

    [Fact]
    public void PerfectlyCalibratedCertainty_HasNoError_AndALabelMatrixWorksLikeAVector()
    {
        var p = new double[,] { { 1, 0 }, { 0, 1 }, { 1, 0 } };
        var result = Calibration.Evaluate(MedMnistTask.MultiClass, new[,] { { 0 }, { 1 }, { 0 } }, p);
        result.ExpectedCalibrationError.Should().Be(0);
        result.BrierScore.Should().Be(0);
        result.Bins.Should().HaveCount(Calibration.DefaultBins);
        result.Bins[^1].Count.Should().Be(3);
    }

    [Fact]
    public void NonProbabilities_AndMultiLabelTasks_AreRejectedWithTheReason()
    {
        FluentActions.Invoking(() => Calibration.Evaluate(MedMnistTask.MultiClass, new[] { 0, 1 }, new double[,] { { 2.3, -1 }, { 0.1, 0.9 } }))
            .Should().Throw<ArgumentException>().WithMessage("*2.3 at row 0, column 0 is not a probability*softmax*");
        FluentActions.Invoking(() => Calibration.Evaluate(MedMnistTask.MultiClass, new[] { 0, 1 }, new double[,] { { 0.5, 0.4 }, { 0.1, 0.9 } }))
            .Should().Throw<ArgumentException>().WithMessage("*Row 0*sums to 0.9*");
        FluentActions.Invoking(() => Calibration.Evaluate(MedMnistTask.MultiLabel, new[,] { { 0, 1 } }, new double[,] { { 0.5, 0.4 } }))
            .Should().Throw<ArgumentException>().WithMessage("*single-label*");
        FluentActions.Invoking(() => Calibration.Evaluate(MedMnistTask.MultiClass, new[] { 0, 3 }, new double[,] { { 0.5, 0.5 }, { 0.1, 0.9 } }))
            .Should().Throw<ArgumentException>().WithMessage("*Label 3*");
        FluentActions.Invoking(() => Calibration.Evaluate(MedMnistTask.Binary, new[] { 0 }, new double[,] { { 0.5 } }, bins: 0))
            .Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void ReliabilityDiagram_PlotsTheNonEmptyBinsAgainstTheDiagonal()
    {
        var p = new double[,] { { 0.9, 0.05, 0.05 }, { 0.05, 0.9, 0.05 }, { 0.2, 0.6, 0.2 }, { 0.3, 0.4, 0.3 } };
        var result = Calibration.Evaluate(MedMnistTask.MultiClass, new[] { 0, 0, 1, 2 }, p, bins: 10);
        var chart = MedVision.Nets.Plotting.TrainingPlots.ReliabilityDiagram(result);
        chart.Series.Should().HaveCount(2);
        chart.Series[0].X.Should().Equal(0.4, 0.6, 0.9);
        chart.Series[0].Y.Should().Equal(0, 1, 0.5);
        chart.Series[0].Name.Should().Contain("ECE 0.");
        chart.Series[1].Dashed.Should().BeTrue();
        chart.ToSvg().Should().StartWith("<svg").And.Contain("perfect calibration");
    }
}
