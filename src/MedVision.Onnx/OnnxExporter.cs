using Module = MedVision.Torch.Nn.Module;
using MedVision.Protobuf;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Onnx;

/// <summary>
/// Turns the model's output into the graph's named outputs: e.g. the logits and their softmax, each emitted with
/// <see cref="OnnxExportContext.AddNode"/>. The names must differ from each other and from the input's.
/// </summary>
public delegate IReadOnlyList<(string Name, OnnxValue Value)> OnnxGraphOutputs(OnnxExportContext context, OnnxValue modelOutput);

/// <summary>
/// Emits a whole graph for <see cref="OnnxExporter.ExportGraph"/>: from the graph's inputs (in the order given) to its
/// named outputs, calling the model's modules with <see cref="OnnxExportContext.Call"/>. The names must differ from
/// each other and from the inputs'.
/// </summary>
public delegate IReadOnlyList<(string Name, OnnxValue Value)> OnnxGraphDefinition(OnnxExportContext context, IReadOnlyList<OnnxValue> inputs);

/// <summary>
/// The model's own computation of a graph's outputs, in the same order, from the example inputs (e.g.
/// <c>xs =&gt; { var o = siamese.Call((xs[0], xs[1])); return new[] { o.First, o.Second, o.Distance }; }</c>): the
/// reference every exported graph is checked against. It runs without gradients inside the export's dispose scope.
/// </summary>
public delegate IReadOnlyList<Tensor> OnnxGraphReference(IReadOnlyList<Tensor> inputs);

/// <summary>An input of a graph exported with <see cref="OnnxExporter.ExportGraph"/>: its name and the example's shape.</summary>
/// <param name="Name">The input's name in the graph.</param>
/// <param name="Shape">The example's shape, e.g. 1, 3, 28, 28 (the batch dimension stays dynamic).</param>
public sealed record OnnxGraphInput(string Name, long[] Shape)
{
    /// <summary>The input's name in the graph.</summary>
    public string Name { get; init; } = Name ?? throw new ArgumentNullException(nameof(Name));

    /// <summary>The example's shape (the batch dimension stays dynamic).</summary>
    public long[] Shape { get; init; } = Shape ?? throw new ArgumentNullException(nameof(Shape));
}

/// <summary>Turns the graph's input into the model's input (e.g. normalises pixels) before the model's own nodes.</summary>
internal delegate OnnxValue OnnxInputPrelude(OnnxExportContext context, OnnxValue graphInput);

/// <summary>Exports one module type: emits the nodes that compute <paramref name="module"/> applied to <paramref name="input"/>.</summary>
/// <typeparam name="TModule">The module type.</typeparam>
public delegate OnnxValue OnnxModuleExport<in TModule>(OnnxExportContext context, TModule module, OnnxValue input) where TModule : Module;

/// <summary>
/// Exports MedVision models to ONNX (opset <see cref="OpsetVersion"/>, IR version 8) for ONNX Runtime, ML.NET, OpenVINO
/// or TensorRT — the counterpart of <c>torch.onnx.export</c>. Every layer of MedVision.Torch that inference uses and
/// every model of MedVision.Nets (ResNet 2D/3D and its blocks, MTCSNN, CORAL head, CDSF's ISM, MDM and the whole CDSF)
/// has an exporter; <see cref="Register{TModule}"/> adds one for a module of your own. The model is exported in
/// evaluation mode (batch norm uses its running statistics, dropout is off) and its training flags are restored.
/// </summary>
/// <remarks>
/// Exporting switches the model to evaluation mode for its duration: do not export a model that other threads are
/// training or running at the same time. An enclosing <see cref="Tensors.Autocast"/> region is suspended during the
/// export (the graph is float32). One exporter may serve several exports in turn; its registrations are not meant to
/// change while it exports.
/// </remarks>
/// <example><code>
/// using var model = ResNet.Builder().WithDepth(18).ForInput(channels: 3, spatialDims: 2).WithSmallInputStem().WithClasses(5).Build();
/// new OnnxExporter().Export(model, "resnet18.onnx", inputShape: new long[] { 1, 3, 28, 28 });
/// </code></example>
public sealed class OnnxExporter
{
    private readonly Dictionary<Type, Func<OnnxExportContext, Module, OnnxValue, OnnxValue>> _exports = new();

