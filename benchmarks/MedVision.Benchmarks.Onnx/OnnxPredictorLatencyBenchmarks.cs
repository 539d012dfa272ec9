using BenchmarkDotNet.Attributes;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Onnx.Runtime;
using MedVision.Torch;

namespace MedVision.Benchmarks.Onnx;

/// <summary>
/// Deployment latency with preprocessing, as <c>PredictorLatencyBenchmarks</c> measures it for the libtorch predictor:
/// one RetinaMNIST image (raw 28×28 pixels) through ResNet-18 (small-input stem) and one 224×224 JPEG file through
/// ResNet-50 (ImageNet stem), by <see cref="Predictor.Load"/> (libtorch) and by <see cref="OnnxRuntimePredictor.Load(string, TestTimeFlips)"/>
/// on the same model files exported to ONNX. Both on 2 threads.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class OnnxPredictorLatencyBenchmarks
{
    private string _dir = null!;
    private Predictor _libtorch18 = null!, _libtorch50 = null!, _onnx18 = null!, _onnx50 = null!;
    private byte[] _pixels = null!;
    private string _jpeg = null!;

    [GlobalSetup]
    public void Setup()
    {
        Tensors.NumThreads = 2;
        Tensors.ManualSeed(0);
        _dir = Directory.CreateTempSubdirectory("mvn-onnx-predictor-bench-").FullName;
        string[] grades = { "0", "1", "2", "3", "4" };
        var r18File = Path.Combine(_dir, "r18.safetensors");
        var r50File = Path.Combine(_dir, "r50.safetensors");
        using (var r18 = ResNet.Builder().WithDepth(18).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build())
            ModelFile.Save(r18File, r18, ModelFile.Describe(r18, new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 3 }, grades, MedMnistTask.OrdinalRegression));
        using (var r50 = ResNet.Builder().WithDepth(50).ForInput(channels: 3).WithImageNetStem().WithClasses(2).Build())
            ModelFile.Save(r50File, r50, ModelFile.Describe(r50,
                new PreprocessingCard { InputSize = new() { 224, 224 }, Channels = 3, Mean = new() { 0.485f, 0.456f, 0.406f }, Std = new() { 0.229f, 0.224f, 0.225f } },
                new[] { "normal", "pathologic myopia" }, MedMnistTask.Binary));
        MedVision.Onnx.OnnxModelFile.Export(r18File, Path.ChangeExtension(r18File, ".onnx"));
        MedVision.Onnx.OnnxModelFile.Export(r50File, Path.ChangeExtension(r50File, ".onnx"));
        _libtorch18 = Predictor.Load(r18File);
        _libtorch50 = Predictor.Load(r50File);
        var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        _onnx18 = OnnxRuntimePredictor.Load(Path.ChangeExtension(r18File, ".onnx"), options);
        _onnx50 = OnnxRuntimePredictor.Load(Path.ChangeExtension(r50File, ".onnx"), options);
        _pixels = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(0).ToArray();
        var fundus = new byte[224 * 224 * 3];
        new Random(1).NextBytes(fundus);
        _jpeg = Path.Combine(_dir, "fundus.jpg");
        ImageCodec.Save(_jpeg, new RasterImage(224, 224, 3, fundus));
        // The two engines must agree before their speed means anything.
        var a = _libtorch50.PredictFile(_jpeg).Probabilities;
        var b = _onnx50.PredictFile(_jpeg).Probabilities;
        if (a.Zip(b, (x, y) => Math.Abs(x - y)).Max() > 1e-3) throw new InvalidOperationException("The ONNX Runtime predictor disagrees with the libtorch predictor.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var p in new[] { _libtorch18, _libtorch50, _onnx18, _onnx50 }) p.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>libtorch: ResNet-18 (28×28) on one RetinaMNIST image given as raw pixels.</summary>
    [Benchmark(Baseline = true)]
    public int LibTorchResNet18Pixels28() => _libtorch18.PredictPixels(_pixels, 28, 28, 3).Label;

    /// <summary>ONNX Runtime: the same.</summary>
    [Benchmark]
    public int OnnxRuntimeResNet18Pixels28() => _onnx18.PredictPixels(_pixels, 28, 28, 3).Label;

    /// <summary>libtorch: ResNet-50 (224×224) on one JPEG file: decode, resize, normalise, forward.</summary>
    [Benchmark]
    public int LibTorchResNet50Jpeg224() => _libtorch50.PredictFile(_jpeg).Label;

    /// <summary>ONNX Runtime: the same.</summary>
    [Benchmark]
    public int OnnxRuntimeResNet50Jpeg224() => _onnx50.PredictFile(_jpeg).Label;
}
