using System.Text.Json;
using MedVision.Nets.Metrics.Clinical;

namespace MedVision.Nets.Tests.Metrics;

/// <summary>
/// Referral risks, operating points and decision curves against Fixtures/make_clinical_fixture.py (scikit-learn's
/// roc_curve, statsmodels' Clopper–Pearson intervals, numpy's net benefit), and refusals of bad input.
/// </summary>
public sealed class ClinicalMetricsTests
{
    private static readonly Lazy<JsonElement[]> Cases = new(() => FixtureJson.Load("clinical_fixture.json").GetProperty("cases").EnumerateArray().ToArray());

    public static TheoryData<string> Names() => FixtureJson.Names(Cases.Value);

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private static void ShouldMatch(BinaryOutcome actual, JsonElement expected, string what)
    {
        actual.TruePositives.Should().Be(expected.GetProperty("tp").GetInt32(), what);
        actual.FalseNegatives.Should().Be(expected.GetProperty("fn").GetInt32(), what);
        actual.TrueNegatives.Should().Be(expected.GetProperty("tn").GetInt32(), what);
        actual.FalsePositives.Should().Be(expected.GetProperty("fp").GetInt32(), what);
        var sens = Doubles(expected.GetProperty("sensitivity_ci"));
        actual.SensitivityInterval.Lower.Should().BeApproximately(sens[0], 1e-9, what);
        actual.SensitivityInterval.Upper.Should().BeApproximately(sens[1], 1e-9, what);
        var spec = Doubles(expected.GetProperty("specificity_ci"));
        actual.SpecificityInterval.Lower.Should().BeApproximately(spec[0], 1e-9, what);
        actual.SpecificityInterval.Upper.Should().BeApproximately(spec[1], 1e-9, what);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void RisksOperatingPointsAndNetBenefitAreTheReference(string name)
    {
        var c = Cases.Value.Single(x => x.GetProperty("name").GetString() == name);
        int r = c.GetProperty("referable_from").GetInt32();
        var (fitLabels, fitRisks) = Referral.FromGrades(Ints(c.GetProperty("fit_grades")), FixtureJson.Matrix(c.GetProperty("fit_probabilities")), r);
        var (testLabels, testRisks) = Referral.FromGrades(Ints(c.GetProperty("test_grades")), FixtureJson.Matrix(c.GetProperty("test_probabilities")), r);
        fitRisks.Should().Equal(Doubles(c.GetProperty("fit_risks")), (a, b) => Math.Abs(a - b) <= 1e-15);
        testRisks.Should().Equal(Doubles(c.GetProperty("test_risks")), (a, b) => Math.Abs(a - b) <= 1e-15);
        fitLabels.Should().Equal(Ints(c.GetProperty("fit_grades")).Select(g => g >= r ? 1 : 0));

        foreach (var p in c.GetProperty("points").EnumerateArray())
        {
            string rule = p.GetProperty("rule").GetString()!;
            var point = rule switch
            {
                "sensitivity" => OperatingPoint.AtSensitivity(fitLabels, fitRisks, p.GetProperty("value").GetDouble()),
                "specificity" => OperatingPoint.AtSpecificity(fitLabels, fitRisks, p.GetProperty("value").GetDouble()),
                "bound" => OperatingPoint.AtSensitivityBound(fitLabels, fitRisks, p.GetProperty("value").GetDouble(), p.GetProperty("delta").GetDouble()),
                _ => OperatingPoint.Youden(fitLabels, fitRisks),
            };
            string what = $"{rule} {(rule == "youden" ? "" : p.GetProperty("value").GetDouble())}";
            var threshold = p.GetProperty("threshold");
            // null: refer none (+∞), or for a sensitivity bound that no threshold shows, refer all (−∞).
            double none = rule == "bound" ? double.NegativeInfinity : double.PositiveInfinity;
            point.Threshold.Should().Be(threshold.ValueKind == JsonValueKind.Null ? none : threshold.GetDouble(), what);
            ShouldMatch(point.Fitted!, p.GetProperty("fitted"), what + " (fitted)");
            ShouldMatch(point.Evaluate(testLabels, testRisks), p.GetProperty("test"), what + " (test)");
        }

        var d = c.GetProperty("decision");
        var curve = DecisionCurve.Compute(testLabels, testRisks, Doubles(d.GetProperty("thresholds")));
        curve.NetBenefit.Should().Equal(Doubles(d.GetProperty("net_benefit")), (a, b) => Math.Abs(a - b) <= 1e-12);
        curve.ReferAll.Should().Equal(Doubles(d.GetProperty("refer_all")), (a, b) => Math.Abs(a - b) <= 1e-12);
        curve.Prevalence.Should().BeApproximately(testLabels.Average(), 1e-15);
        curve.UsefulThresholds.Should().OnlyContain(t => curve.NetBenefit[curve.Thresholds.ToList().IndexOf(t)] > Math.Max(0, curve.ReferAll[curve.Thresholds.ToList().IndexOf(t)]));
    }

    [Fact]
    public void ASensitivityBound_IsTheOneSidedClopperPearsonBound_AndHoldsOnNewImagesAtLeastOneMinusDeltaOfTheTime()
    {
        // 20 positives scored 1…20 and 20 negatives below them: referring the top k positives shows a sensitivity of k/20.
        var labels = Enumerable.Repeat(1, 20).Concat(Enumerable.Repeat(0, 20)).ToArray();
        var scores = Enumerable.Range(1, 20).Select(v => (double)v).Concat(Enumerable.Range(0, 20).Select(v => -v - 1.0)).ToArray();
        // With 18 of 20 referred the 95% lower bound is 0.717 (Beta(18, 3) at 0.05), with 17 of 20 0.656: for ≥ 0.7, 18 are needed.
        var point = OperatingPoint.AtSensitivityBound(labels, scores, 0.7, 0.05);
        point.Threshold.Should().Be(3, "the 18 positives scored 3…20 are referred");
        point.Fitted!.TruePositives.Should().Be(18);
        point.Rule.Should().Be("sensitivity ≥ 0.7 with 95% confidence (one-sided Clopper–Pearson bound on 20 positives)");
        OperatingPoint.AtSensitivity(labels, scores, 0.7).Threshold.Should().Be(7, "the plain rule needs 14 of 20 on these images alone");
        // Even referring all 20 shows at most 0.05^(1/20) = 0.861: a requirement above that refers every image (−∞),
        // which a model card refuses to hold.
        var all = OperatingPoint.AtSensitivityBound(labels, scores, 0.9, 0.05);
        all.Threshold.Should().Be(double.NegativeInfinity);
        all.Rule.Should().EndWith("not shown even by referring every image (bound 0.861)");
        all.Fitted!.ReferralRate.Should().Be(1);
        FluentActions.Invoking(() => MedVision.Nets.Inference.ReferralCard.From(all, 1)).Should().Throw<ArgumentException>().WithMessage("*threshold −∞*refers every image*");
        FluentActions.Invoking(() => OperatingPoint.AtSensitivityBound(labels, scores, 1.0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*no finite sample*");
        FluentActions.Invoking(() => OperatingPoint.AtSensitivityBound(labels, scores, 0.8, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*δ*");

        // The guarantee, simulated: positives' scores uniform on [0, 1], so a threshold t has true sensitivity 1 − t.
        // Over 2,000 draws of 40 positives the plain rule falls short of 0.8 about half the time; the bound at δ = 0.1
        // at most about 10% (binomial noise of 2,000 draws: ±1.5 points).
        var rng = new Random(11);
        int plainShort = 0, boundShort = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            var y = Enumerable.Repeat(1, 40).Concat(Enumerable.Repeat(0, 40)).ToArray();
            var s = Enumerable.Range(0, 80).Select(i => i < 40 ? rng.NextDouble() : rng.NextDouble() * 0.5).ToArray();
            if (1 - OperatingPoint.AtSensitivity(y, s, 0.8).Threshold < 0.8) plainShort++;
            var bound = OperatingPoint.AtSensitivityBound(y, s, 0.8, 0.1);
            if (!double.IsNegativeInfinity(bound.Threshold) && 1 - bound.Threshold < 0.8) boundShort++;
        }
        (plainShort / 2000.0).Should().BeInRange(0.35, 0.65);
        (boundShort / 2000.0).Should().BeLessThan(0.115).And.BeGreaterThan(0.01, "the bound is not far more cautious than it must be");
    }

    [Fact]
    public void APerfectRiskIsUsefulAtEveryThreshold_AndAConstantOneAtNone()
    {
        int[] labels = { 0, 0, 0, 1, 1, 0, 1, 0 };
        var perfect = DecisionCurve.Compute(labels, labels.Select(l => l * 0.99 + 0.005).ToArray());
        perfect.Thresholds.Should().HaveCount(99);
        perfect.UsefulThresholds.Should().HaveCount(99, "every threshold from 0.01 to 0.99 refers exactly the positives");
        perfect.NetBenefit.Should().OnlyContain(b => Math.Abs(b - (3.0 / 8)) < 1e-12, "no false positive: the net benefit is the prevalence");
        var constant = DecisionCurve.Compute(labels, Enumerable.Repeat(0.4, 8).ToArray());
        constant.UsefulThresholds.Should().BeEmpty("a constant risk refers everyone or no one");
        var youden = OperatingPoint.Youden(labels, labels.Select(l => (double)l).ToArray());
        youden.Threshold.Should().Be(1);
        youden.Fitted!.Sensitivity.Should().Be(1);
        youden.Fitted.Specificity.Should().Be(1);
        youden.ToString().Should().Contain("Youden's J").And.Contain("refer when score ≥ 1");
        var fixedPoint = OperatingPoint.AtThreshold(0.5);
        fixedPoint.Fitted.Should().BeNull();
        var outcome = fixedPoint.Evaluate(labels, labels.Select(l => l * 0.6 + 0.1).ToArray());
        (outcome.PositivePredictiveValue, outcome.NegativePredictiveValue, outcome.ReferralRate).Should().Be((1.0, 1.0, 3.0 / 8));
        new BinaryOutcome(0, 0, 3, 1).Sensitivity.Should().Be(double.NaN);
        new BinaryOutcome(0, 0, 3, 1).SensitivityInterval.IsDefined.Should().BeFalse();
    }

    [Fact]
    public void BadInputIsRefusedByName()
    {
        var p = new double[,] { { 0.5, 0.3, 0.2 }, { 0.1, 0.1, 0.8 } };
        FluentActions.Invoking(() => Referral.FromGrades(new[] { 0, 2 }, p, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*[1, 3)*");
        FluentActions.Invoking(() => Referral.FromGrades(new[] { 0, 2 }, p, 3)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => Referral.FromGrades(new[] { 0, 3 }, p, 1)).Should().Throw<ArgumentException>().WithMessage("*Label 3*");
        FluentActions.Invoking(() => Referral.FromGrades(new[] { 0, 1 }, new double[,] { { 2, -1, 0 }, { 0, 0, 1 } }, 1)).Should().Throw<ArgumentException>().WithMessage("*not logits*");
        FluentActions.Invoking(() => OperatingPoint.AtSensitivity(new[] { 1, 1 }, new[] { 0.2, 0.4 }, 0.8)).Should().Throw<ArgumentException>().WithMessage("*only positives*needs both*");
        FluentActions.Invoking(() => OperatingPoint.AtSpecificity(new[] { 0, 1 }, new[] { 0.2, 0.4 }, 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => OperatingPoint.AtSensitivity(new[] { 0, 2 }, new[] { 0.2, 0.4 }, 0.5)).Should().Throw<ArgumentException>().WithMessage("*Label 2*");
        FluentActions.Invoking(() => OperatingPoint.AtSensitivity(new[] { 0, 1 }, new[] { 0.2, double.NaN }, 0.5)).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => OperatingPoint.AtThreshold(double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => OperatingPoint.AtThreshold(0.5).Evaluate(new[] { 0 }, new[] { 0.1, 0.2 })).Should().Throw<ArgumentException>().WithMessage("*1 labels but 2 scores*");
        FluentActions.Invoking(() => DecisionCurve.Compute(new[] { 0, 1 }, new[] { 0.2, 1.4 })).Should().Throw<ArgumentException>().WithMessage("Risk 1 is 1.4*");
        FluentActions.Invoking(() => DecisionCurve.Compute(new[] { 0, 1 }, new[] { 0.2, 0.4 }, new[] { 0.0 })).Should().Throw<ArgumentException>().WithMessage("*outside (0, 1)*");
        FluentActions.Invoking(() => DecisionCurve.Compute(new[] { 0, 1 }, new[] { 0.2, 0.4 }, Array.Empty<double>())).Should().Throw<ArgumentException>().WithMessage("No threshold*");
    }
}
