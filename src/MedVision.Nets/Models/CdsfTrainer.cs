using MedVision.Nets.Training;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;

namespace MedVision.Nets.Models;

/// <summary>
/// One collaborative CDSF training step (Pan et al., MICCAI 2021), owning one Adam optimizer per module.
/// First the MDM is updated to classify both real (MRI, PET) pairs and (MRI, synthetic PET) pairs (cross-entropy on
/// each, the synthetic PET detached; both kinds in one batch, so batch normalisation trains on the mixture its running
/// statistics describe); then the ISM is updated with the weighted sum of the voxel-wise L1 to the real PET, the
/// feature consistency between the MDM features of the real and the synthetic pair, and the MDM's cross-entropy on the
/// synthetic pair, with the MDM in evaluation mode (as it diagnoses at inference; its running statistics unchanged).
/// Create the trainer after moving the model to its device (the optimizers hold the parameter tensors).
/// </summary>
public sealed class CdsfTrainer : IDisposable
{
    private readonly Cdsf _model;
    private readonly CdsfTrainingOptions _options;
    private readonly Adam _synthesisOptimizer;
    private readonly Adam _diagnosisOptimizer;

    /// <summary>Creates the trainer and its two optimizers.</summary>
    /// <exception cref="ArgumentException">An option cannot work; the message names it.</exception>
    public CdsfTrainer(Cdsf model, CdsfTrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = (options ?? new CdsfTrainingOptions()).Clone();
        _options.Validate();
        _model = model;
        _synthesisOptimizer = new Adam(model.Synthesis.Parameters(), _options.SynthesisLearningRate, _options.SynthesisBeta1, _options.SynthesisBeta2);
        _diagnosisOptimizer = new Adam(model.Diagnosis.Parameters(), _options.DiagnosisLearningRate);
    }

    /// <summary>A fluent builder: <c>CdsfTrainer.For(model).WithLearningRates(2e-4, 1e-3).WithLossWeights(voxel: 1, feature: 1, classification: 0.1).Build()</c>.</summary>
    public static CdsfTrainerBuilder For(Cdsf model) => new(model);

    /// <summary>The model being trained.</summary>
    public Cdsf Model => _model;

    /// <summary>The steps taken so far (the step a <see cref="TrainingDivergedException"/> names).</summary>
    public long StepCount { get; private set; }

    /// <summary>A copy of the hyper-parameters.</summary>
    public CdsfTrainingOptions Options => _options.Clone();

    /// <summary>
    /// Updates both modules on one batch of subjects with both modalities. Volumes holding NaN or infinity are refused
    /// (<see cref="ArgumentException"/>) before anything runs; a NaN or infinite loss stops with
    /// <see cref="TrainingDivergedException"/> before the module it belongs to is updated, instead of training through it.
    /// </summary>
    /// <param name="mri">MRI (N, 1, D, H, W).</param>
    /// <param name="pet">Real PET (N, 1, D, H, W), scaled to the ISM's tanh range [−1, 1].</param>
    /// <param name="labels">Class indices (N), int64.</param>
    public CdsfStepLosses Step(Tensor mri, Tensor pet, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(mri);
        ArgumentNullException.ThrowIfNull(pet);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Dim != 1 || labels.Size(0) != mri.Size(0))
            throw new ArgumentException($"Labels must be (N) with N = {mri.Size(0)}, got [{string.Join(", ", labels.Shape)}].", nameof(labels));
        using var scope = Tensors.NewDisposeScope();
        // A NaN or infinite voxel would reach batch normalisation's running statistics in the first forward pass, before
        // any loss could be checked, and spoil the model for good; refuse such volumes up front.
        RequireFinite(mri, nameof(mri));
        RequireFinite(pet, nameof(pet));
        _model.Train();
        var realPair = Cdsf.Pair(mri, pet);
        long n = mri.Size(0);

