using Module = MedVision.Torch.Nn.Module;
using MedVision.Onnx.Protobuf;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Onnx;

/// <summary>
/// Turns the model's output into the graph's named outputs: e.g. the logits and their softmax, each emitted with
/// <see cref="OnnxExportContext.AddNode"/>. The names must differ from each other and from the input's.
/// </summary>
public delegate IReadOnlyList<(string Name, OnnxValue Value)> OnnxGraphOutputs(OnnxExportContext context, OnnxValue modelOutput);

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
    /// Builds the graph of <paramref name="model"/>; <paramref name="heads"/> (default: the model's output, named
    /// <see cref="OnnxExportOptions.OutputName"/>) turns the model's output into the graph's named outputs.
    /// </summary>
    internal ProtoWriter Build(Module<Tensor, Tensor> model, long[] inputShape, OnnxExportOptions options,
        OnnxGraphOutputs? heads = null, OnnxInputPrelude? prelude = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        options.Validate();
        if (inputShape.Length < 1 || inputShape.Any(s => s < 1))
            throw new ArgumentException($"The example input shape must have positive sizes, got [{string.Join(", ", inputShape)}].", nameof(inputShape));
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
            heads ??= (_, output) => new[] { (options.OutputName, output) };
            var context = new OnnxExportContext(this, model, options.DynamicSpatialSize);
            // A fixed pseudo-random example (not the global generator, which belongs to the caller's runs).
            var random = new Random(20_21);
            var count = checked((int)inputShape.Aggregate(1L, (a, b) => checked(a * b)));
            var values = new float[count];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            var example = Tensors.FromArray(values).Reshape(inputShape).To(device);
            var input = context.Input(options.InputName, example);
            var modelInput = prelude is null ? input : prelude(context, input);
            // The model's own forward first: it checks the input with its own messages, and is the reference for the graph.
            var expected = model.Call(modelInput.Sample);
            var output = context.Call(model, modelInput);
            Verify(expected, output, options.VerificationTolerance);
            var outputs = heads(context, output) ?? throw new InvalidOperationException("The graph outputs callback returned null.");
            if (outputs.Count == 0 || outputs.Any(o => string.IsNullOrWhiteSpace(o.Name) || o.Value is null) || outputs.Select(o => o.Name).Distinct().Count() != outputs.Count || outputs.Any(o => o.Name == options.InputName))
                throw new ArgumentException($"The graph's outputs need values and distinct names other than the input's, got [{string.Join(", ", outputs.Select(o => o.Name))}].");
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
            metadata.TryAdd("medvision.example_input_shape", string.Join(",", inputShape));
            return OnnxModelWriter.Write(
                options.GraphName, options.Description, OpsetVersion, ProducerVersion, options.ModelVersion,
                new[] { new OnnxIoRecord(options.InputName, inputShape, DimNames(inputShape, null)) },
                outputs.Select(o => new OnnxIoRecord(o.Name, o.Value.Shape, DimNames(o.Value.Shape, o.Name + "_"))).ToArray(),
                context.Nodes, context.Initializers, metadata);
        }
        finally
        {
            // Pre-order: a parent's Train(mode) also sets its children, which then get their own mode back.
            foreach (var (module, training) in modes) module.Train(training);
        }
    }

    private static void Verify(Tensor expected, OnnxValue exported, double tolerance)
    {
        if (!expected.Shape.SequenceEqual(exported.Shape))
            throw new InvalidOperationException($"The exported graph gives shape [{string.Join(", ", exported.Shape)}] but the model's forward gives [{string.Join(", ", expected.Shape)}]: an exporter does not match its module.");
        var scale = Math.Max(1.0, expected.Abs().Max().Item());
        var difference = (expected - exported.Sample).Abs().Max().Item();
        if (!(difference <= tolerance * scale))
            throw new InvalidOperationException($"The exported graph's reference evaluation differs from the model's forward by {difference:G3} (allowed {tolerance * scale:G3}): an exporter does not match its module.");
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
