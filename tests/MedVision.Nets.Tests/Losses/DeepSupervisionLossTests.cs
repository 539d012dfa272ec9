using MedVision.Nets.Losses;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Losses;

public sealed class DeepSupervisionLossTests
{
    [Fact]
    public void Weights_HalveFromOutputToOutput_OrAreEqual_AndSumToOne()
    {
        DeepSupervisionLoss.Weights(3).Should().Equal(new[] { 4 / 7.0, 2 / 7.0, 1 / 7.0 }, (a, b) => Math.Abs(a - b) < 1e-15);
        DeepSupervisionLoss.Weights(1).Should().Equal(1.0);
        DeepSupervisionLoss.Weights(4, DeepSupervisionWeighting.Equal).Should().Equal(0.25, 0.25, 0.25, 0.25);
        FluentActions.Invoking(() => DeepSupervisionLoss.Weights(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => DeepSupervisionLoss.Weights(2, (DeepSupervisionWeighting)7)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Compute_IsTheWeightedSumOfTheLosses_AgainstLabelsDownsampledAsNearestInterpolationDoesIt()
    {
        using var scope = Tensors.NewDisposeScope();
        var generator = new Random(5);
        long[] labelValues = Enumerable.Range(0, 2 * 16 * 24).Select(_ => (long)generator.Next(3)).ToArray();
        var labels = Tensors.FromArray(labelValues).Reshape(2, 16, 24);
        var outputs = new[] { Tensors.Randn(2, 3, 16, 24), Tensors.Randn(2, 3, 8, 12), Tensors.Randn(2, 3, 4, 6) };
        Func<Tensor, Tensor, Tensor> loss = (logits, target) => DiceLoss.WithCrossEntropy(logits, target);

        // libtorch's own nearest interpolation (PyTorch's F.interpolate(mode="nearest"), as MONAI downsamples the labels).
        Tensor Nearest(long h, long w) => Functional.Interpolate(labels.Unsqueeze(1).To(ScalarType.Float32), new[] { h, w }).Squeeze(1).To(ScalarType.Int64);
        double expected = 4 / 7.0 * loss(outputs[0], labels).Item() + 2 / 7.0 * loss(outputs[1], Nearest(8, 12)).Item() + 1 / 7.0 * loss(outputs[2], Nearest(4, 6)).Item();
        DeepSupervisionLoss.Compute(outputs, labels, loss).Item().Should().BeApproximately(expected, 1e-5);

        // Labels of output 2 are every 4th pixel from the first, in both directions.
        var seen = new List<long[]>();
        DeepSupervisionLoss.Compute(outputs, labels, (o, t) => { seen.Add(t.ToArray<long>()); return o.Sum() * 0; });
        var quarter = seen[2];
        for (int n = 0; n < 2; n++)
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 6; x++)
                    quarter[(n * 4 + y) * 6 + x].Should().Be(labelValues[(n * 16 + 4 * y) * 24 + 4 * x]);

        // Weights given, a zero weight skips its output, and one-hot targets (N, C, spatial…) are downsampled on their spatial dimensions.
        static Tensor OneHot(Tensor l) => l.OneHot(3).Permute(0, 3, 1, 2).To(ScalarType.Float32);
        var oneHot = OneHot(labels);
        Func<Tensor, Tensor, Tensor> mse = (logits, target) => Functional.MseLoss(logits.Softmax(1), target);
        var calls = 0;
        double weighted = DeepSupervisionLoss.Compute(outputs, oneHot, (o, t) => { calls++; return mse(o, t); }, [1, 0, 3]).Item();
        calls.Should().Be(2);
        weighted.Should().BeApproximately(mse(outputs[0], oneHot).Item() + 3 * mse(outputs[2], OneHot(Nearest(4, 6))).Item(), 1e-6);
    }

    [Fact]
    public void Compute_NamesWhatDoesNotFit()
    {
        using var scope = Tensors.NewDisposeScope();
        var labels = Tensors.Zeros(new long[] { 1, 16, 16 }, ScalarType.Int64);
        Func<Tensor, Tensor, Tensor> loss = (o, t) => DiceLoss.WithCrossEntropy(o, t);
        var act = () => DeepSupervisionLoss.Compute([Tensors.Zeros(1, 2, 16, 16), Tensors.Zeros(1, 2, 6, 6)], labels, loss);
        act.Should().Throw<ArgumentException>().WithMessage("*Output 1 has spatial size [6, 6], which does not divide the labels' [16, 16]*");
        act = () => DeepSupervisionLoss.Compute([Tensors.Zeros(1, 2, 16, 16, 16)], labels, loss);
        act.Should().Throw<ArgumentException>().WithMessage("*3 spatial dimension(s)*[1, 16, 16]*");
        act = () => DeepSupervisionLoss.Compute([Tensors.Zeros(1, 2, 16, 16)], labels, loss, [1, 1]);
        act.Should().Throw<ArgumentException>().WithMessage("*2 weight(s) were given for 1 outputs*");
        act = () => DeepSupervisionLoss.Compute([Tensors.Zeros(1, 2, 16, 16)], labels, loss, [double.NaN]);
        act.Should().Throw<ArgumentException>().WithMessage("*finite, non-negative and not all 0*");
        act = () => DeepSupervisionLoss.Compute([], labels, loss);
        act.Should().Throw<ArgumentException>().WithMessage("*at least one output*");
    }
}
