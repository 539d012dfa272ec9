namespace MedVision.Nets.Models;

/// <summary>
/// Hyper-parameters of <see cref="CdsfTrainer"/>: one Adam optimizer per module, and the weights of the ISM's three
/// loss terms. Defaults: synthesis Adam at learning rate 2e-4 with β = (0.5, 0.999), diagnosis Adam at 1e-3 with
/// β = (0.9, 0.999), voxel and feature weights 1, classification weight 0.1, L1 feature consistency.
/// </summary>
public sealed class CdsfTrainingOptions
{
    /// <summary>
    /// Adam learning rate of the synthesis module (ISM). Default 2e-4, with <see cref="SynthesisBeta1"/> 0.5: the setting of
    /// the image-to-image generators the ISM follows (pix2pix, CycleGAN). With Adam's usual 1e-3 and β₁ 0.9, the first
    /// steps on volumes that are mostly background drive the tanh output to the background value everywhere, where its
    /// gradient vanishes and synthesis stops learning (the same happens in PyTorch).
    /// </summary>
    public double SynthesisLearningRate { get; set; } = 2e-4;

    /// <summary>Adam's β₁ for the synthesis module. Default 0.5 (see <see cref="SynthesisLearningRate"/>).</summary>
    public double SynthesisBeta1 { get; set; } = 0.5;

    /// <summary>Adam's β₂ for the synthesis module. Default 0.999.</summary>
    public double SynthesisBeta2 { get; set; } = 0.999;

    /// <summary>Adam learning rate of the diagnosis module (MDM). Default 1e-3.</summary>
    public double DiagnosisLearningRate { get; set; } = 1e-3;

    /// <summary>Weight of the voxel-wise L1 loss between synthetic and real PET. Default 1.</summary>
    public double VoxelWeight { get; set; } = 1;

    /// <summary>Weight of the feature-consistency loss between the MDM features of the real and the synthetic pair. Default 1.</summary>
    public double FeatureWeight { get; set; } = 1;

    /// <summary>
    /// Weight of the MDM's cross-entropy on the synthetic pair in the ISM's loss. Default 0.1: at weight 1 the gradient
    /// of a still-untrained classifier outweighs the voxel loss early on and synthesis can stall (on the Cdsf sample's
    /// phantoms, seed 1: PSNR 13.7 dB at weight 1 against 19.2 dB at 0.1, diagnosis with real PET unchanged).
    /// </summary>
    public double ClassificationWeight { get; set; } = 0.1;

    /// <summary>How features are compared. Default <see cref="FeatureConsistencyLoss.L1"/>.</summary>
    public FeatureConsistencyLoss FeatureConsistency { get; set; } = FeatureConsistencyLoss.L1;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        if (!(SynthesisLearningRate > 0) || double.IsInfinity(SynthesisLearningRate)) throw new ArgumentException($"The learning rate must be positive, got {SynthesisLearningRate}.", nameof(SynthesisLearningRate));
        if (!(SynthesisBeta1 >= 0 && SynthesisBeta1 < 1)) throw new ArgumentException($"Adam's β₁ must lie in [0, 1), got {SynthesisBeta1}.", nameof(SynthesisBeta1));
        if (!(SynthesisBeta2 >= 0 && SynthesisBeta2 < 1)) throw new ArgumentException($"Adam's β₂ must lie in [0, 1), got {SynthesisBeta2}.", nameof(SynthesisBeta2));
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
