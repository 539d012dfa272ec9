using MedVision.Nets.Transforms;

namespace MedVision.Nets.Tests.Transforms;

/// <summary><see cref="RandomCoarseDropout"/>: holes of the drawn count and size, in every channel alike, filled as asked.</summary>
public sealed class CoarseDropoutTests
{
    private static FloatImage Ones(params int[] shape) => new(Enumerable.Repeat(1f, shape.Aggregate(1, (a, b) => a * b)).ToArray(), shape);

    // The boxes of zeros in one channel, as (min, max) per axis, when they form exactly one box.
    private static (int[] Min, int[] Max) BoundingBox(FloatImage image, int channel)
    {
        int d = image.Depth, h = image.Height, w = image.Width;
        int[] min = [int.MaxValue, int.MaxValue, int.MaxValue], max = [-1, -1, -1];
        for (int z = 0; z < d; z++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    if (image.Data[(channel * image.PlaneSize) + (((z * h) + y) * w) + x] == 0)
                    {
                        int[] p = [z, y, x];
                        for (int a = 0; a < 3; a++) { min[a] = Math.Min(min[a], p[a]); max[a] = Math.Max(max[a], p[a]); }
                    }
        return (min, max);
    }

    [Fact]
    public void OneHole_IsABoxOfTheDrawnSize_InEveryChannel()
    {
        var dropout = new RandomCoarseDropout(holes: 1, size: 2, maxSize: 4, fillValue: 0, probability: 1);
        var sizes = new HashSet<int>();
        for (int seed = 0; seed < 60; seed++)
        {
            var output = dropout.Apply(Ones(2, 8, 9, 10), new Random(seed));
            var (min, max) = BoundingBox(output, 0);
            var extents = Enumerable.Range(0, 3).Select(a => max[a] - min[a] + 1).ToArray();
            extents.Should().OnlyContain(e => e >= 2 && e <= 4, "every axis spans 2 to 4 voxels");
            output.Data.Count(v => v == 0).Should().Be(2 * extents.Aggregate(1, (a, b) => a * b), "one full box per channel, nothing else");
            BoundingBox(output, 1).Should().BeEquivalentTo((min, max), "every channel loses the same box");
            sizes.UnionWith(extents);
        }
        sizes.Should().BeEquivalentTo(new[] { 2, 3, 4 }, "every size in the range is drawn");
    }

    [Fact]
    public void SeveralHoles_NoiseFill_AndTwoDimensionalImages()
    {
        // Up to three 3-voxel holes: between 9 and 27 pixels of a 2-D plane change (overlaps count once).
        var image = new FloatImage(Enumerable.Range(0, 12 * 12).Select(i => (float)(i % 7)).ToArray(), 1, 12, 12);
        var dropout = new RandomCoarseDropout(holes: 1, size: 3, maxHoles: 3, probability: 1);
        dropout.FillValue.Should().BeNull();
        int most = 0;
        for (int seed = 0; seed < 40; seed++)
        {
            var output = dropout.Apply(image.Clone(), new Random(seed));
            int changed = output.Data.Zip(image.Data).Count(p => p.First != p.Second);
            changed.Should().BeLessThanOrEqualTo(27);
            output.Data.Should().OnlyContain(v => v >= 0 && v <= 6, "noise between the image's minimum and maximum");
            most = Math.Max(most, changed);
        }
        most.Should().BeGreaterThan(9, "several holes are drawn");

        var large = new RandomCoarseDropout(holes: 1, size: 50, fillValue: -1, probability: 1).Apply(Ones(1, 6, 7), new Random(1));
        large.Data.Should().OnlyContain(v => v == -1, "a hole larger than the image is clipped to it");
    }

    [Fact]
    public void Draws_AtItsProbability_RepeatUnderASeed_AndBadArgumentsAreRefused()
    {
        var dropout = new RandomCoarseDropout(2, 3, fillValue: 0, probability: 0.5);
        var random = new Random(3);
        int applied = Enumerable.Range(0, 400).Count(_ => dropout.Apply(Ones(1, 6, 6, 6), random).Data.Any(v => v == 0));
        applied.Should().BeInRange(160, 240);
        var always = new RandomCoarseDropout(2, 3, maxSize: 5, probability: 1);
        always.Apply(Ones(1, 9, 9, 9), new Random(8)).Data.Should().Equal(always.Apply(Ones(1, 9, 9, 9), new Random(8)).Data);

        FluentActions.Invoking(() => new RandomCoarseDropout(0, 3)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("holes");
        FluentActions.Invoking(() => new RandomCoarseDropout(1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("size");
        FluentActions.Invoking(() => new RandomCoarseDropout(2, 3, maxHoles: 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxHoles");
        FluentActions.Invoking(() => new RandomCoarseDropout(1, 3, maxSize: 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxSize");
        FluentActions.Invoking(() => new RandomCoarseDropout(1, 3, fillValue: float.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("fillValue");
        TransformPipeline.Create().RandomCoarseDropout(1, 2).Build().Steps.Single().Should().BeOfType<RandomCoarseDropout>();
    }
}
