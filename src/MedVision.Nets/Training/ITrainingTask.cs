using MedVision.Nets.Data.Loading;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Training;

/// <summary>
/// What a <see cref="Trainer"/> trains: the model, how a batch becomes a loss (for backward) and how it becomes
/// per-class scores (for evaluation). <see cref="ClassificationTask"/> covers plain classifiers; multi-task models
/// (MTCSNN) implement their own.
/// </summary>
public interface ITrainingTask
{
    /// <summary>The model whose parameters are trained and checkpointed.</summary>
    Module Model { get; }

    /// <summary>The task type used by the evaluator (AUC/ACC semantics).</summary>
    MedMnistTask TaskType { get; }

    /// <summary>
    /// How evaluation turns an ordinal task's scores into grades for ACC and the label measures: the most probable grade
    /// by default; <see cref="CoralTask"/>'s median grade, CORAL's own rule. Model selection by AUC does not depend on it.
    /// </summary>
    OrdinalDecision Decision => OrdinalDecision.MostProbable;

    /// <summary>Computes the loss of a training batch (model in training mode, gradients on).</summary>
    LossValue ComputeLoss(Batch batch, int epoch);

    /// <summary>Per-class scores (N, K) of a batch for evaluation: probabilities (softmax, or sigmoid for binary/multi-label). Called in evaluation mode without gradients.</summary>
    Tensor PredictScores(Batch batch);
}
