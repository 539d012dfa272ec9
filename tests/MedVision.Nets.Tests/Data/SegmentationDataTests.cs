using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Data;

public class SegmentationDataTests
{
    // A volume whose first channel equals its labels and whose second is noise: any spatial step that moves the two
    // differently breaks the equality.
    private static SegmentationSample Tagged(int depth, int height, int width, int seed)
    {
        var random = new Random(seed);
        int n = depth * height * width;
        var labels = new int[n];
        var data = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = random.NextDouble() < 0.1 ? random.Next(1, 4) : 0;
            data[i] = labels[i];
            data[n + i] = (float)random.NextDouble();
        }
        return new SegmentationSample(new FloatImage(data, 2, depth, height, width), labels);
    }

    private static void ChannelZeroIsTheLabels(SegmentationSample s)
    {
        int n = s.Labels.Data.Length;
        s.Image.Data.AsSpan(0, n).ToArray().Should().Equal(s.Labels.Data);
    }

    [Fact]
    public void SpatialSteps_MoveTheImageAndTheLabelsAlike()
    {
        var pipeline = SegmentationPipeline.Create()
            .CropAroundLabels(new[] { 6, 8, 7 }, 0.7)
            .RandomFlip(SpatialAxis.Width).RandomFlip(SpatialAxis.Depth).RandomRotate90(0.8)
            .Spatial(new Crop(5, 6, 6, random: true))
            .Intensity(new RandomGaussianNoise(probability: 0, std: 0.1))
            .Build();
        pipeline.Count.Should().Be(6);
        int changed = 0;
        for (int seed = 0; seed < 40; seed++)
        {
            var sample = Tagged(9, 10, 12, seed);
            var result = pipeline.Apply(sample, new Random(seed));
            result.Image.Shape.Should().Equal(2, 5, 6, 6);
            result.Labels.Shape.Should().Equal(1, 5, 6, 6);
            ChannelZeroIsTheLabels(result);
            if (!pipeline.Apply(sample, new Random(seed)).Image.Data.SequenceEqual(result.Image.Data)) throw new InvalidOperationException("not deterministic");
            if (!result.Image.Data.AsSpan(0, 10).SequenceEqual(sample.Image.Data.AsSpan(0, 10))) changed++;
        }
        changed.Should().BeGreaterThan(20, "the random steps do move the voxels");
    }

    [Fact]
    public void CropAroundLabels_CentresOnTheForeground_AndPadsWithBackground()
    {
        // One labelled voxel in a 1×20×20 image: a 4×4 window centred on the foreground always holds it.
        var labels = new int[400];
        labels[(13 * 20) + 17] = 2;
        var sample = new SegmentationSample(new FloatImage(new float[400], 1, 20, 20), labels);
        var foreground = SegmentationPipeline.Create().CropAroundLabels(new[] { 4, 4 }, foregroundProbability: 1).Build();
        var background = SegmentationPipeline.Create().CropAroundLabels(new[] { 4, 4 }, foregroundProbability: 0).Build();
        int backgroundHits = 0;
        for (int seed = 0; seed < 30; seed++)
        {
            foreground.Apply(sample, new Random(seed)).Labels.Data.Count(v => v == 2).Should().Be(1);
            backgroundHits += background.Apply(sample, new Random(seed)).Labels.Data.Count(v => v == 2);
        }
        backgroundHits.Should().BeLessThan(5, "background-centred windows rarely reach the one labelled voxel");

        // A window larger than the image: the image sits in the middle, zero (background) around it.
        var small = new SegmentationSample(new FloatImage(new[] { 1f, 2f, 3f, 4f }, 1, 2, 2), new[] { 1, 1, 1, 1 });
        var padded = SegmentationPipeline.Create().CropAroundLabels(new[] { 4, 4 }).Build().Apply(small, new Random(1));
        padded.Labels.Data.Should().Equal(0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0);
        padded.Image.Data.Should().Equal(0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0);
    }

    [Fact]
    public void BadSamplesAndSteps_AreRefusedByName()
    {
        var image = new FloatImage(new float[8], 2, 2, 2);
        var act = () => new SegmentationSample(image, new FloatImage(new float[6], 1, 2, 3));
        act.Should().Throw<ArgumentException>().WithMessage("*one channel of the image's spatial size*").Which.ParamName.Should().Be("labels");
        act = () => new SegmentationSample(image, new FloatImage(new[] { 0f, 1.5f, 0f, 0f }, 1, 2, 2));
        act.Should().Throw<ArgumentException>().WithMessage("*whole numbers*1.5*");
        act = () => new SegmentationSample(image, new[] { 0, -1, 0, 0 });
        act.Should().Throw<ArgumentException>().WithMessage("*-1*");
        act = () => new SegmentationSample(image, new[] { 0, 1, 0 });
        act.Should().Throw<ArgumentException>().WithMessage("*4 voxels per channel, but 3*");
        var spatial = () => SegmentationPipeline.Create().Spatial(new RandomRotation(10));
        spatial.Should().Throw<ArgumentException>().WithMessage("*RandomRotation cannot move labels*");
        var crop = () => SegmentationPipeline.Create().CropAroundLabels(new[] { 4 });
        crop.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("size");
        var resize = SegmentationPipeline.Create().Intensity(new Resize(4, 4)).Build();
        var apply = () => resize.Apply(new SegmentationSample(new FloatImage(new float[4], 1, 2, 2), new int[4]), new Random(0));
        apply.Should().Throw<InvalidOperationException>().WithMessage("*Resize changed the spatial size*");
        var mismatch = SegmentationPipeline.Create().CropAroundLabels(new[] { 2, 2, 2 }).Build();
        apply = () => mismatch.Apply(new SegmentationSample(new FloatImage(new float[4], 1, 2, 2), new int[4]), new Random(0));
        apply.Should().Throw<ArgumentException>().WithMessage("*needs 3 spatial dimensions*");
    }

    [Fact]
    public void PhantomSource_LabelsTheLesion()
    {
        var generator = new PhantomGenerator(size: 16, seed: 3);
        var source = new PhantomSegmentationSource(generator, 0, 12);
        for (int i = 0; i < source.Count; i++)
        {
            var sample = source.Load(i);
            var subject = generator.Generate(i);
            sample.Image.Shape.Should().Equal(2, 16, 16, 16);
            sample.Image.Data.AsSpan(0, 4096).ToArray().Should().Equal(subject.Mri);
            sample.Labels.Data.Select(v => v > 0).Should().Equal(subject.LesionMask(1.0));
            (sample.Labels.Data.Any(v => v > 0)).Should().Be(subject.Label == 1);
        }
        var act = () => source.Load(12);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Loader_BatchesDeterministically_WithInt64Labels()
    {
        var source = new ListSource(Enumerable.Range(0, 7).Select(i => Tagged(4, 6, 6, i)).ToArray());
        var options = new SegmentationLoaderOptions
        {
            BatchSize = 3,
            Shuffle = true,
            Seed = 5,
            Pipeline = SegmentationPipeline.Create().RandomFlip(SpatialAxis.Height).Build(),
        };
        var loader = new SegmentationLoader(source, options);
        loader.BatchesPerEpoch.Should().Be(3);
        List<(int[] Indices, float[] Images, long[] Labels)> Run(int epoch) => loader.Epoch(epoch).Select(b =>
        {
            using (b) return (b.Indices.ToArray(), b.Images.ToArray<float>(), b.Labels.ToArray<long>());
        }).ToList();
        var first = Run(0);
        first.Select(b => b.Indices.Length).Should().Equal(3, 3, 1);
        first.SelectMany(b => b.Indices).Should().BeEquivalentTo(Enumerable.Range(0, 7));
        var again = Run(0);
        again.Select(b => b.Images).Should().BeEquivalentTo(first.Select(b => b.Images), o => o.WithStrictOrdering());
        Run(1).SelectMany(b => b.Indices).Should().NotEqual(first.SelectMany(b => b.Indices), "each epoch has its own order");
        using (var batch = loader.Epoch(0).First())
        {
            batch.Images.Shape.Should().Equal(3, 2, 4, 6, 6);
            batch.Labels.Shape.Should().Equal(3, 4, 6, 6);
            batch.Labels.ScalarType.Should().Be(ScalarType.Int64);
            // Channel 0 of each image is its label map.
            using var scope = Tensors.NewDisposeScope();
            batch.Images.Narrow(1, 0, 1).Squeeze(1).To(ScalarType.Int64).Contiguous().ToArray<long>().Should().Equal(batch.Labels.ToArray<long>());
        }
        options.DropLast = true;
        loader.Epoch(0).Sum(b => { using (b) return b.Count; }).Should().Be(6);

        var mixed = new SegmentationLoader(new ListSource(new[] { Tagged(4, 6, 6, 0), Tagged(4, 6, 5, 1) }), new SegmentationLoaderOptions { BatchSize = 2, Prefetch = 0 });
        var act = () => mixed.Epoch(0).ToList();
        act.Should().Throw<InvalidOperationException>().WithMessage("*Sample 1 has shape [2, 4, 6, 5]*[2, 4, 6, 6]*CropAroundLabels*");
    }

    private sealed class ListSource(SegmentationSample[] samples) : ISegmentationSource
    {
        public int Count => samples.Length;

        public SegmentationSample Load(int index) => samples[index];
    }
}
