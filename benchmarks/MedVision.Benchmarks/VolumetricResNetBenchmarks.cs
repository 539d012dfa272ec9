using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;

namespace MedVision.Benchmarks;

/// <summary>
/// 3D ResNet-18 on one-channel volumes: forward (eval, no gradients) and one training step (cross-entropy, backward,
/// Adam). 28³ (MedMNIST 3D) uses the small-input stem, 64³ the ImageNet stem (stride-2 convolution and max-pool).
/// </summary>
[MemoryDiagnoser]
public class VolumetricResNetBenchmarks
{
    private ResNet _model = null!;
    private Adam _optimizer = null!;
    private Tensor _volumes = null!;
    private Tensor _labels = null!;
    private Device _device;

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
        _device = BenchmarkSettings.ToDevice(Device);
        var stem = Size < 64 ? ResNetStem.SmallInput : ResNetStem.ImageNet;
        _model = ResNet.ResNet18(numClasses: 11, inChannels: 1, spatialDims: 3, stem: stem);
        _model.To(_device);
        _optimizer = new Adam(_model.Parameters(), 1e-3);
        _volumes = Tensors.Randn(new long[] { Batch, 1, Size, Size, Size }, device: _device);
        _labels = Tensors.RandInt(0, 11, new long[] { Batch }, device: _device);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _volumes.Dispose();
        _labels.Dispose();
    }

    [Benchmark(Baseline = true)]
    public long Inference()
    {
        _model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var logits = _model.Call(_volumes);
        BenchmarkSettings.Synchronize(_device);
        return logits.Size(0);
    }

    [Benchmark]
    public double TrainingStep()
    {
        _model.Train();
        using var scope = Tensors.NewDisposeScope();
        _optimizer.ZeroGrad();
        var loss = Functional.CrossEntropy(_model.Call(_volumes), _labels);
        loss.Backward();
        _optimizer.Step();
        return loss.Item();
    }
}
