using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// Batch-1 ResNet-18 inference latency on a 28×28 image (small-input stem, eval, no gradients) with every CPU
/// convolution routed through oneDNN (the binding's default) or left to libtorch's own choice (what Python 1.13 does).
/// </summary>
[MemoryDiagnoser]
public class ResNetLatencyRoutingBenchmarks
{
    private ResNet _model = null!;
    private Tensor _image = null!;

    [Params(true, false)]
    public bool OneDnn { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkSettings.Initialize();
        _model = ResNet.ResNet18(numClasses: 5, inChannels: 3, spatialDims: 2, stem: ResNetStem.SmallInput);
        _model.Eval();
        _image = Tensors.Randn(1, 3, 28, 28);
        Tensors.RouteConvolutionsThroughOneDnn = OneDnn;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Tensors.RouteConvolutionsThroughOneDnn = true;
        _model.Dispose();
        _image.Dispose();
    }

    [Benchmark]
    public long Inference()
    {
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        return _model.Call(_image).Size(1);
    }
}
