using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// 3D ResNet-18 on one-channel volumes: forward (eval, no gradients) and one training step (cross-entropy, backward,
/// Adam). 28³ (MedMNIST 3D) uses the small-input stem, 64³ the ImageNet stem (stride-2 convolution and max-pool).
/// </summary>
[MemoryDiagnoser]
public class VolumetricResNetBenchmarks
{
    private ClassifierWorkload _workload = null!;

    /// <summary>Volume side (28 or 64).</summary>
    [Params(28, 64)]
    public int Size { get; set; } = 28;

    [Params(1, 4)]
    public int Batch { get; set; } = 1;

    [ParamsSource(nameof(DeviceNames))]
    public string Device { get; set; } = "cpu";

    public static IEnumerable<string> DeviceNames() => BenchmarkSettings.Devices();

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkSettings.Initialize();
        var stem = Size < 64 ? ResNetStem.SmallInput : ResNetStem.ImageNet;
        var model = ResNet.ResNet18(numClasses: 11, inChannels: 1, spatialDims: 3, stem: stem);
        _workload = new ClassifierWorkload(model, new long[] { Batch, 1, Size, Size, Size }, 11, BenchmarkSettings.ToDevice(Device));
    }

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    /// <summary>Forward pass in eval mode without gradients.</summary>
    [Benchmark(Baseline = true)]
    public long Inference() => _workload.Inference();

    /// <summary>Forward, cross-entropy, backward and one Adam step.</summary>
    [Benchmark]
    public double TrainingStep() => _workload.TrainingStep();
}
