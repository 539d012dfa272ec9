using BenchmarkDotNet.Attributes;
using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics.Segmentation;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Optim;

namespace MedVision.Benchmarks;

/// <summary>
/// The U-Net: forward (eval, no gradients; baseline) and one training step (Dice + cross-entropy, backward, Adam) of
/// the segmentation sample's 3-D network (features 16/32/64, instance norm, 2 channels, 2 crops of 32³) and of a 2-D
/// U-Net with the default five levels (32…512, batch norm) on 4 images of 128²; and a sliding-window segmentation of
/// a whole 64³ scan with the 3-D network (32³ windows, overlap 0.5: 27 windows).
/// </summary>
[MemoryDiagnoser]
public class SegmentationBenchmarks
{
    private UNet _model = null!;
    private Adam _optimizer = null!;
    private Tensor _inputs = null!, _labels = null!, _scan = null!;
    private Device _device = MedVision.Torch.Device.Cpu;
    private SlidingWindowInferer _window = null!;

    /// <summary>"3d-32" (2 × 2 × 32³) or "2d-128" (4 × 1 × 128²).</summary>
    [Params("3d-32", "2d-128")]
    public string Case { get; set; } = "3d-32";

    [ParamsSource(nameof(DeviceNames))]
    public string Device { get; set; } = "cpu";

    public static IEnumerable<string> DeviceNames() => BenchmarkSettings.Devices();

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkSettings.Initialize();
        _device = BenchmarkSettings.ToDevice(Device);
        bool volume = Case == "3d-32";
        _model = volume
            ? UNet.Builder().ForInput(2, 3).WithFeatures(16, 32, 64).WithInstanceNorm().WithClasses(2).Build()
            : UNet.Builder().ForInput(1).WithClasses(3).Build();
        _model.To(_device);
        _optimizer = new Adam(_model.Parameters(), 1e-3);
        long[] shape = volume ? [2, 2, 32, 32, 32] : [4, 1, 128, 128];
        _inputs = Tensors.Randn(shape, device: _device);
        _labels = Tensors.RandInt(0, volume ? 2 : 3, shape.Where((_, i) => i != 1).ToArray(), device: _device);
        _scan = Tensors.Randn(volume ? [1, 2, 64, 64, 64] : [1, 1, 256, 256], device: _device);
        _window = new SlidingWindowInferer(volume ? [32, 32, 32] : [128, 128], overlap: 0.5);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _inputs.Dispose();
        _labels.Dispose();
        _scan.Dispose();
    }

    [Benchmark(Baseline = true)]
    public long Inference()
    {
        _model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var logits = _model.Call(_inputs);
        BenchmarkSettings.Synchronize(_device);
        return logits.Size(1);
    }

    [Benchmark]
    public double TrainingStep()
    {
        _model.Train();
        using var scope = Tensors.NewDisposeScope();
        _optimizer.ZeroGrad();
        var loss = DiceLoss.WithCrossEntropy(_model.Call(_inputs), _labels);
        loss.Backward();
        _optimizer.Step();
        return loss.Item();
    }

    /// <summary>A whole scan (64³, or 256² for the 2-D case) window by window.</summary>
    [Benchmark]
    public long SlidingWindowScan()
    {
        _model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var logits = _window.Infer(_scan, _model);
        BenchmarkSettings.Synchronize(_device);
        return logits.Size(1);
    }
}

/// <summary>
/// Surface distances (Hausdorff, HD95, ASSD; two exact distance transforms with anisotropic spacing) and connected
/// components of a pair of 96³ masks holding a 40-voxel-wide sphere and a shifted, dented copy; Dice as the baseline.
/// </summary>
[MemoryDiagnoser]
public class SegmentationMetricsBenchmarks
{
    private const int Size = 96;
    private bool[] _prediction = null!, _truth = null!;
    private readonly int[] _shape = [Size, Size, Size];

    [GlobalSetup]
    public void Setup()
    {
        _prediction = new bool[Size * Size * Size];
        _truth = new bool[Size * Size * Size];
        for (int z = 0; z < Size; z++)
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                {
                    int i = (((z * Size) + y) * Size) + x;
                    double r2 = Math.Pow(z - 48, 2) + Math.Pow(y - 48, 2) + Math.Pow(x - 48, 2);
                    _truth[i] = r2 <= 400;
                    _prediction[i] = Math.Pow(z - 50, 2) + Math.Pow(y - 47, 2) + Math.Pow(x - 49, 2) <= 420 && !(x > 60 && y > 55);
                }
    }

    [Benchmark(Baseline = true)]
    public double Dice() => SegmentationMetrics.Dice(_prediction, _truth);

    [Benchmark]
    public double SurfaceDistances() => SegmentationMetrics.SurfaceDistances(_prediction, _truth, _shape, [2.0, 0.8, 0.8]).Hausdorff95;

    [Benchmark]
    public int ConnectedComponents() => MedVision.Nets.Inference.ConnectedComponents.Label(_prediction, _shape).Count;
}

/// <summary>
/// One fundus-sized image (a 512×512 RGB JPEG) segmented by <see cref="ImageSegmentationPredictor"/> with a 2-D U-Net
/// of four levels (16/32/64/128, batch norm, 3 classes) at 256×256, as a service would: from the JPEG file (decode,
/// resize, normalise, network, arg-max, map back to 512×512; the baseline), from decoded pixels, with horizontal
/// test-time flips (two passes), and four images from four threads at once through the one predictor.
/// </summary>
[MemoryDiagnoser]
public class ImageSegmentationPredictorBenchmarks
{
    private string _folder = null!, _jpeg = null!;
    private ImageSegmentationPredictor _predictor = null!, _mirrored = null!;
    private MedVision.Nets.Data.Images.RasterImage _image = null!;

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkSettings.Initialize();
        _folder = Directory.CreateTempSubdirectory("mv-bench-imgseg-").FullName;
        _image = SyntheticFundus.Create();
        _jpeg = Path.Combine(_folder, "fundus.jpg");
        MedVision.Nets.Data.Images.ImageCodec.Save(_jpeg, _image);
        var path = Path.Combine(_folder, "unet.safetensors");
        using (var model = UNet.Builder().ForInput(3, 2).WithFeatures(16, 32, 64, 128).WithClasses(3).Build())
        {
            var options = new MedVision.Nets.Data.Segmentation.ImageSegmentationOptions { Channels = 3, Size = (256, 256), Normalization = new MedVision.Nets.Transforms.NormalizeIntensity(channelWise: true) };
            SegmentationModelFile.Save(path, model, SegmentationModelFile.Describe(model, options, ["background", "disc", "cup"], new SlidingWindowInferer([256, 256])));
        }
        _predictor = ImageSegmentationPredictor.Load(path);
        _mirrored = ImageSegmentationPredictor.Load(path);
        _mirrored.Flips = TestTimeFlips.Horizontal;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _predictor.Dispose();
        _mirrored.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public long FromJpegFile() => _predictor.Predict(_jpeg).PixelCount(1);

    [Benchmark]
    public long FromPixels() => _predictor.Predict(_image).PixelCount(1);

    [Benchmark]
    public long WithHorizontalFlips() => _mirrored.Predict(_image).PixelCount(1);

    /// <summary>Four images at once from four threads through the one predictor (the time for all four).</summary>
    [Benchmark]
    public long FourThreads()
    {
        long sum = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => Interlocked.Add(ref sum, _predictor.Predict(_image).PixelCount(1)));
        return sum;
    }
}
