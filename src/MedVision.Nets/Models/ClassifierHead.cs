namespace MedVision.Nets.Models;

/// <summary>What a classifier network's last layer <c>fc</c> computes from the pooled embedding.</summary>
public enum ClassifierHead
{
    /// <summary>A linear layer giving one logit per class, (N, K): softmax (or sigmoid) probabilities. torchvision's head.</summary>
    Linear,

    /// <summary>
    /// A CORAL ordinal head (<see cref="Heads.CoralHead"/>) for K ordered grades: one shared weight vector and K − 1
    /// ordered biases give K − 1 cumulative logits (N, K − 1), logit_k for P(grade &gt; k). Trained with
    /// <see cref="Losses.CoralLoss"/> (<see cref="Training.CoralTask"/>); grades and class probabilities come from
    /// <see cref="Losses.OrdinalDecoding"/>. Only for ordinal tasks (disease grades).
    /// </summary>
    Coral,
}
