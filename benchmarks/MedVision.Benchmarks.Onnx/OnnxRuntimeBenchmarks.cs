using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Onnx;
using MedVision.Torch;
using MedVision.Torch.Nn;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = MedVision.Torch.Tensor;

namespace MedVision.Benchmarks.Onnx;

/// <summary>
/// Inference of one model with the same weights in libtorch through MedVision (evaluation mode, no autograd) and in
/// ONNX Runtime on the graph <see cref="OnnxExporter"/> wrote, both on 2 threads, input already in memory: what
/// serving the exported file instead of the library costs or saves; and ONNX Runtime on the float16 export
/// (<see cref="OnnxExportOptions.Float16"/>), which the CPU provider runs with casts to float32 where it has no float16 kernel.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class OnnxRuntimeBenchmarks
{
    private const int Threads = 2;
    private Module<Tensor, Tensor> _model = null!;
    private Tensor _input = null!;
    private InferenceSession _session = null!;
    private InferenceSession _halfSession = null!;
    private NamedOnnxValue[] _feed = null!;

    /// <summary>Model, input size and batch: ResNet-18 on 28×28 (small-input stem) at batch 1 and 32, ResNet-50 on 224×224 (ImageNet stem) at batch 1.</summary>
    [Params("resnet18-28-b1", "resnet18-28-b32", "resnet50-224-b1")]
    public string Workload { get; set; } = "resnet18-28-b1";

    [GlobalSetup]
    public void Setup()
    {
        Tensors.ManualSeed(0);
        Tensors.NumThreads = Threads;
        var parts = Workload.Split('-');
        int size = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        int batch = int.Parse(parts[2][1..], System.Globalization.CultureInfo.InvariantCulture);
        var builder = ResNet.Builder().WithDepth(parts[0] == "resnet50" ? 50 : 18).ForInput(channels: 3);
        _model = (size == 28 ? builder.WithSmallInputStem() : builder.WithImageNetStem()).WithClasses(5).Build();
        _model.Eval();
        var shape = new long[] { batch, 3, size, size };
        var bytes = new OnnxExporter().ExportToBytes(_model, shape);
        var values = new float[batch * 3 * size * size];
        var random = new Random(1);
        for (int i = 0; i < values.Length; i++) values[i] = (float)random.NextDouble();
        _input = Tensors.FromArray(values).Reshape(shape);
        var options = new SessionOptions { IntraOpNumThreads = Threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(bytes, options);
        _halfSession = new InferenceSession(new OnnxExporter().ExportToBytes(_model, shape, new OnnxExportOptions { Float16 = true }), options);
        _feed = new[] { NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(values, new[] { batch, 3, size, size })) };
        // Both engines must give the same logits before their speed means anything.
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var expected = _model.Call(_input).ToArray<float>();
        using var results = _session.Run(_feed);
        var actual = results.First().AsEnumerable<float>().ToArray();
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        if (worst > 1e-3 * Math.Max(1, expected.Max(Math.Abs))) throw new InvalidOperationException($"ONNX Runtime differs from libtorch by {worst}.");
        using var halfResults = _halfSession.Run(_feed);
        var half = halfResults.First().AsEnumerable<float>().ToArray();
        var worstHalf = expected.Zip(half, (e, a) => Math.Abs(e - a)).Max();
        if (worstHalf > 2e-2 * Math.Max(1, expected.Max(Math.Abs))) throw new InvalidOperationException($"ONNX Runtime in float16 differs from libtorch by {worstHalf}.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _halfSession.Dispose();
        _input.Dispose();
        _model.Dispose();
    }

    /// <summary>MedVision (libtorch) forward pass.</summary>
    [Benchmark(Baseline = true)]
    public float LibTorch()
    {
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        return _model.Call(_input).Select(0, 0).Select(0, 0).Item<float>();
    }

    /// <summary>ONNX Runtime on the exported graph.</summary>
    [Benchmark]
    public float OnnxRuntime()
    {
        using var results = _session.Run(_feed);
        return results.First().AsTensor<float>().GetValue(0);
    }

    /// <summary>ONNX Runtime on the float16 export (float32 input and output).</summary>
    [Benchmark]
    public float OnnxRuntimeFloat16()
    {
        using var results = _halfSession.Run(_feed);
        return results.First().AsTensor<float>().GetValue(0);
    }
}
