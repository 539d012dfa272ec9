namespace MedVision.Nets.Inference;

/// <summary>The prediction for one input.</summary>
/// <param name="Probabilities">Per-class probabilities (softmax; sigmoid per label for multi-label models).</param>
/// <param name="Label">The predicted class (argmax; for multi-label models the most probable label; for an ordinal model whose card decides by the median grade — a CORAL head's — that grade).</param>
/// <param name="LabelName">The predicted class's name.</param>
/// <param name="Grade">For ordinal tasks (disease grades): the predicted grade; null otherwise.</param>
/// <param name="ExpectedGrade">For ordinal tasks: Σ k·p_k, the probability-weighted grade; null otherwise.</param>
public record Prediction(IReadOnlyList<float> Probabilities, int Label, string LabelName, int? Grade, double? ExpectedGrade)
{
    /// <summary>Per-class probabilities (softmax; sigmoid per label for multi-label models).</summary>
    public IReadOnlyList<float> Probabilities { get; init; } = Probabilities ?? throw new ArgumentNullException(nameof(Probabilities));

    /// <summary>The predicted class's name.</summary>
    public string LabelName { get; init; } = LabelName ?? throw new ArgumentNullException(nameof(LabelName));

    /// <summary>
    /// The conformal prediction set (classes ascending; for an ordinal model an interval of grades): the classes that,
    /// together, hold the true class with the coverage the model file's calibration asked for. Null when the model file
    /// has no conformal calibration, or when the predictor's settings differ from those it was calibrated under
    /// (<see cref="Predictor.ConformalNote"/>).
    /// </summary>
    public IReadOnlyList<int>? ConformalSet { get; init; }

    /// <summary>The names of the classes in <see cref="ConformalSet"/>.</summary>
    public IReadOnlyList<string>? ConformalSetNames { get; init; }

    /// <summary>
    /// The risk the model file's referral decision reads (<see cref="ReferralCard"/>): the probability of the referable
    /// classes. Null when the model file has no referral threshold, or when the predictor's settings differ from those
    /// it was chosen under (<see cref="Predictor.ReferralNote"/>).
    /// </summary>
    public double? ReferralRisk { get; init; }

    /// <summary>Whether the input is referred: <see cref="ReferralRisk"/> at or above the model file's threshold; null as <see cref="ReferralRisk"/>.</summary>
    public bool? Referred { get; init; }

    /// <summary>
    /// For a multi-label model whose file records finding thresholds (<see cref="ModelCard.FindingThresholds"/>): the
    /// findings (classes, ascending) whose probability reaches its threshold; empty when none does. Null when the model
    /// file records none, and for an ensemble's averaged probabilities (each member's thresholds hold for it alone).
    /// </summary>
    public IReadOnlyList<int>? Findings { get; init; }

    /// <summary>The names of the classes in <see cref="Findings"/>.</summary>
    public IReadOnlyList<string>? FindingNames { get; init; }

