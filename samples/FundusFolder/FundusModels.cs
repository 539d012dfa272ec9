using System.Globalization;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using Spectre.Console;

namespace MedVision.Samples.FundusFolder;

/// <summary>
/// How <c>predict</c> and <c>evaluate</c> read the model file (or ensemble) that <c>train</c> wrote: the model's task,
/// and which photographs it refers — a screening model its positive class, a grading model the grades from a cut-off,
/// at the given threshold, else the operating point recorded in the model file or manifest, else 0.5.
/// </summary>
internal static class FundusModels
{
    /// <summary>
    /// The model files given (<c>--model</c> repeated, or one ensemble manifest) as an ensemble, with the files' paths:
    /// model.safetensors files through libtorch, exported <c>.onnx</c> files (<c>medmnist export</c>) through ONNX Runtime.
    /// </summary>
    public static (EnsemblePredictor Ensemble, string[] Paths) Load(string[] models, MedVision.Torch.Device device) =>
        ModelFiles.LoadEnsemble(models, device, TestTimeFlips.None, mixedPrecision: false);

    /// <summary>The model's task: binary (two classes), ordinal, multi-class or multi-label; a model of volumes is refused.</summary>
    public static MedMnistTask TaskOf(ModelCard card, string path)
    {
        var task = Enum.TryParse<MedMnistTask>(card.Task, ignoreCase: true, out var parsed) ? parsed : MedMnistTask.MultiClass;
        if (card.Preprocessing.InputSize.Count != 2)
            throw new ArgumentException($"{Path.GetFileName(path)} is not a classifier of 2-D photographs (a {card.Task} model of {card.ClassNames.Count} classes, input {string.Join("×", card.Preprocessing.InputSize)}); give the model.safetensors fundus-folder train wrote.");
        return task == MedMnistTask.MultiLabel ? task
            : card.ClassNames.Count == 2 ? MedMnistTask.Binary : task == MedMnistTask.OrdinalRegression ? task : MedMnistTask.MultiClass;
    }

    /// <summary>Whether <paramref name="sample"/> shows class or finding <paramref name="k"/>: its finding's 0/1, or 1 when k is its class.</summary>
    public static int Has(ImageSample sample, int k) => sample.Labels is { } findings ? findings[k] : sample.Label == k ? 1 : 0;

    /// <summary>Column <paramref name="k"/> of a (photographs × classes) table of labels or probabilities.</summary>
    public static T[] Column<T>(T[,] table, int k) => Enumerable.Range(0, table.GetLength(0)).Select(i => table[i, k]).ToArray();

    /// <summary>The task as the RESULT and EVALUATION lines name it: binary, ordinal, multi-class or multi-label.</summary>
    public static string TaskName(MedMnistTask task) => task switch
    {
        MedMnistTask.Binary => "binary",
        MedMnistTask.OrdinalRegression => "ordinal",
        MedMnistTask.MultiLabel => "multi-label",
        _ => "multi-class",
    };

    /// <summary>
    /// The referral rule of <paramref name="ensemble"/> (of <paramref name="modelCount"/> model files): none for unordered
    /// classes (a given threshold refused) or findings (the threshold is each finding's); else the referable classes and
    /// the threshold.
    /// </summary>
    public static ReferralRule Referral(EnsemblePredictor ensemble, MedMnistTask task, int modelCount, double? given, string firstPath)
    {
        var card = ensemble.Members[0].Card;
        // A multi-label model reports each finding whose probability reaches its threshold — the given one, else the one
        // model's recorded per finding, else 0.5 — and refers nothing.
        if (task == MedMnistTask.MultiLabel)
        {
            // (the predictor's: null when its flips or precision differ from those the thresholds were chosen under)
            var recordedFindings = given is null && modelCount == 1 ? ensemble.Members[0].FindingThresholds?.ToList() : null;
            return new ReferralRule(null, given ?? 0.5, null, "", "")
            {
                FindingThresholds = recordedFindings ?? Enumerable.Repeat(given ?? 0.5, card.ClassNames.Count).ToList(),
                FindingThresholdsRecorded = recordedFindings is not null,
                FindingNames = card.ClassNames,
            };
        }
        if (task == MedMnistTask.MultiClass)
            return given is null ? new ReferralRule(null, double.NaN, null, "", "")
                : throw new ArgumentException($"--threshold sets a referral threshold, which needs a binary or graded (ordinal) model; {Path.GetFileName(firstPath)} has {card.ClassNames.Count} unordered classes.");
        // The manifest's operating point, chosen on the ensemble's averaged probabilities; or the one model's recorded one
        // (an ensemble's averaged probabilities are no member's).
        var recorded = ensemble.Referral ?? (modelCount == 1 ? ensemble.Members[0].Referral : null);
        // A screening model refers its second class; a grading model the grades from the recorded cut-off (else 2, or 1 of three grades).
        int from = task == MedMnistTask.Binary ? 1 : recorded?.ReferableFrom ?? Math.Min(2, card.ClassNames.Count - 1);
        string risk = task == MedMnistTask.Binary ? $"P({card.ClassNames[1]})" : $"P(grade ≥ {PredictionTable.ClassLabel(card.ClassNames, from)})";
        return new ReferralRule(from, given ?? recorded?.Threshold ?? 0.5, given is null ? recorded : null,
            ensemble.Referral is not null ? "the ensemble manifest" : "the model file", risk);
    }

