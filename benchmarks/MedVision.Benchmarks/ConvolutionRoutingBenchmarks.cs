using BenchmarkDotNet.Attributes;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Benchmarks;

/// <summary>
/// Batch-1 3×3 convolutions on small feature maps, routed through oneDNN (the binding's default) or left to
/// libtorch 1.13's own heuristic, which sends them to its slow reference path.
/// </summary>
[MemoryDiagnoser]
public class ConvolutionRoutingBenchmarks
{
    private Tensor _input = null!;
    private Tensor _weight = null!;

    /// <summary>Channels × size of the feature map.</summary>
    [Params("256x7", "512x4", "64x28")]
    public string Map { get; set; } = "256x7";

    /// <summary>True: oneDNN; false: libtorch's choice.</summary>
    [Params(true, false)]
    public bool OneDnn { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Tensors.ManualSeed(0);
        Tensors.NumThreads = 2;
        var parts = Map.Split('x');
        long c = long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        long s = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        _input = Tensors.Randn(new[] { 1, c, s, s }, requiresGrad: true);
        _weight = Tensors.Randn(new[] { c, c, 3L, 3L }, requiresGrad: true);
        Tensors.RouteConvolutionsThroughOneDnn = OneDnn;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Tensors.RouteConvolutionsThroughOneDnn = true;
        _input.Dispose();
        _weight.Dispose();
    }

    /// <summary>Forward only, no gradients.</summary>
    [Benchmark]
    public double Forward()
    {
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var y = Functional.Conv2d(_input, _weight, padding: 1);
        return y.Size(1);
    }

    /// <summary>Forward and backward (gradients of input and weight).</summary>
    [Benchmark]
    public double ForwardBackward()
    {
        using var scope = Tensors.NewDisposeScope();
        var y = Functional.Conv2d(_input, _weight, padding: 1);
        y.Sum().Backward();
        _input.Grad = null;
        _weight.Grad = null;
        return y.Size(1);
    }
}
