using MedVision.Nets.Heads;
using MedVision.Nets.Losses;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Losses;

public class LossCompositeTests
{
    private sealed record Outputs(Tensor Logits, Tensor Labels, Tensor Scores, Tensor Targets);

    [Fact]
    public void Compute_ReturnsWeightedTotalAndEachTerm()
    {
        using var scope = Tensors.NewDisposeScope();
        var logits = Tensors.FromArray(new float[] { 2, 0, 0, 1 }, 2, 2).RequiresGradInPlace();
        var labels = Tensors.FromArray(new long[] { 0, 1 });
        var scores = Tensors.FromArray(new float[] { 0.5f, 1.5f });
        var targets = Tensors.FromArray(new float[] { 1f, 1f });
        var composite = LossComposite.For<Outputs>()
            .Add("classification", o => Functional.CrossEntropy(o.Logits, o.Labels))
            .Add("difference", o => Functional.MseLoss(o.Scores, o.Targets), weight: 0.5)
            .Build();
        using var value = composite.Compute(new Outputs(logits, labels, scores, targets));

        // Hand computation: CE = mean(log(1+e^-2), log(1+e^-1)); MSE = mean(0.25, 0.25).
        var ce = (Math.Log(1 + Math.Exp(-2)) + Math.Log(1 + Math.Exp(-1))) / 2;
        var mse = 0.25;
        value.Terms["classification"].Should().BeApproximately(ce, 1e-6);
        value.Terms["difference"].Should().BeApproximately(mse, 1e-6);
        value.Total.Item().Should().BeApproximately(ce + 0.5 * mse, 1e-6);
        value.Total.Backward();
        logits.Grad.Should().NotBeNull();
    }

    [Fact]
    public void WarmUp_RaisesWeightLinearly()
    {
        var composite = LossComposite.For<int>()
            .Add("a", _ => Tensors.Scalar(1))
            .AddWithWarmUp("b", _ => Tensors.Scalar(1), weight: 1.0, warmUpEpochs: 4)
            .Build();
        var weights = Enumerable.Range(0, 6).Select(e => { composite.Epoch = e; return composite.WeightOf("b"); }).ToArray();
        weights.Should().Equal(0.25, 0.5, 0.75, 1.0, 1.0, 1.0);
    }

    [Fact]
    public void AllWeightsZero_GiveAZeroTotalThatStillBackpropagates()
    {
        // A term switched on at a later epoch, the other weighted 0: the total is 0 · loss, as in PyTorch, so the
        // training step's backward gives zero gradients instead of failing on a constant.
        using var scope = Tensors.NewDisposeScope();
        var w = Tensors.FromArray(new[] { 2f, -1f }).RequiresGradInPlace();
        var composite = LossComposite.For<Tensor>()
            .Add("off", x => (x * x).Sum(), weight: 0)
            .Add("later", x => x.Sum(), epoch => epoch < 5 ? 0 : 1)
            .Build();
        var loss = composite.Compute(w);
        loss.Total.Item().Should().Be(0);
        loss.Terms["off"].Should().Be(5);
        loss.Total.RequiresGrad.Should().BeTrue();
        loss.Total.Backward();
        w.Grad!.ToArray<float>().Should().Equal(0f, 0f);
        composite.Epoch = 5;
        w.Grad = null;
        composite.Compute(w).Total.Backward();
        w.Grad!.ToArray<float>().Should().Equal(1f, 1f);
    }

