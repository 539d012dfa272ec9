using System.Globalization;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Optim;

/// <summary>
/// An exponential moving average of a model's weights (Polyak averaging; torch.optim.swa_utils.AveragedModel with an
/// EMA average function and <c>use_buffers=True</c>): after each optimizer step, every floating-point entry of the
/// state dict moves towards the model's, <c>shadow = decay · shadow + (1 − decay) · weight</c>; other entries (such as
/// batch norm's step counter) are copied. Evaluating with the averaged weights usually gives a smoother, better
/// generalising model than the last step's. The shadow copy lives on the model's device and is freed by
/// <see cref="WeightAverage.Dispose"/>. The average starts at the weights it is made from and keeps decay^steps of them;
/// with <see cref="Warmup"/> the decay of update n (0-based) is min(decay, (1 + n) / (10 + n)), TensorFlow's
/// <c>ExponentialMovingAverage(num_updates=…)</c>, so the untrained start is forgotten within the first updates
/// whatever the decay.
/// </summary>
/// <example><code>
/// using var ema = new ExponentialMovingAverage(model, decay: 0.999);
/// // after each optimizer.Step():
/// ema.Update(model);
/// using (ema.ApplyTo(model)) { /* evaluate with the averaged weights */ }   // the training weights come back afterwards
/// </code></example>
public sealed class ExponentialMovingAverage : WeightAverage
{
    /// <summary>Starts the average at the model's current weights.</summary>
    /// <param name="model">The model whose state dict is averaged.</param>
    /// <param name="decay">The weight of the old average per update, in [0, 1).</param>
    /// <param name="warmup">Lower the decay of the first updates to (1 + n) / (10 + n) (see <see cref="DecayAt"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decay"/> is outside [0, 1).</exception>
    public ExponentialMovingAverage(Module model, double decay = 0.999, bool warmup = false) : base(CheckDecay(model, decay), includeBuffers: true)
    {
        Decay = decay;
        Warmup = warmup;
    }

    // Checked before the base constructor copies the weights, so that a bad argument allocates nothing.
    private static Module CheckDecay(Module model, double decay)
        => decay is >= 0 and < 1 ? model : throw new ArgumentOutOfRangeException(nameof(decay), decay, "The decay must lie in [0, 1).");

    /// <summary>The weight of the old average in each update (after the warm-up, with <see cref="Warmup"/>).</summary>
    public double Decay { get; }

    /// <summary>Whether the first updates decay less: (1 + n) / (10 + n) for update n while that is below <see cref="Decay"/>.</summary>
    public bool Warmup { get; }

    /// <summary>The decay of update <paramref name="updates"/> (the number of updates before it): <see cref="Decay"/>, or with <see cref="Warmup"/> min(Decay, (1 + n) / (10 + n)) — 0.1, 0.18, 0.25, … .</summary>
    public double DecayAt(long updates)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(updates);
        return Warmup ? Math.Min(Decay, (1.0 + updates) / (10.0 + updates)) : Decay;
    }

    /// <inheritdoc />
    protected override void Fold(Tensor average, Tensor weight, long updates) => average.LerpInPlace(weight, 1 - DecayAt(updates));

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"ExponentialMovingAverage(decay {Decay}{(Warmup ? ", warm-up" : "")}, {Updates} updates, {StateDict.Count} tensors)");
}
