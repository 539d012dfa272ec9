using MedVision.Nets.Metrics;
using MedVision.Nets.Training;

namespace MedVision.Nets.Plotting;

/// <summary>Ready-made charts: training curves from a history and ROC curves from predictions.</summary>
public static class TrainingPlots
{
    /// <summary>Training loss and validation AUC/ACC per epoch.</summary>
    public static LineChart TrainingCurves(IReadOnlyList<EpochRecord> history, string title = "Training curves")
    {
        ArgumentNullException.ThrowIfNull(history);
        var epochs = history.Select(h => (double)(h.Epoch + 1)).ToArray();
        var chart = new LineChart(title, "epoch", "value") { YRange = (0, Math.Max(1.0, Math.Ceiling(history.Select(h => h.TrainLoss).Where(double.IsFinite).DefaultIfEmpty(1).Max()))) };
        chart.Add("train loss", epochs, history.Select(h => h.TrainLoss).ToArray());
        chart.Add("val AUC", epochs, history.Select(h => h.Validation.Auc).ToArray());
        chart.Add("val ACC", epochs, history.Select(h => h.Validation.Acc).ToArray(), dashed: true);
        return chart;
    }

    /// <summary>One-vs-rest ROC curve per class (labels 0 … K−1, scores N × K), with the chance diagonal.</summary>
    public static LineChart RocCurves(int[] labels, double[,] scores, IReadOnlyList<string>? classNames = null, string title = "ROC curves (one vs rest)")
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores);
        var chart = new LineChart(title, "false positive rate", "true positive rate") { XRange = (0, 1), YRange = (0, 1) };
        int k = scores.GetLength(1);
        for (int c = 0; c < k; c++)
        {
            if (!labels.Contains(c) || labels.All(l => l == c)) continue;
            var roc = RocCurve.OneVsRest(labels, scores, c);
            var auc = RocAuc.OneVsRest(labels, scores, c);
            var name = classNames is not null && c < classNames.Count ? classNames[c] : $"class {c}";
            chart.Add($"{Shorten(name)} ({auc.Value:F3})", roc.FalsePositiveRates, roc.TruePositiveRates);
        }
        chart.Add("chance", new[] { 0.0, 1.0 }, new[] { 0.0, 1.0 }, dashed: true);
        return chart;
    }

    private static string Shorten(string s) => s.Length <= 14 ? s : s[..13] + "…";
}
