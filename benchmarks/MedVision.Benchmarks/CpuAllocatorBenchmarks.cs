using BenchmarkDotNet.Attributes;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// The CPU caching allocator against malloc alone (<c>CacheLimit = 0</c>): a fresh tensor of a training step's
/// activation size (128×256×28×28 float32, 98 MiB: ResNet-50's layer1 output at batch 128) written once and freed, and
/// a small one (64×64) that the cache never handles. Run: <c>--filter '*CpuAllocator*'</c>.
/// </summary>
[MemoryDiagnoser]
public class CpuAllocatorBenchmarks
{
    private long _previousLimit;

    /// <summary>Whether freed large blocks are cached (the default) or go back to the system at once.</summary>
    [Params(true, false)]
    public bool Caching { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Tensors.NumThreads = BenchmarkSettings.Threads;
        _previousLimit = CpuMemory.CacheLimit;
        CpuMemory.EmptyCache();
        CpuMemory.CacheLimit = Caching ? Math.Max(_previousLimit, 1L << 30) : 0;
    }

    [GlobalCleanup]
    public void Cleanup() => CpuMemory.CacheLimit = _previousLimit;

    /// <summary>Allocate a 98 MiB activation-sized tensor, fill it, free it.</summary>
    [Benchmark(Baseline = true)]
    public long ActivationSized()
    {
        using var t = Tensors.Empty([128, 256, 28, 28]);
        t.FillInPlace(1);
        return t.IsDisposed ? 0 : 1;
    }

    /// <summary>Allocate a 16 KiB tensor, fill it, free it (below the cache's 1 MiB threshold: malloc either way).</summary>
    [Benchmark]
    public long Small()
    {
        using var t = Tensors.Empty([64, 64]);
        t.FillInPlace(1);
        return t.IsDisposed ? 0 : 1;
    }
}
