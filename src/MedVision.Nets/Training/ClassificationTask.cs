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
    private BatchMixing? _mixing;

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
            : LossComposite.For<(Tensor Logits, Tensor Labels)>().Add("cross_entropy", o => Functional.CrossEntropy(o.Logits, o.Labels, OnDeviceOf(classWeights, o.Logits), labelSmoothing: labelSmoothing)).Build();
    }

    // The class weights where the logits are (the caller's tensor stays where it was made; a copy per step on another
    // device, e.g. CPU weights for a model the trainer moved to CUDA, freed with the step's tensors).
    private static Tensor? OnDeviceOf(Tensor? weights, Tensor logits) =>
        weights is null || weights.Device == logits.Device ? weights : weights.To(logits.Device);

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

    /// <summary>The batch mixing applied while training (null: none).</summary>
    public BatchMixing? Mixing => _mixing;

    /// <summary>
    /// A task like this one whose training batches are mixed (<see cref="BatchMixing.Mixup"/> or
    /// <see cref="BatchMixing.CutMix"/>): the loss is λ·L(own labels) + (1 − λ)·L(partners' labels), for multi-label
    /// tasks the loss of the mixed label vectors. Only batches seen in training mode are mixed.
    /// </summary>
    public ClassificationTask WithBatchMixing(BatchMixing mixing)
    {
        ArgumentNullException.ThrowIfNull(mixing);
        return new ClassificationTask(_model, TaskType, _loss) { _mixing = mixing };
    }

    /// <inheritdoc />
    public LossValue ComputeLoss(Batch batch, int epoch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = Tensors.NewDisposeScope();
        _loss.Epoch = epoch;
        if (_mixing is not null && _model.Training && _mixing.Apply(batch.Images) is var (images, partners, lambda))
        {
            var logits = _model.Call(images);
            var partnerLabels = batch.Labels.IndexSelect(0, partners);
            if (TaskType == MedMnistTask.MultiLabel)
            {
                var labels = batch.Labels.To(logits.ScalarType) * lambda + partnerLabels.To(logits.ScalarType) * (1 - lambda);
                var mixedValue = _loss.Compute((logits, labels));
                scope.MoveToOuter(mixedValue.Total);
                return mixedValue;
            }
            using var own = _loss.Compute((logits, batch.Labels));
            using var other = _loss.Compute((logits, partnerLabels));
            var total = own.Total * lambda + other.Total * (1 - lambda);
            var terms = own.Terms.ToDictionary(kv => kv.Key, kv => lambda * kv.Value + (1 - lambda) * other.Terms[kv.Key]);
            scope.MoveToOuter(total);
            return new LossValue(total, terms, own.Weights);
        }
        var value = _loss.Compute((_model.Call(batch.Images), batch.Labels));
        scope.MoveToOuter(value.Total);
        return value;
    }

    /// <inheritdoc />
    public Tensor PredictScores(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = Tensors.NewDisposeScope();
        // under mixed precision the logits are bfloat16: softmax/sigmoid in float32, as the predictor computes them
        var logits = FullPrecision(_model.Call(batch.Images));
        var scores = TaskType == MedMnistTask.MultiLabel ? logits.Sigmoid() : logits.Softmax(1);
        return scope.MoveToOuter(scores);
    }

    /// <summary>Float16/bfloat16 logits (from a forward pass under autocast) as float32; others unchanged.</summary>
    internal static Tensor FullPrecision(Tensor logits)
        => logits.ScalarType is ScalarType.BFloat16 or ScalarType.Float16 ? logits.To(ScalarType.Float32) : logits;
}