    /// <summary>
    /// Writes predictions as CSV, one row per input — <c>input,label,label_name,p_&lt;class&gt;…</c>, then
    /// <c>expected_grade</c> for ordinal models, <c>conformal_set</c> (class names joined by ';') when the predictions
    /// carry sets, <c>referral_risk,referred</c> (1 or 0) when they carry referral decisions, <c>findings</c> (names joined by ';') when they carry findings, and <c>agreement</c> for an ensemble's of several models — for batch jobs and spreadsheets; atomically (a temporary
    /// file, then a rename). Probabilities are written round-trip in the invariant culture.
    /// </summary>
    /// <param name="path">The CSV file; its folder is created if needed.</param>
    /// <param name="inputs">One name per prediction (e.g. the file it was made from).</param>
    /// <param name="predictions">The predictions, all of one model (or ensemble).</param>
    /// <param name="classNames">The model's class names (<see cref="Predictor.ClassNames"/>).</param>
    /// <exception cref="ArgumentException">The names and predictions differ in number, or a prediction has another number of classes.</exception>
    public static void WriteCsv(string path, IReadOnlyList<string> inputs, IReadOnlyList<Prediction> predictions, IReadOnlyList<string> classNames)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(classNames);
        if (inputs.Count != predictions.Count) throw new ArgumentException($"{inputs.Count} input names for {predictions.Count} predictions.", nameof(inputs));
        if (classNames.Any(n => n is null)) throw new ArgumentException("A class name is null.", nameof(classNames));
        for (int i = 0; i < predictions.Count; i++)
        {
            if (predictions[i] is null) throw new ArgumentException($"Prediction {i} is null.", nameof(predictions));
            if (inputs[i] is null) throw new ArgumentException($"The name of prediction {i} is null.", nameof(inputs));
            if (predictions[i].Probabilities.Count != classNames.Count)
                throw new ArgumentException($"Prediction {i} has {predictions[i].Probabilities.Count} probabilities; {classNames.Count} class names were given.", nameof(predictions));
        }
        bool grades = predictions.Any(p => p.ExpectedGrade is not null), sets = predictions.Any(p => p.ConformalSetNames is not null), ensemble = predictions.Any(p => p is EnsemblePrediction { Members.Count: > 1 }),
            referral = predictions.Any(p => p.ReferralRisk is not null), findings = predictions.Any(p => p.FindingNames is not null);
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        var text = new System.Text.StringBuilder("input,label,label_name");
        foreach (var name in classNames) text.Append(",p_").Append(Metrics.EvaluationResult.CsvField(name));
        text.Append(grades ? ",expected_grade" : "").Append(sets ? ",conformal_set" : "").Append(referral ? ",referral_risk,referred" : "").Append(findings ? ",findings" : "").Append(ensemble ? ",agreement" : "").Append('\n');
        for (int i = 0; i < predictions.Count; i++)
        {
            var p = predictions[i];
            text.Append(Metrics.EvaluationResult.CsvField(inputs[i])).Append(',').Append(p.Label.ToString(invariant)).Append(',').Append(Metrics.EvaluationResult.CsvField(p.LabelName));
            foreach (var probability in p.Probabilities) text.Append(',').Append(probability.ToString("R", invariant));
            if (grades) text.Append(',').Append(p.ExpectedGrade?.ToString("R", invariant) ?? "");
            if (sets) text.Append(',').Append(p.ConformalSetNames is { } names ? Metrics.EvaluationResult.CsvField(string.Join(';', names)) : "");
            if (referral) text.Append(',').Append(p.ReferralRisk?.ToString("R", invariant) ?? "").Append(',').Append(p.Referred is { } r ? (r ? "1" : "0") : "");
            if (findings) text.Append(',').Append(p.FindingNames is { } found ? Metrics.EvaluationResult.CsvField(string.Join(';', found)) : "");
            if (ensemble) text.Append(',').Append(p is EnsemblePrediction e ? e.Agreement.ToString("R", invariant) : "");
            text.Append('\n');
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        MedVision.Torch.Serialization.AtomicFile.WriteAllText(path, text.ToString());
    }

    // The prediction of per-class probabilities: the arg-max (the first of equal maxima) and its name; for an ordinal
    // task also the grade and the probability-weighted grade Σ k·p_k.
    // median: an ordinal model decided by its median grade (ModelCard.OrdinalDecision), else the most probable class.
    internal static Prediction FromProbabilities(float[] probabilities, IReadOnlyList<string> classNames, bool ordinal, Metrics.Conformal.ConformalClassifier? conformal = null, ReferralCard? referral = null,
        IReadOnlyList<double>? findingThresholds = null, bool median = false)
    {
        int label = 0;
        if (ordinal && median)
        {
            var row = new double[1, probabilities.Length];
            for (int k = 0; k < probabilities.Length; k++) row[0, k] = probabilities[k];
            label = Losses.OrdinalDecoding.MedianGrades(row)[0];
        }
        else
            for (int k = 1; k < probabilities.Length; k++) if (probabilities[k] > probabilities[label]) label = k;
        double expected = 0;
        for (int k = 0; k < probabilities.Length; k++) expected += (double)probabilities[k] * k;
        var set = conformal?.PredictSet(probabilities);
        double? risk = referral?.Risk(probabilities);
        int[]? findings = findingThresholds is null ? null : Enumerable.Range(0, probabilities.Length).Where(c => probabilities[c] >= findingThresholds[c]).ToArray();
        return new Prediction(probabilities, label, classNames[label], ordinal ? label : null, ordinal ? expected : null)
        {
            ConformalSet = set,
            ConformalSetNames = set?.Select(c => classNames[c]).ToArray(),
            ReferralRisk = risk,
            Referred = risk is double r ? r >= referral!.Threshold : null,
            Findings = findings,
            FindingNames = findings?.Select(c => classNames[c]).ToArray(),
        };
    }
}
