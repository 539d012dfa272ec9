using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// CDSF on 64³ volumes: the synthesis network (ISM, MRI → PET) and the diagnosis network (MDM on the MRI+PET pair)
/// forward in eval mode without gradients, and one collaborative training step of <see cref="CdsfTrainer"/> (MDM on
/// real and synthetic pairs, then ISM with voxel, feature-consistency and classification losses; two Adam steps).
/// </summary>
[MemoryDiagnoser]
public class CdsfBenchmarks
{
    private const int Side = 64;
    private Cdsf _model = null!;
    private CdsfTrainer _trainer = null!;
    private Tensor _mri = null!;
    private Tensor _pet = null!;
    private Tensor _pair = null!;
    private Tensor _labels = null!;
    private Device _device;

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
        _model = Cdsf.Builder().ForVolume(Side, Side, Side).WithClasses(2).Build();
        _model.To(_device);
        _trainer = CdsfTrainer.For(_model).Build();
        _mri = Tensors.Randn(new long[] { Batch, 1, Side, Side, Side }, device: _device);
        _pet = Tensors.Randn(new long[] { Batch, 1, Side, Side, Side }, device: _device);
        _pair = Cdsf.Pair(_mri, _pet);
        _labels = Tensors.RandInt(0, 2, new long[] { Batch }, device: _device);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _trainer.Dispose();
        _model.Dispose();
        _mri.Dispose();
        _pet.Dispose();
        _pair.Dispose();
        _labels.Dispose();
    }

    /// <summary>ISM: MRI → synthetic PET.</summary>
    [Benchmark]
    public long IsmForward()
    {
        _model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var pet = _model.Synthesis.Call(_mri);
        BenchmarkSettings.Synchronize(_device);
        return pet.Size(0);
    }

    /// <summary>MDM: logits of the MRI+PET pair.</summary>
    [Benchmark]
    public long MdmForward()
    {
        _model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var logits = _model.Diagnosis.Call(_pair);
        BenchmarkSettings.Synchronize(_device);
        return logits.Size(0);
    }

    /// <summary>One collaborative step of the trainer.</summary>
    [Benchmark]
    public double CollaborativeStep()
    {
        _model.Train();
        using var scope = Tensors.NewDisposeScope();
        var losses = _trainer.Step(_mri, _pet, _labels);
        return losses.SynthesisTotal;
    }
}
