using MedVision.Torch.Nn;

namespace MedVision.Torch.Optim;

/// <summary>
/// An average of a model's weights kept beside the model (torch.optim.swa_utils.AveragedModel): a copy of the averaged
/// entries of its state dict, moved towards the model's by <see cref="Update"/> with the rule of the derived class
/// (<see cref="ExponentialMovingAverage"/>, <see cref="StochasticWeightAverage"/>). The copy lives on the model's device
/// and is freed by <see cref="Dispose"/>.
/// </summary>
public abstract class WeightAverage : IDisposable
{
    private readonly Dictionary<string, Tensor> _shadow;
    private bool _disposed;

    /// <summary>Copies the averaged entries of <paramref name="model"/> (<see cref="SelectEntries"/>) as the starting average.</summary>
    /// <param name="model">The model whose weights are averaged.</param>
    /// <param name="includeBuffers">Whether buffers (batch norm's running statistics) are averaged too, or only parameters.</param>
    protected WeightAverage(Module model, bool includeBuffers)
    {
        ArgumentNullException.ThrowIfNull(model);
        IncludeBuffers = includeBuffers;
        using var noGrad = Tensors.NoGrad();
        using var scope = Tensors.NewDisposeScope(); // frees the detached views the copies are made from
        _shadow = SelectEntries(model).ToDictionary(kv => kv.Key, kv => DisposeScope.Detach(kv.Value.Detach().Clone()));
    }

    /// <summary>Whether buffers are averaged too (PyTorch's <c>use_buffers</c>), or only parameters.</summary>
    public bool IncludeBuffers { get; }

    /// <summary>How many times <see cref="Update"/> has folded the model's weights into the average.</summary>
    public long Updates { get; private set; }

    /// <summary>The averaged entries by state-dict name (owned by this object: read or save them, do not dispose them).</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _shadow;
        }
    }

    /// <summary>The state-dict entries of <paramref name="model"/> that are averaged: every one, or only the parameters.</summary>
    protected IReadOnlyDictionary<string, Tensor> SelectEntries(Module model)
    {
        var all = model.StateDict();
        if (IncludeBuffers) return all;
        var parameters = model.NamedParameters(removeDuplicate: false).Select(p => p.Name).ToHashSet();
        return all.Where(kv => parameters.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    /// <summary>
    /// Folds one floating-point entry of the model into its average; <paramref name="updates"/> is the number of
    /// updates before this one. Called without gradient recording.
    /// </summary>
    protected abstract void Fold(Tensor average, Tensor weight, long updates);

    /// <summary>Folds <paramref name="model"/>'s current weights into the average (integer entries are copied).</summary>
    /// <exception cref="ArgumentException">The model's entries have other names or shapes than the average's.</exception>
    public void Update(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var current = Matching(SelectEntries(model));
        using var noGrad = Tensors.NoGrad();
        foreach (var (name, average) in _shadow)
        {
            var weight = current[name];
            if (average.ScalarType.IsFloatingPoint()) Fold(average, weight, Updates);
            else average.CopyInPlace(weight);
        }
        Updates++;
    }

    /// <summary>Throws when the average cannot be used yet (a stochastic weight average before its first update).</summary>
    protected virtual void RequireUsable()
    {
    }

    /// <summary>Copies the averaged weights into <paramref name="model"/> (its other entries are left as they are).</summary>
    /// <exception cref="ArgumentException">The model's entries have other names or shapes than the average's.</exception>
    public void CopyTo(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        RequireUsable();
        CopyInto(Matching(SelectEntries(model)));
    }

    private void CopyInto(IReadOnlyDictionary<string, Tensor> target)
    {
        using var noGrad = Tensors.NoGrad();
        foreach (var (name, average) in _shadow) target[name].CopyInPlace(average);
    }

    /// <summary>
    /// Puts the averaged weights into <paramref name="model"/> until the returned object is disposed, which restores
    /// the model's whole state dict — buffers included, so batch-norm statistics recomputed for the average
    /// (<see cref="StochasticWeightAverage.UpdateBatchNorm(Module{Tensor, Tensor}, IEnumerable{Tensor})"/>) are undone too.
    /// </summary>
    public IDisposable ApplyTo(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        RequireUsable();
        var target = Matching(SelectEntries(model));
        var saved = model.CloneStateDict();
        CopyInto(target);
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
        foreach (var (name, average) in _shadow) average.CopyInPlace(source[name]);
        Updates = updates;
    }

    /// <summary>Frees the averaged weights.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _shadow.Values) t.Dispose();
        _shadow.Clear();
        GC.SuppressFinalize(this);
    }

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
