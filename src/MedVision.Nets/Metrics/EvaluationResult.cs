using MedVision.Torch.Serialization;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MedVision.Nets.Metrics;

/// <summary>
/// Every metric of one evaluation with its bootstrap confidence interval, printable as an aligned text table and
/// writable as CSV or JSON (files are written atomically).
/// </summary>
public sealed class EvaluationResult
{
    private readonly Dictionary<string, MetricEntry> _byName;

    /// <summary>Creates a result.</summary>
    /// <param name="task">The task type.</param>
    /// <param name="sampleCount">The number of samples.</param>
    /// <param name="classCount">The number of classes (or labels for multi-label).</param>
    /// <param name="metrics">The metrics in display order; names must be unique.</param>
    /// <param name="auc">The AUC with its per-class parts.</param>
    /// <param name="classification">The confusion-matrix metrics (null for multi-label tasks).</param>
    /// <param name="bootstrap">The bootstrap settings used, or null when no bootstrap was run.</param>
    /// <param name="skippedResamples">Resamples skipped because a class was absent from them.</param>
    /// <param name="warnings">Warnings gathered during the evaluation.</param>
    public EvaluationResult(
        MedMnistTask task,
        int sampleCount,
        int classCount,
        IReadOnlyList<MetricEntry> metrics,
        AucResult auc,
        ClassificationMetrics? classification,
        BootstrapOptions? bootstrap,
        int skippedResamples,
        IReadOnlyList<string> warnings)
    {
        Task = task;
        SampleCount = sampleCount;
        ClassCount = classCount;
        Metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        Auc = auc ?? throw new ArgumentNullException(nameof(auc));
        Classification = classification;
        Bootstrap = bootstrap;
        SkippedResamples = skippedResamples;
        Warnings = warnings ?? throw new ArgumentNullException(nameof(warnings));
        _byName = metrics.ToDictionary(m => m.Name, StringComparer.Ordinal);
    }

    /// <summary>The task type.</summary>
    public MedMnistTask Task { get; }

    /// <summary>The number of samples evaluated.</summary>
    public int SampleCount { get; }

    /// <summary>The number of classes (labels for multi-label tasks).</summary>
    public int ClassCount { get; }

    /// <summary>All metrics in display order.</summary>
    public IReadOnlyList<MetricEntry> Metrics { get; }

    /// <summary>The MedMNIST AUC with its per-class parts and warnings.</summary>
    public AucResult Auc { get; }

    /// <summary>Confusion matrix and clinical metrics; <see langword="null"/> for multi-label tasks.</summary>
    public ClassificationMetrics? Classification { get; }

    /// <summary>The bootstrap settings used, or <see langword="null"/> when no bootstrap was run.</summary>
    public BootstrapOptions? Bootstrap { get; }

    /// <summary>Bootstrap resamples skipped because a class present in the data was absent from them.</summary>
    public int SkippedResamples { get; }

    /// <summary>Warnings gathered during the evaluation (undefined AUCs, zero divisions, skipped resamples).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The metric with the given name.</summary>
    /// <param name="name">The metric name, for example <c>AUC</c>.</param>
    /// <exception cref="KeyNotFoundException">No metric has that name.</exception>
    public MetricEntry this[string name] =>
        _byName.TryGetValue(name ?? throw new ArgumentNullException(nameof(name)), out var entry) ? entry : throw new KeyNotFoundException($"No metric named '{name}'.");

    /// <summary>Whether a metric with the given name exists.</summary>
    /// <param name="name">The metric name.</param>
    /// <returns><see langword="true"/> if it exists.</returns>
    public bool Contains(string name) => _byName.ContainsKey(name ?? throw new ArgumentNullException(nameof(name)));

    /// <summary>Formats the metrics as an aligned text table (metric, value, CI lower, CI upper).</summary>
    /// <param name="decimals">Decimal places of the numbers (0 to 15).</param>
    /// <param name="classNames">
    /// Optional class (or label) names for display: a per-class metric such as <c>AUC[label 7]</c> is shown as
    /// <c>AUC[label 7: pneumonia]</c>. The metric names themselves (the keys of <see cref="this[string]"/>, the CSV and
    /// the JSON) do not change.
    /// </param>
    /// <returns>The table, one line per metric, followed by any warnings.</returns>
    public string Format(int decimals = 4, IReadOnlyList<string>? classNames = null)
    {
        if (decimals < 0 || decimals > 15)
        {
            throw new ArgumentOutOfRangeException(nameof(decimals), decimals, "Decimals must be in [0, 15].");
        }

        string level = Bootstrap is null ? "CI" : string.Create(CultureInfo.InvariantCulture, $"{Bootstrap.ConfidenceLevel * 100:0.##}% CI");
        var rows = new List<string[]> { new[] { "Metric", "Value", $"{level} lower", $"{level} upper" } };
        foreach (var m in Metrics)
        {
            rows.Add(new[]
            {
                DisplayName(m.Name, classNames),
                FormatNumber(m.Value, decimals),
                m.Interval is null ? "-" : FormatNumber(m.Interval.Lower, decimals),
                m.Interval is null ? "-" : FormatNumber(m.Interval.Upper, decimals),
            });
        }

        var widths = new int[4];
        foreach (var row in rows)
        {
            for (int c = 0; c < 4; c++)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Task} evaluation: {SampleCount} samples, {ClassCount} {(Task == MedMnistTask.MultiLabel ? "labels" : "classes")}");
        if (Bootstrap is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $", bootstrap {Bootstrap.Resamples} resamples (seed {Bootstrap.Seed}, {SkippedResamples} skipped)");
        }