    /// <summary>Where the threshold came from, or why an ensemble refers at 0.5 although its members recorded theirs.</summary>
    public static void PrintThresholdSource(ReferralRule rule, EnsemblePredictor ensemble, int modelCount, bool thresholdGiven)
    {
        if (ensemble.ReferralNote is { } why)
            AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(why)}");
        if (modelCount == 1 && !thresholdGiven && ensemble.Members[0].FindingThresholdsNote is { } findings)
            AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(findings)}");
        if (rule.Recorded is { } recorded)
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Threshold from {rule.Source}: {recorded.Rule} ({recorded.DescribeHeldOut()}, 95% intervals); --threshold overrides it.")));
        else if (rule.From is not null && !thresholdGiven && modelCount > 1 && ensemble.Members.Any(m => m.Card.Referral is not null))
            AnsiConsole.MarkupLine("[yellow]Note:[/] the models' recorded operating points hold for each model alone, not for their averaged probabilities: the ensemble refers at 0.5 unless --threshold says otherwise.");
    }
}

/// <summary>Which photographs a model refers: those whose probability of the classes from <see cref="From"/> reaches <see cref="Threshold"/>.</summary>
/// <param name="From">The lowest referable class (1 for a screening model, a grade for a grading one); null: no referral (unordered classes).</param>
/// <param name="Threshold">The threshold on the referable classes' probability (of a multi-label model: on each finding's).</param>
/// <param name="Recorded">The operating point the threshold was taken from, when it was not given.</param>
/// <param name="Source">"the model file" or "the ensemble manifest".</param>
/// <param name="RiskName">How messages name the risk: "P(pathologic)", "P(grade ≥ 2)".</param>
internal sealed record ReferralRule(int? From, double Threshold, ReferralCard? Recorded, string Source, string RiskName)
{
    /// <summary>The prediction with its referral risk and decision by this rule, or its findings at their thresholds (unchanged without either).</summary>
    public EnsemblePrediction Apply(EnsemblePrediction prediction)
    {
        if (FindingThresholds.Count > 0)
        {
            var found = Findings(prediction);
            return prediction with { Findings = found, FindingNames = found.Select(k => FindingNames[k]).ToArray() };
        }
        if (From is not int from) return prediction;
        double risk = prediction.Probabilities.Skip(from).Sum(v => (double)v);
        return prediction with { ReferralRisk = risk, Referred = risk >= Threshold };
    }

    /// <summary>A multi-label model's threshold of each finding (empty for other models).</summary>
    public IReadOnlyList<double> FindingThresholds { get; init; } = [];

    /// <summary>The finding thresholds as the RESULT and EVALUATION lines write them: "0.41,0.5,0.37" (invariant culture).</summary>
    public string ThresholdList => string.Join(",", FindingThresholds.Select(t => t.ToString(CultureInfo.InvariantCulture)));

    /// <summary>A multi-label model's finding names (its classes).</summary>
    public IReadOnlyList<string> FindingNames { get; init; } = [];

    /// <summary>Whether <see cref="FindingThresholds"/> are those the model file recorded (chosen on validation photographs).</summary>
    public bool FindingThresholdsRecorded { get; init; }

    /// <summary>The findings of a multi-label model's prediction at <see cref="FindingThresholds"/>, as indices.</summary>
    public int[] Findings(Prediction prediction) =>
        Enumerable.Range(0, FindingThresholds.Count).Where(k => prediction.Probabilities[k] >= FindingThresholds[k]).ToArray();

    /// <summary>"refer when P(grade ≥ 2) ≥ 0.4".</summary>
    public string Describe() => $"refer when {RiskName} ≥ {Threshold.ToString(CultureInfo.InvariantCulture)}";
}
