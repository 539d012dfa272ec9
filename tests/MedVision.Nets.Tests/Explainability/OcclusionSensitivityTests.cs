using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Explainability;

[Collection(GlobalRandomStateCollection.Name)]
public class OcclusionSensitivityTests
{
    private static double Probability1(float[,] image)
    {
        double mean = 0;
        for (int y = 2; y < 5; y++)
            for (int x = 3; x < 6; x++) mean += image[y, x] / 9.0;
        return 1 / (1 + Math.Exp(-((4 * mean) - 2)));
    }

    [Fact]
    public void Map_IsTheMeanProbabilityDropOverTheCoveringPatches()
    {
        using var model = new SquareDetector();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Ones(1, 1, 8, 8);
        using var maps = new OcclusionSensitivity(model, new[] { 2, 2 }, new[] { 1, 1 }, fillValue: 0).Compute(input);

        // Brute force: every 2×2 window at stride 1, the drop of p(class 1), averaged per pixel.
        double baseline = Probability1(Ones());
        var sum = new double[8, 8];
        var count = new int[8, 8];
        for (int oy = 0; oy <= 6; oy++)
            for (int ox = 0; ox <= 6; ox++)
            {
                var image = Ones();
                for (int y = oy; y < oy + 2; y++) for (int x = ox; x < ox + 2; x++) image[y, x] = 0;
                double drop = baseline - Probability1(image);
                for (int y = oy; y < oy + 2; y++) for (int x = ox; x < ox + 2; x++) { sum[y, x] += drop; count[y, x]++; }
            }
        var actual = maps.ToArray(0);
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++) actual[(y * 8) + x].Should().BeApproximately((float)(sum[y, x] / count[y, x]), 1e-6f, $"pixel ({y}, {x})");
        maps.TargetClasses.Should().Equal(1);
        maps.Scores[0].Should().BeApproximately((float)baseline, 1e-6f);
        actual[(3 * 8) + 4].Should().BeGreaterThan(0.01f, "the square's centre matters");
        actual[0].Should().Be(0, "a corner far from the square does not");
    }

    private static float[,] Ones()
    {
        var image = new float[8, 8];
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) image[y, x] = 1;
        return image;
    }

    [Fact]
    public void CoversTheEdges_WhenTheStrideDoesNotDivideTheSize_AndWorksIn3D()
    {
        Tensors.ManualSeed(2);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 2, spatialDims: 3).WithSmallInputStem().WithClasses(3).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var volumes = Tensors.Randn(2, 2, 7, 7, 7);
        using var maps = new OcclusionSensitivity(model, new[] { 3, 3, 3 }, batchSize: 5).Compute(volumes, new long[] { 2, 0 });
        maps.Maps.Shape.Should().Equal(2, 1, 7, 7, 7);
        maps.TargetClasses.Should().Equal(2, 0);
        using var noGrad = Tensors.NoGrad();
        var probabilities = model.Call(volumes).Softmax(1).ToArray<float>();
        maps.Scores[0].Should().BeApproximately(probabilities[2], 1e-6f);
        maps.Scores[1].Should().BeApproximately(probabilities[3], 1e-6f);
        // Windows at 0, 3 and the flush one at 4 cover the whole edge: no voxel is left at exactly 0 by lack of cover.
        maps.ToArray(0).Count(v => v == 0f).Should().BeLessThan(7 * 7 * 7 / 4);
    }

    [Fact]
    public void BadUse_GetsClearExceptions()
    {
        using var model = new SquareDetector();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Ones(1, 1, 8, 8);
        FluentActions.Invoking(() => new OcclusionSensitivity(model, new[] { 2, 2 }).Compute(input)).Should().Throw<InvalidOperationException>().WithMessage("*evaluation mode*");
        model.Eval();
        FluentActions.Invoking(() => new OcclusionSensitivity(model, new[] { 2 })).Should().Throw<ArgumentException>().WithMessage("*2 or 3 positive sizes*");
        FluentActions.Invoking(() => new OcclusionSensitivity(model, new[] { 2, 2 }, new[] { 1 })).Should().Throw<ArgumentException>().WithMessage("*2 positive steps*");
        FluentActions.Invoking(() => new OcclusionSensitivity(model, new[] { 2, 2, 2 }).Compute(input)).Should().Throw<ArgumentException>().WithMessage("*(N, C, D, H, W)*");
        FluentActions.Invoking(() => new OcclusionSensitivity(model, new[] { 2, 2 }).Compute(input, new long[] { 2 })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*class 2 of sample 0*");
        FluentActions.Invoking(() => new OcclusionSensitivity(model, new[] { 2, 2 }, fillValue: double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        // Found by FormatFuzzer's explain mode: libtorch refused the fill only when filling the first patch, without naming it.
        FluentActions.Invoking(() => new OcclusionSensitivity(model, new[] { 2, 2 }, fillValue: 1e300).Compute(input)).Should().Throw<ArgumentException>()
            .WithMessage("*fill value 1E+300*Float32*").Which.ParamName.Should().Be("input");
        using var wide = new OcclusionSensitivity(model, new[] { 2, 2 }, fillValue: 1e300).Compute(input.To(ScalarType.Float64));
        wide.Maps.Shape.Should().Equal(1, 1, 8, 8);
    }

    [Fact]
    public void AStrideNearIntMaxValue_IsOneWindowPerAxis_NotAnOverflow()
    {
        // Found by FormatFuzzer's explain mode: the window offsets were summed in int and wrapped to negative offsets.
        using var model = new SquareDetector();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Rand(1, 1, 8, 8);
        using var huge = new OcclusionSensitivity(model, new[] { 3, int.MaxValue }, new[] { int.MaxValue - 1, int.MaxValue }).Compute(input);
        using var plain = new OcclusionSensitivity(model, new[] { 3, 8 }, new[] { 100, 100 }).Compute(input);
        huge.ToArray(0).Should().Equal(plain.ToArray(0));
        // one window at row 0 and the flush one at row 5: rows 3 and 4 are covered by neither
        huge.ToArray(0).Skip(3 * 8).Take(2 * 8).Should().AllBeEquivalentTo(0f);
        huge.ToArray(0).Take(3 * 8).Should().Contain(v => v != 0f);
    }
}
