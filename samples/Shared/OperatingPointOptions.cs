using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Inference;
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
    public static (ReferralCard? Referral, string Fields) Record(int[] labels, double[] risks, double minimum, double? confidence, int referableFrom, string risk, string heldOut, string more)
    {
        var point = Choose(labels, risks, minimum, confidence);
        if (double.IsNegativeInfinity(point.Threshold))
        {
            AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape($"no operating point recorded: {point.Rule}. Lower --min-sensitivity or --sensitivity-confidence, or validate on more {more}.")}");
            return (null, "");
        }
        var referral = ReferralCard.From(point, referableFrom);
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Operating point ({point.Rule} on the validation {heldOut}): refer when {risk} ≥ {point.Threshold:F4}; {referral.DescribeHeldOut()} (95% intervals). Recorded in the model file.")));
        return (referral, string.Create(CultureInfo.InvariantCulture, $" op_threshold={point.Threshold:F4} op_val_sensitivity={point.Fitted!.Sensitivity:F4} op_val_specificity={point.Fitted.Specificity:F4}"));
    }

    /// <summary>The refusal of a confidence for a minimum of 1, which no finite sample can show; null when they fit.</summary>
    public static string? Check(double? minimum, double? confidence) =>
        confidence is not null && minimum is 1 ? "--sensitivity-confidence bounds a sensitivity below 1; no finite number of images shows a sensitivity of 1 with confidence. Lower --min-sensitivity." : null;
}