        sb.AppendLine();
        for (int r = 0; r < rows.Count; r++)
        {
            string[] row = rows[r];
            sb.Append(row[0].PadRight(widths[0]));
            for (int c = 1; c < 4; c++)
            {
                sb.Append("  ").Append(row[c].PadLeft(widths[c]));
            }

            sb.AppendLine();
            if (r == 0)
            {
                sb.AppendLine(new string('-', widths.Sum() + 6));
            }
        }

        foreach (string w in Warnings)
        {
            sb.Append("warning: ").AppendLine(w);
        }

        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Format();

    /// <summary>The metrics as CSV: a header <c>metric,value,ci_lower,ci_upper,ci_level</c> and one row per metric.</summary>
    /// <returns>The CSV text (invariant culture, round-trip numbers, empty cells for absent intervals, <c>NaN</c> for undefined values).</returns>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        sb.Append("metric,value,ci_lower,ci_upper,ci_level\n");
        foreach (var m in Metrics)
        {
            sb.Append(CsvField(m.Name)).Append(',').Append(Number(m.Value)).Append(',');
            if (m.Interval is not null)
            {
                sb.Append(Number(m.Interval.Lower)).Append(',').Append(Number(m.Interval.Upper)).Append(',').Append(Number(m.Interval.Level));
            }
            else
            {
                sb.Append(",,");
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>
    /// The result as indented JSON: task, counts, bootstrap settings, metrics (name, value, ciLower, ciUpper),
    /// per-class AUC, confusion matrix (rows true, columns predicted) and warnings. Undefined numbers are <c>null</c>.
    /// </summary>
    /// <returns>The JSON text.</returns>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("task", Task.ToString());
            w.WriteNumber("sampleCount", SampleCount);
            w.WriteNumber("classCount", ClassCount);
            if (Bootstrap is null)
            {
                w.WriteNull("bootstrap");
            }
            else
            {
                w.WriteStartObject("bootstrap");
                w.WriteNumber("resamples", Bootstrap.Resamples);
                w.WriteNumber("skipped", SkippedResamples);
                w.WriteNumber("seed", Bootstrap.Seed);
                w.WriteNumber("confidenceLevel", Bootstrap.ConfidenceLevel);
                w.WriteEndObject();
            }

            w.WriteStartArray("metrics");
            foreach (var m in Metrics)
            {
                w.WriteStartObject();
                w.WriteString("name", m.Name);
                WriteNumber(w, "value", m.Value);
                WriteNumber(w, "ciLower", m.Interval?.Lower ?? double.NaN);
                WriteNumber(w, "ciUpper", m.Interval?.Upper ?? double.NaN);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("perClassAuc");
            foreach (var r in Auc.PerClass)
            {
                w.WriteStartObject();
                WriteNumber(w, "value", r.Value);
                if (r.Reason is null)
                {
                    w.WriteNull("reason");
                }
                else
                {
                    w.WriteString("reason", r.Reason);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (Classification is null)
            {
                w.WriteNull("confusionMatrix");
            }
            else
            {
                var cm = Classification.ConfusionMatrix;
                w.WriteStartArray("confusionMatrix");
                for (int i = 0; i < cm.ClassCount; i++)
                {
                    w.WriteStartArray();
                    for (int j = 0; j < cm.ClassCount; j++)
                    {
                        w.WriteNumberValue(cm[i, j]);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndArray();
            }

            w.WriteStartArray("warnings");
            foreach (string s in Warnings)
            {
                w.WriteStringValue(s);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes <see cref="ToCsv"/> to a file atomically (temporary file in the same folder, then moved over it).</summary>
    /// <param name="path">Target file; its folder is created if needed.</param>
    public void WriteCsv(string path) => AtomicFile.WriteAllText(path, ToCsv());

    /// <summary>Writes <see cref="ToJson"/> to a file atomically (temporary file in the same folder, then moved over it).</summary>
    /// <param name="path">Target file; its folder is created if needed.</param>
    public void WriteJson(string path) => AtomicFile.WriteAllText(path, ToJson());

    private static void WriteNumber(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    // "Metric[class 3]" or "Metric[label 3]" with a name for index 3 → "Metric[class 3: name]"; anything else unchanged.
    private static string DisplayName(string metric, IReadOnlyList<string>? classNames)
    {
        if (classNames is null || !metric.EndsWith(']'))
        {
            return metric;
        }

        int open = metric.LastIndexOf('[');
        string inner = open < 0 ? "" : metric[(open + 1)..^1];
        int space = inner.IndexOf(' ');
        if (space < 0 || inner[..space] is not ("class" or "label")
            || !int.TryParse(inner[(space + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || index >= classNames.Count || string.IsNullOrEmpty(classNames[index]))
        {
            return metric;
        }

        return string.Concat(metric.AsSpan(0, metric.Length - 1), ": ", classNames[index], "]");
    }

    private static string FormatNumber(double value, int decimals) =>
        double.IsNaN(value) ? "NaN" : value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    // One CSV field, quoted (with doubled quotes) when it holds a comma, quote or line break; also SplitAudit's and the other CSV writers'.
    internal static string CsvField(string s) =>
        s.IndexOfAny(new[] { ',', '"', '\n', '\r' }) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
