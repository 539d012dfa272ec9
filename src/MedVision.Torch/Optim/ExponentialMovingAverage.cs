using System.Globalization;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Optim;

/// <summary>
/// An exponential moving average of a model's weights (Polyak averaging; torch.optim.swa_utils.AveragedModel with an
/// EMA average function and <c>use_buffers=True</c>): after each optimizer step, every floating-point entry of the
/// state dict moves towards the model's, <c>shadow = decay · shadow + (1 − decay) · weight</c>; other entries (such as
/// batch norm's step counter) are copied. Evaluating with the averaged weights usually gives a smoother, better
/// generalising model than the last step's. The shadow copy lives on the model's device and is freed by
/// <see cref="Dispose"/>.
/// </summary>
/// <example><code>
/// using var ema = new ExponentialMovingAverage(model, decay: 0.999);
/// // after each optimizer.Step():
/// ema.Update(model);
/// using (ema.ApplyTo(model)) { /* evaluate with the averaged weights */ }   // the training weights come back afterwards
/// </code></example>
public sealed class ExponentialMovingAverage : IDisposable
{
    private readonly Dictionary<string, Tensor> _shadow;
    private bool _disposed;

    /// <summary>Starts the average at the model's current weights.</summary>
    /// <param name="model">The model whose state dict is averaged.</param>
    /// <param name="decay">The weight of the old average per update, in [0, 1).</param>
    public ExponentialMovingAverage(Module model, double decay = 0.999)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(decay >= 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "The decay must lie in [0, 1).");
        Decay = decay;
        _shadow = model.CloneStateDict();
    }

    /// <summary>The weight of the old average in each update.</summary>
    public double Decay { get; }

    /// <summary>How many updates have been applied.</summary>
    public long Updates { get; private set; }

    /// <summary>The averaged state dict (owned by this object: read or save it, do not dispose it).</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _shadow;
        }
    }

    /// <summary>Moves the average towards <paramref name="model"/>'s current weights.</summary>
    /// <exception cref="ArgumentException">The model's state dict has other names or shapes than the average's.</exception>
    public void Update(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var current = Matching(model.StateDict());
        using var noGrad = Tensors.NoGrad();
        foreach (var (name, shadow) in _shadow)
        {
            var weight = current[name];
            if (shadow.ScalarType.IsFloatingPoint()) shadow.LerpInPlace(weight, 1 - Decay);
            else shadow.CopyInPlace(weight);
        }
        Updates++;
    }

    /// <summary>Copies the averaged weights into <paramref name="model"/>.</summary>
    public void CopyTo(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Matching(model.StateDict());
        model.LoadStateDict(_shadow);
    }

    /// <summary>
    /// Puts the averaged weights into <paramref name="model"/> until the returned object is disposed, which restores
    /// the model's own weights (for evaluating the average in the middle of training).
    /// </summary>
    public IDisposable ApplyTo(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Dictionary<string, Tensor> saved;
        using (Tensors.NoGrad())
            saved = Matching(model.StateDict()).ToDictionary(kv => kv.Key, kv => DisposeScope.Detach(kv.Value.Detach().Clone()));
        model.LoadStateDict(_shadow);
        return new Restore(model, saved);
    }

    /// <summary>Replaces the average (e.g. from a checkpoint) and its update count.</summary>
    /// <exception cref="ArgumentException">The names or shapes differ from the average's.</exception>
    public void LoadState(IReadOnlyDictionary<string, Tensor> averaged, long updates)
    {
        ArgumentNullException.ThrowIfNull(averaged);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(updates);
        var source = Matching(averaged);
        using var noGrad = Tensors.NoGrad();
        foreach (var (name, shadow) in _shadow) shadow.CopyInPlace(source[name]);
        Updates = updates;
    }

    /// <summary>Frees the averaged weights.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _shadow.Values) t.Dispose();
        _shadow.Clear();
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ExponentialMovingAverage(decay {Decay}, {Updates} updates, {_shadow.Count} tensors)");

    private IReadOnlyDictionary<string, Tensor> Matching(IReadOnlyDictionary<string, Tensor> other)
    {
        var missing = _shadow.Keys.Where(k => !other.ContainsKey(k)).ToList();
        var extra = other.Keys.Where(k => !_shadow.ContainsKey(k)).ToList();
        var shapes = _shadow.Where(kv => other.TryGetValue(kv.Key, out var t) && !t.CachedShape.SequenceEqual(kv.Value.CachedShape)).Select(kv => kv.Key).ToList();
        if (missing.Count + extra.Count + shapes.Count > 0)
            throw new ArgumentException($"The weights do not match the average's: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}], other shapes [{string.Join(", ", shapes)}].");
        return other;
    }

    private sealed class Restore(Module model, Dictionary<string, Tensor> saved) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            model.LoadStateDict(saved);
            foreach (var t in saved.Values) t.Dispose();
        }
    }
}
