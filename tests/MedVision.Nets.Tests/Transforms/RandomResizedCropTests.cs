using MedVision.Nets.Transforms;

namespace MedVision.Nets.Tests.Transforms;

/// <summary><see cref="RandomResizedCrop"/>: torchvision's box drawing (tries, then the centre crop) and the crop resized.</summary>
public sealed class RandomResizedCropTests
{
    [Theory]
    [InlineData(10, 40, 1.0, 0.75, 4.0 / 3, 0, 13, 10, 13)]   // too wide for the ratios: the full height, width 10 · 4/3 → 13, centred
    [InlineData(40, 10, 1.0, 0.75, 4.0 / 3, 13, 0, 13, 10)]   // too tall: the full width, height 10 / 0.75 → 13
    [InlineData(10, 12, 1.0, 1.0, 1.0, 0, 1, 10, 10)]          // ratio 1.2 above 1: a 10 × 10 square, centred
    public void WhenNoTryFits_TheCentreCropOfTheLargestBoxWithinTheRatiosIsTaken(int h, int w, double scale, double ratioMin, double ratioMax, int top, int left, int height, int width)
    {
        // A whole-area box at ratios near 1 never fits these images, so all ten tries fail.
        var crop = new RandomResizedCrop(8, 8, scaleMin: scale, scaleMax: scale, ratioMin: ratioMin, ratioMax: ratioMax);
        crop.Box(h, w, new Random(0)).Should().Be((top, left, height, width));
    }

    [Fact]
    public void BoxesHaveTheDrawnAreaAndRatio_AnywhereInTheImage()
    {
        var crop = new RandomResizedCrop(8, 8, scaleMin: 0.5, scaleMax: 0.5, ratioMin: 1, ratioMax: 1);
        var random = new Random(1);
        var tops = new HashSet<int>();
        for (int i = 0; i < 200; i++)
        {
            var (top, left, height, width) = crop.Box(20, 20, random);
            (height, width).Should().Be((14, 14), "√(0.5 · 400) = 14.1 rounds to 14");
            top.Should().BeInRange(0, 6);
            left.Should().BeInRange(0, 6);
            tops.Add(top);
        }
        tops.Should().HaveCount(7, "every position is drawn");

        var defaults = new RandomResizedCrop(8, 8);
        for (int i = 0; i < 200; i++)
        {
            var (top, left, height, width) = defaults.Box(30, 40, random);
            (top + height).Should().BeLessThanOrEqualTo(30);
            (left + width).Should().BeLessThanOrEqualTo(40);
            ((double)height * width / 1200).Should().BeInRange(0.06, 1.0, "torchvision's 0.08–1 of the area, up to rounding");
        }
    }

    [Fact]
    public void TheOutput_IsTheBoxResized()
    {
        var image = new FloatImage(Enumerable.Range(0, 3 * 24 * 32).Select(i => (float)Math.Sin(i * 0.37)).ToArray(), 3, 24, 32);
        var crop = new RandomResizedCrop(10, 12);
        for (int seed = 0; seed < 10; seed++)
        {
            var output = crop.Apply(image, new Random(seed));
            output.Shape.Should().Equal(3, 10, 12);
            var (top, left, height, width) = crop.Box(24, 32, new Random(new Random(seed).Next()));
            var box = new float[3 * height * width];
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                        box[(((c * height) + y) * width) + x] = image.Data[(((c * 24) + top + y) * 32) + left + x];
            var expected = new Resize(10, 12).Apply(new FloatImage(box, 3, height, width), new Random(0));
            output.Data.Should().Equal(expected.Data, $"seed {seed}");
        }

        FluentActions.Invoking(() => crop.Apply(new FloatImage(new float[8], 1, 2, 2, 2), new Random(0))).Should().Throw<ArgumentException>().WithMessage("*2-D images*");
        FluentActions.Invoking(() => new RandomResizedCrop(0, 8)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("height");
        FluentActions.Invoking(() => new RandomResizedCrop(8, 8, scaleMin: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("scaleMin");
        FluentActions.Invoking(() => new RandomResizedCrop(8, 8, scaleMax: 1.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("scaleMax");
        FluentActions.Invoking(() => new RandomResizedCrop(8, 8, ratioMin: 2, ratioMax: 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("ratioMax");
        TransformPipeline.Create().RandomResizedCrop(8, 8).Build().Apply(image, new Random(2)).Shape.Should().Equal(3, 8, 8);
    }
}
