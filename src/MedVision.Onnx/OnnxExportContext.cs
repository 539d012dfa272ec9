using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Onnx;

/// <summary>
/// The graph being written during one export, handed to every module exporter (see <see cref="OnnxExporter.Register{TModule}"/>).
/// An exporter emits the ONNX nodes that compute its module's output with <see cref="AddNode"/>, takes weights with
/// <see cref="Parameter"/> and exports submodules with <see cref="Call"/>. Each node comes with the sample value it
/// computes on the example input (usually from running the module itself), which gives every value its shape and lets
/// the export check the whole graph against the model's own forward pass.
/// </summary>
public sealed class OnnxExportContext
{
    private readonly OnnxExporter _exporter;
    private readonly Dictionary<Module, string> _paths = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, OnnxValue> _initializerValues = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);
    private readonly Stack<Module> _callStack = new();

    internal OnnxExportContext(OnnxExporter exporter, Module root, bool dynamicSpatialSize = false)
    {
        _exporter = exporter;
        DynamicSpatialSize = dynamicSpatialSize;
        foreach (var (name, module) in root.NamedModules()) _paths.TryAdd(module, name);
    }

    private long _initializerBytes;

    /// <summary>The most weight data one file holds: protobuf's 2 GiB message limit, less room for the graph itself.</summary>
    internal static long MaxInitializerBytes { get; set; } = (2L << 30) - (64L << 20);

    internal List<OnnxNodeRecord> Nodes { get; } = new();
    internal List<OnnxInitializerRecord> Initializers { get; } = new();

    /// <summary>
    /// Whether the graph's spatial dimensions are dynamic (<see cref="OnnxExportOptions.DynamicSpatialSize"/>): an
    /// exporter must then not bake the example's spatial sizes into the graph, or must refuse.
    /// </summary>
    public bool DynamicSpatialSize { get; }

    /// <summary>The dotted path of the module being exported (<c>layer1.0.conv1</c>; empty for the root).</summary>
    public string CurrentPath => _callStack.Count == 0 ? "" : PathOf(_callStack.Peek());

    /// <summary>The dotted path of <paramref name="module"/> in the exported model (as in its state dict keys).</summary>
    /// <exception cref="ArgumentException">The module is not part of the exported model.</exception>
    public string PathOf(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return _paths.TryGetValue(module, out var path) ? path
            : throw new ArgumentException($"{module.TypeName} is not a submodule of the model being exported.", nameof(module));
    }

    /// <summary>Exports <paramref name="module"/> applied to <paramref name="input"/> with the exporter registered for its type.</summary>
    /// <exception cref="NotSupportedException">No exporter is registered for the module's type (or a base type); the message names the module.</exception>
    public OnnxValue Call(Module module, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        var export = _exporter.Find(module.GetType())
            ?? throw new NotSupportedException($"{Describe(module)} cannot be exported to ONNX: no exporter is registered for {module.GetType().FullName}. Register one with OnnxExporter.Register<{module.GetType().Name}>(...).");
        _callStack.Push(module);
        try
        {
            return export(this, module, input);
        }
        finally
        {
            _callStack.Pop();
        }
    }

    /// <summary>The submodule registered as <paramref name="name"/> under <paramref name="module"/>, or null.</summary>
    public static Module? Child(Module module, string name)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        foreach (var (childName, child) in module.NamedChildren())
            if (childName == name) return child;
        return null;
    }

    /// <summary>The submodule registered as <paramref name="name"/>; throws when it is missing.</summary>
    public static Module RequiredChild(Module module, string name)
        => Child(module, name) ?? throw new InvalidOperationException($"{module?.TypeName} has no submodule '{name}'.");

    /// <summary>
    /// A parameter or buffer of <paramref name="owner"/> as a graph initializer named by its state-dict key
    /// (e.g. <c>layer1.0.conv1.weight</c>), written once however often it is used. Stored as float32.
    /// </summary>
    /// <exception cref="ArgumentException">The module has no parameter or buffer of that name.</exception>
    public OnnxValue Parameter(Module owner, string name)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var path = PathOf(owner);
        var key = path.Length == 0 ? name : $"{path}.{name}";
        if (_initializerValues.TryGetValue(key, out var existing)) return existing;
        var tensor = owner.NamedParameters(recurse: false).Concat(owner.NamedBuffers(recurse: false)).FirstOrDefault(p => p.Name == name).Item2
            ?? throw new ArgumentException($"{Describe(owner)} has no parameter or buffer '{name}'.", nameof(name));
        return AddInitializer(key, tensor, tensor);
    }

    /// <summary>A float32 constant of the graph with the values and shape of <paramref name="value"/> (copied now).</summary>
    public OnnxValue Constant(string nameHint, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sample = value.Detach();
        return AddInitializer(UniqueName(Scoped(nameHint)), value, sample);
    }

    /// <summary>A float32 constant with the given values and dimensions (a scalar when <paramref name="dims"/> is empty).</summary>
    public OnnxValue Constant(string nameHint, float[] values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(dims);
        if (values.LongLength != dims.Aggregate(1L, (a, b) => a * b))
            throw new ArgumentException($"{values.Length} values do not fill a tensor of shape [{string.Join(", ", dims)}].", nameof(values));
        var sample = Tensors.FromArray(values).Reshape(dims);
        return AddInitializer(UniqueName(Scoped(nameHint)), sample, sample);
    }

    /// <summary>A 1-D int64 constant (shapes, axes, pads).</summary>
    public OnnxValue Int64Constant(string nameHint, params long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var name = UniqueName(Scoped(nameHint));
        Initializers.Add(new OnnxInitializerRecord { Name = name, Dims = new[] { (long)values.Length }, Longs = (long[])values.Clone() });
        return Register(name, Tensors.FromArray(values));
    }

    /// <summary>
    /// Adds a node of the default ONNX domain (opset <see cref="OnnxExporter.OpsetVersion"/>) and returns its output,
    /// which takes <paramref name="sample"/> (the value the node computes on the example input; the export owns it).
    /// An empty input name (<see cref="NoInput"/>) skips an optional input.
    /// </summary>
    public OnnxValue AddNode(string opType, IReadOnlyList<OnnxValue> inputs, Tensor sample, params OnnxAttribute[] attributes)
    {
        if (string.IsNullOrWhiteSpace(opType)) throw new ArgumentException("A node needs an operator type.", nameof(opType));
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(attributes);
        var name = UniqueName(Scoped(opType));
        Nodes.Add(new OnnxNodeRecord
        {
            Name = name,
            OpType = opType,
            Inputs = inputs.Select(i => i?.Name ?? throw new ArgumentException("A node input is null.", nameof(inputs))).ToArray(),
            Outputs = new[] { name },
            Attributes = attributes.ToArray(),
        });
        return Register(name, sample);
    }

    /// <summary>Stands for an optional node input that is left out (an empty name in the graph).</summary>
    public OnnxValue NoInput => _noInput ??= new OnnxValue("", Tensors.Zeros(0));
    private OnnxValue? _noInput;

    /// <summary>Elementwise <c>a + b</c> (with broadcasting).</summary>
    public OnnxValue Add(OnnxValue a, OnnxValue b) => AddNode("Add", new[] { a, b }, a.Sample + b.Sample);

    /// <summary>Elementwise <c>a · b</c> (with broadcasting).</summary>
    public OnnxValue Mul(OnnxValue a, OnnxValue b) => AddNode("Mul", new[] { a, b }, a.Sample * b.Sample);

    /// <summary>max(x, 0).</summary>
    public OnnxValue Relu(OnnxValue x) => AddNode("Relu", new[] { x }, x.Sample.Relu());

    /// <summary>Flattens dimensions <paramref name="startDim"/>… into one, keeping the leading ones (torch.flatten(x, startDim)).</summary>
    public OnnxValue Flatten(OnnxValue x, int startDim = 1)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (startDim < 0) startDim += x.Rank;
        if (startDim < 0 || startDim >= x.Rank) throw new ArgumentOutOfRangeException(nameof(startDim), startDim, $"Flatten of a rank-{x.Rank} value.");
        if (startDim == x.Rank - 1) return x;
        var sample = x.Sample.Flatten(startDim);
        // ONNX Flatten always gives a matrix: torch.flatten from dimension 1 (from 0 it gives a vector, a Reshape to [-1]).
        if (startDim == 1) return AddNode("Flatten", new[] { x }, sample, OnnxAttribute.Int("axis", 1));
        var shape = Enumerable.Repeat(0L, startDim).Append(-1).ToArray();
        return AddNode("Reshape", new[] { x, Int64Constant("shape", shape) }, sample);
    }

    /// <summary>Concatenates along <paramref name="axis"/>.</summary>
    public OnnxValue Concat(IReadOnlyList<OnnxValue> values, int axis)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sample = Tensors.Cat(values.Select(v => v.Sample).ToArray(), axis);
        return AddNode("Concat", values, sample, OnnxAttribute.Int("axis", axis));
    }

    /// <summary>"Conv2d 'layer1.0.conv1'": a module's type and path for messages.</summary>
    public string Describe(Module module) => _paths.TryGetValue(module, out var path)
        ? $"{module.TypeName} '{(path.Length == 0 ? "(model)" : path)}'"
        : module.TypeName;

    internal OnnxValue Input(string name, Tensor sample)
    {
        return Register(name, sample);
    }

    private OnnxValue AddInitializer(string name, Tensor source, Tensor sample)
    {
        if (!source.ScalarType.IsFloatingPoint())
            throw new NotSupportedException($"'{name}' is a {source.ScalarType} tensor; the exporter writes float32 weights only.");
        _initializerBytes += source.NumElements * 4;
        if (_initializerBytes > MaxInitializerBytes)
            throw new NotSupportedException($"The model's weights exceed {MaxInitializerBytes / (1 << 20)} MiB by '{name}': a protobuf message is limited to 2 GiB, and ONNX's external-data format for larger models is not supported.");
        float[] data;
        using (var scope = Tensors.NewDisposeScope())
            data = source.Detach().To(ScalarType.Float32, Device.Cpu).Contiguous().ToArray<float>();
        Initializers.Add(new OnnxInitializerRecord { Name = name, Dims = source.Shape, Floats = data });
        return _initializerValues[name] = Register(name, sample);
    }

    private OnnxValue Register(string name, Tensor sample)
    {
        _names.Add(name);
        return new OnnxValue(name, sample);
    }

    // Generated names carry a '/' ("layer1.0.conv1/Conv", "/Gemm" at the root), so a plain output name never meets one.
    private string Scoped(string hint) => $"{CurrentPath}/{hint}";

    /// <summary>Whether a value of the graph (input, node output or weight) already has <paramref name="name"/>.</summary>
    internal bool IsValueName(string name) => _names.Contains(name);

    private string UniqueName(string baseName)
    {
        if (!_names.Contains(baseName)) return baseName;
        _counters.TryGetValue(baseName, out int n);
        string candidate;
        do candidate = $"{baseName}_{++n}";
        while (_names.Contains(candidate));
        _counters[baseName] = n;
        return candidate;
    }
}
