using System.Globalization;
using System.Xml.Linq;
using MedVision.Nets.Metrics;
using MedVision.Nets.Plotting;

namespace MedVision.Nets.Tests.Plotting;

public sealed class ConfusionMatrixChartTests : IDisposable
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-cm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Cells_ShowCountsAndRowShares_ShadedByShare_WithAGreyRowForAnAbsentClass()
    {
        // True grade 0: 3 right, 1 called grade 1; grade 1: 2 right; grade 2: no samples (predicted once).
        var matrix = ConfusionMatrix.FromPredictions(new[] { 0, 0, 0, 0, 1, 1, 1 }, new[] { 0, 0, 0, 1, 1, 1, 2 }, 3);
        var chart = new ConfusionMatrixChart(matrix, new[] { "grade 0", "grade 1 <mild>", "grade 2" }, "Test & validation");
        chart.RowShare(0, 0).Should().Be(0.75);
        chart.RowShare(1, 2).Should().BeApproximately(1.0 / 3, 1e-12);
        chart.RowShare(2, 2).Should().Be(double.NaN);

        var doc = XDocument.Parse(chart.ToSvg());
        var cells = doc.Descendants(Svg + "rect").Where(r => r.Element(Svg + "title") is not null).ToList();
        cells.Should().HaveCount(9);
        cells.Select(c => c.Element(Svg + "title")!.Value).Should().Contain("true grade 0 → predicted grade 1 <mild>: 1");
        string FillOf(int actual, int predicted) => cells[actual * 3 + predicted].Attribute("fill")!.Value;
        FillOf(0, 0).Should().Be("#466490", "75% of the way from white to #08306b");
        FillOf(0, 2).Should().Be("#ffffff");
        FillOf(2, 0).Should().Be("#eeeeee").And.Be(FillOf(2, 2), "grade 2 has no samples");
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        texts.Should().Contain(new[] { "Test & validation", "75%", "25%", "67%", "33%", "grade 1 <mild>" });
        texts.Should().NotContain(t => t.Contains("NaN", StringComparison.Ordinal));
        texts.Should().Contain(t => t.StartsWith("7 samples · accuracy 0.714", StringComparison.Ordinal));
    }

    [Fact]
    public void CanvasGrowsWithTheNames_AndManyClassesGetSmallerCells()
    {
        var eleven = ConfusionMatrix.FromPredictions(Enumerable.Range(0, 11).ToArray(), Enumerable.Range(0, 11).ToArray(), 11);
        var names = Enumerable.Range(0, 11).Select(i => $"a rather long organ name {i}").ToArray();
        var chart = new ConfusionMatrixChart(eleven, names);
        chart.CellSize.Should().BeApproximately(560.0 / 11, 1e-9);
        chart.ClassNames[0].Should().HaveLength(24).And.EndWith("…");
        var root = XDocument.Parse(chart.ToSvg()).Root!;
        double width = double.Parse(root.Attribute("width")!.Value, CultureInfo.InvariantCulture);
        width.Should().BeGreaterThan(40 + 7.0 * 24 + 11 * chart.CellSize);
        var two = new ConfusionMatrixChart(ConfusionMatrix.FromPredictions(new[] { 0, 1 }, new[] { 1, 1 }, 2));
        two.CellSize.Should().Be(72);
        var twoRoot = XDocument.Parse(two.ToSvg()).Root!;
        var subtitle = twoRoot.Elements(Svg + "text").Single(t => t.Value.Contains("samples", StringComparison.Ordinal)).Value;
        double.Parse(twoRoot.Attribute("width")!.Value, CultureInfo.InvariantCulture).Should().BeGreaterThan(7.0 * subtitle.Length, "the subtitle must not be cut");
    }

    [Fact]
    public void TrainingPlots_PredictLikeTheAccuracy_ForMultiClassAndBinaryTasks()
    {
        int[] labels = { 0, 1, 2, 2 };
        double[,] scores = { { 0.7, 0.2, 0.1 }, { 0.1, 0.3, 0.6 }, { 0.2, 0.2, 0.6 }, { 0.5, 0.4, 0.1 } };
        var chart = TrainingPlots.ConfusionMatrix(MedMnistTask.OrdinalRegression, labels, scores);
        chart.Matrix.ToArray().Should().BeEquivalentTo(new long[,] { { 1, 0, 0 }, { 0, 0, 1 }, { 1, 0, 1 } });
        chart.Matrix.Accuracy.Should().Be(MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, labels, scores));
        chart.ClassNames.Should().Equal("class 0", "class 1", "class 2");

        var binary = TrainingPlots.ConfusionMatrix(MedMnistTask.Binary, new[] { 0, 1, 1 }, new double[,] { { 0.2 }, { 0.7 }, { 0.4 } }, new[] { "normal", "pneumonia" });
        binary.Matrix.ToArray().Should().BeEquivalentTo(new long[,] { { 1, 0 }, { 1, 1 } });

        var path = Path.Combine(_dir, "confusion.svg");
        binary.Save(path);
        XDocument.Load(path).Root!.Name.Should().Be(Svg + "svg");
        binary.TrySavePng(Path.ChangeExtension(path, ".png")).Should().BeTrue("scripts/setup.sh installs rsvg-convert (librsvg2-bin)");
        File.ReadAllBytes(Path.ChangeExtension(path, ".png")).Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
    }

    [Fact]
    public void BadInput_GetsClearExceptions()
    {
        var matrix = ConfusionMatrix.FromPredictions(new[] { 0, 1 }, new[] { 0, 1 }, 2);
        FluentActions.Invoking(() => new ConfusionMatrixChart(matrix, new[] { "only one" })).Should().Throw<ArgumentException>()
            .WithMessage("The confusion matrix has 2 classes but 1 class names were given.*");
        FluentActions.Invoking(() => TrainingPlots.ConfusionMatrix(MedMnistTask.MultiLabel, new[] { 0 }, new double[1, 2])).Should().Throw<ArgumentException>()
            .WithMessage("*single-label task*");
        FluentActions.Invoking(() => TrainingPlots.ConfusionMatrix(MedMnistTask.MultiClass, new[] { 0, 3 }, new double[2, 3])).Should().Throw<ArgumentException>()
            .WithMessage("*3*");
        FluentActions.Invoking(() => TrainingPlots.ConfusionMatrix(MedMnistTask.MultiClass, new[] { 0 }, new double[2, 3])).Should().Throw<ArgumentException>();
    }
}
