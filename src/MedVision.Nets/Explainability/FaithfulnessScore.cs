namespace MedVision.Nets.Explainability;

/// <summary>The probability a faithfulness curve follows (<see cref="Faithfulness"/>).</summary>
public enum FaithfulnessScore
{
    /// <summary>The target class's softmax probability: single-label (binary, multi-class, ordinal) classifiers.</summary>
    Softmax,

    /// <summary>The target label's sigmoid probability on its own logit: multi-label classifiers (ChestMNIST), whose labels are not exclusive.</summary>
    Sigmoid,
}
