using MedVision.Nets.Metrics.Clinical;
using MedVision.Nets.Metrics.Selective;
using MedVision.Nets.Plotting;

namespace MedVision.Nets.Tests.Plotting;

/// <summary>The risk–coverage and decision-curve charts draw their curves' own points and baselines.</summary>
public sealed class UncertaintyChartTests
{
    [Fact]
    public void TheRiskCoverageChartDrawsTheCurveAndTheUninformativeLine()
    {
        var curve = RiskCoverageCurve.Compute(new[] { 0.9, 0.8, 0.8, 0.4, 0.2 }, new double[] { 0, 1, 0, 1, 1 });
        var chart = TrainingPlots.RiskCoverage(curve);
        chart.Series.Should().HaveCount(2);
        chart.Series[0].X.Should().Equal(curve.Coverages);
        chart.Series[0].Y.Should().Equal(curve.Risks);
        chart.Series[0].Name.Should().Contain("AURC").And.Contain(curve.Aurc.ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
        chart.Series[1].Y.Should().Equal(0.6, 0.6);
        chart.Series[1].Dashed.Should().BeTrue();
        chart.YRange!.Value.Max.Should().BeGreaterThanOrEqualTo(curve.Risks.Max());
        chart.ToSvg().Should().Contain("<svg").And.Contain("uninformative confidence");
        FluentActions.Invoking(() => TrainingPlots.RiskCoverage(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void TheDecisionCurveChartDrawsTheModelReferAllWithinRangeAndReferNone()
    {
        int[] labels = { 0, 1, 1, 0, 1, 0, 0, 0 };
        double[] risks = { 0.1, 0.7, 0.6, 0.3, 0.9, 0.2, 0.5, 0.05 };
        var curve = DecisionCurve.Compute(labels, risks);
        var chart = TrainingPlots.DecisionCurve(curve);
        chart.Series.Select(s => s.Name).Should().Equal("model", "refer all", "refer none");
        chart.Series[0].Y.Should().Equal(curve.NetBenefit);
        var bottom = chart.YRange!.Value.Min;
        chart.Series[1].Y.Should().OnlyContain(v => v >= bottom).And.HaveCountLessThan(99, "refer-all falls out of the plot at high thresholds");
        chart.Series[1].X.Should().Equal(curve.Thresholds.Take(chart.Series[1].X.Count));
        chart.Series[2].Y.Should().Equal(0.0, 0.0);
        chart.ToSvg().Should().Contain("refer none");
        FluentActions.Invoking(() => TrainingPlots.DecisionCurve(null!)).Should().Throw<ArgumentNullException>();
    }
}