    /// <summary>The ONNX operator set the exported graphs use.</summary>
    public const int OpsetVersion = 17;

    /// <summary>The metadata key a float16 graph carries (<see cref="OnnxExportOptions.Float16"/>), with the value <c>float16</c>.</summary>
    public const string PrecisionKey = "medvision.precision";

    /// <summary>Creates an exporter that knows every built-in module.</summary>
    public OnnxExporter() => BuiltInExports.RegisterAll(this);

    /// <summary>
    /// Registers (or replaces) the exporter of <typeparamref name="TModule"/>; it also serves derived types that have no
    /// exporter of their own.
    /// </summary>
    public OnnxExporter Register<TModule>(OnnxModuleExport<TModule> export) where TModule : Module
    {
        ArgumentNullException.ThrowIfNull(export);
        _exports[typeof(TModule)] = (context, module, input) => export(context, (TModule)module, input);
        return this;
    }

    /// <summary>Whether a module of <paramref name="moduleType"/> can be exported (an exporter is registered for it or a base type).</summary>
    public bool CanExport(Type moduleType) => Find(moduleType ?? throw new ArgumentNullException(nameof(moduleType))) is not null;

    /// <summary>Exports <paramref name="model"/> for inputs shaped like <paramref name="inputShape"/> (e.g. 1, 3, 28, 28) to a file, atomically.</summary>
    /// <exception cref="NotSupportedException">A module cannot be exported (the message names it and why).</exception>
    /// <exception cref="ArgumentException">The input shape does not suit the model, or an option is invalid.</exception>
    public void Export(Module<Tensor, Tensor> model, string path, long[] inputShape, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        OnnxFiles.WriteAtomically(path, Build(model, inputShape, options ?? new OnnxExportOptions()));
    }

    /// <summary>Exports <paramref name="model"/> to <paramref name="destination"/>; nothing is written if the export fails.</summary>
    public void Export(Module<Tensor, Tensor> model, Stream destination, long[] inputShape, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Build(model, inputShape, options ?? new OnnxExportOptions()).CopyTo(destination);
    }

    /// <summary>The exported model as bytes (e.g. for <c>new InferenceSession(bytes)</c>).</summary>
    public byte[] ExportToBytes(Module<Tensor, Tensor> model, long[] inputShape, OnnxExportOptions? options = null)
        => Build(model, inputShape, options ?? new OnnxExportOptions()).ToArray();

