using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.TensorBoard;

namespace MedVision.Benchmarks;

/// <summary>
/// What TensorBoard summaries cost a training run: one scalar (the trainer writes one per step), a histogram of every
/// parameter of ResNet-18 (11.2 M values in TensorFlow's buckets: what <c>WriteTensorBoardTo(…, parameterHistograms:
/// true)</c> adds per epoch), and a 224×224 RGB image as PNG.
/// </summary>
[MemoryDiagnoser]
public class TensorBoardBenchmarks
{
    private string _folder = null!;
    private SummaryWriter _writer = null!;
    private ResNet _model = null!;
    private Tensor _image = null!;
    private long _step;

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkSettings.Initialize();
        _folder = Directory.CreateTempSubdirectory("mv-bench-tb-").FullName;
        _writer = new SummaryWriter(_folder);
        _model = ResNet.Builder().WithDepth(18).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        _image = Tensors.Rand(3, 224, 224);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _writer.Dispose();
        _model.Dispose();
        _image.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public void Scalar() => _writer.AddScalar("train/batch_loss", 0.5, _step++);

    [Benchmark]
    public void ResNet18ParameterHistograms()
    {
        long step = _step++;
        foreach (var (name, parameter) in _model.NamedParameters()) _writer.AddHistogram("parameters/" + name, parameter, step);
    }

    [Benchmark]
    public void Image224() => _writer.AddImage("image", _image, _step++);
}
