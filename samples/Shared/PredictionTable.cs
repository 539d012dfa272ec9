using System.Globalization;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics.Conformal;
using Spectre.Console;

namespace MedVision.Samples;

/// <summary>
/// The table classification samples print for <c>predict</c>: each input's label and probability, and what the model
/// file or ensemble manifest adds — the expected grade of an ordinal model, the ensemble's agreement, the conformal set
/// (<c>conformal --store</c>) and the referral decision (<c>--store-referral</c>) — with a line below saying what the
/// sets and decisions are, or why there are none.
/// </summary>
internal static class PredictionTable
{
    /// <summary>The table of <paramref name="predictions"/>; <paramref name="inputKind"/> heads the first column ("image", "scan").</summary>
    public static Table Of(IReadOnlyList<string> inputs, IReadOnlyList<Prediction> predictions, bool ordinal, bool ensemble, string inputKind)
    {
        var table = new Table().AddColumn(inputKind).AddColumn("prediction").AddColumn(new TableColumn("probability").RightAligned());
        if (ordinal) table.AddColumn(new TableColumn("expected grade").RightAligned());
        if (ensemble) table.AddColumn(new TableColumn("agreement").RightAligned()).AddColumn("members' labels");
        // A model file with a conformal calibration (conformal --store): each input's set of plausible classes.
        bool sets = predictions.Count > 0 && predictions[0].ConformalSet is not null;
        if (sets) table.AddColumn(ordinal ? "conformal set (grades)" : "conformal set");
        // A model file or manifest with a referral threshold (evaluate --store-referral): each input's risk and decision.
        bool referral = predictions.Count > 0 && predictions[0].Referred is not null;
        if (referral) table.AddColumn(new TableColumn("referral risk").RightAligned()).AddColumn("referred");
        for (int i = 0; i < inputs.Count; i++)
        {
            var p = predictions[i];
            var row = new List<string> { Markup.Escape(inputs[i]), Markup.Escape($"{p.Label}: {p.LabelName}"), p.Probabilities[p.Label].ToString("F3", CultureInfo.InvariantCulture) };
            if (ordinal) row.Add(p.ExpectedGrade!.Value.ToString("F2", CultureInfo.InvariantCulture));
            if (ensemble && p is EnsemblePrediction e) row.AddRange(EnsembleModels.AgreementCells(e));
            if (sets) row.Add(Markup.Escape(SetText(p.ConformalSetNames!, ordinal)));
            if (referral) row.AddRange([p.ReferralRisk!.Value.ToString("F3", CultureInfo.InvariantCulture), p.Referred == true ? "refer" : "no"]);
            table.AddRow(row.ToArray());
        }
        return table;
    }

    /// <summary>What the sets in the table are, or why there are none.</summary>
    public static void PrintConformal(ConformalClassifier? conformal, string? note, string inputs = "images")
    {
        if (conformal is not null)
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Conformal sets: {conformal.Score}{(conformal.IsClassConditional ? " per class" : "")}, calibrated on {conformal.CalibrationCount} {inputs} to hold the true class {conformal.Coverage:P0} of the time.")));
        if (note is not null) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
    }

    /// <summary>What the referral decisions in the table are, or why there are none.</summary>
    public static void PrintReferral(ReferralCard? referral, string? note, IReadOnlyList<string> classNames)
    {
        if (referral is not null)
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Referral: refer when P(class ≥ {ClassLabel(classNames, referral.ReferableFrom)}) ≥ {referral.Threshold:F4} ({referral.Rule}; {referral.DescribeHeldOut()}).")));
        if (note is not null) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
    }

    /// <summary>"1–3" for an interval of grades, else the class names joined; "∅" for an empty set.</summary>
    public static string SetText(IReadOnlyList<string> names, bool ordinal) =>
        names.Count == 0 ? "∅" : ordinal && names.Count > 2 ? $"{names[0]}–{names[^1]}" : string.Join(", ", names);

    /// <summary>A class as "c" when its name is its index, else "c (name)".</summary>
    public static string ClassLabel(IReadOnlyList<string> names, int c) =>
        names[c] == c.ToString(CultureInfo.InvariantCulture) ? names[c] : $"{c} ({names[c]})";
}
