using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// 3D ResNet-18 on one-channel volumes: forward (eval, no gradients) and one training step (cross-entropy, backward,
/// Adam). 28³ (MedMNIST 3D) uses the small-input stem, 64³ the ImageNet stem (stride-2 convolution and max-pool).
/// </summary>
public class VolumetricResNetBenchmarks : ClassifierBenchmark
{
    /// <summary>Volume side (28 or 64).</summary>
    [Params(28, 64)]
    public int Size { get; set; } = 28;

    [Params(1, 4)]
    public int Batch { get; set; } = 1;

    protected override ClassifierWorkload CreateWorkload(Device device)
    {
        var stem = Size < 64 ? ResNetStem.SmallInput : ResNetStem.ImageNet;
        return new(ResNet.ResNet18(numClasses: 11, inChannels: 1, spatialDims: 3, stem: stem), new long[] { Batch, 1, Size, Size, Size }, 11, device);
    }
}
