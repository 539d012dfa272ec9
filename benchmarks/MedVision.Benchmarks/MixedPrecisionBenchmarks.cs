using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// Float32 against bfloat16 autocast (<see cref="Tensors.Autocast"/>) for ResNet-18 with the small-input stem at
/// 28×28: a forward pass (eval, no gradients) and a full training step (forward and loss under autocast, backward,
/// Adam), at batch 1 and 128. On CUDA the autocast precision is bfloat16 too (no loss scaling needed).
/// </summary>
public class MixedPrecisionBenchmarks : ClassifierBenchmark
{
    /// <summary>Batch size.</summary>
    [Params(1, 128)]
    public int Batch { get; set; } = 128;

    /// <summary>Whether the forward passes run under bfloat16 autocast.</summary>
    [Params(false, true)]
    public bool MixedPrecision { get; set; }

    protected override ClassifierWorkload CreateWorkload(Device device)
        => new(ResNet.ResNet18(10, 3, 2, ResNetStem.SmallInput), new long[] { Batch, 3, 28, 28 }, 10, device, MixedPrecision);
}
