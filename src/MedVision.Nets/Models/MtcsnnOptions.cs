namespace MedVision.Nets.Models;

/// <summary>
/// Everything that defines an <see cref="Mtcsnn"/>. Defaults: a ResNet-18 backbone (ImageNet stem, 3 channels, 2-D),
/// 5 classes (RetinaMNIST grades), difference weight λ = 0.5, absolute difference.
/// </summary>
public sealed class MtcsnnOptions
{
    /// <summary>The shared backbone; it is always built features-only. Default ResNet-18.</summary>
    public ResNetOptions Backbone { get; set => field = value ?? throw new ArgumentNullException(nameof(Backbone)); } = new();

    /// <summary>Classes of the classification head. Default 5.</summary>
    public int NumClasses { get; set; } = 5;

    /// <summary>λ, the weight of the difference (regression) term in the total loss. Default 0.5.</summary>
    public double DifferenceWeight { get; set; } = 0.5;

    /// <summary>Predict the signed difference s₁ − s₂ against y₁ − y₂ instead of |s₁ − s₂| against |y₁ − y₂|. Default false.</summary>
    public bool SignedDifference { get; set; }

    /// <summary>
    /// The classification head: <see cref="ClassifierHead.Linear"/> (K logits, cross-entropy; default) or
    /// <see cref="ClassifierHead.Coral"/> (K − 1 cumulative logits of one severity score, <see cref="Losses.CoralLoss"/>),
    /// which ranks the grades as the difference task does.
    /// </summary>
    public ClassifierHead Head { get; set; } = ClassifierHead.Linear;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        if (Backbone is null) throw new ArgumentException("A backbone is needed.", nameof(Backbone));
        var backbone = Backbone.Clone();
        backbone.FeaturesOnly = true;
        backbone.Validate();
        if (NumClasses < 2) throw new ArgumentException($"Classification needs at least 2 classes, got {NumClasses}.", nameof(NumClasses));
        if (!(DifferenceWeight >= 0) || double.IsInfinity(DifferenceWeight)) throw new ArgumentException($"The difference weight must be finite and non-negative, got {DifferenceWeight}.", nameof(DifferenceWeight));
        if (Head is not (ClassifierHead.Linear or ClassifierHead.Coral)) throw new ArgumentException($"Unknown classifier head {Head}.", nameof(Head));
    }

    /// <summary>A deep copy.</summary>
    public MtcsnnOptions Clone() => new()
    {
        Backbone = Backbone?.Clone()!,
        NumClasses = NumClasses,
        DifferenceWeight = DifferenceWeight,
        SignedDifference = SignedDifference,
        Head = Head,
    };
}
