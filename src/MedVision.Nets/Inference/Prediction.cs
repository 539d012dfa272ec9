namespace MedVision.Nets.Inference;

/// <summary>The prediction for one input.</summary>
/// <param name="Probabilities">Per-class probabilities (softmax; sigmoid per label for multi-label models).</param>
/// <param name="Label">The predicted class (argmax; for multi-label models the most probable label).</param>
/// <param name="LabelName">The predicted class's name.</param>
/// <param name="Grade">For ordinal tasks (disease grades): the predicted grade; null otherwise.</param>
/// <param name="ExpectedGrade">For ordinal tasks: Σ k·p_k, the probability-weighted grade; null otherwise.</param>
public sealed record Prediction(IReadOnlyList<float> Probabilities, int Label, string LabelName, int? Grade, double? ExpectedGrade)
{
    /// <summary>Per-class probabilities (softmax; sigmoid per label for multi-label models).</summary>
    public IReadOnlyList<float> Probabilities { get; init; } = Probabilities ?? throw new ArgumentNullException(nameof(Probabilities));

    /// <summary>The predicted class's name.</summary>
    public string LabelName { get; init; } = LabelName ?? throw new ArgumentNullException(nameof(LabelName));
}
