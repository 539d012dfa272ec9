using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Clinical;
using MedVision.Nets.Plotting;
using Spectre.Console;

namespace MedVision.Samples;

/// <summary>
/// What the samples' <c>evaluate</c> commands (fundus-folder, volume-folder) print about a model on labelled held-out
/// images: the measures table with its bootstrap intervals, calibration, and the referral decisions of an operating
/// point; each returns its EVALUATION fields ("test_auc=0.7412", invariant culture).
/// </summary>
internal static class HeldOutReport
{
    /// <summary>--bootstrap N: the resamples of the test <paramref name="images"/> behind the intervals.</summary>
    public static Option<int> BootstrapOption(string images) => new Option<int>("--bootstrap")
    {
        Description = $"Resamples of the test {images} for the 95% intervals of AUC, ACC and the other measures (0: no intervals).",
        DefaultValueFactory = _ => 1000,
    }.AtLeast(0);

    /// <summary>
    /// The measures table — AUC and ACC, then the task's own (a binary model's sensitivity and specificity, an ordinal
    /// one's quadratic kappa and MAE, a multi-label one's AUC per finding, else balanced accuracy and macro F1) — with
    /// the report's 95% intervals when it has resamples; warnings follow as notes.
    /// </summary>
    /// <param name="task">The model's task.</param>
    /// <param name="report">The held-out report (ModelEvaluator).</param>
    /// <param name="classNames">The model's classes (or findings).</param>
    /// <param name="resamples">The bootstrap resamples behind the intervals (0: none).</param>
    /// <param name="title">The table's title, e.g. "Test photographs (400)".</param>
    public static List<string> PrintMeasures(MedMnistTask task, EvaluationResult report, IReadOnlyList<string> classNames, int resamples, string title)
    {
        var shown = new List<(string Metric, string Key)> { ("AUC", "auc"), ("ACC", "acc") };
        shown.AddRange(task switch
        {
            MedMnistTask.Binary => [("Sensitivity[class 1]", "sensitivity"), ("Specificity[class 1]", "specificity")],
            MedMnistTask.OrdinalRegression => [("Cohen's kappa (quadratic)", "qwk"), ("Mean absolute error", "mae")],
            MedMnistTask.MultiLabel => classNames.Select((n, k) => ($"AUC[label {k}]", $"auc_{ResultName(n, k)}")).ToArray(),
            _ => [("Balanced accuracy", "balanced_accuracy"), ("F1 (macro)", "macro_f1")],
        });
        var table = new Table().Title(Markup.Escape($"{title}{(resamples > 0 ? $", 95% bootstrap intervals ({resamples} resamples)" : "")}"))
            .AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        if (resamples > 0) table.AddColumn(new TableColumn("95% interval").RightAligned());
        var fields = new List<string>();
        foreach (var (metric, key) in shown)
        {
            var entry = report[metric];
            var row = new List<string> { Markup.Escape(Display(metric, classNames)), F(entry.Value) };
            if (resamples > 0) row.Add(entry.Interval is { } ci ? $"{F(ci.Lower)}–{F(ci.Upper)}" : "–");
            table.AddRow(row.ToArray());
            fields.Add($"test_{key}={F(entry.Value)}");
            if (entry.Interval is { } interval) fields.Add($"test_{key}_ci={F(interval.Lower)},{F(interval.Upper)}");
        }
        AnsiConsole.Write(table);
        foreach (var warning in report.Warnings) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(warning)}");
        return fields;
    }

    /// <summary>
    /// How far single-label probabilities can be read as probabilities; for one model file with a temperature
    /// (<paramref name="single"/>: --calibrate), also the probabilities at temperature 1 behind them — what the
    /// calibration does on images it was not fitted on.
    /// </summary>
    public static List<string> PrintCalibration(MedMnistTask task, int[] labels, double[,] scores, ModelCard? single)
    {
        var calibration = Calibration.Evaluate(task, labels, scores);
        var scaling = single is { Temperature: not 1 } ? single.GetTemperatureScaling() : null;
        AnsiConsole.MarkupLine(Markup.Escape(TemperatureFits.Line(scaling is null ? "Calibration" : $"Calibration ({TemperatureFits.Describe(scaling)}, the model file's)", calibration)));
        var fields = new List<string> { $"test_ece={F(calibration.ExpectedCalibrationError)} test_brier={F(calibration.BrierScore)} test_nll={F(calibration.NegativeLogLikelihood)}" };
        if (scaling is not null)
        {
            var uncalibrated = Calibration.Evaluate(task, labels, TemperatureFits.Undo(scaling, scores));
            AnsiConsole.MarkupLine(Markup.Escape(TemperatureFits.Line("  at temperature 1 (uncalibrated)", uncalibrated)));
            fields.Add($"temperature={F(scaling.Temperature)} test_ece_uncalibrated={F(uncalibrated.ExpectedCalibrationError)} test_nll_uncalibrated={F(uncalibrated.NegativeLogLikelihood)}");
        }
        return fields;
    }

    /// <summary>
    /// The decisions of referring the images whose risk (<paramref name="risks"/>) reaches <paramref name="threshold"/>:
    /// sensitivity and specificity with exact intervals, PPV, NPV, the share referred and the risk's AUC; nothing but a
    /// line when the images are all of one kind.
    /// </summary>
    /// <param name="referable">1 for a referable image, 0 for another.</param>
    /// <param name="risks">Their referral risks.</param>
    /// <param name="threshold">The threshold.</param>
    /// <param name="rule">The rule in words, e.g. "refer when P(grade ≥ 2) ≥ 0.4".</param>
    /// <param name="riskName">How the AUC names the risk, e.g. "P(grade ≥ 2)".</param>
    /// <param name="images">What the images are, e.g. "photographs".</param>
    public static List<string> PrintReferral(int[] referable, double[] risks, double threshold, string rule, string riskName, string images)
    {
        if (referable.Distinct().Count() < 2)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"Referral ({rule}): the test {images} are all {(referable[0] == 1 ? "referable" : "non-referable")}; no sensitivity and specificity."));
            return [];
        }
        var outcome = OperatingPoint.AtThreshold(threshold).Evaluate(referable, risks);
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Referral ({rule}): sensitivity {outcome.Sensitivity:F3} [{outcome.SensitivityInterval.Lower:F3}, {outcome.SensitivityInterval.Upper:F3}], specificity {outcome.Specificity:F3} [{outcome.SpecificityInterval.Lower:F3}, {outcome.SpecificityInterval.Upper:F3}] (exact 95% intervals), PPV {outcome.PositivePredictiveValue:F3}, NPV {outcome.NegativePredictiveValue:F3}, {outcome.ReferralRate:P1} referred; AUC of {riskName} {RocAuc.Compute(referable, risks).Value:F4}.")));
        return
        [
            string.Create(CultureInfo.InvariantCulture, $"threshold={threshold}"), $"referral_sensitivity={F(outcome.Sensitivity)}", $"referral_specificity={F(outcome.Specificity)}",
            $"referral_ppv={F(outcome.PositivePredictiveValue)}", $"referral_npv={F(outcome.NegativePredictiveValue)}", $"referred={risks.Count(r => r >= threshold)}",
        ];
    }

    /// <summary>
    /// Writes the charts into <paramref name="output"/> (SVG, and PNG where rsvg-convert is installed) and prints where
    /// the report, the predictions and they are.
    /// </summary>
    public static void WriteCharts(IReadOnlyList<(string File, SvgChart Chart)> charts, string output)
    {
        foreach (var (file, chart) in charts)
        {
            chart.Save(Path.Combine(output, file));
            chart.TrySavePng(Path.Combine(output, Path.ChangeExtension(file, ".png")));
        }
        var full = Path.GetFullPath(output);
        AnsiConsole.MarkupLine(Markup.Escape($"Written: {full}/test-evaluation.csv (every measure), {full}/test-predictions.csv, {string.Join(", ", charts.Select(c => $"{full}/{c.File}"))}"));
    }

    /// <summary>A finding's name in an EVALUATION key: itself when it is a plain word, else its index.</summary>
    public static string ResultName(string name, int index) =>
        System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9_-]+$") ? name : index.ToString(CultureInfo.InvariantCulture);

    // A measure as the table names it: "Sensitivity[class 1]" → "Sensitivity (pathologic)", "AUC[label 2]" → "AUC (G)".
    private static string Display(string metric, IReadOnlyList<string> classNames)
    {
        if (metric.EndsWith("[class 1]", StringComparison.Ordinal)) return $"{metric[..^"[class 1]".Length]} ({classNames[1]})";
        var finding = System.Text.RegularExpressions.Regex.Match(metric, @"^(.*)\[label (\d+)\]$");
        return finding.Success ? $"{finding.Groups[1].Value} ({classNames[int.Parse(finding.Groups[2].Value, CultureInfo.InvariantCulture)]})" : metric;
    }

    private static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
}
