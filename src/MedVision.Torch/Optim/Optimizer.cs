namespace MedVision.Torch.Optim;

/// <summary>
/// Base of the optimizers (torch.optim.Optimizer): parameter groups, per-parameter state, <see cref="ZeroGrad"/>,
/// <see cref="Step"/> and checkpoint export/import (<see cref="GetState"/>, <see cref="LoadState"/>). The optimizer owns
/// its state tensors and frees them in <see cref="Dispose()"/>; it references, but does not own, the parameters.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly ParameterGroup[] _groups;
    private readonly ParameterState[][] _state;
    private bool _disposed;

    /// <summary>Creates an optimizer over one or more parameter groups.</summary>
    /// <exception cref="ArgumentException">There are no groups or no parameters, a group is null, or a parameter appears in more than one group.</exception>
    protected Optimizer(IEnumerable<ParameterGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _groups = groups.ToArray();
        if (_groups.Length == 0) throw new ArgumentException("The optimizer needs at least one parameter group.", nameof(groups));
        var seen = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        for (int g = 0; g < _groups.Length; g++)
        {
            if (_groups[g] is null) throw new ArgumentException($"Parameter group {g} is null.", nameof(groups));
            var parameters = _groups[g].Parameters;
            for (int i = 0; i < parameters.Count; i++)
            {
                if (!seen.TryGetValue(parameters[i], out int first))
                {
                    seen.Add(parameters[i], g);
                    continue;
                }
                // (a group refuses a parameter given twice itself, so first < g here)
                throw new ArgumentException($"Parameter {i} of group {g} also appears in group {first}; every parameter may belong to one group only.", nameof(groups));
            }
        }
        if (seen.Count == 0) throw new ArgumentException("The optimizer got an empty parameter list.", nameof(groups));
        _state = _groups.Select(g => g.Parameters.Select(_ => new ParameterState()).ToArray()).ToArray();
    }

    /// <summary>The parameter groups, in order. Their hyper-parameters may be changed between steps.</summary>
    public IReadOnlyList<ParameterGroup> ParameterGroups => _groups;

    /// <summary>Every parameter of every group, in group order (the order of the flat indices used by <see cref="OptimizerState"/>).</summary>
    public IEnumerable<Tensor> Parameters => _groups.SelectMany(g => g.Parameters);

    /// <summary>The name stored in <see cref="OptimizerState.OptimizerType"/>; <see cref="LoadState"/> only accepts a matching state.</summary>
    protected virtual string TypeName => GetType().Name;

    /// <summary>The state of parameter <paramref name="parameterIndex"/> of group <paramref name="groupIndex"/> (owned by the optimizer).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public ParameterState GetParameterState(int groupIndex, int parameterIndex)
    {
        ThrowIfDisposed();
        if ((uint)groupIndex >= (uint)_state.Length)
            throw new ArgumentOutOfRangeException(nameof(groupIndex), groupIndex, $"The optimizer has {_state.Length} parameter groups.");
        if ((uint)parameterIndex >= (uint)_state[groupIndex].Length)
            throw new ArgumentOutOfRangeException(nameof(parameterIndex), parameterIndex, $"Group {groupIndex} has {_state[groupIndex].Length} parameters.");
        return _state[groupIndex][parameterIndex];
    }

    /// <summary>
    /// Clears the gradients of every parameter. By default they are set to null (PyTorch's <c>set_to_none=True</c>);
    /// with <paramref name="setToNone"/> false existing gradients are zeroed in place instead.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        ThrowIfDisposed();
        using var noGrad = Tensors.NoGrad();
        for (int g = 0; g < _groups.Length; g++)
        {
            for (int i = 0; i < _groups[g].Parameters.Count; i++)
            {
                var p = Live(g, i);
                if (setToNone)
                {
                    p.Grad = null;
                    continue;
                }
                using var grad = p.Grad;
                grad?.ZeroInPlace();
            }
        }
    }

    /// <summary>
    /// Performs one optimisation step on every parameter that has a gradient (others are skipped), without recording
    /// gradients; temporaries are freed before returning.
    /// </summary>
    public void Step()
    {
        ThrowIfDisposed();
        using var noGrad = Tensors.NoGrad();
        for (int g = 0; g < _groups.Length; g++)
        {
            var group = _groups[g];
            for (int i = 0; i < group.Parameters.Count; i++)
            {
                using var scope = Tensors.NewDisposeScope();
                var parameter = Live(g, i);
                var grad = parameter.Grad;
                if (grad is null) continue;
                Update(group, parameter, grad, _state[g][i]);
            }
        }
    }

    // The parameter, or a clear error when it was disposed (usually: its model was disposed before this optimizer).
    private Tensor Live(int g, int i)
    {
        var parameter = _groups[g].Parameters[i];
        if (parameter.IsDisposed)
            throw new InvalidOperationException($"Parameter {i} of group {g} has been disposed: the optimizer references its model's parameters without owning them, so keep the model alive (undisposed) while the optimizer is used.");
        return parameter;
    }

    /// <summary>
    /// Updates one parameter in place from its gradient. Called inside a dispose scope (temporaries are freed
    /// afterwards; tensors to keep must be stored with <see cref="ParameterState.SetTensor"/>) with gradient recording off.
    /// </summary>
    protected abstract void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state);

    /// <summary>
    /// Exports the optimizer state for a checkpoint: each group's hyper-parameters and size, and for every parameter
    /// with state (by flat index over all groups, as in PyTorch's state_dict) its step count and copies of its state
    /// tensors. The caller owns and disposes the result.
    /// </summary>
    public OptimizerState GetState()
    {
        ThrowIfDisposed();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var steps = new Dictionary<int, long>();
        try
        {
            using var noGrad = Tensors.NoGrad();
            int index = 0;
            for (int g = 0; g < _groups.Length; g++)
                for (int i = 0; i < _state[g].Length; i++, index++)
                {
                    var s = _state[g][i];
                    if (s.IsEmpty) continue;
                    steps[index] = s.Step;
                    foreach (var name in s.Names)
                        tensors[OptimizerState.TensorKey(index, name)] = DisposeScope.Detach(s.GetTensor(name).Clone());
                }
            return new OptimizerState(TypeName, _groups.Select(g => g.GetHyperParameters()).ToArray(),
                _groups.Select(g => g.Parameters.Count).ToArray(), steps, tensors);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Restores a state exported by <see cref="GetState"/> (of an optimizer of the same type over parameters of the same
    /// shapes): hyper-parameters, step counts and copies of the state tensors, cast to each parameter's dtype and device (0-dim scalars such as NAdam's mu_product keep their dtype, on the CPU).
    /// Everything is validated before anything changes.
    /// </summary>
    /// <exception cref="ArgumentException">The state belongs to another optimizer type or does not match the groups or parameter shapes.</exception>
    public void LoadState(OptimizerState state)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(state);
        if (state.IsDisposed) throw new ObjectDisposedException(nameof(OptimizerState), "The optimizer state has been disposed.");
        if (state.OptimizerType != TypeName)
            throw new ArgumentException($"The state was exported by a {state.OptimizerType} optimizer and cannot be loaded into a {TypeName}.", nameof(state));
        if (state.Groups.Count != _groups.Length)
            throw new ArgumentException($"The state has {state.Groups.Count} parameter groups but the optimizer has {_groups.Length}.", nameof(state));
        var flat = new List<(int Group, int Index, Tensor Parameter)>();
        for (int g = 0; g < _groups.Length; g++)
        {
            if (state.GroupSizes[g] != _groups[g].Parameters.Count)
                throw new ArgumentException($"Group {g} of the state has {state.GroupSizes[g]} parameters but the optimizer's has {_groups[g].Parameters.Count}.", nameof(state));
            try
            {
                _groups[g].ValidateHyperParameters(state.Groups[g]);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Group {g} of the state has invalid hyper-parameters: {e.Message}", nameof(state), e);
            }
            for (int i = 0; i < _groups[g].Parameters.Count; i++) flat.Add((g, i, _groups[g].Parameters[i]));
        }
        foreach (var (index, step) in state.Steps)
        {
            if (index < 0 || index >= flat.Count)
                throw new ArgumentException($"The state has a step count for parameter {index}, but the optimizer has {flat.Count} parameters.", nameof(state));
            if (step < 0) throw new ArgumentException($"The step count of parameter {index} is negative ({step}).", nameof(state));
        }
        var parsed = new List<(int Index, string Name, Tensor Tensor)>();
        foreach (var (key, tensor) in state.Tensors)
        {
            var (index, name) = OptimizerState.ParseTensorKey(key);
            if (index >= flat.Count)
                throw new ArgumentException($"The state tensor '{key}' belongs to parameter {index}, but the optimizer has {flat.Count} parameters.", nameof(state));
            var want = flat[index].Parameter.Shape;
            var have = tensor.Shape;
            // A 0-dim state tensor is a per-parameter scalar (NAdam's mu_product), not a buffer shaped like the parameter.
            if (have.Length != 0 && !want.AsSpan().SequenceEqual(have))
                throw new ArgumentException($"The state tensor '{key}' has shape [{string.Join(", ", have)}] but parameter {index} has shape [{string.Join(", ", want)}].", nameof(state));
            parsed.Add((index, name, tensor));
        }

        // Copy first, then swap in, so that a failure leaves the optimizer as it was.
        var copies = new List<(int Index, string Name, Tensor Copy)>();
        try
        {
            using var noGrad = Tensors.NoGrad();
            foreach (var (index, name, tensor) in parsed)
            {
                var p = flat[index].Parameter;
                // Buffers take the parameter's dtype and device; scalars keep their dtype and stay on the CPU.
                var copy = tensor.Dim == 0
                    ? tensor.To(tensor.ScalarType, Device.Cpu, copy: true)
                    : tensor.To(tensor.ScalarType.IsFloatingPoint() ? p.ScalarType : tensor.ScalarType, p.Device, copy: true);
                copies.Add((index, name, DisposeScope.Detach(copy)));
            }
        }
        catch
        {
            foreach (var c in copies) c.Copy.Dispose();
            throw;
        }
        for (int g = 0; g < _groups.Length; g++)
        {
            _groups[g].SetHyperParameters(state.Groups[g]);
            foreach (var s in _state[g]) s.Clear();
        }
        foreach (var (index, step) in state.Steps) _state[flat[index].Group][flat[index].Index].Step = step;
        foreach (var (index, name, copy) in copies) _state[flat[index].Group][flat[index].Index].SetTensor(name, copy);
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> once the optimizer has been disposed.</summary>
    protected void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(GetType().Name, "The optimizer has been disposed.");
    }

    /// <summary>Frees the state tensors.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (disposing)
            foreach (var group in _state)
                foreach (var s in group) s.Clear();
    }

    /// <summary>Frees the state tensors. The parameters are not disposed.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
