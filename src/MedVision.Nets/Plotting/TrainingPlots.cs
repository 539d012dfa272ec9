using MedVision.Nets.Metrics;
using MedVision.Nets.Training;

namespace MedVision.Nets.Plotting;

/// <summary>Ready-made charts: training curves from a history, ROC curves, confusion matrices and reliability diagrams from predictions.</summary>
public static class TrainingPlots
{
    /// <summary>Training loss and validation AUC/ACC per epoch.</summary>
    public static LineChart TrainingCurves(IReadOnlyList<EpochRecord> history, string? title = "Training curves")
    {
        ArgumentNullException.ThrowIfNull(history);
        var epochs = history.Select(h => (double)(h.Epoch + 1)).ToArray();
        var chart = new LineChart(title, "epoch", "value") { YRange = (0, Math.Max(1.0, Math.Ceiling(history.Select(h => h.TrainLoss).Where(double.IsFinite).DefaultIfEmpty(1).Max()))) };
        chart.Add("train loss", epochs, history.Select(h => h.TrainLoss).ToArray());
        chart.Add("val AUC", epochs, history.Select(h => h.Validation.Auc).ToArray());
        chart.Add("val ACC", epochs, history.Select(h => h.Validation.Acc).ToArray(), dashed: true);
        return chart;
    }

    /// <summary>The ROC curve of a binary problem (0/1 labels, one score per sample: higher means positive), with the chance diagonal.</summary>
    /// <remarks>Labels with only one outcome give no curve.</remarks>
    public static LineChart RocCurve(int[] labels, double[] scores, string? positiveName = "positive class", string? title = "ROC curve")
    {
        var targets = BinaryTargets.FromBinary(labels, scores);
        return RocChart(title, 1, _ => targets, _ => positiveName ?? "positive class");
    }

