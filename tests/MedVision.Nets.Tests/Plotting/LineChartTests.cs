using System.Xml.Linq;
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
}
