using System.Globalization;
using System.Text;

namespace MedVision.Torch.Nn;

/// <summary>
/// A layer-by-layer summary of a model (like torchinfo): each module called during one forward pass with its output
/// shape, parameter count and multiply-accumulate count, and the totals.
/// </summary>
/// <remarks>
/// Multiply-accumulates (MACs, torchinfo's "mult-adds") are counted for the layers that dominate the arithmetic of
/// convolutional networks: a convolution costs output elements × C_in/groups × kernel volume, a transposed
/// convolution input elements × C_out/groups × kernel volume, a linear layer output elements × in-features. Bias
/// additions, normalisation, activations and pooling are not counted. One MAC is two floating-point operations, so
/// 2 × <see cref="TotalMultiplyAccumulates"/> divided by a machine's sustained FLOP rate is a lower bound on the
/// forward time.
/// </remarks>
public sealed class ModelSummary
{
    [ThreadStatic] private static Recorder? _active;
    internal static Recorder? ActiveRecorder => _active;

    private ModelSummary(string modelName, long[] inputShape, IReadOnlyList<ModelSummaryRow> rows, long total, long trainable, long bufferElements)
    {
        TotalMultiplyAccumulates = rows.Sum(r => r.MultiplyAccumulates);
        ModelName = modelName;
        InputShape = inputShape;
        Rows = rows;
        TotalParameters = total;
        TrainableParameters = trainable;
        BufferElements = bufferElements;
    }

    /// <summary>The model's type name.</summary>
    public string ModelName { get; }
    /// <summary>The input shape used.</summary>
    public IReadOnlyList<long> InputShape { get; }
    /// <summary>
    /// One row per module call, in call order; a TorchScript module's row is followed by its submodules (not called
    /// through the summary, <see cref="ModelSummaryRow.Called"/> false: parameters only).
    /// </summary>
    public IReadOnlyList<ModelSummaryRow> Rows { get; }
    /// <summary>All parameter elements.</summary>
    public long TotalParameters { get; }
    /// <summary>Parameter elements that require gradients.</summary>
    public long TrainableParameters { get; }
    /// <summary>Buffer elements (running statistics).</summary>
    public long BufferElements { get; }
    /// <summary>Multiply-accumulates of one forward pass at <see cref="InputShape"/>: the sum over <see cref="Rows"/> (convolutions, transposed convolutions and linear layers; see the remarks on <see cref="ModelSummary"/>).</summary>
    public long TotalMultiplyAccumulates { get; }

    /// <summary>Runs one forward pass on zeros of <paramref name="inputShape"/> in evaluation mode (no gradients; running statistics untouched; the model's mode is restored afterwards) and records every module called through <see cref="Module{TInput, TOutput}.Call"/>.</summary>
    public static ModelSummary Create<TOutput>(Module<Tensor, TOutput> model, params long[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        var names = new Dictionary<Module, string>();
        foreach (var (name, module) in model.NamedModules()) names.TryAdd(module, name);
        var device = model.Parameters().FirstOrDefault()?.Device ?? Device.Cpu;
        var dtype = model.Parameters().FirstOrDefault()?.ScalarType ?? ScalarType.Float32;
        var recorder = new Recorder(names);
        if (_active is not null) throw new InvalidOperationException("A summary is already being recorded on this thread.");
        _active = recorder;
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            var input = Tensors.Zeros(inputShape, dtype, device);
            model.Call(input);
        }
        finally
        {
            _active = null;
            model.Train(wasTraining);
        }
        return new ModelSummary(model.TypeName, (long[])inputShape.Clone(), recorder.Rows, model.ParameterCount(), model.ParameterCount(trainableOnly: true),
            model.Buffers().Sum(b => b.NumElements));
    }