        // 1. Diagnosis module: classify real pairs and pairs with (detached) synthetic PET, in one forward pass so that
        //    batch normalisation sees the same mixture of real and synthetic pairs in training as its running statistics
        //    hold at inference (two separate passes would normalise each kind by itself in training only).
        Tensor synthetic;
        using (Tensors.NoGrad()) synthetic = _model.Synthesis.Call(mri);
        var syntheticPair = Cdsf.Pair(mri, synthetic);
        _diagnosisOptimizer.ZeroGrad();
        var logits = _model.Diagnosis.Call(Tensors.Cat(new[] { realPair, syntheticPair }, 0));
        var realLoss = Functional.CrossEntropy(logits.Narrow(0, 0, n), labels);
        var syntheticLoss = Functional.CrossEntropy(logits.Narrow(0, n, n), labels);
        var diagnosisLoss = realLoss + syntheticLoss;
        double real = realLoss.Item(), syntheticValue = syntheticLoss.Item();
        if (!double.IsFinite(real + syntheticValue))
            throw new TrainingDivergedException(StepCount, real + syntheticValue, new Dictionary<string, double> { ["diagnosis_real"] = real, ["diagnosis_synthetic"] = syntheticValue });
        diagnosisLoss.Backward();
        _diagnosisOptimizer.Step();

        // 2. Synthesis module: voxel L1 + feature consistency + classification of the synthetic pair, through the MDM
        //    as it is used at inference (evaluation mode: running statistics, which this step leaves untouched).
        _synthesisOptimizer.ZeroGrad();
        var generated = _model.Synthesis.Call(mri);
        var voxelLoss = Functional.L1Loss(generated, pet);
        Tensor realFeatures, generatedFeatures, generatedLogits;
        _model.Diagnosis.Eval();
        try
        {
            using (Tensors.NoGrad()) realFeatures = _model.Diagnosis.ExtractFeatures(realPair);
            (generatedFeatures, generatedLogits) = _model.Diagnosis.ForwardWithFeatures(Cdsf.Pair(mri, generated));
        }
        finally
        {
            _model.Diagnosis.Train();
        }
        var featureLoss = _options.FeatureConsistency == FeatureConsistencyLoss.L1
            ? Functional.L1Loss(generatedFeatures, realFeatures)
            : Functional.MseLoss(generatedFeatures, realFeatures);
        var classificationLoss = Functional.CrossEntropy(generatedLogits, labels);
        var weightedVoxel = voxelLoss * _options.VoxelWeight;
        var weightedFeature = featureLoss * _options.FeatureWeight;
        var weightedClassification = classificationLoss * _options.ClassificationWeight;
        var synthesisLoss = weightedVoxel + weightedFeature + weightedClassification;
        double voxel = voxelLoss.Item(), feature = featureLoss.Item(), classification = classificationLoss.Item(), synthesis = synthesisLoss.Item();
        if (!double.IsFinite(synthesis))
        {
            // The diagnosis module took this step's update already; the synthesis module keeps its weights.
            _diagnosisOptimizer.ZeroGrad();
            throw new TrainingDivergedException(StepCount, synthesis, new Dictionary<string, double>
            {
                ["synthesis_voxel"] = voxel, ["synthesis_feature"] = feature, ["synthesis_classification"] = classification,
            });
        }
        synthesisLoss.Backward();
        _synthesisOptimizer.Step();
        // The ISM's loss also reached the MDM's parameters; those gradients belong to no update.
        _diagnosisOptimizer.ZeroGrad();

        StepCount++;
        return new CdsfStepLosses(real, syntheticValue, voxel, feature, classification, synthesis);
    }

    private static void RequireFinite(Tensor volume, string parameterName)
    {
        if (volume.IsFinite().All().Item() == 0)
            throw new ArgumentException($"{parameterName} holds NaN or infinite values ({volume.IsNan().Sum().Item()} NaN of {volume.NumElements}); fix or drop the subject before training.", parameterName);
    }

    /// <summary>Disposes the optimizers' state (not the model).</summary>
    public void Dispose()
    {
        _synthesisOptimizer.Dispose();
        _diagnosisOptimizer.Dispose();
    }
}
