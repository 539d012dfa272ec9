using MedVision.Torch;

namespace MedVision.Nets.Explainability;

/// <summary>The probability a faithfulness curve follows (<see cref="Faithfulness"/>).</summary>
public enum FaithfulnessScore
{
    /// <summary>The target class's softmax probability: single-label (binary, multi-class, ordinal) classifiers.</summary>
    Softmax,

    /// <summary>The target label's sigmoid probability on its own logit: multi-label classifiers (ChestMNIST), whose labels are not exclusive.</summary>
    Sigmoid,

    /// <summary>
    /// The target grade's probability under a CORAL head's K − 1 cumulative logits (P(grade &gt; k − 1) − P(grade &gt; k),
    /// <see cref="Losses.OrdinalDecoding.ToClassProbabilities(Tensor)"/>): ordinal models with a CORAL head, whose logits
    /// all move with one severity score, so a softmax over them would not move at all.
    /// </summary>
    CoralGrade,
}
