using System.Globalization;
using System.Text.Json;
using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Metrics;

public sealed class EvaluationResultTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mvn-metrics-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static EvaluationResult Ordinal(int resamples = 200)
    {
        var rng = new Random(21);
        int n = 150;
        var labels = new int[n];
        var scores = new float[n, 5];
        for (int i = 0; i < n; i++)
        {
            labels[i] = rng.Next(5);
            for (int j = 0; j < 5; j++)
            {
                scores[i, j] = (float)(rng.NextDouble() + (j == labels[i] ? 0.7 : 0));
            }
        }

        return ModelEvaluator.Evaluate(MedMnistTask.OrdinalRegression, labels, scores, new BootstrapOptions { Resamples = resamples, Seed = 3 });
    }

    [Fact]
    public void EveryMetricHasAnIntervalThatContainsItsValue()
    {
        var r = Ordinal();
        r.Task.Should().Be(MedMnistTask.OrdinalRegression);
        r.SampleCount.Should().Be(150);
        r.ClassCount.Should().Be(5);
        r.Metrics.Select(m => m.Name).Should().Contain(new[]
        {
            "AUC", "ACC", "AUC[class 4]", "Balanced accuracy", "Sensitivity (macro)", "Specificity (weighted)", "F1 (macro)",
            "Cohen's kappa", "Cohen's kappa (linear)", "Cohen's kappa (quadratic)", "Mean absolute error", "Precision[class 2]",
        });
        r.Metrics.Should().OnlyContain(m => m.Interval != null && m.Interval.IsDefined);
        foreach (var m in r.Metrics.Where(m => m.Name is "AUC" or "ACC" or "Cohen's kappa (quadratic)" or "Mean absolute error"))
        {
            m.Interval!.Contains(m.Value).Should().BeTrue(m.Name);
        }

        r["AUC"].Value.Should().Be(r.Auc.Value);
        r["Cohen's kappa (quadratic)"].Value.Should().Be(r.Classification!.QuadraticKappa.Value);
        r.Classification.ConfusionMatrix.Total.Should().Be(150);
        r.Contains("Nope").Should().BeFalse();
        var missing = () => r["Nope"];
        missing.Should().Throw<KeyNotFoundException>();
    }

    [Fact]
    public void FormatPrintsAnAlignedTable()
    {
        var r = Ordinal();
        string text = r.ToString();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        lines[0].Should().Contain("OrdinalRegression").And.Contain("150 samples").And.Contain("seed 3");
        lines[1].Should().StartWith("Metric").And.Contain("95% CI lower");
        var table = lines.Skip(1).Take(r.Metrics.Count + 2).ToList();
        table.Select(l => l.Length).Distinct().Should().ContainSingle("every table line has the same width");
        string aucLine = table.Single(l => l.StartsWith("AUC ", StringComparison.Ordinal));
        aucLine.Should().Contain(r["AUC"].Value.ToString("F4", CultureInfo.InvariantCulture));
        aucLine.Should().Contain(r["AUC"].Interval!.Lower.ToString("F4", CultureInfo.InvariantCulture));
        r.Format(2).Should().Contain(r["ACC"].Value.ToString("F2", CultureInfo.InvariantCulture));
        var grades = new[] { "no DR", "mild", "moderate", "severe", "proliferative" };
        var named = r.Format(classNames: grades).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).Skip(1).Take(r.Metrics.Count + 2).ToList();
        named.Should().Contain(l => l.StartsWith("Sensitivity[class 1: mild] ", StringComparison.Ordinal));
        named.Should().Contain(l => l.StartsWith("Cohen's kappa (quadratic) ", StringComparison.Ordinal));
        named.Select(l => l.Length).Distinct().Should().ContainSingle("the named table is aligned too");
    }

    [Fact]
    public void CsvRoundTripsEveryMetric()
    {
        var r = Ordinal();
        var rows = r.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        rows[0].Should().Be("metric,value,ci_lower,ci_upper,ci_level");
        rows.Should().HaveCount(r.Metrics.Count + 1);
        for (int i = 0; i < r.Metrics.Count; i++)
        {
            var cells = rows[i + 1].Split(',');
            var m = r.Metrics[i];
            cells[0].Should().Be(m.Name);
            double.Parse(cells[1], CultureInfo.InvariantCulture).Should().Be(m.Value);
            double.Parse(cells[2], CultureInfo.InvariantCulture).Should().Be(m.Interval!.Lower);
            double.Parse(cells[3], CultureInfo.InvariantCulture).Should().Be(m.Interval.Upper);
            double.Parse(cells[4], CultureInfo.InvariantCulture).Should().Be(0.95);
        }
    }

    [Fact]
    public void JsonHoldsMetricsConfusionMatrixAndBootstrapSettings()
    {
        var r = Ordinal();
        using var doc = JsonDocument.Parse(r.ToJson());
        var root = doc.RootElement;
        root.GetProperty("task").GetString().Should().Be("OrdinalRegression");
        root.GetProperty("bootstrap").GetProperty("resamples").GetInt32().Should().Be(200);
        var metrics = root.GetProperty("metrics").EnumerateArray().ToList();
        metrics.Should().HaveCount(r.Metrics.Count);
        for (int i = 0; i < metrics.Count; i++)
        {
            metrics[i].GetProperty("name").GetString().Should().Be(r.Metrics[i].Name);
            metrics[i].GetProperty("value").GetDouble().Should().Be(r.Metrics[i].Value);
            metrics[i].GetProperty("ciUpper").GetDouble().Should().Be(r.Metrics[i].Interval!.Upper);
        }

        var cm = root.GetProperty("confusionMatrix");
        cm.GetArrayLength().Should().Be(5);
        for (int i = 0; i < 5; i++)
        {
            for (int j = 0; j < 5; j++)
            {
                cm[i][j].GetInt64().Should().Be(r.Classification!.ConfusionMatrix[i, j]);
            }
        }

        root.GetProperty("perClassAuc").GetArrayLength().Should().Be(5);
    }

    [Fact]
    public void UndefinedValuesAreNullInJsonAndNaNInTheTable()
    {
        // Class 2 of 3 is absent: its AUC is undefined.
        int[] labels = { 0, 1, 0, 1, 0, 1 };
        var scores = new double[,] { { 0.6, 0.3, 0.1 }, { 0.2, 0.7, 0.1 }, { 0.5, 0.4, 0.1 }, { 0.3, 0.3, 0.4 }, { 0.8, 0.1, 0.1 }, { 0.1, 0.2, 0.7 } };
        var r = ModelEvaluator.Evaluate(MedMnistTask.MultiClass, labels, scores, new BootstrapOptions { Resamples = 0 });

        r["AUC[class 2]"].Value.Should().Be(double.NaN);
        r.Bootstrap.Should().BeNull();
        r.Warnings.Should().Contain(w => w.Contains("class 2", StringComparison.Ordinal));
        r.Format().Should().Contain("NaN").And.Contain("warning:");
        using var doc = JsonDocument.Parse(r.ToJson());
        var auc2 = doc.RootElement.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "AUC[class 2]");
        auc2.GetProperty("value").ValueKind.Should().Be(JsonValueKind.Null);
        doc.RootElement.GetProperty("perClassAuc")[2].GetProperty("reason").GetString().Should().Contain("class 2");
        r.ToCsv().Should().Contain("AUC[class 2],NaN,,,");
    }

    [Fact]
    public void FilesAreWrittenAtomicallyAndOverwritten()
    {
        var r = Ordinal(resamples: 50);
        string csv = Path.Combine(_folder, "sub", "metrics.csv");
        string json = Path.Combine(_folder, "sub", "metrics.json");
        Directory.CreateDirectory(Path.GetDirectoryName(csv)!);
        File.WriteAllText(csv, "old contents that are longer than nothing");

        r.WriteCsv(csv);
        r.WriteJson(json);

        File.ReadAllText(csv).Should().Be(r.ToCsv());
        File.ReadAllText(json).Should().Be(r.ToJson());
        Directory.GetFiles(Path.GetDirectoryName(csv)!).Select(Path.GetFileName).Should().BeEquivalentTo(new[] { "metrics.csv", "metrics.json" });
    }

    [Fact]
    public void MultiLabelEvaluationHasPerLabelAucAndNoConfusionMatrix()
    {
        var rng = new Random(8);
        int[][] labels = Enumerable.Range(0, 60).Select(_ => Enumerable.Range(0, 14).Select(_ => rng.Next(2)).ToArray()).ToArray();
        var scores = new double[60, 14];
        for (int i = 0; i < 60; i++)
        {
            for (int j = 0; j < 14; j++)
            {
                scores[i, j] = (0.4 * labels[i][j]) + (0.6 * rng.NextDouble());
            }
        }

        var r = ModelEvaluator.Evaluate(MedMnistTask.MultiLabel, labels, scores, new BootstrapOptions { Resamples = 50 });
        r.ClassCount.Should().Be(14);
        r.Classification.Should().BeNull();
        r.Metrics.Should().HaveCount(2 + 14);
        r["AUC[label 13]"].Value.Should().Be(r.Auc.PerClass[13].Value);
        r["ACC"].Value.Should().Be(MedMnistEvaluator.GetAcc(MedMnistTask.MultiLabel, labels, scores));
        r.Format().Should().Contain("14 labels");
        var names = Enumerable.Range(0, 13).Select(j => $"finding{j}").ToArray(); // one short: label 13 keeps its plain name
        string named = r.Format(classNames: names);
        named.Should().Contain("AUC[label 0: finding0]").And.Contain("AUC[label 12: finding12]");
        named.Should().Contain("AUC[label 13] ").And.NotContain("label 13:");
        r.Format().Should().NotContain("finding").And.Contain("AUC[label 0] ");
        r.Metrics.Select(m => m.Name).Should().Contain("AUC[label 0]", "display names leave the metric keys alone");
        using var doc = JsonDocument.Parse(r.ToJson());
        doc.RootElement.GetProperty("confusionMatrix").ValueKind.Should().Be(JsonValueKind.Null);
    }
}
