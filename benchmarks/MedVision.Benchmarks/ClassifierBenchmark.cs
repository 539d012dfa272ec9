using BenchmarkDotNet.Attributes;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// The shape the model benchmarks share: a <see cref="ClassifierWorkload"/> built per parameter combination and device,
/// timed as a forward pass (the baseline) and as a training step. Derived classes declare their parameters and build
/// the workload.
/// </summary>
[MemoryDiagnoser]
public abstract class ClassifierBenchmark
{
    private ClassifierWorkload? _workload;

    /// <summary>cpu, and cuda when available.</summary>
    [ParamsSource(nameof(DeviceNames))]
    public string Device { get; set; } = "cpu";

    public static IEnumerable<string> DeviceNames() => BenchmarkSettings.Devices();

    /// <summary>The workload of the current parameters on <paramref name="device"/>.</summary>
    protected abstract ClassifierWorkload CreateWorkload(Device device);

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkSettings.Initialize();
        _workload = CreateWorkload(BenchmarkSettings.ToDevice(Device));
    }

    [GlobalCleanup]
    public void Cleanup() => _workload?.Dispose();

    /// <summary>Forward pass in eval mode without gradients.</summary>
    [Benchmark(Baseline = true)]
    public long Inference() => _workload!.Inference();

    /// <summary>Forward and cross-entropy (under autocast when the workload asks for it), backward and one Adam step.</summary>
    [Benchmark]
    public double TrainingStep() => _workload!.TrainingStep();
}