    /// <summary>
    /// The reliability diagram of a <see cref="CalibrationResult"/>: accuracy against mean confidence of each
    /// non-empty bin, beside the diagonal of perfect calibration (points below it are over-confident). The legend
    /// gives the ECE.
    /// </summary>
    public static LineChart ReliabilityDiagram(CalibrationResult calibration, string? title = "Reliability diagram")
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var bins = calibration.Bins.Where(b => b.Count > 0).ToArray();
        var chart = new LineChart(title, "confidence", "accuracy") { XRange = (0, 1), YRange = (0, 1) };
        chart.Add(FormattableString.Invariant($"model (ECE {calibration.ExpectedCalibrationError:F3}, {calibration.Bins.Count} bins)"),
            bins.Select(b => b.MeanConfidence).ToArray(), bins.Select(b => b.Accuracy).ToArray());
        chart.Add("perfect calibration", new[] { 0.0, 1.0 }, new[] { 0.0, 1.0 }, dashed: true);
        return chart;
    }

    /// <summary>
    /// The risk–coverage curve of selective prediction: the error rate (or mean loss) of the accepted images against the
    /// share accepted, beside the flat line an uninformative confidence gives (the risk with every image accepted). The
    /// legend gives the AURC.
    /// </summary>
    public static LineChart RiskCoverage(Metrics.Selective.RiskCoverageCurve curve, string? title = "Risk–coverage curve")
    {
        ArgumentNullException.ThrowIfNull(curve);
        var chart = new LineChart(title, "coverage (share of images decided)", "risk (error rate of decided images)")
        {
            XRange = (0, 1),
            YRange = (0, Math.Max(1e-9, Math.Ceiling(curve.Risks.Max() * 10) / 10)),
        };
        chart.Add(FormattableString.Invariant($"model (AURC {curve.Aurc:F3}, E-AURC {curve.ExcessAurc:F3})"), curve.Coverages, curve.Risks);
        chart.Add("uninformative confidence", new[] { 0.0, 1.0 }, new[] { curve.FullCoverageRisk, curve.FullCoverageRisk }, dashed: true);
        return chart;
    }

    /// <summary>
    /// A decision curve: the model's net benefit against the threshold probability, beside referring everyone and
    /// referring no one (net benefit 0). The y range starts a little below 0, where "refer all" falls steeply.
    /// </summary>
    public static LineChart DecisionCurve(Metrics.Clinical.DecisionCurve curve, string? title = "Decision curve")
    {
        ArgumentNullException.ThrowIfNull(curve);
        double top = Math.Max(0.05, curve.NetBenefit.Concat(curve.ReferAll).Max());
        var chart = new LineChart(title, "threshold probability", "net benefit (true positives per image)")
        {
            XRange = (0, 1),
            YRange = (-0.25 * top, Math.Ceiling(top * 20) / 20),
        };
        chart.Add("model", curve.Thresholds, curve.NetBenefit);
        // "Refer all" leaves the plot where it falls below its y range: only its points within it are drawn.
        var all = curve.Thresholds.Zip(curve.ReferAll).Where(p => p.Second >= -0.25 * top).ToArray();
        chart.Add("refer all", all.Select(p => p.First).ToArray(), all.Select(p => p.Second).ToArray(), dashed: true);
        chart.Add("refer none", new[] { 0.0, 1.0 }, new[] { 0.0, 0.0 }, dashed: true);
        return chart;
    }

    /// <summary>One-vs-rest ROC curve per class (labels 0 … K−1, scores N × K), with the chance diagonal.</summary>
    /// <remarks>A class that is absent from the labels, or is all of them, has no curve.</remarks>
    public static LineChart RocCurves(int[] labels, double[,] scores, IReadOnlyList<string>? classNames = null, string? title = "ROC curves (one vs rest)")
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores);
        var set = PredictionSet.Create(MedMnistTask.MultiClass, labels, scores); // bad input throws even when no class gets a curve
        return RocChart(title, set.ColumnCount, c => BinaryTargets.OneVsRest(set, c), c => classNames is not null && c < classNames.Count ? classNames[c] : $"class {c}");
    }

    /// <summary>
    /// ROC curve of every label of a multi-label problem (N × K 0/1 targets, scores N × K), with the chance diagonal.
    /// </summary>
    /// <remarks>A label that no sample has, or that every sample has, has no curve.</remarks>
    public static LineChart PerLabelRocCurves(int[,] labels, double[,] scores, IReadOnlyList<string>? labelNames = null, string? title = "ROC curves (per label)")
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores);
        var set = PredictionSet.Create(MedMnistTask.MultiLabel, labels, scores); // bad input throws even when no label gets a curve
        return RocChart(title, set.ColumnCount, j => BinaryTargets.ForLabel(set, j), j => labelNames is not null && j < labelNames.Count ? labelNames[j] : $"label {j}");
    }

    /// <summary>
    /// The confusion matrix of a single-label task's predictions (labels 0 … K−1, scores N × K): each sample is predicted
    /// as <see cref="MedMnistEvaluator.Predict(MedMnistTask, double[,], double)"/> does for the ACC (arg-max; for a binary task the last column against
    /// <paramref name="threshold"/>; for an ordinal task decided by the median, <paramref name="decision"/>, the median grade).
    /// </summary>
    /// <exception cref="ArgumentException">A multi-label task, or labels and scores that do not fit each other.</exception>
    public static ConfusionMatrixChart ConfusionMatrix(MedMnistTask task, int[] labels, double[,] scores, IReadOnlyList<string>? classNames = null,
        string? title = "Confusion matrix", double threshold = MedMnistEvaluator.DefaultThreshold, OrdinalDecision decision = OrdinalDecision.MostProbable)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores);
        if (task == MedMnistTask.MultiLabel)
            throw new ArgumentException("A confusion matrix needs a single-label task; a multi-label task has one 2×2 matrix per label.", nameof(task));
        var set = PredictionSet.Create(task, labels, scores);
        var predicted = new EvaluationCore(set, threshold, decision).Predicted!;
        return new ConfusionMatrixChart(Metrics.ConfusionMatrix.FromValidated(set.Labels!, predicted, set.ClassCount, null), classNames, title);
    }

    // One curve per score column whose targets hold both outcomes; each column is validated, copied and ranked once
    // for its curve and its AUC.
    private static LineChart RocChart(string? title, int columns, Func<int, BinaryTargets> targetsOf, Func<int, string> name)
    {
        var chart = new LineChart(title, "false positive rate", "true positive rate") { XRange = (0, 1), YRange = (0, 1) };
        for (int c = 0; c < columns; c++)
        {
            var targets = targetsOf(c);
            if (!targets.HasBothOutcomes) continue;
            var roc = Metrics.RocCurve.FromRanked(targets.Column, targets.Positive, dropIntermediate: false);
            var auc = RocAuc.FromRanked(targets.Column, targets.Positive, null, targets.Description);
            chart.Add($"{SvgChart.ShortenName(name(c))} ({auc.Value:F3})", roc.FalsePositiveRates, roc.TruePositiveRates);
        }

        chart.Add("chance", new[] { 0.0, 1.0 }, new[] { 0.0, 1.0 }, dashed: true);
        return chart;
    }
}
