using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// Float32 against bfloat16 autocast (<see cref="Tensors.Autocast"/>) for ResNet-18 with the small-input stem at
/// 28×28: a forward pass (eval, no gradients) and a full training step (forward and loss under autocast, backward,
/// Adam), at batch 1 and 128. On CUDA the autocast precision is bfloat16 too (no loss scaling needed).
/// </summary>
[MemoryDiagnoser]
public class MixedPrecisionBenchmarks
{
    private ClassifierWorkload _workload = null!;

    /// <summary>Batch size.</summary>
    [Params(1, 128)]
    public int Batch { get; set; } = 128;

    /// <summary>Whether the forward passes run under bfloat16 autocast.</summary>
    [Params(false, true)]
    public bool MixedPrecision { get; set; }

    /// <summary>cpu, and cuda when available.</summary>
    [ParamsSource(nameof(DeviceNames))]
    public string Device { get; set; } = "cpu";

    public static IEnumerable<string> DeviceNames() => BenchmarkSettings.Devices();

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkSettings.Initialize();
        var device = BenchmarkSettings.ToDevice(Device);
        _workload = new ClassifierWorkload(ResNet.ResNet18(10, 3, 2, ResNetStem.SmallInput), new long[] { Batch, 3, 28, 28 }, 10, device, MixedPrecision);
    }

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    /// <summary>Forward pass in eval mode without gradients.</summary>
    [Benchmark(Baseline = true)]
    public long Inference() => _workload.Inference();

    /// <summary>Forward and cross-entropy (under autocast when asked), backward and one Adam step.</summary>
    [Benchmark]
    public double TrainingStep() => _workload.TrainingStep();
}
