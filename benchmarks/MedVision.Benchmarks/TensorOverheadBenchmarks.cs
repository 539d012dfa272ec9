using BenchmarkDotNet.Attributes;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// Per-op overhead of the binding on tiny tensors: one P/Invoke, one libtorch dispatch, one handle allocation and
/// its release. Python PyTorch 1.13 on the same machine: see benchmarks/compare/tensor_overhead.py.
/// </summary>
[MemoryDiagnoser]
public class TensorOverheadBenchmarks
{
    private Tensor _a = null!;
    private Tensor _b = null!;

    [GlobalSetup]
    public void Setup()
    {
        Tensors.ManualSeed(0);
        Tensors.NumThreads = 1;
        _a = Tensors.Randn(4, 4);
        _b = Tensors.Randn(4, 4);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }

    /// <summary>c = a + b on 4×4 float32, disposed at once.</summary>
    [Benchmark(Baseline = true)]
    public long Add4x4()
    {
        using var c = _a + _b;
        return c.IsDisposed ? 0 : 1;
    }

    /// <summary>The same add inside a dispose scope (the idiomatic form).</summary>
    [Benchmark]
    public long Add4x4InScope()
    {
        using var scope = Tensors.NewDisposeScope();
        var c = _a + _b;
        return c.IsDisposed ? 0 : 1;
    }

    /// <summary>In-place add: no allocation of a result tensor.</summary>
    [Benchmark]
    public long AddInPlace4x4()
    {
        _a.AddInPlace(_b, 1e-9);
        return 1;
    }

    /// <summary>Three chained elementwise ops ((a·b + a).relu()).</summary>
    [Benchmark]
    public long Chain3()
    {
        using var scope = Tensors.NewDisposeScope();
        var c = (_a * _b + _a).Relu();
        return c.IsDisposed ? 0 : 1;
    }
}
