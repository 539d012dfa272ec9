using BenchmarkDotNet.Attributes;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Benchmarks;

/// <summary>
/// A transformer encoder layer of ViT-Tiny's size (E 192, 3 heads, MLP 768, pre-norm, GELU) on a batch of 32 sequences
/// of 50 tokens (a 28×28 image in 4×4 patches and a class token), 2 threads: inference (evaluation mode, no gradients)
/// and a training step's forward and backward pass. The attention is composed of matrix products (libtorch 1.13 has no
/// fused kernel; Python PyTorch 1.13's <c>nn.TransformerEncoderLayer</c> runs the same products when it trains), its
/// projections on oneDNN's inner product (the binding's default) or, with <see cref="LinearOnOneDnn"/> false, on
/// libtorch's BLAS as Python's run. Python on the same machine: benchmarks/compare/attention.py.
/// </summary>
[MemoryDiagnoser]
public class AttentionBenchmarks
{
    private TransformerEncoderLayer _layer = null!;
    private Tensor _tokens = null!;

    /// <summary>Whether the projections run on oneDNN (<see cref="Tensors.RouteLinearLayersThroughOneDnn"/>, the default) or on libtorch's BLAS, as Python's do.</summary>
    [Params(true, false)]
    public bool LinearOnOneDnn { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Tensors.ManualSeed(0);
        Tensors.NumThreads = 2;
        _layer = new TransformerEncoderLayer(192, 3, dimFeedforward: 768, dropout: 0, activation: TransformerActivation.Gelu, batchFirst: true, normFirst: true);
        _tokens = Tensors.Randn(32, 50, 192);
        Tensors.RouteLinearLayersThroughOneDnn = LinearOnOneDnn;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Tensors.RouteLinearLayersThroughOneDnn = true;
        _layer.Dispose();
        _tokens.Dispose();
    }

    /// <summary>One forward pass in evaluation mode without gradients.</summary>
    [Benchmark(Baseline = true)]
    public double Inference()
    {
        _layer.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        return _layer.Call(_tokens).Sum().Item();
    }

    /// <summary>Forward and backward of sum(output) in training mode (gradients zeroed first).</summary>
    [Benchmark]
    public double ForwardBackward()
    {
        _layer.Train();
        _layer.ZeroGrad();
        using var scope = Tensors.NewDisposeScope();
        var loss = _layer.Call(_tokens).Sum();
        loss.Backward();
        return loss.Item();
    }
}
