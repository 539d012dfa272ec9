using System.CommandLine;
using MedVision.Nets.Metrics.Clinical;

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

    /// <summary>The refusal of a confidence for a minimum of 1, which no finite sample can show; null when they fit.</summary>
    public static string? Check(double? minimum, double? confidence) =>
        confidence is not null && minimum is 1 ? "--sensitivity-confidence bounds a sensitivity below 1; no finite number of images shows a sensitivity of 1 with confidence. Lower --min-sensitivity." : null;
}
