using System.Diagnostics.CodeAnalysis;

namespace MedVision.Torch.Optim;

/// <summary>
/// The state an optimizer keeps for one parameter: a step count and named tensors (PyTorch's names, e.g.
/// "momentum_buffer", "exp_avg"). The optimizer owns these tensors: read them, but do not dispose them.
/// </summary>
public sealed class ParameterState
{
    private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    internal ParameterState()
    {
    }

    /// <summary>Number of optimisation steps applied to the parameter.</summary>
    public long Step { get; set; }

    /// <summary>The names of the state tensors.</summary>
    public IReadOnlyCollection<string> Names => _tensors.Keys;

    /// <summary>True when there is no step count and no state tensor (the parameter has not been updated yet).</summary>
    public bool IsEmpty => Step == 0 && _tensors.Count == 0;

    /// <summary>Looks up a state tensor (owned by the optimizer: do not dispose it).</summary>
    public bool TryGetTensor(string name, [NotNullWhen(true)] out Tensor? tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _tensors.TryGetValue(name, out tensor);
    }

    /// <summary>The state tensor <paramref name="name"/> (owned by the optimizer: do not dispose it).</summary>
    /// <exception cref="KeyNotFoundException">There is no state tensor with that name.</exception>
    public Tensor GetTensor(string name)
        => TryGetTensor(name, out var t) ? t : throw new KeyNotFoundException($"The parameter has no state tensor '{name}' (it has: {string.Join(", ", _tensors.Keys)}).");

    /// <summary>
    /// The state tensor <paramref name="name"/>, created first as zeros of <paramref name="like"/>'s shape, dtype and
    /// device when the parameter has none yet (how PyTorch's optimizers initialise their buffers). Owned by the
    /// optimizer: do not dispose it.
    /// </summary>
    public Tensor GetOrAddZeros(string name, Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        if (TryGetTensor(name, out var existing)) return existing;
        var zeros = Tensors.ZerosLike(like);
        SetTensor(name, zeros);
        return zeros;
    }

    /// <summary>
    /// Stores <paramref name="tensor"/> under <paramref name="name"/>, taking ownership of it (it is removed from any
    /// dispose scope); a tensor previously stored under that name is disposed.
    /// </summary>
    public void SetTensor(string name, Tensor tensor)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(tensor);
        DisposeScope.Detach(tensor);
        if (_tensors.TryGetValue(name, out var old) && !ReferenceEquals(old, tensor)) old.Dispose();
        _tensors[name] = tensor;
    }

    /// <summary>Disposes every state tensor and resets the step count.</summary>
    public void Clear()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
        Step = 0;
    }
}
