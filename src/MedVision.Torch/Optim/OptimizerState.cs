using System.Globalization;
using System.Text.Json;
using MedVision.Torch.Serialization;

namespace MedVision.Torch.Optim;

/// <summary>
/// A snapshot of an optimizer for checkpoints (PyTorch's optimizer state_dict): the optimizer type, each group's
/// hyper-parameters and size, and per parameter (flat index over all groups) the step count and copies of the state
/// tensors, keyed "<c>{index}.{name}</c>" (e.g. "3.exp_avg"). It owns its tensors: dispose it.
/// <see cref="Save(string)"/> and <see cref="Load(string)"/> store it as a safetensors file.
/// </summary>
public sealed class OptimizerState : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    /// <summary>
    /// Creates a state from its parts, taking ownership of the tensors (they are removed from any dispose scope and
    /// disposed with this object).
    /// </summary>
    /// <exception cref="ArgumentException">The parts are inconsistent: group counts differ, a tensor key is not "index.name", or a value is null.</exception>
    public OptimizerState(string optimizerType, IReadOnlyList<IReadOnlyDictionary<string, double>> groups, IReadOnlyList<int> groupSizes,
        IReadOnlyDictionary<int, long> steps, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentException.ThrowIfNullOrEmpty(optimizerType);
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(groupSizes);
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(tensors);
        if (groups.Count != groupSizes.Count)
            throw new ArgumentException($"There are {groups.Count} groups of hyper-parameters but {groupSizes.Count} group sizes.", nameof(groupSizes));
        for (int g = 0; g < groups.Count; g++)
        {
            if (groups[g] is null) throw new ArgumentException($"The hyper-parameters of group {g} are null.", nameof(groups));
            if (groupSizes[g] < 0) throw new ArgumentException($"Group {g} has a negative size ({groupSizes[g]}).", nameof(groupSizes));
        }
        foreach (var (key, tensor) in tensors)
        {
            ParseTensorKey(key);
            if (tensor is null) throw new ArgumentException($"The state tensor '{key}' is null.", nameof(tensors));
            if (tensor.IsDisposed) throw new ArgumentException($"The state tensor '{key}' has been disposed.", nameof(tensors));
        }
        OptimizerType = optimizerType;
        Groups = groups.Select(g => (IReadOnlyDictionary<string, double>)new Dictionary<string, double>(g, StringComparer.Ordinal)).ToArray();
        GroupSizes = groupSizes.ToArray();
        Steps = new Dictionary<int, long>(steps);
        _tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in tensors) _tensors[key] = DisposeScope.Detach(tensor);
    }

    /// <summary>The optimizer class that exported the state (e.g. "Adam").</summary>
    public string OptimizerType { get; }

    /// <summary>Each group's hyper-parameters under PyTorch's names ("lr", "weight_decay", "momentum", …).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Groups { get; }

    /// <summary>Number of parameters in each group.</summary>
    public IReadOnlyList<int> GroupSizes { get; }

    /// <summary>Step count per parameter with state, by flat parameter index.</summary>
    public IReadOnlyDictionary<int, long> Steps { get; }

    /// <summary>Copies of the state tensors, keyed "<c>{index}.{name}</c>"; owned by this object.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _tensors;
        }
    }

    /// <summary>True once disposed.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>The key of state tensor <paramref name="name"/> of flat parameter <paramref name="index"/>.</summary>
    public static string TensorKey(int index, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return index.ToString(CultureInfo.InvariantCulture) + "." + name;
    }

    /// <summary>Splits a key made by <see cref="TensorKey"/> into the flat parameter index and the state name.</summary>
    /// <exception cref="ArgumentException">The key is not "index.name" with a non-negative integer index.</exception>
    public static (int Index, string Name) ParseTensorKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == key.Length - 1
            || !int.TryParse(key.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            throw new ArgumentException($"'{key}' is not a state tensor key of the form '<parameter index>.<name>', e.g. '0.exp_avg'.", nameof(key));
        return (index, key[(dot + 1)..]);
    }

    private const string FormatName = "medvision.optimizer_state";

    /// <summary>
    /// Writes the state atomically to a safetensors file: the tensors under their keys, and the optimizer type, group
    /// hyper-parameters, group sizes and step counts as JSON in the metadata.
    /// </summary>
    public void Save(string path)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["optimizer_type"] = OptimizerType,
            ["groups"] = JsonSerializer.Serialize(Groups.Select(g => g.ToDictionary(kv => kv.Key, kv => kv.Value)).ToArray()),
            ["group_sizes"] = JsonSerializer.Serialize(GroupSizes.ToArray()),
            ["steps"] = JsonSerializer.Serialize(Steps.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value)),
        };
        SafeTensors.Save(path, _tensors, metadata);
    }

    /// <summary>Reads a state written by <see cref="Save(string)"/>; the caller disposes it.</summary>
    /// <exception cref="SafeTensorsFormatException">The file is not a valid safetensors file or not an optimizer state.</exception>
    public static OptimizerState Load(string path)
    {
        using var file = SafeTensors.Load(path);
        var meta = file.Metadata;
        if (!meta.TryGetValue("format", out var format) || format != FormatName)
            throw new SafeTensorsFormatException($"'{path}': not an optimizer state (its metadata has no \"format\": \"{FormatName}\").");
        try
        {
            var groups = JsonSerializer.Deserialize<Dictionary<string, double>[]>(Required(meta, "groups", path))
                ?? throw new JsonException("groups is null");
            var sizes = JsonSerializer.Deserialize<int[]>(Required(meta, "group_sizes", path)) ?? throw new JsonException("group_sizes is null");
            var steps = (JsonSerializer.Deserialize<Dictionary<string, long>>(Required(meta, "steps", path)) ?? throw new JsonException("steps is null"))
                .ToDictionary(kv => int.Parse(kv.Key, NumberStyles.None, CultureInfo.InvariantCulture), kv => kv.Value);
            var tensors = file.Keys.ToList().ToDictionary(k => k, file.Take);
            try
            {
                return new OptimizerState(Required(meta, "optimizer_type", path), groups, sizes, steps, tensors);
            }
            catch
            {
                foreach (var t in tensors.Values) t.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException or ArgumentException)
        {
            throw new SafeTensorsFormatException($"'{path}': the optimizer state metadata is invalid ({e.Message}).", e);
        }
    }

    private static string Required(IReadOnlyDictionary<string, string> meta, string key, string path)
        => meta.TryGetValue(key, out var v) ? v : throw new SafeTensorsFormatException($"'{path}': the optimizer state metadata has no '{key}'.");

    /// <summary>Disposes the state tensors.</summary>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
