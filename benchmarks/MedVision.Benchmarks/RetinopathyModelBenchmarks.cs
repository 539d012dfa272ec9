using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Optim;

namespace MedVision.Benchmarks;

/// <summary>
/// The diabetic-retinopathy models: one MTCSNN training step on a batch of 36 images (18 pairs: classification plus
/// the pairwise difference term, backward, Adam) and one SiameseResNet forward pass over 18 pairs, both on a ResNet-18
/// backbone. 28×28 uses the small-input stem; 224×224 (ImageNet stem, several seconds per step on 2 cores) is only
/// measured with MEDVISION_BENCH_FULL=1.
/// </summary>
[MemoryDiagnoser]
public class RetinopathyModelBenchmarks
{
    private const int Batch = 36;
    private Mtcsnn _mtcsnn = null!;
    private SiameseResNet _siamese = null!;
    private Adam _optimizer = null!;
    private Tensor _images = null!;
    private Tensor _first = null!;
    private Tensor _second = null!;
    private Tensor _grades = null!;
    private Device _device;

    /// <summary>Input side: 28, and 224 with MEDVISION_BENCH_FULL=1.</summary>
    public static IEnumerable<int> Sizes() => BenchmarkSettings.Full ? new[] { 28, 224 } : new[] { 28 };

    [ParamsSource(nameof(Sizes))]
    public int Size { get; set; } = 28;

    [ParamsSource(nameof(DeviceNames))]
    public string Device { get; set; } = "cpu";

    public static IEnumerable<string> DeviceNames() => BenchmarkSettings.Devices();

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkSettings.Initialize();
        _device = BenchmarkSettings.ToDevice(Device);
        var stem = Size < 64 ? ResNetStem.SmallInput : ResNetStem.ImageNet;
        _mtcsnn = Mtcsnn.Builder().WithBackbone(b => b.WithDepth(18).ForInput(3).WithStem(stem)).WithClasses(5).Build();
        _mtcsnn.To(_device);
        _siamese = SiameseResNet.Builder().WithBackbone(b => b.WithDepth(18).ForInput(3).WithStem(stem)).Build();
        _siamese.To(_device);
        _siamese.Eval();
        _optimizer = new Adam(_mtcsnn.Parameters(), 1e-3);
        _images = Tensors.Randn(new long[] { Batch, 3, Size, Size }, device: _device);
        _first = Tensors.Randn(new long[] { Batch / 2, 3, Size, Size }, device: _device);
        _second = Tensors.Randn(new long[] { Batch / 2, 3, Size, Size }, device: _device);
        _grades = Tensors.RandInt(0, 5, new long[] { Batch }, device: _device);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _optimizer.Dispose();
        _mtcsnn.Dispose();
        _siamese.Dispose();
        _images.Dispose();
        _first.Dispose();
        _second.Dispose();
        _grades.Dispose();
    }

    /// <summary>MTCSNN: loss (classification + λ·difference), backward, Adam step; batch 36.</summary>
    [Benchmark]
    public double MtcsnnTrainingStep()
    {
        using var scope = Tensors.NewDisposeScope();
        _optimizer.ZeroGrad();
        using var loss = _mtcsnn.ComputeLoss(_images, _grades);
        loss.Total.Backward();
        _optimizer.Step();
        return loss.Total.Item();
    }

    /// <summary>SiameseResNet: embeddings of both images of 18 pairs and their distances, no gradients.</summary>
    [Benchmark]
    public long SiameseForward()
    {
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        using var output = _siamese.Call((_first, _second));
        BenchmarkSettings.Synchronize(_device);
        return output.Distance.Size(0);
    }
}
