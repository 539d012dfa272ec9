namespace MedVision.Nets.Models;

/// <summary>
/// Builds a <see cref="CdsfTrainer"/>: <c>CdsfTrainer.For(model).WithLearningRates(synthesis: 2e-4, diagnosis: 1e-3)
/// .WithLossWeights(voxel: 1, feature: 1, classification: 0.1).WithFeatureConsistency(FeatureConsistencyLoss.Mse).Build()</c>.
/// Defaults are those of <see cref="CdsfTrainingOptions"/>. A builder cannot be used after <see cref="Build"/>.
/// </summary>
public sealed class CdsfTrainerBuilder
{
    private readonly Cdsf _model;
    private readonly CdsfTrainingOptions _options = new();
    private bool _built;

    internal CdsfTrainerBuilder(Cdsf model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>Adam learning rates of the synthesis (ISM) and diagnosis (MDM) modules.</summary>
    public CdsfTrainerBuilder WithLearningRates(double synthesis, double diagnosis)
    {
        EnsureUsable();
        if (!(synthesis > 0) || double.IsInfinity(synthesis)) throw new ArgumentException($"The learning rate must be positive, got {synthesis}.", nameof(synthesis));
        if (!(diagnosis > 0) || double.IsInfinity(diagnosis)) throw new ArgumentException($"The learning rate must be positive, got {diagnosis}.", nameof(diagnosis));
        _options.SynthesisLearningRate = synthesis;
        _options.DiagnosisLearningRate = diagnosis;
        return this;
    }

    /// <summary>Adam's β₁ and β₂ for the synthesis module (default 0.5 and 0.999; the diagnosis module keeps 0.9 and 0.999).</summary>
    public CdsfTrainerBuilder WithSynthesisBetas(double beta1, double beta2 = 0.999)
    {
        EnsureUsable();
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentException($"Adam's β₁ must lie in [0, 1), got {beta1}.", nameof(beta1));
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentException($"Adam's β₂ must lie in [0, 1), got {beta2}.", nameof(beta2));
        _options.SynthesisBeta1 = beta1;
        _options.SynthesisBeta2 = beta2;
        return this;
    }

    /// <summary>Weights of the ISM's voxel L1, feature-consistency and classification terms.</summary>
    public CdsfTrainerBuilder WithLossWeights(double voxel, double feature, double classification)
    {
        EnsureUsable();
        if (!(voxel >= 0) || double.IsInfinity(voxel)) throw new ArgumentException($"Loss weights must be finite and non-negative, got {voxel}.", nameof(voxel));
        if (!(feature >= 0) || double.IsInfinity(feature)) throw new ArgumentException($"Loss weights must be finite and non-negative, got {feature}.", nameof(feature));
        if (!(classification >= 0) || double.IsInfinity(classification)) throw new ArgumentException($"Loss weights must be finite and non-negative, got {classification}.", nameof(classification));
        _options.VoxelWeight = voxel;
        _options.FeatureWeight = feature;
        _options.ClassificationWeight = classification;
        return this;
    }

    /// <summary>How the MDM features of the real and the synthetic pair are compared.</summary>
    public CdsfTrainerBuilder WithFeatureConsistency(FeatureConsistencyLoss loss)
    {
        EnsureUsable();
        if (!Enum.IsDefined(loss)) throw new ArgumentException($"Unknown feature-consistency loss {loss}.", nameof(loss));
        _options.FeatureConsistency = loss;
        return this;
    }

    /// <summary>Creates the trainer; the builder cannot be used afterwards.</summary>
    public CdsfTrainer Build()
    {
        EnsureUsable();
        _options.Validate();
        _built = true;
        return new CdsfTrainer(_model, _options);
    }

    private void EnsureUsable()
    {
        if (_built) throw new InvalidOperationException("This builder has already built its trainer; create a new one with CdsfTrainer.For(model).");
    }
}
