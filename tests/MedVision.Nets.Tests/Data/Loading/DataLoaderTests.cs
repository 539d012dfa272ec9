using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Pairs;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Data.Loading;

public class DataLoaderTests
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());

    [Fact]
    public void Epoch_YieldsEverySampleOnceWithTensorShapes()
    {
        var loader = new DataLoader(new MedMnistImageSource(Retina.Value.Train), new DataLoaderOptions { BatchSize = 128, Shuffle = true, Seed = 3 });
        loader.BatchesPerEpoch.Should().Be(9);
        var seen = new List<int>();
        foreach (var batch in loader.Epoch(0))
        {
            using (batch)
            {
                batch.Images.Shape.Should().Equal(batch.Count, 3, 28, 28);
                batch.Labels.ScalarType.Should().Be(ScalarType.Int64);
                batch.Labels.ToArray<long>().Should().Equal(Enumerable.Range(0, batch.Count).Select(i => (long)batch.LabelValues[i, 0]));
                seen.AddRange(batch.Indices);
            }
        }
        seen.Should().HaveCount(1080).And.OnlyHaveUniqueItems();
    }

    // Found by the loader fuzzer (tests/FormatFuzzer loader): BatchesPerEpoch computed (n + batch − 1) / batch in int,
    // so a batch size of int.MaxValue ("everything in one batch") gave an epoch of no batches at all; the distributed
    // sampler's shard size overflowed the same way for a huge world size.
    [Fact]
    public void AHugeBatchSize_GivesOneBatchOfEverything_NotAnEmptyEpoch()
    {
        var split = Retina.Value.Validation;
        var loader = new DataLoader(new MedMnistImageSource(split), new DataLoaderOptions { BatchSize = int.MaxValue, Prefetch = 0 });
        loader.BatchesPerEpoch.Should().Be(1);
        var batches = loader.Epoch().ToList();
        try
        {
            batches.Should().ContainSingle().Which.Count.Should().Be(split.Count);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
        new DistributedSampler(0, int.MaxValue).ShardSize(split.Count).Should().Be(1);
        new DistributedSampler(5, 8).ShardSize(int.MaxValue).Should().Be(268_435_456);
    }

    [Fact]
    public void PixelsMatchTheSplitAndDropLastWorks()
    {
        var split = Retina.Value.Validation;
        var loader = new DataLoader(new MedMnistImageSource(split), new DataLoaderOptions { BatchSize = 50, DropLast = true, Prefetch = 0 });
        var batches = loader.Epoch().ToList();
        try
        {
            batches.Should().HaveCount(2);
            var first = batches[0].Images.ToArray<float>();
            var raw = split.GetImage(0).ToArray();
            // channel 1 of pixel (0, 5) of image 0: HWC byte index (0·28 + 5)·3 + 1, CHW float index 1·784 + 5.
            first[784 + 5].Should().BeApproximately(raw[5 * 3 + 1] / 255f, 1e-7f);
        }
        finally
        {
            batches.ForEach(b => b.Dispose());
        }
    }

    [Fact]
    public void ShuffleAndAugmentationAreReproducible_WithOrWithoutPrefetch()
    {
        float[] FirstBatch(int prefetch, int epoch)
        {
            var options = new DataLoaderOptions
            {
                BatchSize = 16, Shuffle = true, Seed = 11, Prefetch = prefetch,
                Transform = TransformPipeline.Create().RandomHorizontalFlip().RandomRotation(10).Normalize(0.5f, 0.5f).Build(),
            };
            using var batch = new DataLoader(new MedMnistImageSource(Retina.Value.Test), options).Epoch(epoch).First();
            return batch.Images.ToArray<float>();
        }
        FirstBatch(2, 0).Should().Equal(FirstBatch(0, 0));
        FirstBatch(2, 0).Should().NotEqual(FirstBatch(2, 1));
    }

    [Fact]
    public void MultiLabelKind_GivesFloatMatrix()
    {
        var loader = new DataLoader(new MedMnistImageSource(Retina.Value.Validation), new DataLoaderOptions { BatchSize = 8, LabelKind = LabelKind.MultiLabel, Prefetch = 0 });
        using var batch = loader.Epoch().First();
        batch.Labels.ScalarType.Should().Be(ScalarType.Float32);
        batch.Labels.Shape.Should().Equal(8, 1);
    }

    [Fact]
    public void SiamesePairing_SplitsHalvesAndDropsOddSample()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Arange(7);
        var (first, second) = SiamesePairing.SplitHalves(x);
        first.ToArray<long>().Should().Equal(0, 1, 2);
        second.ToArray<long>().Should().Equal(3, 4, 5);
        FluentActions.Invoking(() => SiamesePairing.SplitHalves(Tensors.Arange(1))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void PairSampler_HonoursTheSameLabelFraction()
    {
        var labels = Retina.Value.Train.Labels;
        var grades = Enumerable.Range(0, labels.GetLength(0)).Select(i => labels[i, 0]).ToArray();
        var pairs = new PairSampler(grades, sameLabelFraction: 0.3, seed: 1).Sample(200);
        pairs.Count(p => grades[p.First] == grades[p.Second]).Should().Be(60);
        pairs.Should().OnlyContain(p => p.First != p.Second);
        new PairSampler(grades, 0.3, 1).Sample(200).Should().Equal(pairs);
    }
}