    /// <summary>The summary as an aligned text table.</summary>
    public override string ToString()
    {
        var ci = CultureInfo.InvariantCulture;
        var lines = Rows.Select(r => (Layer: new string(' ', 2 * r.Depth) + (r.Name.Length > 0 ? $"{r.Name} ({r.TypeName})" : r.TypeName),
                                      Shape: r.Called ? "[" + string.Join(", ", r.OutputShape) + "]" : "--",
                                      Params: r.Parameters.ToString("N0", ci),
                                      Macs: r.MultiplyAccumulates == 0 ? "--" : r.MultiplyAccumulates.ToString("N0", ci))).ToList();
        int w1 = Math.Max(20, lines.Count == 0 ? 0 : lines.Max(l => l.Layer.Length)) + 2;
        int w2 = Math.Max(14, lines.Count == 0 ? 0 : lines.Max(l => l.Shape.Length)) + 2;
        int w3 = 14;
        int w4 = Math.Max(14, lines.Count == 0 ? 0 : lines.Max(l => l.Macs.Length) + 2);
        var sb = new StringBuilder();
        var rule = new string('=', w1 + w2 + w3 + w4);
        sb.AppendLine(rule);
        sb.Append("Layer (type)".PadRight(w1)).Append("Output shape".PadRight(w2)).Append("Param #".PadLeft(w3)).AppendLine("Mult-adds".PadLeft(w4));
        sb.AppendLine(rule);
        foreach (var l in lines) sb.Append(l.Layer.PadRight(w1)).Append(l.Shape.PadRight(w2)).Append(l.Params.PadLeft(w3)).AppendLine(l.Macs.PadLeft(w4));
        sb.AppendLine(rule);
        sb.AppendLine(ci, $"Input shape: [{string.Join(", ", InputShape)}]");
        sb.AppendLine(ci, $"Total params: {TotalParameters:N0}");
        sb.AppendLine(ci, $"Trainable params: {TrainableParameters:N0}");
        sb.AppendLine(ci, $"Non-trainable params: {TotalParameters - TrainableParameters:N0}");
        sb.AppendLine(ci, $"Buffer elements: {BufferElements:N0}");
        sb.AppendLine(ci, $"Total mult-adds: {TotalMultiplyAccumulates:N0} ({TotalMultiplyAccumulates / 1e9:0.000} G)");
        sb.Append(rule);
        return sb.ToString();
    }

    internal sealed class Recorder
    {
        private readonly Dictionary<Module, string> _names;
        private int _depth;
        internal Recorder(Dictionary<Module, string> names) => _names = names;
        internal List<ModelSummaryRow> Rows { get; } = new();

        internal int Enter(Module module)
        {
            var own = module.NamedParameters(recurse: false).Sum(p => p.Parameter.NumElements);
            Rows.Add(new ModelSummaryRow(_depth, _names.TryGetValue(module, out var n) ? n : "", module.TypeName, Array.Empty<long>(), own));
            _depth++;
            return Rows.Count - 1;
        }

        internal void Exit(int row, Module module, object? input, object? output)
        {
            _depth--;
            var shape = output switch
            {
                Tensor t => t.Shape,
                System.Runtime.CompilerServices.ITuple tuple when tuple.Length > 0 && tuple[0] is Tensor first => first.Shape,
                _ => Array.Empty<long>(),
            };
            Rows[row] = Rows[row] with { OutputShape = shape, MultiplyAccumulates = CountMultiplyAccumulates(module, input, output) };
            // A TorchScript module runs its whole forward inside libtorch: no call of its submodules reaches Call. List
            // them under it, as a tree with their own parameters, so the summary still shows the model's layers.
            if (module is Jit.ScriptModule)
                foreach (var (relative, child) in module.NamedModules().Skip(1))
                {
                    var own = child.NamedParameters(recurse: false).Sum(p => p.Parameter.NumElements);
                    int depth = Rows[row].Depth + 1 + relative.Count(c => c == '.');
                    Rows.Add(new ModelSummaryRow(depth, _names.TryGetValue(child, out var n) ? n : relative, child.TypeName, Array.Empty<long>(), own, 0, Called: false));
                }
        }

        private static long CountMultiplyAccumulates(Module module, object? input, object? output) => (module, input, output) switch
        {
            // Weight (C_out, C_in/groups, k...): every output element is a dot product of C_in/groups × kernel-volume terms.
            (Convolution c, _, Tensor y) => y.NumElements * (c.Weight.NumElements / c.OutChannels),
            // Weight (C_in, C_out/groups, k...): every input element is multiplied into C_out/groups × kernel-volume outputs.
            (TransposedConvolution t, Tensor x, _) => x.NumElements * (t.Weight.NumElements / t.InChannels),
            (Linear l, _, Tensor y) => y.NumElements * l.InFeatures,
            (MultiheadAttention m, ValueTuple<Tensor, Tensor, Tensor> x, _) => m.MultiplyAccumulates(x.Item1, x.Item2, x.Item3),
            _ => 0,
        };
    }
}
