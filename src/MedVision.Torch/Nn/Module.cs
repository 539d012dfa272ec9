using System.Text;

namespace MedVision.Torch.Nn;

/// <summary>
/// Base class of every network part (PyTorch's nn.Module): owns named parameters, buffers and submodules, whose
/// dotted names ("layer1.0.conv1.weight") are the state-dict keys. Disposing a module disposes everything it owns.
/// Construction, weight loading (<see cref="LoadStateDict"/>) and device placement (<see cref="To(Device)"/>) are separate calls.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<KeyValuePair<string, Tensor?>> _parameters = new();
    private readonly List<KeyValuePair<string, Tensor?>> _buffers = new();
    private readonly HashSet<string> _nonPersistent = new();
    private readonly List<KeyValuePair<string, Module>> _modules = new();
    private bool _disposed;

    /// <summary>True in training mode (the default), false after <see cref="Eval"/>.</summary>
    public bool Training { get; protected set; } = true;

    /// <summary>The display name of the module type, used in summaries.</summary>
    public virtual string TypeName => GetType().Name;

    // ---------------------------------------------------------------- registration

    /// <summary>Registers (or replaces) a parameter. The module takes ownership; a null value registers an absent optional parameter.</summary>
    protected Tensor? RegisterParameter(string name, Tensor? parameter)
    {
        ValidateName(name);
        if (parameter is not null)
        {
            if (!parameter.ScalarType.IsFloatingPoint()) throw new ArgumentException($"Parameter '{name}' must be floating point, not {parameter.ScalarType}.", nameof(parameter));
            DisposeScope.Detach(parameter);
            if (!parameter.RequiresGrad) parameter.RequiresGrad = true;
        }
        Set(_parameters, name, parameter);
        return parameter;
    }

    /// <summary>Registers (or replaces) a buffer: state that is not trained (running statistics). Persistent buffers are part of the state dict.</summary>
    protected Tensor? RegisterBuffer(string name, Tensor? buffer, bool persistent = true)
    {
        ValidateName(name);
        if (buffer is not null) DisposeScope.Detach(buffer);
        Set(_buffers, name, buffer);
        if (persistent) _nonPersistent.Remove(name); else _nonPersistent.Add(name);
        return buffer;
    }

    /// <summary>
    /// Runs <paramref name="register"/>, the part of a constructor that allocates and registers tensors; if it throws
    /// (e.g. out of memory for the bias after the weight fitted, or an initialiser failing), everything registered so
    /// far is disposed before the exception leaves the constructor, so no native memory waits for a finalizer.
    /// </summary>
    protected void DisposeIfThrows(Action register)
    {
        ArgumentNullException.ThrowIfNull(register);
        try
        {
            register();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Registers a submodule under <paramref name="name"/>; its parameters are prefixed with "name.".</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ValidateName(name);
        ArgumentNullException.ThrowIfNull(module);
        if (ReferenceEquals(module, this)) throw new ArgumentException("A module cannot contain itself.", nameof(module));
        var i = _modules.FindIndex(kv => kv.Key == name);
        if (i >= 0) _modules[i] = new(name, module); else _modules.Add(new(name, module));
        return module;
    }

    /// <summary>The parameter registered under <paramref name="name"/> (null for an absent optional one).</summary>
    protected Tensor? GetParameter(string name) => Find(_parameters, name);

    /// <summary>The buffer registered under <paramref name="name"/>.</summary>
    protected Tensor? GetBuffer(string name) => Find(_buffers, name);

    private static Tensor? Find(List<KeyValuePair<string, Tensor?>> list, string name)
    {
        foreach (var kv in list) if (kv.Key == name) return kv.Value;
        throw new KeyNotFoundException($"'{name}' is not registered.");
    }

    private static void Set(List<KeyValuePair<string, Tensor?>> list, string name, Tensor? value)
    {
        var i = list.FindIndex(kv => kv.Key == name);
        if (i >= 0)
        {
            if (list[i].Value is { } old && !ReferenceEquals(old, value)) old.Dispose();
            list[i] = new(name, value);
        }
        else list.Add(new(name, value));
    }

    private void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"'{name}' is not a valid name: names are non-empty and contain no dots.", nameof(name));
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    // ---------------------------------------------------------------- traversal

    /// <summary>Direct submodules with their names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _modules.Select(kv => (kv.Key, kv.Value));

    /// <summary>Direct submodules.</summary>
    public IEnumerable<Module> Children() => _modules.Select(kv => kv.Value);

    /// <summary>
    /// This module and all descendants with dotted names ("" for this one), depth first in registration order. A module
    /// registered in several places (a shared block) is listed once, under its first name, unless
    /// <paramref name="removeDuplicate"/> is false (PyTorch's <c>named_modules(remove_duplicate=True)</c>).
    /// </summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "", bool removeDuplicate = true)
    {
        ArgumentNullException.ThrowIfNull(prefix); // here, not when the result is first enumerated
        return Enumerate();

        // a fresh set for each enumeration of the result
        IEnumerable<(string Name, Module Module)> Enumerate()
        {
            foreach (var x in Walk(prefix, removeDuplicate ? new HashSet<Module>(ReferenceEqualityComparer.Instance) : null)) yield return x;
        }
    }

    /// <summary>This module and all descendants, each once, depth first in registration order (PyTorch's <c>modules()</c>).</summary>
    public IEnumerable<Module> Modules() => NamedModules().Select(m => m.Module);

    private IEnumerable<(string Name, Module Module)> Walk(string prefix, HashSet<Module>? seen)
    {
        if (seen is not null && !seen.Add(this)) yield break;
        yield return (prefix, this);
        foreach (var (name, m) in _modules)
            foreach (var x in m.Walk(Join(prefix, name), seen))
                yield return x;
    }

    /// <summary>
    /// Parameters with dotted names, own first then children's, in registration order. A parameter reachable under
    /// several names (a shared block, tied weights) is listed once, under its first name, unless
    /// <paramref name="removeDuplicate"/> is false — so an optimizer built from <see cref="Parameters"/> steps it once,
    /// as in PyTorch. <see cref="StateDict"/> keeps every name.
    /// </summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters(bool recurse = true, bool removeDuplicate = true)
        => NamedTensors(recurse, removeDuplicate, m => m._parameters);

    /// <summary>All parameters (for an optimizer), each once.</summary>
    public IEnumerable<Tensor> Parameters(bool recurse = true) => NamedParameters(recurse).Select(p => p.Parameter);

    /// <summary>Buffers with dotted names; like <see cref="NamedParameters"/>, each buffer once unless <paramref name="removeDuplicate"/> is false.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool recurse = true, bool removeDuplicate = true)
        => NamedTensors(recurse, removeDuplicate, m => m._buffers);

    private IEnumerable<(string Name, Tensor Tensor)> NamedTensors(bool recurse, bool removeDuplicate, Func<Module, List<KeyValuePair<string, Tensor?>>> slots)
    {
        var seen = removeDuplicate ? new HashSet<Tensor>(ReferenceEqualityComparer.Instance) : null;
        foreach (var (prefix, m) in recurse ? NamedModules(removeDuplicate: removeDuplicate) : new[] { ("", this) }.AsEnumerable())
            foreach (var kv in slots(m))
                if (kv.Value is not null && (seen is null || seen.Add(kv.Value))) yield return (Join(prefix, kv.Key), kv.Value);
    }

    /// <summary>All buffers.</summary>
    public IEnumerable<Tensor> Buffers(bool recurse = true) => NamedBuffers(recurse).Select(b => b.Buffer);

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";

    /// <summary>Number of parameter elements (all, or only those that require gradients).</summary>
    public long ParameterCount(bool trainableOnly = false)
        => Parameters().Where(p => !trainableOnly || p.RequiresGrad).Sum(p => p.NumElements);

    // ---------------------------------------------------------------- modes and gradients

    /// <summary>Sets training mode on this module and every descendant; returns this module.</summary>
    public Module Train(bool mode = true)
    {
        foreach (var (_, m) in NamedModules()) m.Training = mode;
        return this;
    }

    /// <summary>Sets evaluation mode (BatchNorm uses running statistics, Dropout is off); returns this module.</summary>
    public Module Eval() => Train(false);

    /// <summary>Clears the gradients of every parameter (PyTorch's zero_grad(set_to_none=True)).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.Grad = null;
    }

    /// <summary>Turns gradient recording on or off for every parameter (freezing a backbone, for example).</summary>
    public Module RequiresGrad(bool requiresGrad = true)
    {
        foreach (var p in Parameters()) p.RequiresGrad = requiresGrad;
        return this;
    }

    // ---------------------------------------------------------------- device and dtype

    /// <summary>
    /// Moves every parameter (with its gradient) and buffer to <paramref name="device"/>; returns this module. As in
    /// PyTorch, each tensor is moved in place: it stays the same <see cref="Tensor"/>, so an optimizer created before
    /// keeps stepping it (its state tensors, if any, stay where they were) and tied weights stay tied.
    /// </summary>
    public Module To(Device device) => Convert(t => t.To(t.ScalarType, device));

    /// <summary>
    /// Converts floating-point parameters (with their gradients) and buffers to <paramref name="type"/>, in place like
    /// <see cref="To(Device)"/>; returns this module.
    /// </summary>
    public Module To(ScalarType type)
    {
        if (!type.IsFloatingPoint()) throw new ArgumentException($"Modules can only be converted to floating-point types, not {type}.", nameof(type));
        return Convert(t => t.ScalarType.IsFloatingPoint() ? t.To(type) : t.To(t.ScalarType, t.Device));
    }

    private Module Convert(Func<Tensor, Tensor> convert)
    {
        // Each tensor is converted in place (PyTorch's param.data = fn(param.data), and the same for its gradient): it
        // stays the same Tensor, so optimizers and other references made before keep working and tied weights stay
        // tied; a tensor registered in several modules is converted once.
        var done = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        using (Tensors.NoGrad())
        {
            foreach (var (_, m) in NamedModules())
            {
                foreach (var kv in m._parameters)
                {
                    if (kv.Value is not { } p || !done.Add(p)) continue;
                    ConvertInPlace(p, convert);
                    using var grad = p.Grad;
                    if (grad is not null) ConvertInPlace(grad, convert);
                }
                foreach (var kv in m._buffers)
                    if (kv.Value is { } b && done.Add(b)) ConvertInPlace(b, convert);
                m.OnTensorsConverted();
            }
        }
        return this;
    }

    private static void ConvertInPlace(Tensor tensor, Func<Tensor, Tensor> convert)
    {
        using var converted = convert(tensor);
        if (!converted.IsSameTensor(tensor)) tensor.SetData(converted);
    }

    /// <summary>
    /// Called on each module after <see cref="To(Device)"/> or <see cref="To(ScalarType)"/> converted its own
    /// parameters and buffers. A module that keeps something derived from them (a convolution's pre-packed weight)
    /// overrides this to drop or update it. (A TorchScript module needs nothing: its slots hold the converted tensors.)
    /// </summary>
    protected virtual void OnTensorsConverted()
    {
    }

    // ---------------------------------------------------------------- state dict

    /// <summary>
    /// Parameters and persistent buffers by dotted name (PyTorch's state_dict). The tensors are the module's own:
    /// read or save them, do not dispose them. Like PyTorch's, it names a shared block's tensors under each of its
    /// names (the same tensor under both), so a checkpoint loads into the module it came from.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (prefix, m) in NamedModules(removeDuplicate: false))
        {
            foreach (var kv in m._parameters) if (kv.Value is not null) result[Join(prefix, kv.Key)] = kv.Value;
            foreach (var kv in m._buffers) if (kv.Value is not null && !m._nonPersistent.Contains(kv.Key)) result[Join(prefix, kv.Key)] = kv.Value;
        }
        return result;
    }

    /// <summary>
    /// A snapshot of <see cref="StateDict"/>: detached copies of every parameter and persistent buffer, owned by the
    /// caller (in no dispose scope; dispose them when done), e.g. to keep the best weights while training goes on.
    /// </summary>
    public Dictionary<string, Tensor> CloneStateDict()
    {
        using var noGrad = Tensors.NoGrad();
        // The scope frees the detached views the copies are made from (they would hold the weights' storage until a GC).
        using var scope = Tensors.NewDisposeScope();
        return StateDict().ToDictionary(kv => kv.Key, kv => DisposeScope.Detach(kv.Value.Detach().Clone()));
    }

    /// <summary>
    /// Copies values from <paramref name="stateDict"/> into this module's parameters and buffers (converted to each
    /// one's dtype and device). Strict loading throws <see cref="StateDictMismatchException"/> naming every missing key,
    /// unexpected key and shape mismatch, and changes nothing; non-strict loading copies what matches and reports the rest.
    /// </summary>
    public StateDictLoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var own = StateDict();
        var missing = own.Keys.Where(k => !stateDict.ContainsKey(k)).ToList();
        var unexpected = stateDict.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = new List<string>();
        foreach (var (key, target) in own)
        {
            if (!stateDict.TryGetValue(key, out var source)) continue;
            var a = target.CachedShape;
            var b = source.CachedShape;
            if (!a.SequenceEqual(b)) mismatched.Add($"{key}: expected [{string.Join(", ", a)}], got [{string.Join(", ", b)}]");
        }
        var result = new StateDictLoadResult(missing, unexpected, mismatched);
        if (strict && !result.IsExactMatch) throw new StateDictMismatchException(result);
        using (Tensors.NoGrad())
        {
            foreach (var (key, target) in own)
            {
                if (!stateDict.TryGetValue(key, out var source) || !target.CachedShape.SequenceEqual(source.CachedShape)) continue;
                target.CopyInPlace(source);
            }
        }
        return result;
    }

    // ---------------------------------------------------------------- description

    /// <summary>The module tree, one line per module, with parameter counts (PyTorch's repr).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Describe(sb, "", 0);
        return sb.ToString().TrimEnd();
    }

    /// <summary>A one-line description of this module's own options, e.g. "3, 64, kernel_size=(7, 7)".</summary>
    protected virtual string ExtraRepr() => "";

    private void Describe(StringBuilder sb, string name, int indent)
    {
        sb.Append(' ', indent * 2);
        if (name.Length > 0) sb.Append('(').Append(name).Append("): ");
        sb.Append(TypeName).Append('(').Append(ExtraRepr());
        if (_modules.Count == 0) { sb.AppendLine(")"); return; }
        sb.AppendLine();
        foreach (var (n, m) in _modules) m.Describe(sb, n, indent + 1);
        sb.Append(' ', indent * 2).AppendLine(")");
    }

    // ---------------------------------------------------------------- disposal

    /// <summary>Disposes every parameter, buffer and submodule.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases owned tensors; override to release extra state, then call the base.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (!disposing) return;
        foreach (var kv in _parameters) kv.Value?.Dispose();
        foreach (var kv in _buffers) kv.Value?.Dispose();
        foreach (var kv in _modules) kv.Value.Dispose();
    }
}
