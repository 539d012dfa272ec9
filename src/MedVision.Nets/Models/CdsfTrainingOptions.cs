namespace MedVision.Nets.Models;

/// <summary>
/// Hyper-parameters of <see cref="CdsfTrainer"/>: one Adam optimizer per module, and the weights of the ISM's three
/// loss terms. Defaults: learning rates 1e-3, all weights 1, L1 feature consistency.
/// </summary>
public sealed class CdsfTrainingOptions
{
    /// <summary>Adam learning rate of the synthesis module (ISM). Default 1e-3.</summary>
    public double SynthesisLearningRate { get; set; } = 1e-3;

    /// <summary>Adam learning rate of the diagnosis module (MDM). Default 1e-3.</summary>
    public double DiagnosisLearningRate { get; set; } = 1e-3;

    /// <summary>Weight of the voxel-wise L1 loss between synthetic and real PET. Default 1.</summary>
    public double VoxelWeight { get; set; } = 1;

    /// <summary>Weight of the feature-consistency loss between the MDM features of the real and the synthetic pair. Default 1.</summary>
    public double FeatureWeight { get; set; } = 1;

    /// <summary>Weight of the MDM's cross-entropy on the synthetic pair in the ISM's loss. Default 1.</summary>
    public double ClassificationWeight { get; set; } = 1;

    /// <summary>How features are compared. Default <see cref="FeatureConsistencyLoss.L1"/>.</summary>
    public FeatureConsistencyLoss FeatureConsistency { get; set; } = FeatureConsistencyLoss.L1;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        if (!(SynthesisLearningRate > 0) || double.IsInfinity(SynthesisLearningRate)) throw new ArgumentException($"The learning rate must be positive, got {SynthesisLearningRate}.", nameof(SynthesisLearningRate));
        if (!(DiagnosisLearningRate > 0) || double.IsInfinity(DiagnosisLearningRate)) throw new ArgumentException($"The learning rate must be positive, got {DiagnosisLearningRate}.", nameof(DiagnosisLearningRate));
        if (!(VoxelWeight >= 0) || double.IsInfinity(VoxelWeight)) throw new ArgumentException($"Loss weights must be finite and non-negative, got {VoxelWeight}.", nameof(VoxelWeight));
        if (!(FeatureWeight >= 0) || double.IsInfinity(FeatureWeight)) throw new ArgumentException($"Loss weights must be finite and non-negative, got {FeatureWeight}.", nameof(FeatureWeight));
        if (!(ClassificationWeight >= 0) || double.IsInfinity(ClassificationWeight)) throw new ArgumentException($"Loss weights must be finite and non-negative, got {ClassificationWeight}.", nameof(ClassificationWeight));
        if (VoxelWeight + FeatureWeight + ClassificationWeight == 0) throw new ArgumentException("At least one ISM loss weight must be positive.", nameof(VoxelWeight));
        if (!Enum.IsDefined(FeatureConsistency)) throw new ArgumentException($"Unknown feature-consistency loss {FeatureConsistency}.", nameof(FeatureConsistency));
    }

    /// <summary>A copy.</summary>
    public CdsfTrainingOptions Clone() => (CdsfTrainingOptions)MemberwiseClone();
}
