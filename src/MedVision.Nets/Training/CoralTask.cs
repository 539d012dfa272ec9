using MedVision.Nets.Data.Loading;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Training;

/// <summary>
/// An ordinal-regression model with a CORAL head (Cao, Mirjalili and Raschka 2020) — e.g. a ResNet built with
/// <see cref="Models.ResNetBuilder.WithCoralHead"/> — giving K − 1 cumulative logits (N, K − 1) for K ordered grades:
/// trained with <see cref="CoralLoss"/> against the grades (optionally weighting each threshold), evaluated on the
/// class probabilities <see cref="OrdinalDecoding.ToClassProbabilities(Tensor)"/> makes of them, so AUC, ACC and the ordinal
/// measures read the same as for a cross-entropy classifier. The task type is <see cref="MedMnistTask.OrdinalRegression"/>.
/// </summary>
/// <example><code>
/// using var model = ResNet.Builder().WithDepth(18).ForInput(3).WithSmallInputStem().WithClasses(5).WithCoralHead().Build();
/// var trainer = Trainer.Create(new CoralTask(model)).TrainOn(train).ValidateOn(validation).ForEpochs(100).Build();
/// </code></example>
public sealed class CoralTask : ITrainingTask
{
    private readonly Module<Tensor, Tensor> _model;
    private readonly Tensor? _thresholdWeights;
    private BatchMixing? _mixing;

    /// <summary>Creates the task.</summary>
    /// <param name="model">A network giving cumulative logits (N, K − 1).</param>
    /// <param name="thresholdWeights">
    /// Optional weights of the K − 1 thresholds' binary cross-entropies (CORAL's importance weights), one per threshold,
    /// non-negative; null weighs them equally. The tensor stays the caller's (copied to the logits' device per step when elsewhere).
    /// </param>
    public CoralTask(Module<Tensor, Tensor> model, Tensor? thresholdWeights = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (thresholdWeights is not null)
        {
            if (thresholdWeights.Dim != 1 || thresholdWeights.NumElements < 1)
                throw new ArgumentException($"Threshold weights must be one weight per threshold (K − 1), got shape [{string.Join(", ", thresholdWeights.Shape)}].", nameof(thresholdWeights));
            using var values = thresholdWeights.To(ScalarType.Float64, Device.Cpu);
            if (values.ToArray<double>().Any(w => !double.IsFinite(w) || w < 0))
                throw new ArgumentException("Threshold weights must be finite and non-negative.", nameof(thresholdWeights));
        }
        _model = model;
        _thresholdWeights = thresholdWeights;
    }

    /// <inheritdoc />
    public Module Model => _model;

    /// <inheritdoc />
    /// <remarks>Always <see cref="MedMnistTask.OrdinalRegression"/>.</remarks>
    public MedMnistTask TaskType => MedMnistTask.OrdinalRegression;

    /// <inheritdoc />
    /// <remarks>
    /// <see cref="OrdinalDecision.Median"/>: CORAL's prediction, the number of thresholds with P(grade &gt; k) &gt; 0.5. The
    /// most probable grade of a CORAL head's probabilities falls on the end grades when it spreads its probability.
    /// </remarks>
    public OrdinalDecision Decision => OrdinalDecision.Median;

    /// <summary>The batch mixing applied while training (null: none).</summary>
    public BatchMixing? Mixing => _mixing;

    /// <summary>
    /// A task like this one whose training batches are mixed (<see cref="BatchMixing.Mixup"/> or
    /// <see cref="BatchMixing.CutMix"/>): the loss is λ·L(own grades) + (1 − λ)·L(partners' grades).
    /// </summary>
    public CoralTask WithBatchMixing(BatchMixing mixing)
    {
        ArgumentNullException.ThrowIfNull(mixing);
        return new CoralTask(_model, _thresholdWeights) { _mixing = mixing };
    }

    /// <inheritdoc />
    public LossValue ComputeLoss(Batch batch, int epoch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = Tensors.NewDisposeScope();
        Tensor total;
        if (_mixing is not null && _model.Training && _mixing.Apply(batch.Images) is var (images, partners, lambda))
        {
            var logits = Logits(images);
            var partnerGrades = batch.Labels.IndexSelect(0, partners);
            total = Loss(logits, batch.Labels) * lambda + Loss(logits, partnerGrades) * (1 - lambda);
        }
        else total = Loss(Logits(batch.Images), batch.Labels);
        scope.MoveToOuter(total);
        double value;
        using (Tensors.NoGrad())
        using (var detached = total.Detach()) value = detached.Item();
        return new LossValue(total, new Dictionary<string, double> { ["coral"] = value }, new Dictionary<string, double> { ["coral"] = 1 });
    }

    /// <inheritdoc />
    /// <remarks>The class probabilities of the cumulative logits (<see cref="OrdinalDecoding.ToClassProbabilities(Tensor)"/>), (N, K).</remarks>
    public Tensor PredictScores(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = Tensors.NewDisposeScope();
        var probabilities = OrdinalDecoding.ToClassProbabilities(ClassificationTask.FullPrecision(Logits(batch.Images)));
        return scope.MoveToOuter(probabilities);
    }

    /// <summary>
    /// The model's cumulative logits z (N, K − 1) for a batch, in float32 — what <see cref="PredictScores"/> turns into
    /// the grades' probabilities, and what <see cref="Metrics.TemperatureScaling.FitCumulative(int[], double[,])"/> fits
    /// a temperature to (<see cref="Trainer.PredictCumulativeLogits"/> gathers them over a loader).
    /// </summary>
    public Tensor PredictCumulativeLogits(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = Tensors.NewDisposeScope();
        return scope.MoveToOuter(ClassificationTask.FullPrecision(Logits(batch.Images)));
    }

    private Tensor Logits(Tensor images)
    {
        var logits = _model.Call(images);
        if (logits.Dim != 2 || logits.Size(1) < 1)
            throw new InvalidOperationException($"A CORAL model gives cumulative logits (N, K − 1); this one gave shape [{string.Join(", ", logits.Shape)}].");
        if (_thresholdWeights is not null && _thresholdWeights.NumElements != logits.Size(1))
            throw new InvalidOperationException($"{_thresholdWeights.NumElements} threshold weights were given for a model with {logits.Size(1)} thresholds (K − 1).");
        return logits;
    }

    private Tensor Loss(Tensor logits, Tensor grades)
    {
        var weights = _thresholdWeights is null || _thresholdWeights.Device == logits.Device ? _thresholdWeights : _thresholdWeights.To(logits.Device);
        return CoralLoss.Compute(logits, grades, weights);
    }
}
