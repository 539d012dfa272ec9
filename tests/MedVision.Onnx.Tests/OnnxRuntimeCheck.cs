using MedVision.Torch;
using MedVision.Torch.Nn;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = MedVision.Torch.Tensor;

namespace MedVision.Onnx.Tests;

/// <summary>Runs exported graphs in ONNX Runtime and compares them with libtorch.</summary>
internal static class OnnxRuntimeCheck
{
    /// <summary>Runs the model's single input through ONNX Runtime; returns the output's values and shape.</summary>
    public static (float[] Values, long[] Shape) Run(byte[] model, Tensor input, string inputName = "input")
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var tensor = new DenseTensor<float>(input.Contiguous().ToArray<float>(), input.Shape.Select(s => (int)s).ToArray());
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(inputName, tensor) });
        var output = results.First().AsTensor<float>();
        return (output.ToArray(), output.Dimensions.ToArray().Select(d => (long)d).ToArray());
    }

    /// <summary>
    /// Exports <paramref name="model"/> for an example of <paramref name="exportShape"/>, runs the graph on random
    /// inputs of <paramref name="runShape"/> (another batch size checks the dynamic batch) and compares with
    /// libtorch's forward pass in evaluation mode; returns the largest absolute difference.
    /// </summary>
    public static double ExportAndCompare(Module<Tensor, Tensor> model, long[] exportShape, long[]? runShape = null, double tolerance = 1e-4, OnnxExporter? exporter = null, string? caseName = null, OnnxExportOptions? options = null)
    {
        var bytes = (exporter ?? new OnnxExporter()).ExportToBytes(model, exportShape, options);
        Dump(bytes, caseName);
        using var scope = Tensors.NewDisposeScope();
        var input = RandomInput(runShape ?? exportShape, seed: 7);
        bool training = model.Training;
        model.Eval();
        Tensor expected;
        using (Tensors.NoGrad()) expected = model.Call(input);
        model.Train(training);
        var (actual, shape) = Run(bytes, input);
        shape.Should().Equal(expected.Shape, "ONNX Runtime's output shape must be libtorch's");
        var reference = expected.Contiguous().ToArray<float>();
        double scale = Math.Max(1.0, reference.Max(v => Math.Abs((double)v)));
        double worst = 0;
        for (int i = 0; i < reference.Length; i++) worst = Math.Max(worst, Math.Abs(reference[i] - actual[i]));
        worst.Should().BeLessThanOrEqualTo(tolerance * scale, "ONNX Runtime must compute what libtorch computes");
        return worst;
    }

    /// <summary>
    /// With MEDVISION_ONNX_DUMP set to a folder, keeps each exported graph there for checks outside the tests
    /// (<c>check_with_onnx.py</c> runs ONNX's own checker with full shape inference over them).
    /// </summary>
    public static void Dump(byte[] bytes, string? caseName)
    {
        var folder = Environment.GetEnvironmentVariable("MEDVISION_ONNX_DUMP");
        if (string.IsNullOrEmpty(folder) || caseName is null) return;
        Directory.CreateDirectory(folder);
        var safe = new string(caseName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        File.WriteAllBytes(Path.Combine(folder, safe + ".onnx"), bytes);
    }

    /// <summary>Each case name twice: exported in float32 (false) and in float16 (true, <see cref="OnnxExportOptions.Float16"/>).</summary>
    public static TheoryData<string, bool> InBothPrecisions(IEnumerable<string> names)
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in names)
        {
            data.Add(name, false);
            data.Add(name, true);
        }
        return data;
    }

    /// <summary>Uniform values in [−2, 2) from a private generator (not the global one).</summary>
    public static Tensor RandomInput(long[] shape, int seed)
    {
        var random = new Random(seed);
        var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 4 - 2);
        return Tensors.FromArray(values).Reshape(shape);
    }

    /// <summary>Gives every batch-norm-like layer non-trivial running statistics and affine parameters, so the export of each matters.</summary>
    public static void Randomise(Module model, int seed = 3)
    {
        var random = new Random(seed);
        using var noGrad = Tensors.NoGrad();
        foreach (var (name, tensor) in model.NamedBuffers().Concat(model.NamedParameters()))
        {
            if (!tensor.ScalarType.IsFloatingPoint()) continue;
            float Next(double low, double high) => (float)(low + random.NextDouble() * (high - low));
            if (name.EndsWith("running_var", StringComparison.Ordinal) || (name.EndsWith("weight", StringComparison.Ordinal) && tensor.Dim == 1))
                Fill(tensor, () => Next(0.5, 1.5));
            else if (name.EndsWith("running_mean", StringComparison.Ordinal) || (name.EndsWith("bias", StringComparison.Ordinal) && tensor.Dim == 1))
                Fill(tensor, () => Next(-0.5, 0.5));
        }
    }

    private static void Fill(Tensor tensor, Func<float> next)
    {
        var values = new float[tensor.NumElements];
        for (int i = 0; i < values.Length; i++) values[i] = next();
        using var scope = Tensors.NewDisposeScope();
        tensor.CopyInPlace(Tensors.FromArray(values).Reshape(tensor.Shape));
    }
}
