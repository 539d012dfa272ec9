using BenchmarkDotNet.Attributes;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// Deployment latency of <see cref="Predictor"/>, preprocessing included: one RetinaMNIST image (28×28 pixels) through
/// ResNet-18 with the small-input stem, and one 224×224 JPEG file through ResNet-50 with the ImageNet stem.
/// Targets: ≤ 20 ms and ≤ 250 ms on 2 CPU cores.
/// </summary>
[MemoryDiagnoser]
public class PredictorLatencyBenchmarks
{
    private string _dir = null!;
    private Predictor _resnet18 = null!;
    private Predictor _resnet50 = null!;
    private byte[] _pixels = null!;
    private string _jpeg = null!;

    [GlobalSetup]
    public void Setup()
    {
        Tensors.NumThreads = Environment.ProcessorCount;
        Tensors.ManualSeed(0);
        _dir = Directory.CreateTempSubdirectory("mvn-predictor-bench-").FullName;
        string[] grades = { "0", "1", "2", "3", "4" };
        using (var r18 = ResNet.Builder().WithDepth(18).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build())
            ModelFile.Save(Path.Combine(_dir, "r18.safetensors"), r18, ModelFile.Describe(r18,
                new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 3 }, grades, MedMnistTask.OrdinalRegression));
        using (var r50 = ResNet.Builder().WithDepth(50).ForInput(channels: 3).WithImageNetStem().WithClasses(2).Build())
            ModelFile.Save(Path.Combine(_dir, "r50.safetensors"), r50, ModelFile.Describe(r50,
                new PreprocessingCard { InputSize = new() { 224, 224 }, Channels = 3, Mean = new() { 0.485f, 0.456f, 0.406f }, Std = new() { 0.229f, 0.224f, 0.225f } },
                new[] { "normal", "pathologic myopia" }, MedMnistTask.Binary));
        _resnet18 = Predictor.Load(Path.Combine(_dir, "r18.safetensors"));
        _resnet50 = Predictor.Load(Path.Combine(_dir, "r50.safetensors"));
        _pixels = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(0).ToArray();
        var random = new Random(1);
        var fundus = new byte[224 * 224 * 3];
        random.NextBytes(fundus);
        _jpeg = Path.Combine(_dir, "fundus.jpg");
        ImageCodec.Save(_jpeg, new RasterImage(224, 224, 3, fundus));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _resnet18.Dispose();
        _resnet50.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>ResNet-18 (28×28, small-input stem) on one RetinaMNIST image given as raw pixels.</summary>
    [Benchmark(Baseline = true)]
    public int ResNet18Pixels28() => _resnet18.PredictPixels(_pixels, 28, 28, 3).Label;

    /// <summary>ResNet-50 (224×224, ImageNet stem) on one JPEG file: decode, resize, normalise, forward.</summary>
    [Benchmark]
    public int ResNet50Jpeg224() => _resnet50.PredictFile(_jpeg).Label;
}
