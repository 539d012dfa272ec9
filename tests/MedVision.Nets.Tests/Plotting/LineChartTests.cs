using System.Globalization;
using System.Xml.Linq;
using MedVision.Nets.Metrics;
using MedVision.Nets.Plotting;
using MedVision.Nets.Training;

namespace MedVision.Nets.Tests.Plotting;

public sealed class LineChartTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-plot-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Svg_IsWellFormedWithOnePathPerSeriesAndEscapedText()
    {
        var chart = new LineChart("Loss & AUC <test>", "epoch", "value")
            .Add("a", new double[] { 1, 2, 3 }, new double[] { 0.5, 0.25, 0.125 })
            .Add("b", new double[] { 1, 2, 3 }, new double[] { 0.1, double.NaN, 0.3 }, dashed: true);
        var doc = XDocument.Parse(chart.ToSvg());
        XNamespace svg = "http://www.w3.org/2000/svg";
        var paths = doc.Descendants(svg + "path").ToList();
        paths.Should().HaveCount(2);
        paths[1].Attribute("d")!.Value.Split('M', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(2, "a NaN breaks the line");
        doc.Descendants(svg + "text").Select(t => t.Value).Should().Contain("Loss & AUC <test>");
    }

    [Fact]
    public void Legend_FitsTheCanvasAndColoursDoNotRepeatForFifteenSeries()
    {
        var chart = new LineChart("many", "x", "y");
        for (int i = 0; i < 15; i++)
        {
            chart.Add($"pneumothorax {i} (0.499)", new double[] { 0, 1 }, new double[] { 0, i });
        }

        var doc = XDocument.Parse(chart.ToSvg());
        XNamespace svg = "http://www.w3.org/2000/svg";
        doc.Descendants(svg + "path").Select(p => p.Attribute("stroke")!.Value).Distinct().Should().HaveCount(15);
        var legend = doc.Descendants(svg + "text").Where(t => t.Value.StartsWith("pneumothorax", StringComparison.Ordinal)).ToList();
        legend.Should().HaveCount(15);
        foreach (var text in legend)
        {
            double x = double.Parse(text.Attribute("x")!.Value, CultureInfo.InvariantCulture);
            double y = double.Parse(text.Attribute("y")!.Value, CultureInfo.InvariantCulture);
            (x + 7.0 * text.Value.Length).Should().BeLessThanOrEqualTo(chart.Width, $"'{text.Value}' must not be cut at the right edge");
            y.Should().BeLessThanOrEqualTo(chart.Height);
        }
    }

    [Fact]
    public void Ticks_AreRoundNumbersCoveringTheRange()
    {
        LineChart.Ticks(0, 1).Should().Equal(0, 0.2, 0.4, 0.6, 0.8, 1.0);
        LineChart.Ticks(3, 97).Should().Equal(0, 20, 40, 60, 80, 100);
    }

    [Fact]
    public void TrainingCurves_SaveAsSvgAndPng()
    {
        var history = Enumerable.Range(0, 5).Select(e => new EpochRecord(e, 1.0 / (e + 1), new Dictionary<string, double>(), 1e-3, new SplitMetrics(0.6 + e * 0.05, 0.5), 1)).ToList();
        var chart = TrainingPlots.TrainingCurves(history);
        var svg = Path.Combine(_dir, "curves.svg");
        chart.Save(svg);
        File.ReadAllText(svg).Should().StartWith("<svg");
        var png = Path.Combine(_dir, "curves.png");
        chart.TrySavePng(png).Should().BeTrue("scripts/setup.sh installs rsvg-convert (librsvg2-bin)");
        File.ReadAllBytes(png).Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
    }
    [Fact]
    public void RocCurves_OneSeriesPerClassPresentWithItsAuc()
    {
        int[] labels = { 0, 0, 1, 1, 0, 1 };
        double[,] scores = { { 0.9, 0.1, 0 }, { 0.6, 0.4, 0 }, { 0.3, 0.7, 0 }, { 0.45, 0.55, 0 }, { 0.5, 0.5, 0 }, { 0.8, 0.2, 0 } };
        var chart = TrainingPlots.RocCurves(labels, scores, new[] { "healthy", "diseased", "never seen" });

        chart.Series.Select(s => s.Name).Should().Equal(
            $"healthy ({RocAuc.OneVsRest(labels, scores, 0).Value:F3})",
            $"diseased ({RocAuc.OneVsRest(labels, scores, 1).Value:F3})",
            "chance");
        chart.Series[1].Y.Should().Equal(RocCurve.OneVsRest(labels, scores, 1).TruePositiveRates);
    }

    [Fact]
    public void RocCurve_OfABinaryProblem_HasOneCurveWithItsAuc_AndNoneWithOneOutcome()
    {
        int[] labels = { 0, 0, 1, 1, 0, 1 };
        double[] scores = { 0.1, 0.4, 0.7, 0.55, 0.5, 0.2 };
        var chart = TrainingPlots.RocCurve(labels, scores, "pathologic myopia");
        chart.Series.Select(s => s.Name).Should().Equal($"pathologic myopia ({RocAuc.Compute(labels, scores).Value:F3})", "chance");
        chart.Series[0].X.Should().Equal(RocCurve.Compute(labels, scores, dropIntermediate: false).FalsePositiveRates);

        TrainingPlots.RocCurve(new[] { 1, 1 }, new[] { 0.2, 0.9 }).Series.Select(s => s.Name).Should().Equal("chance");
        var mismatch = () => TrainingPlots.RocCurve(labels, new[] { 0.5 });
        mismatch.Should().Throw<ArgumentException>().WithMessage("*6 entries*1*");
    }

    [Fact]
    public void PerLabelRocCurves_SkipLabelsWithOneOutcomeAndRejectBadShapes()
    {
        int[,] labels = { { 1, 0, 1 }, { 0, 0, 1 }, { 1, 0, 1 }, { 0, 0, 1 } };
        double[,] scores = { { 0.9, 0.2, 0.7 }, { 0.4, 0.1, 0.6 }, { 0.3, 0.3, 0.9 }, { 0.2, 0.4, 0.8 } };
        var chart = TrainingPlots.PerLabelRocCurves(labels, scores, new[] { "effusion", "mass", "nodule" });

        chart.Series.Select(s => s.Name).Should().Equal($"effusion ({RocAuc.ForLabel(labels, scores, 0).Value:F3})", "chance");
        chart.Series[0].X.Should().Equal(RocCurve.ForLabel(labels, scores, 0).FalsePositiveRates);
        RocAuc.ForLabel(labels, scores, 1).Warnings.Should().ContainSingle().Which.Should().Contain("label 1");

        var narrow = () => TrainingPlots.PerLabelRocCurves(new int[4, 2], scores);
        narrow.Should().Throw<ArgumentException>().WithMessage("*2 label columns*3 columns*");
        var notBinary = () => RocCurve.ForLabel(new[,] { { 2, 0, 0 } }, new double[1, 3], 0);
        notBinary.Should().Throw<ArgumentException>().WithMessage("*must be 0 or 1*");
        var column = () => PrecisionRecallCurve.ForLabel(labels, scores, 3);
        column.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Label must be in [0, 3)*");
    }
}
