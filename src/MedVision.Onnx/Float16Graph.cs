namespace MedVision.Onnx;

/// <summary>
/// Turns a float32 graph into one that computes in float16 (<see cref="OnnxExportOptions.Float16"/>), as
/// onnxconverter-common's <c>convert_float_to_float16(keep_io_types=True)</c> does: the float weights and constants
/// are stored as float16, a <c>Cast</c> after each graph input takes the float32 input to float16 and a <c>Cast</c>
/// before each output returns float32, so callers feed and read float32 as before. Inputs that ONNX types as float32
/// whatever the graph's type stay float32 (<c>Resize</c>'s <c>scales</c>).
/// </summary>
internal static class Float16Graph
{
    private const long Float16Type = 10, Float32Type = 1;

    /// <summary>The largest finite float16.</summary>
    internal const float MaxValue = 65504f;

    /// <summary>Rewrites <paramref name="nodes"/> and <paramref name="initializers"/> in place.</summary>
    /// <exception cref="NotSupportedException">A weight or constant holds a finite value beyond float16's range (±65,504), which would become infinite.</exception>
    public static void Apply(List<OnnxNodeRecord> nodes, List<OnnxInitializerRecord> initializers, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs)
    {
        // Inputs typed tensor(float) in every graph (opset 17): Resize's scales.
        var float32Only = nodes.Where(n => n.OpType == "Resize" && n.Inputs.Length > 2 && n.Inputs[2].Length > 0).Select(n => n.Inputs[2]).ToHashSet(StringComparer.Ordinal);
        foreach (var initializer in initializers)
        {
            if (initializer.Floats is not { } values || float32Only.Contains(initializer.Name)) continue;
            foreach (var v in values)
                if (float.IsFinite(v) && Math.Abs(v) > MaxValue)
                    throw new NotSupportedException($"'{initializer.Name}' holds {v:G6}, beyond float16's largest value ±{MaxValue:G6}: a float16 graph would make it infinite. Export in float32, or rescale the layer.");
            initializer.Float16 = true;
        }

        // Each input cast to float16 once; every node that read it reads the cast.
        var casts = new List<OnnxNodeRecord>();
        foreach (var input in inputs)
        {
            var half = input + "/float16";
            foreach (var node in nodes) Rename(node.Inputs, input, half);
            casts.Add(Cast("/" + input + "/Cast", input, half, Float16Type));
        }
        nodes.InsertRange(0, casts);

        // Each output computed in float16 under another name, then cast back to float32 under its own.
        foreach (var output in outputs)
        {
            var half = output + "/float16";
            foreach (var node in nodes)
            {
                Rename(node.Outputs, output, half);
                Rename(node.Inputs, output, half);
            }
            nodes.Add(Cast("/" + output + "/Cast", half, output, Float32Type));
        }
    }

    private static void Rename(string[] names, string from, string to)
    {
        for (int i = 0; i < names.Length; i++) if (names[i] == from) names[i] = to;
    }

    private static OnnxNodeRecord Cast(string name, string input, string output, long to) => new()
    {
        Name = name,
        OpType = "Cast",
        Inputs = new[] { input },
        Outputs = new[] { output },
        Attributes = new[] { OnnxAttribute.Int("to", to) },
    };
}
