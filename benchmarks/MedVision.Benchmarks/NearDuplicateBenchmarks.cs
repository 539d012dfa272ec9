using BenchmarkDotNet.Attributes;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Quality;
using MedVision.Nets.Transforms;

namespace MedVision.Benchmarks;

/// <summary>
/// The exact near-duplicate search: the split audit of the shipped RetinaMNIST (1,600 images of 3 × 28 × 28), each
/// test image's nearest training image, and a within-source search of 10,800 fundus-like images (RetinaMNIST's 1,080
/// training images ten times, each copy shifted in brightness and noised, so that means crowd together and the
/// block-mean bounds do the pruning).
/// </summary>
[MemoryDiagnoser]
public class NearDuplicateBenchmarks
{
    private MedMnistDataset _data = null!;
    private ILabeledImageSource _crowd = null!;

    [GlobalSetup]
    public void Setup()
    {
        _data = MedMnistDataset.LoadEmbeddedRetinaMnist();
        var train = new MedMnistImageSource(_data.Train);
        var random = new Random(1);
        var images = new List<FloatImage>();
        for (int copy = 0; copy < 10; copy++)
            for (int i = 0; i < train.Count; i++)
            {
                var image = train.Load(i).Image;
                float shift = (float)(random.NextDouble() * 0.2 - 0.1);
                images.Add(new FloatImage(image.Data.Select(v => Math.Clamp(v + shift + (float)(random.NextDouble() - 0.5) * 0.1f, 0f, 1f)).ToArray(), image.Shape));
            }
        _crowd = new ImageList(images);
    }

    [Benchmark]
    public int RetinaMnistSplitAudit() => SplitAudit.Create()
        .AddSplit("train", new MedMnistImageSource(_data.Train))
        .AddSplit("val", new MedMnistImageSource(_data.Validation))
        .AddSplit("test", new MedMnistImageSource(_data.Test))
        .Run().Duplicates.Count;

    [Benchmark]
    public double NearestTrainingImageOfEachTestImage() =>
        NearDuplicates.Nearest(new MedMnistImageSource(_data.Test), new MedMnistImageSource(_data.Train)).Min(n => n.Difference);

    [Benchmark]
    public int FindWithin10800Images() => NearDuplicates.Find(_crowd).Count;

    private sealed class ImageList(List<FloatImage> images) : ILabeledImageSource
    {
        public int Count => images.Count;

        public int LabelColumns => 1;

        public (FloatImage Image, int[] Labels) Load(int index) => (images[index], new[] { 0 });
    }
}
