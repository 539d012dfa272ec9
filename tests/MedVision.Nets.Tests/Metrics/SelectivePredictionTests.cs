using System.Text.Json;
using MedVision.Nets.Metrics.Selective;

namespace MedVision.Nets.Tests.Metrics;

/// <summary>
/// Selective prediction against Fixtures/make_selective_fixture.py (confidences from numpy, AURC by enumerating every order
/// of tied images, SGR with scipy's binomial bound), SGR's guarantee on simulated data, and refusals of bad input.
/// </summary>
public sealed class SelectivePredictionTests
{
    private static readonly Lazy<JsonElement[]> Cases = new(() => FixtureJson.Load("selective_fixture.json").GetProperty("cases").EnumerateArray().ToArray());

    public static TheoryData<string> Names() => FixtureJson.Names(Cases.Value);

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    [Theory]
    [MemberData(nameof(Names))]
    public void CurvesAreaAndThresholdsAreTheReference(string name)
    {
        var c = Cases.Value.Single(x => x.GetProperty("name").GetString() == name);
        var losses = Doubles(c.GetProperty("losses"));
        RiskCoverageCurve curve;
        if (c.TryGetProperty("probabilities", out var p))
        {
            var probabilities = FixtureJson.Matrix(p);
            var labels = c.GetProperty("labels").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            // (the arg-max's predicted probability is the maximum: the reference's MaxProbability)
            foreach (var score in Enum.GetValues<ConfidenceScore>())
                SelectivePrediction.Confidence(probabilities, score).Should().Equal(
                    Doubles(c.GetProperty("confidence_scores").GetProperty((score == ConfidenceScore.PredictedProbability ? ConfidenceScore.MaxProbability : score).ToString())),
                    (a, b) => Math.Abs(a - b) < 1e-12, score.ToString());
            SelectivePrediction.Errors(labels, probabilities).Should().Equal(losses);
            curve = RiskCoverageCurve.Compute(labels, probabilities);
            curve.OptimalAurc.Should().BeApproximately(c.GetProperty("optimal_aurc").GetDouble(), 1e-12);
            var confidence = SelectivePrediction.Confidence(probabilities);
            foreach (var s in c.GetProperty("sgr").EnumerateArray())
            {
                var control = SelectiveRiskControl.Fit(confidence, losses, s.GetProperty("target").GetDouble(), s.GetProperty("delta").GetDouble());
                control.SearchSteps.Should().Be(s.GetProperty("steps").GetInt32());
                if (s.GetProperty("threshold").ValueKind == JsonValueKind.Null)
                {
                    control.IsFeasible.Should().BeFalse();
                    control.Accepts(confidence.Max()).Should().BeFalse("every image is deferred");
                    control.ToString().Should().Contain("every image is deferred");
                    continue;
                }
                control.Threshold.Should().Be(s.GetProperty("threshold").GetDouble());
                control.RiskBound.Should().BeApproximately(s.GetProperty("bound").GetDouble(), 1e-9);
                control.Calibration.Accepted.Should().Be(s.GetProperty("accepted").GetInt32());
                control.Calibration.Errors.Should().Be(s.GetProperty("errors").GetInt32());
                control.RiskBound.Should().BeLessThan(control.TargetRisk).And.BeGreaterThan(control.Calibration.Risk);
                control.Evaluate(confidence, losses).Should().Be(control.Calibration);
            }
        }
        else curve = RiskCoverageCurve.Compute(Doubles(c.GetProperty("confidence")), losses);

        curve.Aurc.Should().BeApproximately(c.GetProperty("aurc").GetDouble(), 1e-12);
        curve.ExcessAurc.Should().BeGreaterThanOrEqualTo(-1e-15);
        var points = c.GetProperty("points").EnumerateArray().Select(Doubles).ToArray();
        curve.Thresholds.Should().Equal(points.Select(x => x[0]));
        curve.Coverages.Should().Equal(points.Select(x => x[1]), (a, b) => Math.Abs(a - b) < 1e-12);
        curve.Risks.Should().Equal(points.Select(x => x[2]), (a, b) => Math.Abs(a - b) < 1e-12);
        curve.FullCoverageRisk.Should().BeApproximately(losses.Average(), 1e-12);
        curve.RiskAtCoverage(1).Should().BeApproximately(losses.Average(), 1e-12);
        curve.Count.Should().Be(losses.Length);
        // The mean of RiskAtCoverage(m / N) over m is the area, ties and all.
        Enumerable.Range(1, losses.Length).Average(m => curve.RiskAtCoverage((double)m / losses.Length)).Should().BeApproximately(curve.Aurc, 1e-12);
    }