    [Fact]
    public void Builder_RejectsBadInputAndReuse()
    {
        var builder = LossComposite.For<int>().Add("a", _ => Tensors.Scalar(1));
        builder.Invoking(b => b.Add("a", _ => Tensors.Scalar(1))).Should().Throw<ArgumentException>().WithMessage("*already*");
        builder.Invoking(b => b.Add("c", _ => Tensors.Scalar(1), weight: -1)).Should().Throw<ArgumentOutOfRangeException>();
        builder.Invoking(b => b.AddWithWarmUp("c", _ => Tensors.Scalar(1), double.PositiveInfinity, 3)).Should().Throw<ArgumentOutOfRangeException>()
            .Which.ParamName.Should().Be("weight", "an infinite weight is refused when given, not at the first Compute");
        builder.Build();
        builder.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>().WithMessage("*already built*");
        LossComposite.For<int>().Invoking(b => b.Build()).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void CoralLoss_MatchesHandComputation()
    {
        using var scope = Tensors.NewDisposeScope();
        var logits = Tensors.FromArray(new float[] { 1, 0, -1, 2, 1, 0 }, 2, 3);
        var grades = Tensors.FromArray(new long[] { 1, 3 });
        // grade 1 → levels [1,0,0]; grade 3 → [1,1,1]. BCE(z, y) = log(1+e^z) − y·z.
        static double Bce(double z, double y) => Math.Log(1 + Math.Exp(z)) - y * z;
        var expected = ((Bce(1, 1) + Bce(0, 0) + Bce(-1, 0)) + (Bce(2, 1) + Bce(1, 1) + Bce(0, 1))) / 2;
        CoralLoss.Compute(logits, grades).Item().Should().BeApproximately(expected, 1e-6);
        FluentActions.Invoking(() => CoralLoss.Compute(logits, Tensors.FromArray(new long[] { 0, 4 }))).Should().Throw<ArgumentOutOfRangeException>();
        // Found by the API fuzzer: fractional grades were truncated silently, a huge class count overflowed.
        FluentActions.Invoking(() => CoralLoss.CumulativeLabels(Tensors.FromArray(new[] { 0f, 1.5f }), 4))
            .Should().Throw<ArgumentException>().WithMessage("grades must be whole numbers, got 1.5*");
        FluentActions.Invoking(() => CoralLoss.CumulativeLabels(Tensors.FromArray(new[] { 0L, 1L }), long.MaxValue))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("2 grades × 9223372036854775806 thresholds*").Which.ParamName.Should().Be("numClasses");
        CoralLoss.CumulativeLabels(Tensors.FromArray(new[] { 0f, 2f }), 3).ToArray<float>().Should().Equal(0f, 0f, 1f, 1f);
    }

    [Fact]
    public void OrdinalDecoding_GivesGradesAndProbabilities()
    {
        using var scope = Tensors.NewDisposeScope();
        var logits = Tensors.FromArray(new float[] { 3, -3, -3, 3, 3, 3 }, 2, 3);
        OrdinalDecoding.ToGrades(logits).ToArray<long>().Should().Equal(1, 3);
        var probs = OrdinalDecoding.ToClassProbabilities(logits).ToArray<float>();
        double s = 1 / (1 + Math.Exp(-3));
        probs[0].Should().BeApproximately((float)(1 - s), 1e-6f);
        probs[1].Should().BeApproximately((float)(s - (1 - s)), 1e-6f);
        probs.Take(4).Sum().Should().BeApproximately(1f, 1e-5f);
        probs[7].Should().BeApproximately((float)s, 1e-6f);
    }

    [Fact]
    public void CoralHead_TrainsTowardOrderedGrades()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(3);
        using var head = new CoralHead(1, 4);
        var x = Tensors.FromArray(new float[] { -3, -1, 1, 3 }, 4, 1);
        var y = Tensors.FromArray(new long[] { 0, 1, 2, 3 });
        double first = 0, last = 0;
        for (int step = 0; step < 200; step++)
        {
            using var stepScope = Tensors.NewDisposeScope();
            var loss = CoralLoss.Compute(head.Call(x), y);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            loss.Backward();
            using (Tensors.NoGrad())
                foreach (var p in head.Parameters()) { using var g = p.Grad!; p.SubInPlace(g, 0.5); }
            head.ZeroGrad();
        }
        last.Should().BeLessThan(first / 2);
        OrdinalDecoding.ToGrades(head.Call(x)).ToArray<long>().Should().Equal(0, 1, 2, 3);
    }
}