    /// <summary>
    /// Exports <paramref name="model"/> with several graph outputs made from its output by <paramref name="outputs"/>
    /// (e.g. logits and probabilities), to a file, atomically. <see cref="OnnxExportOptions.OutputName"/> is not used.
    /// </summary>
    public void Export(Module<Tensor, Tensor> model, string path, long[] inputShape, OnnxExportOptions? options, OnnxGraphOutputs outputs)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(outputs);
        OnnxFiles.WriteAtomically(path, Build(model, inputShape, options ?? new OnnxExportOptions(), outputs));
    }

    /// <summary>The model exported with several graph outputs (see <see cref="Export(Module{Tensor, Tensor}, string, long[], OnnxExportOptions?, OnnxGraphOutputs)"/>) as bytes.</summary>
    public byte[] ExportToBytes(Module<Tensor, Tensor> model, long[] inputShape, OnnxExportOptions? options, OnnxGraphOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        return Build(model, inputShape, options ?? new OnnxExportOptions(), outputs).ToArray();
    }

    internal Func<OnnxExportContext, Module, OnnxValue, OnnxValue>? Find(Type type)
    {
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            if (_exports.TryGetValue(t, out var export)) return export;
        return null;
    }

    /// <summary>
    /// Exports a graph with any number of inputs and outputs that <paramref name="graph"/> composes from
    /// <paramref name="model"/>'s modules — e.g. a Siamese pair (two inputs, both embeddings and their distance), or a
    /// model's logits together with the output of another head — to a file, atomically. The graph's outputs are checked
    /// against <paramref name="reference"/>, the model's own computation of them on the same example inputs.
    /// <see cref="OnnxExportOptions.InputName"/> and <see cref="OnnxExportOptions.OutputName"/> are not used (the
    /// inputs and the graph's outputs carry their own names).
    /// </summary>
    /// <param name="model">The model whose modules the graph uses (its weights become the graph's initializers).</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="inputs">The graph's inputs: names and example shapes (the batch dimension stays dynamic).</param>
    /// <param name="graph">Emits the graph's nodes from its inputs (with <see cref="OnnxExportContext.Call"/> and
    /// <see cref="OnnxExportContext.AddNode"/>) and names its outputs.</param>
    /// <param name="reference">The model's own code for the same outputs, in the same order, from the example inputs.</param>
    /// <param name="options">Dynamic sizes, names of the graph and the batch dimension, metadata.</param>
    /// <exception cref="ArgumentException">Inputs or outputs are unnamed, named twice or empty, or a shape is not positive.</exception>
    /// <exception cref="InvalidOperationException">The graph's outputs differ from the reference's (count, shape or values).</exception>
    /// <exception cref="NotSupportedException">A module cannot be exported (the message names it and why).</exception>
    public void ExportGraph(Module model, string path, IReadOnlyList<OnnxGraphInput> inputs, OnnxGraphDefinition graph, OnnxGraphReference reference, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        OnnxFiles.WriteAtomically(path, BuildGraph(model, inputs, graph, reference, options ?? new OnnxExportOptions()));
    }

    /// <summary>The graph of <see cref="ExportGraph"/> as bytes (e.g. for <c>new InferenceSession(bytes)</c>).</summary>
    public byte[] ExportGraphToBytes(Module model, IReadOnlyList<OnnxGraphInput> inputs, OnnxGraphDefinition graph, OnnxGraphReference reference, OnnxExportOptions? options = null)
        => BuildGraph(model, inputs, graph, reference, options ?? new OnnxExportOptions()).ToArray();

    private ProtoWriter BuildGraph(Module model, IReadOnlyList<OnnxGraphInput> inputs, OnnxGraphDefinition graph, OnnxGraphReference reference, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(reference);
        return Write(model, inputs, options, (context, values) =>
        {
            var outputs = graph(context, values) ?? throw new InvalidOperationException("The graph definition returned null.");
            var expected = reference(values.Select(v => v.Sample).ToArray())
                ?? throw new InvalidOperationException("The graph reference returned null.");
            if (expected.Count != outputs.Count)
                throw new InvalidOperationException($"The graph has {outputs.Count} outputs but its reference computes {expected.Count}: they must correspond one to one, in order.");
            for (int i = 0; i < outputs.Count; i++)
            {
                if (outputs[i].Value is null || expected[i] is null)
                    throw new ArgumentException($"Output {i} ('{outputs[i].Name}') has no value in the graph or in the reference.");
                Verify(expected[i], outputs[i].Value, options.VerificationTolerance, outputs[i].Name);
            }
            return outputs;
        });
    }

    /// <summary>
    /// Builds the graph of <paramref name="model"/>; <paramref name="heads"/> (default: the model's output, named
    /// <see cref="OnnxExportOptions.OutputName"/>) turns the model's output into the graph's named outputs.
    /// </summary>
    internal ProtoWriter Build(Module<Tensor, Tensor> model, long[] inputShape, OnnxExportOptions options,
        OnnxGraphOutputs? heads = null, OnnxInputPrelude? prelude = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        heads ??= (_, output) => new[] { (options.OutputName, output) };
        return Write(model, new[] { new OnnxGraphInput(options.InputName, inputShape) }, options, (context, inputs) =>
        {
            var modelInput = prelude is null ? inputs[0] : prelude(context, inputs[0]);
            // The model's own forward first: it checks the input with its own messages, and is the reference for the graph.
            var expected = model.Call(modelInput.Sample);
            var output = context.Call(model, modelInput);
            Verify(expected, output, options.VerificationTolerance, null);
            return heads(context, output) ?? throw new InvalidOperationException("The graph outputs callback returned null.");
        });
    }

    /// <summary>The export itself: evaluation mode, example inputs, the graph from <paramref name="build"/>, its outputs named, the model written.</summary>
    private ProtoWriter Write(Module model, IReadOnlyList<OnnxGraphInput> inputs, OnnxExportOptions options,
        Func<OnnxExportContext, IReadOnlyList<OnnxValue>, IReadOnlyList<(string Name, OnnxValue Value)>> build)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        options.Validate();
        if (inputs.Count == 0 || inputs.Any(i => i is null))
            throw new ArgumentException("The graph needs at least one input, and no null entries.", nameof(inputs));
        foreach (var input in inputs)
        {
            if (string.IsNullOrWhiteSpace(input.Name))
                throw new ArgumentException("Every graph input needs a name.", nameof(inputs));
            if (input.Shape is null || input.Shape.Length < 1 || input.Shape.Any(s => s < 1))
                throw new ArgumentException($"The example shape of input '{input.Name}' must have positive sizes, got [{string.Join(", ", input.Shape ?? Array.Empty<long>())}].", nameof(inputs));
        }
        if (inputs.Select(i => i.Name).Distinct(StringComparer.Ordinal).Count() != inputs.Count)
            throw new ArgumentException($"The graph's inputs need distinct names, got [{string.Join(", ", inputs.Select(i => i.Name))}].", nameof(inputs));
        var device = Device.Cpu;
        foreach (var (name, tensor) in model.NamedParameters().Concat(model.NamedBuffers()))
        {
            if (tensor.ScalarType.IsFloatingPoint() && tensor.ScalarType != ScalarType.Float32)
                throw new NotSupportedException($"'{name}' is {tensor.ScalarType}; export a float32 model (model.To(ScalarType.Float32)).");
            device = tensor.Device;
        }

        var modes = model.NamedModules().Select(m => (m.Module, m.Module.Training)).ToList();
        model.Eval();
        try
        {
            using var noGrad = Tensors.NoGrad();
            // The graph is float32: an enclosing autocast region must not turn the reference run into bfloat16.
            using var fullPrecision = Tensors.Autocast(device.Type, enabled: false);
            using var scope = Tensors.NewDisposeScope();
            var context = new OnnxExportContext(this, model, options.DynamicSpatialSize);
            // Fixed pseudo-random examples (not the global generator, which belongs to the caller's runs).
            var random = new Random(20_21);
            var values = inputs.Select(i => context.Input(i.Name, Example(random, i.Shape).To(device))).ToArray();
            var outputs = build(context, values);
            if (outputs.Count == 0 || outputs.Any(o => string.IsNullOrWhiteSpace(o.Name) || o.Value is null) || outputs.Select(o => o.Name).Distinct().Count() != outputs.Count || outputs.Any(o => inputs.Any(i => i.Name == o.Name)))
                throw new ArgumentException($"The graph's outputs need values and distinct names other than the inputs', got [{string.Join(", ", outputs.Select(o => o.Name))}].");
            var named = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, value) in outputs)
            {
                // A value that is already an output gets its second name through an Identity node.
                if (named.Contains(value.Name)) AddIdentity(context, value.Name, name);
                else NameOutput(context, value, name);
                named.Add(name);
            }

            string?[] DimNames(long[] shape, string? prefix) => shape.Select((_, i) =>
                i == 0 ? (options.DynamicBatch ? options.BatchDimensionName : null)
                : i >= 2 && options.DynamicSpatialSize ? prefix + SpatialDimensionName(i - 2, shape.Length - 2)
                : null).ToArray();
            var metadata = new Dictionary<string, string>(options.Metadata, StringComparer.Ordinal);
            // "1,3,28,28" for one input; "first=1,3,28,28;second=1,3,28,28" for several.
            metadata.TryAdd("medvision.example_input_shape", inputs.Count == 1 ? string.Join(",", inputs[0].Shape)
                : string.Join(";", inputs.Select(i => $"{i.Name}={string.Join(",", i.Shape)}")));
            if (options.Float16)
            {
                Float16Graph.Apply(context.Nodes, context.Initializers, inputs.Select(i => i.Name).ToArray(), outputs.Select(o => o.Name).ToArray());
                metadata[PrecisionKey] = "float16";
            }
            return OnnxModelWriter.Write(
                options.GraphName, options.Description, OpsetVersion, ProducerVersion, options.ModelVersion,
                inputs.Select((input, i) => new OnnxIoRecord(input.Name, input.Shape, DimNames(input.Shape, inputs.Count == 1 ? null : input.Name + "_"))).ToArray(),
                outputs.Select(o => new OnnxIoRecord(o.Name, o.Value.Shape, DimNames(o.Value.Shape, o.Name + "_"))).ToArray(),
                context.Nodes, context.Initializers, metadata);
        }
        finally
        {
            // Pre-order: a parent's Train(mode) also sets its children, which then get their own mode back.
            foreach (var (module, training) in modes) module.Train(training);
        }
    }

    /// <summary>Uniform values in [−1, 1) of <paramref name="shape"/> from <paramref name="random"/>.</summary>
    private static Tensor Example(Random random, long[] shape)
    {
        var count = checked((int)shape.Aggregate(1L, (a, b) => checked(a * b)));
        var values = new float[count];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return Tensors.FromArray(values).Reshape(shape);
    }

    private static void Verify(Tensor expected, OnnxValue exported, double tolerance, string? outputName)
    {
        var what = outputName is null ? "The exported graph" : $"The graph's output '{outputName}'";
        if (!expected.Shape.SequenceEqual(exported.Shape))
            throw new InvalidOperationException($"{what} has shape [{string.Join(", ", exported.Shape)}] but the model's forward gives [{string.Join(", ", expected.Shape)}]: an exporter does not match its module.");
        if (expected.ScalarType != exported.Sample.ScalarType)
            throw new InvalidOperationException($"{what} is {exported.Sample.ScalarType} but the model's forward gives {expected.ScalarType}.");
        if (expected.NumElements == 0) return;
        using var scope = Tensors.NewDisposeScope();
        var expectedFloat = expected.To(ScalarType.Float64);
        var scale = Math.Max(1.0, expectedFloat.Abs().Max().Item());
        var difference = (expectedFloat - exported.Sample.To(ScalarType.Float64)).Abs().Max().Item();
        if (!(difference <= tolerance * scale))
            throw new InvalidOperationException($"{what}'s reference evaluation differs from the model's forward by {difference:G3} (allowed {tolerance * scale:G3}): an exporter does not match its module.");
    }

    private static void AddIdentity(OnnxExportContext context, string source, string name)
        => context.Nodes.Add(new OnnxNodeRecord { Name = "/" + name, OpType = "Identity", Inputs = new[] { source }, Outputs = new[] { name }, Attributes = Array.Empty<OnnxAttribute>() });

    private static void NameOutput(OnnxExportContext context, OnnxValue output, string name)
    {
        if (output.Name == name) return;
        if (context.IsValueName(name))
            throw new ArgumentException($"The output name '{name}' is already the name of a value in the graph (a weight or the input); choose another.");
        var producer = context.Nodes.FirstOrDefault(n => n.Outputs.Contains(output.Name));
        if (producer is null)
        {
            // The output is the input or a constant: ONNX needs a node to give it another name.
            AddIdentity(context, output.Name, name);
            return;
        }
        var old = output.Name;
        for (int i = 0; i < producer.Outputs.Length; i++) if (producer.Outputs[i] == old) producer.Outputs[i] = name;
        foreach (var node in context.Nodes)
            for (int i = 0; i < node.Inputs.Length; i++) if (node.Inputs[i] == old) node.Inputs[i] = name;
        output.Name = name;
    }

    /// <summary>depth, height, width (or length for 1-D inputs) for spatial dimension <paramref name="index"/> of <paramref name="count"/>.</summary>
    private static string SpatialDimensionName(int index, int count) => count switch
    {
        1 => "length",
        2 => index == 0 ? "height" : "width",
        3 => index switch { 0 => "depth", 1 => "height", _ => "width" },
        _ => $"dim{index + 2}",
    };

    private static string ProducerVersion => System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(typeof(OnnxExporter).Assembly)?.InformationalVersion ?? "0.0.0";
}

/// <summary>Writes files whole or not at all.</summary>
internal static class OnnxFiles
{
    /// <summary>Writes to a temporary file beside <paramref name="path"/>, then renames it over the target.</summary>
    public static void WriteAtomically(string path, ProtoWriter writer)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                writer.CopyTo(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}

/// <summary>Shortcuts for exporting a model with the built-in exporters.</summary>
public static class OnnxModuleExtensions
{
    /// <summary>Exports the model to an ONNX file for inputs shaped like <paramref name="inputShape"/> (the batch stays dynamic).</summary>
    public static void ExportOnnx(this Module<Tensor, Tensor> model, string path, long[] inputShape, OnnxExportOptions? options = null)
        => new OnnxExporter().Export(model, path, inputShape, options);
}