    [Fact]
    public void AnUninformativeConfidenceHasTheAreaOfItsMeanRisk_AndAPerfectOneTheOptimum()
    {
        var losses = new double[] { 1, 0, 0, 1, 0, 0, 0, 1, 0, 0 };
        var flat = RiskCoverageCurve.Compute(new double[10], losses);
        flat.Aurc.Should().BeApproximately(0.3, 1e-12, "all tied: every prefix's expected risk is the mean");
        flat.Coverages.Should().Equal(1.0);
        var perfect = RiskCoverageCurve.Compute(losses.Select(l => -l).ToArray(), losses);
        perfect.ExcessAurc.Should().BeApproximately(0, 1e-15);
        perfect.CoverageAtRisk(0).Should().Be(0.7);
        perfect.RiskAtCoverage(0.7).Should().Be(0);
        perfect.ToString().Should().Contain("AURC").And.Contain("10 images");
    }

    [Fact]
    public void TheChosenThresholdKeepsTheRiskOnNewImagesBelowTheTargetWithProbabilityOneMinusDelta()
    {
        // Confidence c ~ U(0, 1), an error with probability 0.6 (1 − c): the true risk of {c ≥ t} is 0.3 (1 − t). 300
        // calibrations of 400 images, each threshold checked against that and on 20,000 new images.
        var random = new Random(17);
        (double[] C, double[] E) Draw(int n)
        {
            var c = new double[n];
            var e = new double[n];
            for (int i = 0; i < n; i++)
            {
                c[i] = random.NextDouble();
                e[i] = random.NextDouble() < 0.6 * (1 - c[i]) ? 1 : 0;
            }
            return (c, e);
        }
        var (newC, newE) = Draw(20000);
        int failures = 0, feasible = 0;
        for (int t = 0; t < 300; t++)
        {
            var (c, e) = Draw(400);
            var control = SelectiveRiskControl.Fit(c, e, targetRisk: 0.2, delta: 0.1);
            if (!control.IsFeasible) continue;
            feasible++;
            var outcome = control.Evaluate(newC, newE);
            // The true risk above threshold t is 0.6 (1 − t) / 2; the sample of 20,000 estimates it within ±0.01.
            double trueRisk = 0.6 * (1 - control.Threshold) / 2;
            outcome.Risk.Should().BeApproximately(trueRisk, 0.02);
            if (trueRisk > 0.2) failures++;
        }
        feasible.Should().BeGreaterThan(250);
        failures.Should().BeLessThan(30, "δ = 0.1: at most 10% of calibrations may miss, and SGR's union bound is conservative");
    }

    [Fact]
    public void BadInputIsRefusedByName()
    {
        FluentActions.Invoking(() => RiskCoverageCurve.Compute(new double[] { 1, 2 }, new double[] { 0 })).Should().Throw<ArgumentException>().WithMessage("*2 confidences but 1 losses*");
        FluentActions.Invoking(() => RiskCoverageCurve.Compute(Array.Empty<double>(), Array.Empty<double>())).Should().Throw<ArgumentException>().WithMessage("No images*");
        FluentActions.Invoking(() => RiskCoverageCurve.Compute(new[] { double.NaN }, new double[] { 0 })).Should().Throw<ArgumentException>().WithMessage("Confidence 0 is NaN*");
        FluentActions.Invoking(() => RiskCoverageCurve.Compute(new double[] { 1 }, new double[] { -1 })).Should().Throw<ArgumentException>().WithMessage("Loss 0 is -1*");
        FluentActions.Invoking(() => SelectiveRiskControl.Fit(new double[] { 1, 2 }, new double[] { 0, 0.5 }, 0.1)).Should().Throw<ArgumentException>().WithMessage("*0/1 errors*");
        FluentActions.Invoking(() => SelectiveRiskControl.Fit(new double[] { 1 }, new double[] { 0 }, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*target risk*");
        FluentActions.Invoking(() => SelectiveRiskControl.Fit(new double[] { 1 }, new double[] { 0 }, 0.1, delta: 1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*δ*");
        FluentActions.Invoking(() => SelectivePrediction.Confidence(new double[,] { { 3, -2 } })).Should().Throw<ArgumentException>().WithMessage("*not logits*");
        FluentActions.Invoking(() => SelectivePrediction.Confidence(new double[,] { { 0.5, 0.5 } }, (ConfidenceScore)5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => SelectivePrediction.Errors(new[] { 2 }, new double[,] { { 0.5, 0.5 } })).Should().Throw<ArgumentException>().WithMessage("*Label 2*");
        var curve = RiskCoverageCurve.Compute(new double[] { 1 }, new double[] { 0 });
        FluentActions.Invoking(() => curve.RiskAtCoverage(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => curve.CoverageAtRisk(double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        var one = SelectiveRiskControl.Fit(new double[] { 0.9 }, new double[] { 0 }, 0.5);
        one.IsFeasible.Should().BeFalse("one image cannot bound a risk below 0.5 with 95% confidence");
        new SelectiveOutcome(3, 0, 0).Risk.Should().Be(double.NaN);
    }
}
