using MedVision.Nets.Data.Loading;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Training;

/// <summary>
/// Lets a <see cref="Trainer"/> train an <see cref="Mtcsnn"/>: the loss of a (shuffled) batch is
/// <see cref="Mtcsnn.ComputeLoss"/> (cross-entropy over all N images + λ·MSE of the pair-difference task), reported
/// as the terms <c>cross_entropy</c> and <c>difference</c> (unweighted; the weight of <c>difference</c> is λ). Scores
/// are the softmax of the classification head on single images, as at inference. With a CORAL head
/// (<see cref="MtcsnnBuilder.WithCoralHead"/>, ordinal tasks only) the classification term is <c>coral</c>, the scores
/// are the grades' probabilities of its cumulative logits and the grade their median (<see cref="Decision"/>), as
/// <see cref="CoralTask"/> does for a plain ResNet.
/// </summary>
public sealed class MtcsnnTask : ITrainingTask
{
    /// <summary>Name of the cross-entropy term in <see cref="LossValue.Terms"/>.</summary>
    public const string ClassificationTerm = "cross_entropy";

    /// <summary>Name of a CORAL head's classification term in <see cref="LossValue.Terms"/>.</summary>
    public const string CoralTerm = "coral";

    /// <summary>Name of the difference-task term in <see cref="LossValue.Terms"/>.</summary>
    public const string DifferenceTerm = "difference";

    private readonly Mtcsnn _model;
    private readonly LossComposite<MtcsnnLoss> _loss;

    /// <summary>Creates the task; <paramref name="taskType"/> is the evaluator's task (RetinaMNIST: ordinal regression).</summary>
    /// <exception cref="ArgumentException"><paramref name="taskType"/> is multi-label (MTCSNN classifies single labels), or not ordinal for a CORAL head.</exception>
    public MtcsnnTask(Mtcsnn model, MedMnistTask taskType = MedMnistTask.OrdinalRegression)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (taskType == MedMnistTask.MultiLabel) throw new ArgumentException("MTCSNN classifies one label per image; multi-label tasks are not supported.", nameof(taskType));
        if (model.ClassifierKind == ClassifierHead.Coral && taskType != MedMnistTask.OrdinalRegression)
            throw new ArgumentException($"A CORAL head ranks ordered grades; the task is {taskType}, not {nameof(MedMnistTask.OrdinalRegression)}.", nameof(taskType));
        _model = model;
        TaskType = taskType;
        // The model already weighs the terms; the composite re-sums them so that each term is reported by name.
        _loss = LossComposite.For<MtcsnnLoss>()
            .Add(model.ClassifierKind == ClassifierHead.Coral ? CoralTerm : ClassificationTerm, l => l.Classification)
            .Add(DifferenceTerm, l => l.Difference, model.DifferenceWeight)
            .Build();
    }

    /// <inheritdoc />
    public Module Model => _model;

    /// <summary>The MTCSNN being trained.</summary>
    public Mtcsnn Network => _model;

    /// <inheritdoc />
    public MedMnistTask TaskType { get; }

    /// <inheritdoc />
    /// <remarks><see cref="OrdinalDecision.Median"/> for a CORAL head (CORAL's own prediction); else the most probable class.</remarks>
    public OrdinalDecision Decision => _model.ClassifierKind == ClassifierHead.Coral ? OrdinalDecision.Median : OrdinalDecision.MostProbable;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The labels are not class indices (N).</exception>
    public LossValue ComputeLoss(Batch batch, int epoch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = Tensors.NewDisposeScope();
        // The scope frees the loss tensors; with λ = 0 the total may be the cross-entropy tensor itself, kept by MoveToOuter.
        var loss = _model.ComputeLoss(batch.Images, batch.Labels);
        _loss.Epoch = epoch;
        var value = _loss.Compute(loss);
        scope.MoveToOuter(value.Total);
        return value;
    }

    /// <inheritdoc />
    public Tensor PredictScores(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = Tensors.NewDisposeScope();
        var logits = ClassificationTask.FullPrecision(_model.Call(batch.Images));
        var scores = _model.ClassifierKind == ClassifierHead.Coral ? OrdinalDecoding.ToClassProbabilities(logits) : logits.Softmax(1);
        return scope.MoveToOuter(scores);
    }
}
