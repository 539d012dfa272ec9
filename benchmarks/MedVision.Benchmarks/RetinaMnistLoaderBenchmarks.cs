using BenchmarkDotNet.Attributes;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// The data path of a RetinaMNIST epoch: every training image (1,080, 28×28 RGB) through the default augmentation
/// (random horizontal flip, random rotation ±15°, normalize to [−1, 1]) into batches of 128 tensors. Compare with
/// <see cref="ResNetThroughputBenchmarks"/> R18-28-b128 TrainingStep × 9 batches for the share of an epoch.
/// </summary>
[MemoryDiagnoser]
public class RetinaMnistLoaderBenchmarks
{
    private MedMnistDataset _data = null!;
    private DataLoader _plain = null!;
    private DataLoader _augmented = null!;
    private int _epoch;

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkSettings.Initialize();
        _data = MedMnistDataset.LoadEmbeddedRetinaMnist();
        var source = new MedMnistImageSource(_data.Train);
        var augmentation = TransformPipeline.Create().RandomHorizontalFlip().RandomRotation(15).Normalize(0.5f, 0.5f).Build();
        var normalize = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build();
        _augmented = new DataLoader(source, new DataLoaderOptions { BatchSize = 128, Shuffle = true, Seed = 0, Transform = augmentation });
        _plain = new DataLoader(source, new DataLoaderOptions { BatchSize = 128, Shuffle = true, Seed = 0, Transform = normalize });
    }

    /// <summary>Normalize only.</summary>
    [Benchmark(Baseline = true)]
    public long EpochNormalizeOnly() => Iterate(_plain);

    /// <summary>Flip + rotation + normalize.</summary>
    [Benchmark]
    public long EpochAugmented() => Iterate(_augmented);

    private long Iterate(DataLoader loader)
    {
        long images = 0;
        foreach (var batch in loader.Epoch(_epoch++))
        {
            using (batch) images += batch.Images.Size(0);
        }
        return images;
    }
}
