using MedVision.Nets.Data.Loading;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Training;

/// <summary>
/// A classifier producing logits (N, K): cross-entropy (optional class weights and label smoothing) for binary,
/// multi-class and ordinal tasks, BCE-with-logits for multi-label ones (the MedMNIST recipe). Scores are softmax
/// probabilities, or sigmoids for multi-label tasks. Another loss (focal loss, a composite) can be given instead.
/// </summary>
public sealed class ClassificationTask : ITrainingTask
{
    private readonly Module<Tensor, Tensor> _model;
    private readonly LossComposite<(Tensor Logits, Tensor Labels)> _loss;

    /// <summary>Creates the task.</summary>
    public ClassificationTask(Module<Tensor, Tensor> model, MedMnistTask taskType, Tensor? classWeights = null, double labelSmoothing = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (labelSmoothing is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must lie in [0, 1]");
        if (taskType == MedMnistTask.MultiLabel && (classWeights is not null || labelSmoothing != 0))
            throw new ArgumentException("Class weights and label smoothing apply to cross-entropy, not to multi-label BCE.");
        _model = model;
        TaskType = taskType;
        _loss = taskType == MedMnistTask.MultiLabel
            ? LossComposite.For<(Tensor Logits, Tensor Labels)>().Add("bce", o => Functional.BinaryCrossEntropyWithLogits(o.Logits, o.Labels)).Build()
            : LossComposite.For<(Tensor Logits, Tensor Labels)>().Add("cross_entropy", o => Functional.CrossEntropy(o.Logits, o.Labels, classWeights, labelSmoothing: labelSmoothing)).Build();
    }

    /// <summary>
    /// Creates the task with another loss of the logits (N, K) and the batch labels, e.g.
    /// <c>LossComposite.For&lt;(Tensor Logits, Tensor Labels)&gt;().Add("focal", o =&gt; FocalLoss.Softmax(o.Logits, o.Labels)).Build()</c>.
    /// Labels are class indices (N) for single-label tasks and 0/1 floats (N, K) for multi-label ones.
    /// </summary>
    public ClassificationTask(Module<Tensor, Tensor> model, MedMnistTask taskType, LossComposite<(Tensor Logits, Tensor Labels)> loss)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        _model = model;
        TaskType = taskType;
        _loss = loss;
    }

    /// <inheritdoc />
    public Module Model => _model;

    /// <inheritdoc />
    public MedMnistTask TaskType { get; }

    /// <inheritdoc />
    public LossValue ComputeLoss(Batch batch, int epoch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = Tensors.NewDisposeScope();
        var logits = _model.Call(batch.Images);
        _loss.Epoch = epoch;
        var value = _loss.Compute((logits, batch.Labels));
        scope.MoveToOuter(value.Total);
        return value;
    }

    /// <inheritdoc />
    public Tensor PredictScores(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = Tensors.NewDisposeScope();
        var logits = _model.Call(batch.Images);
        var scores = TaskType == MedMnistTask.MultiLabel ? logits.Sigmoid() : logits.Softmax(1);
        return scope.MoveToOuter(scores);
    }
}
