using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Optim;

namespace MedVision.Benchmarks;

/// <summary>
/// One optimizer step over ResNet-18's 11.2 M parameters (small-input stem, 5 classes) with fixed random gradients:
/// what each torch.optim-style update costs per training step, apart from forward and backward. SGD with momentum is
/// the baseline.
/// </summary>
public class OptimizerStepBenchmarks
{
    private ResNet _model = null!;
    private Optimizer _optimizer = null!;

    /// <summary>The optimizer, with PyTorch's defaults besides the learning rate (SGD: momentum 0.9).</summary>
    [Params("Sgd", "Adam", "AdamW", "RmsProp", "Adagrad", "NAdam", "RAdam")]
    public string Optimizer { get; set; } = "Sgd";

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkSettings.Initialize();
        _model = ResNet.Builder().WithDepth(18).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        foreach (var p in _model.Parameters())
        {
            using var grad = Tensors.Randn(p.Shape);
            p.Grad = grad;
        }
        var parameters = _model.Parameters().ToList();
        _optimizer = Optimizer switch
        {
            "Sgd" => new Sgd(parameters, 1e-3, momentum: 0.9),
            "Adam" => new Adam(parameters, 1e-3),
            "AdamW" => new AdamW(parameters, 1e-3),
            "RmsProp" => new RmsProp(parameters, 1e-3),
            "Adagrad" => new Adagrad(parameters, 1e-3),
            "NAdam" => new NAdam(parameters, 1e-3),
            "RAdam" => new RAdam(parameters, 1e-3),
            _ => throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, null),
        };
        _optimizer.Step(); // state tensors allocated before measuring
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }

    [Benchmark]
    public void Step() => _optimizer.Step();
}
