namespace MedVision.Nets.Inference;

/// <summary>The prediction for one input.</summary>
/// <param name="Probabilities">Per-class probabilities (softmax; sigmoid per label for multi-label models).</param>
/// <param name="Label">The predicted class (argmax; for multi-label models the most probable label).</param>
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

    // The prediction of per-class probabilities: the arg-max (the first of equal maxima) and its name; for an ordinal
    // task also the grade and the probability-weighted grade Σ k·p_k.
    internal static Prediction FromProbabilities(float[] probabilities, IReadOnlyList<string> classNames, bool ordinal, Metrics.Conformal.ConformalClassifier? conformal = null)
    {
        int label = 0;
        for (int k = 1; k < probabilities.Length; k++) if (probabilities[k] > probabilities[label]) label = k;
        double expected = 0;
        for (int k = 0; k < probabilities.Length; k++) expected += (double)probabilities[k] * k;
        var set = conformal?.PredictSet(probabilities);
        return new Prediction(probabilities, label, classNames[label], ordinal ? label : null, ordinal ? expected : null)
        {
            ConformalSet = set,
            ConformalSetNames = set?.Select(c => classNames[c]).ToArray(),
        };
    }
}
