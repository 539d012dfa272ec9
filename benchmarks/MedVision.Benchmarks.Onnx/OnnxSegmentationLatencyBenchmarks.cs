using BenchmarkDotNet.Attributes;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Onnx.Runtime;
using MedVision.Torch;
using MedVision.Benchmarks;

namespace MedVision.Benchmarks.Onnx;

/// <summary>
/// Segmentation serving latency with preparation: one 512×512 RGB fundus-like JPEG through a 2-D U-Net (16/32/64/128,
/// batch norm, 3 classes, at 256×256), by <see cref="ImageSegmentationPredictor.Load"/> (libtorch; the baseline) and by
/// <see cref="OnnxRuntimePredictor.LoadImageSegmentation"/> on the same model file exported with
/// <c>OnnxModelFile.ExportSegmentation</c>; both on 2 threads. The same workload as <c>ImageSegmentationPredictorBenchmarks.FromJpegFile</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class OnnxSegmentationLatencyBenchmarks
{
    private string _dir = null!, _jpeg = null!;
    private ImageSegmentationPredictor _libtorch = null!, _onnx = null!;

    [GlobalSetup]
    public void Setup()
    {
        Tensors.NumThreads = 2;
        Tensors.ManualSeed(0);
        _dir = Directory.CreateTempSubdirectory("mvn-onnx-seg-bench-").FullName;
        _jpeg = Path.Combine(_dir, "fundus.jpg");
        ImageCodec.Save(_jpeg, SyntheticFundus.Create());
        var modelFile = Path.Combine(_dir, "unet.safetensors");
        using (var model = UNet.Builder().ForInput(3, 2).WithFeatures(16, 32, 64, 128).WithClasses(3).Build())
        {
            var options = new ImageSegmentationOptions { Channels = 3, Size = (256, 256), Normalization = new NormalizeIntensity(channelWise: true) };
            SegmentationModelFile.Save(modelFile, model, SegmentationModelFile.Describe(model, options, ["background", "disc", "cup"], new SlidingWindowInferer([256, 256])));
        }
        var onnxFile = Path.ChangeExtension(modelFile, ".onnx");
        MedVision.Onnx.OnnxModelFile.ExportSegmentation(modelFile, onnxFile);
        _libtorch = ImageSegmentationPredictor.Load(modelFile);
        _onnx = OnnxRuntimePredictor.LoadImageSegmentation(onnxFile, new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 });
        // The two engines must agree before their speed means anything.
        var image = ImageCodec.DecodeFile(_jpeg);
        var a = _libtorch.PredictProbabilities(image);
        var b = _onnx.PredictProbabilities(image);
        for (int k = 0; k < a.Count; k++)
            if (a[k].Zip(b[k], (x, y) => Math.Abs(x - y)).Max() > 1e-3) throw new InvalidOperationException("The ONNX Runtime predictor disagrees with the libtorch predictor.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _libtorch.Dispose();
        _onnx.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>libtorch: decode, resize, normalise, U-Net, arg-max, map back to 512×512.</summary>
    [Benchmark(Baseline = true)]
    public long LibTorchUNetJpeg512() => _libtorch.Predict(_jpeg).PixelCount(1);

    /// <summary>ONNX Runtime: the same.</summary>
    [Benchmark]
    public long OnnxRuntimeUNetJpeg512() => _onnx.Predict(_jpeg).PixelCount(1);
}
