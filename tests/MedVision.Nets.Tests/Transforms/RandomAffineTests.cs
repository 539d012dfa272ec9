using MedVision.Nets.Transforms;

namespace MedVision.Nets.Tests.Transforms;

/// <summary>
/// <see cref="RandomAffine"/>: the geometry of the resampling (exact quarter turns, a field linear in the coordinates
/// reproduced wherever the source lies inside the image), the random draws (ranges, probability, seeds), 2-D and 3-D.
/// </summary>
public sealed class RandomAffineTests
{
    private static FloatImage Ramp(int channels, int depth, int height, int width)
    {
        var data = new float[channels * Math.Max(depth, 1) * height * width];
        for (int i = 0; i < data.Length; i++) data[i] = i;
        return depth == 0 ? new FloatImage(data, channels, height, width) : new FloatImage(data, channels, depth, height, width);
    }

    [Fact]
    public void AQuarterTurnAboutTheDepthAxis_PermutesTheVoxelsExactly()
    {
        // src = M · out + offset with M the inverse of a 90° rotation in the (x, y) plane about the centre of a 5×5 plane.
        var image = Ramp(2, 3, 5, 5);
        double c = 2;
        double[] m = [0, 1, 0, -1, 0, 0, 0, 0, 1];
        double[] offset = [c - (m[0] * c) - (m[1] * c), c - (m[3] * c) - (m[4] * c), 0];
        var turned = RandomAffine.Resample(image, m, offset, fill: -1);
        for (int ch = 0; ch < 2; ch++)
            for (int z = 0; z < 3; z++)
                for (int y = 0; y < 5; y++)
                    for (int x = 0; x < 5; x++)
                    {
                        int sx = y, sy = 4 - x; // (x, y) ← source (y, 4 − x)
                        turned.Data[(((ch * 3) + z) * 5 + y) * 5 + x].Should().Be(image.Data[(((ch * 3) + z) * 5 + sy) * 5 + sx]);
                    }
    }

    [Fact]
    public void RandomTransforms_ReproduceALinearField_WhereTheSourceLiesInside()
    {
        // f = 2x − 3y + 5z + 7 at every voxel: trilinear interpolation reproduces it at any source point inside the
        // volume, so wherever the sources lie inside, the output is f of an affine map of (x, y, z): itself affine.
        const int D = 12, H = 14, W = 16;
        var data = new float[D * H * W];
        for (int z = 0, i = 0; z < D; z++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++, i++) data[i] = (2 * x) - (3 * y) + (5 * z) + 7;
        var image = new FloatImage(data, 1, D, H, W);
        var identity = new RandomAffine(0).Apply(image, new Random(1));
        identity.Data.Should().Equal(data, "no rotation, scale or shift leaves the volume as it was");

        var transform = new RandomAffine(20, 0.15, 0.1);
        var random = new Random(3);
        var moved = transform.Apply(image, random);
        moved.Shape.Should().Equal(1, D, H, W);
        moved.Data.Should().NotEqual(data);
        // The centre voxel's neighbourhood stays inside the source for rotations ≤ 20°, scales ≥ 0.85 and shifts ≤ 10%:
        // there the output is an affine function of (x, y, z): second differences vanish.
        for (int z = 5; z < 7; z++)
            for (int y = 6; y < 8; y++)
                for (int x = 7; x < 9; x++)
                {
                    float At(int zz, int yy, int xx) => moved.Data[((zz * H) + yy) * W + xx];
                    (At(z, y, x - 1) - (2 * At(z, y, x)) + At(z, y, x + 1)).Should().BeApproximately(0, 1e-3f);
                    (At(z, y - 1, x) - (2 * At(z, y, x)) + At(z, y + 1, x)).Should().BeApproximately(0, 1e-3f);
                    (At(z - 1, y, x) - (2 * At(z, y, x)) + At(z + 1, y, x)).Should().BeApproximately(0, 1e-3f);
                }
        // A rotation keeps the field's gradient length when the scale is 1: |∇f| = √(4 + 9 + 25).
        var rotated = new RandomAffine(30).Apply(image, new Random(5));
        double gx = rotated.Data[((6 * H) + 7) * W + 9] - rotated.Data[((6 * H) + 7) * W + 7];
        double gy = rotated.Data[((6 * H) + 8) * W + 8] - rotated.Data[((6 * H) + 6) * W + 8];
        double gz = rotated.Data[((7 * H) + 7) * W + 8] - rotated.Data[((5 * H) + 7) * W + 8];
        (Math.Sqrt((gx * gx) + (gy * gy) + (gz * gz)) / 2).Should().BeApproximately(Math.Sqrt(38), 1e-3);
    }

    [Fact]
    public void Draws_AreSeeded_AndTheProbabilityDecidesWhetherAnImageChanges()
    {
        var image = Ramp(1, 0, 20, 20);
        var transform = new RandomAffine(15, 0.1, 0.05, probability: 0.5);
        transform.Apply(image, new Random(7)).Data.Should().Equal(transform.Apply(image, new Random(7)).Data, "one seed, one transform");
        var random = new Random(9);
        int changed = Enumerable.Range(0, 200).Count(_ => !ReferenceEquals(transform.Apply(image, random), image));
        changed.Should().BeInRange(70, 130, "half the images are transformed");
        new RandomAffine(15, probability: 0).Apply(image, new Random(1)).Should().BeSameAs(image);
        // Every call draws as many values whether or not it transforms, so what follows in a pipeline is not shifted.
        var a = new Random(4);
        var b = new Random(4);
        new RandomAffine(15, probability: 0).Apply(image, a);
        new RandomAffine(15, probability: 1).Apply(image, b);
        a.Next().Should().Be(b.Next());
        var flat = new RandomAffine(45).Apply(image, new Random(2));
        flat.Shape.Should().Equal(1, 20, 20);
        flat.Data.Should().Contain(0f, "the corners come from outside the image and take the fill value");
    }

    [Fact]
    public void BadArguments_AreRefusedByName()
    {
        FluentActions.Invoking(() => new RandomAffine(-1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("degrees");
        FluentActions.Invoking(() => new RandomAffine(10, scale: 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("scale");
        FluentActions.Invoking(() => new RandomAffine(10, translate: 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("translate");
        FluentActions.Invoking(() => new RandomAffine(10, probability: 1.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("probability");
        FluentActions.Invoking(() => new RandomAffine(10, fill: float.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("fill");
        FluentActions.Invoking(() => new RandomAffine(10).Apply(null!, new Random(0))).Should().Throw<ArgumentNullException>();
    }
}
