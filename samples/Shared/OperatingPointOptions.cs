using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Clinical;
using Spectre.Console;

namespace MedVision.Samples;

/// <summary>
/// --sensitivity-confidence, as the samples that choose a referral operating point for --min-sensitivity declare it
/// (medmnist evaluate, fundus-folder train, volume-folder train), and the choice it makes.
/// </summary>
internal static class OperatingPointOptions
{
    /// <summary>--sensitivity-confidence C.</summary>
    public static Option<double?> SensitivityConfidence() => new Option<double?>("--sensitivity-confidence")
    {
        Description = "C: choose the referral threshold whose sensitivity is at least --min-sensitivity with confidence C (e.g. 0.95; the one-sided Clopper–Pearson bound on the validation's positive images, OperatingPoint.AtSensitivityBound) rather than on the validation images alone, which new images miss about half the time. Default: none.",
    }.Must(v => v is null || (v > 0 && v < 1), "strictly between 0 and 1");

    /// <summary>
    /// The most specific threshold for <paramref name="minimum"/>: reached on the held-out images, or with
    /// <paramref name="confidence"/> shown by their bound.
    /// </summary>
    public static OperatingPoint Choose(int[] labels, double[] risks, double minimum, double? confidence) =>
        confidence is double c ? OperatingPoint.AtSensitivityBound(labels, risks, minimum, 1 - c) : OperatingPoint.AtSensitivity(labels, risks, minimum);

    /// <summary>
    /// The operating point a training run records for --min-sensitivity (fundus-folder, volume-folder train): chosen on the
    /// held-out <paramref name="heldOut"/> (e.g. "images"), printed, and returned as the model card's referral with the
    /// RESULT line's op_ fields; when the confidence bound cannot be shown on so few positives, a note and no point (the
    /// model is saved without one).
    /// </summary>
    /// <param name="labels">1 for a referable held-out sample, 0 for another.</param>
    /// <param name="risks">Their referral risks.</param>
    /// <param name="minimum">--min-sensitivity.</param>
    /// <param name="confidence">--sensitivity-confidence, or null.</param>
    /// <param name="referableFrom">The lowest referred class.</param>
    /// <param name="risk">How messages name the risk, e.g. "P(grade ≥ 2)".</param>
    /// <param name="heldOut">What the held-out samples are: "images", "volumes".</param>
    /// <param name="more">What more of would show the bound, e.g. "pathologic photographs".</param>
    /// <param name="scaling">The temperature the risks were computed at (--calibrate's), which the point records; null: none.</param>
    public static (ReferralCard? Referral, string Fields) Record(int[] labels, double[] risks, double minimum, double? confidence, int referableFrom, string risk, string heldOut, string more,
        TemperatureScaling? scaling = null)
    {
        var point = Choose(labels, risks, minimum, confidence);
        if (double.IsNegativeInfinity(point.Threshold))
        {
            AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape($"no operating point recorded: {point.Rule}. Lower --min-sensitivity or --sensitivity-confidence, or validate on more {more}.")}");
            return (null, "");
        }
        var referral = ReferralCard.From(point, referableFrom, scaling ?? TemperatureScaling.WithTemperature(1));
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Operating point ({point.Rule} on the validation {heldOut}): refer when {risk} ≥ {point.Threshold:F4}; {referral.DescribeHeldOut()} (95% intervals). Recorded in the model file.")));
        return (referral, string.Create(CultureInfo.InvariantCulture, $" op_threshold={point.Threshold:F4} op_val_sensitivity={point.Fitted!.Sensitivity:F4} op_val_specificity={point.Fitted.Specificity:F4}"));
    }

    /// <summary>The refusal of a confidence for a minimum of 1, which no finite sample can show; null when they fit.</summary>
    public static string? Check(double? minimum, double? confidence) =>
        confidence is not null && minimum is 1 ? "--sensitivity-confidence bounds a sensitivity below 1; no finite number of images shows a sensitivity of 1 with confidence. Lower --min-sensitivity." : null;

    /// <summary>
    /// The lowest referable class: 1 for a binary model; --referable-from (grade 2 by default, the highest of three grades)
    /// for an ordinal one; none for unordered classes or a multi-label table's findings, which have no referral
    /// (--referable-from refused; --min-sensitivity refused too, except for findings, each of which gets its own threshold,
    /// where <paramref name="findings"/> allows them).
    /// </summary>
    /// <param name="task">The model's task.</param>
    /// <param name="classNames">Its classes (grades in order for an ordinal task), named in the messages.</param>
    /// <param name="given">--referable-from, when given.</param>
    /// <param name="operatingPoint">Whether --min-sensitivity was given.</param>
    /// <param name="findings">Whether the sample trains multi-label tables, whose findings --min-sensitivity thresholds one by one.</param>
    public static int? ReferableClass(MedMnistTask task, IReadOnlyList<string> classNames, int? given, bool operatingPoint, bool findings)
    {
        int classes = classNames.Count;
        string names = string.Join(", ", classNames);
        switch (task)
        {
            case MedMnistTask.Binary:
                if (given is not null and not 1) throw new ArgumentException($"--referable-from {given}: a model of two classes refers its second, 1 ({classNames[1]}).");
                return 1;
            case MedMnistTask.OrdinalRegression:
                if (given is int g && (g < 1 || g >= classes))
                    throw new ArgumentException($"--referable-from {g}: the grades run from 0 to {classes - 1} ({names}); refer from a grade between 1 and {classes - 1}.");
                return given ?? Math.Min(2, classes - 1);
            default:
                bool table = task == MedMnistTask.MultiLabel;
                string these = table ? $"these are findings of a multi-label table ({names})" : $"these classes ({names}) are unordered (multi-class)";
                string hint = table ? "" : " Give --task ordinal if they are grades, in their names' order.";
                if (given is not null) throw new ArgumentException($"--referable-from applies to graded (ordinal) classes; {these}.{hint}");
                if (operatingPoint && !(table && findings))
                    throw new ArgumentException($"--min-sensitivity chooses a referral threshold, which needs a binary or graded (ordinal) model{(findings ? ", or each finding's threshold of a multi-label one" : "")}; {these}.{hint}");
                return null;
        }
    }
}
