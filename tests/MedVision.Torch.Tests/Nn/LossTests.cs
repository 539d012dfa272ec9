using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Nn;

/// <summary>Losses against PyTorch's documented formulas, written out in loops.</summary>
public class LossTests
{
    private const int N = 6, C = 4;
    private static readonly double[] Logits = H.Uniform(N * C, 61, -2, 2);
    private static readonly long[] Target = { 0, 3, 1, 1, 2, 3 };
    private static readonly double[] Weight = { 0.5, 2.0, 1.0, 0.25 };

    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(true, 0.0)]
    [InlineData(false, 0.1)]
    [InlineData(true, 0.3)]
    public void CrossEntropy_Mean_MatchesFormula(bool weighted, double smoothing)
    {
        using var scope = Tensors.NewDisposeScope();
        var loss = F.CrossEntropy(H.F64(Logits, N, C), Tensors.FromArray(Target), weighted ? H.F64(Weight, C) : null, labelSmoothing: smoothing);
        loss.Dim.Should().Be(0);
        loss.Item().Should().BeApproximately(Naive.CrossEntropyMean(Logits, N, C, Target, weighted ? Weight : null, smoothing), 1e-12);
    }

    [Fact]
    public void CrossEntropy_IgnoreIndex_DropsSamplesFromSumAndDenominator()
    {
        using var scope = Tensors.NewDisposeScope();
        var target = new long[] { 0, -100, 1, 1, -100, 3 };
        var l = F.CrossEntropy(H.F64(Logits, N, C), Tensors.FromArray(target), H.F64(Weight, C), labelSmoothing: 0.2);
        l.Item().Should().BeApproximately(Naive.CrossEntropyMean(Logits, N, C, target, Weight, 0.2), 1e-12);
        var t2 = new long[] { 2, 2, 1, 2, 0, 3 };
        var l2 = F.CrossEntropy(H.F64(Logits, N, C), Tensors.FromArray(t2), ignoreIndex: 2);
        l2.Item().Should().BeApproximately(Naive.CrossEntropyMean(Logits, N, C, t2, null, 0, ignoreIndex: 2), 1e-12);
    }

    [Fact]
    public void CrossEntropy_SumAndNone_And_SpatialTargets()
    {
        using var scope = Tensors.NewDisposeScope();
        var lp = Naive.LogSoftmaxRows(Logits, N, C);
        var none = F.CrossEntropy(H.F64(Logits, N, C), Tensors.FromArray(Target), H.F64(Weight, C), reduction: Reduction.None);
        none.Shape.Should().Equal(N);
        H.Close(none, Enumerable.Range(0, N).Select(i => -Weight[Target[i]] * lp[i * C + Target[i]]).ToArray(), 1e-12);
        var sum = F.CrossEntropy(H.F64(Logits, N, C), Tensors.FromArray(Target), reduction: Reduction.Sum);
        sum.Item().Should().BeApproximately(Enumerable.Range(0, N).Sum(i => -lp[i * C + Target[i]]), 1e-12);
        // (N=1, C, L=6) with class dim 1 equals the (6, C) case
        var spatial = H.F64(Logits, N, C).Transpose(0, 1).Unsqueeze(0);
        var ls = F.CrossEntropy(spatial, Tensors.FromArray(Target, 1, N), H.F64(Weight, C), labelSmoothing: 0.1);
        ls.Item().Should().BeApproximately(Naive.CrossEntropyMean(Logits, N, C, Target, Weight, 0.1), 1e-12);
    }

    [Fact]
    public void CrossEntropy_WithProbabilityTargets()
    {
        using var scope = Tensors.NewDisposeScope();
        var p = H.Uniform(N * C, 62, 0.1, 1);
        for (int i = 0; i < N; i++) { var s = p.Skip(i * C).Take(C).Sum(); for (int k = 0; k < C; k++) p[i * C + k] /= s; }
        var lp = Naive.LogSoftmaxRows(Logits, N, C);
        var l = F.CrossEntropy(H.F64(Logits, N, C), H.F64(p, N, C));
        l.Item().Should().BeApproximately(Enumerable.Range(0, N * C).Sum(j => -p[j] * lp[j]) / N, 1e-12);
    }

    [Fact]
    public void NllLoss_WeightedMean()
    {
        using var scope = Tensors.NewDisposeScope();
        var lp = Naive.LogSoftmaxRows(Logits, N, C);
        var l = F.NllLoss(H.F64(lp, N, C), Tensors.FromArray(Target), H.F64(Weight, C));
        var num = Enumerable.Range(0, N).Sum(i => -Weight[Target[i]] * lp[i * C + Target[i]]);
        var den = Target.Sum(t => Weight[t]);
        l.Item().Should().BeApproximately(num / den, 1e-12);
        F.NllLoss(H.F64(lp, N, C), Tensors.FromArray(Target)).Item().Should().BeApproximately(Enumerable.Range(0, N).Average(i => -lp[i * C + Target[i]]), 1e-12);
    }

    [Fact]
    public void BceWithLogits_WithPosWeightAndElementWeight()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.Uniform(12, 63, -4, 4); var y = H.Uniform(12, 64, 0, 1);
        double[] pw = { 3, 0.5, 1 }; var w = H.Uniform(12, 65, 0.5, 2);
        static double LogSig(double v) => -Math.Log(1 + Math.Exp(-v));
        double Term(int i) => -(pw[i % 3] * y[i] * LogSig(x[i]) + (1 - y[i]) * LogSig(-x[i]));
        var l = F.BinaryCrossEntropyWithLogits(H.F64(x, 4, 3), H.F64(y, 4, 3), posWeight: H.F64(pw, 3));
        l.Item().Should().BeApproximately(Enumerable.Range(0, 12).Average(Term), 1e-12);
        var lw = F.BinaryCrossEntropyWithLogits(H.F64(x, 4, 3), H.F64(y, 4, 3), H.F64(w, 4, 3), Reduction.Sum, H.F64(pw, 3));
        lw.Item().Should().BeApproximately(Enumerable.Range(0, 12).Sum(i => w[i] * Term(i)), 1e-12);
        // extreme logits stay finite
        F.BinaryCrossEntropyWithLogits(H.F64(new double[] { 800, -800 }, 2), H.F64(new double[] { 0, 1 }, 2)).Item().Should().BeApproximately(800, 1e-9);
    }

    [Fact]
    public void RegressionLosses_MatchFormulas()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.Uniform(20, 66, -3, 3); var y = H.Uniform(20, 67, -3, 3);
        var d = x.Zip(y, (a, b) => a - b).ToArray();
        var xt = H.F64(x, 4, 5); var yt = H.F64(y, 4, 5);
        F.MseLoss(xt, yt).Item().Should().BeApproximately(d.Average(v => v * v), 1e-12);
        F.MseLoss(xt, yt, Reduction.Sum).Item().Should().BeApproximately(d.Sum(v => v * v), 1e-12);
        F.L1Loss(xt, yt).Item().Should().BeApproximately(d.Average(Math.Abs), 1e-12);
        H.Close(F.L1Loss(xt, yt, Reduction.None), d.Select(Math.Abs).ToArray(), 1e-12);
        foreach (var beta in new[] { 1.0, 0.5, 2.0 })
        {
            double Sl1(double v) => Math.Abs(v) < beta ? 0.5 * v * v / beta : Math.Abs(v) - 0.5 * beta;
            F.SmoothL1Loss(xt, yt, beta: beta).Item().Should().BeApproximately(d.Average(Sl1), 1e-12);
        }
        F.SmoothL1Loss(xt, yt, beta: 0).Item().Should().BeApproximately(d.Average(Math.Abs), 1e-12, "beta 0 is plain L1");
    }

    [Fact]
    public void PairAndTripletLosses_RefuseBadArguments_NamingThem()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Tensors.Randn(new long[] { 4, 3 });
        var b = Tensors.Randn(new long[] { 4, 3 });
        var y = Tensors.FromArray(new[] { 1.0, -1.0, 1.0, 1.0 }).To(ScalarType.Float32);
        FluentActions.Invoking(() => F.TripletMarginLoss(a, b, Tensors.Randn(new long[] { 3 }))).Should().Throw<ArgumentException>()
            .WithMessage("*same number of dimensions; got 2, 2 and 1*");
        FluentActions.Invoking(() => F.TripletMarginLoss(a, b, b, p: 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("p");
        FluentActions.Invoking(() => F.TripletMarginLoss(a, b, b, margin: double.NaN)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("margin");
        FluentActions.Invoking(() => F.TripletMarginLoss(a, null!, b)).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("positive");
        FluentActions.Invoking(() => F.MarginRankingLoss(a, b, y)).Should().Throw<ArgumentException>().WithMessage("*same number of dimensions; got 2, 2 and 1 (target)*");
        FluentActions.Invoking(() => F.CosineEmbeddingLoss(a, Tensors.Randn(new long[] { 4, 5 }), y)).Should().Throw<ArgumentException>().WithMessage("cosine_embedding_loss: inputs [4, 3] (Float32), [4, 5] (Float32), [4] (Float32)*");
        FluentActions.Invoking(() => F.KlDiv(a, b, (KlDivReduction)7)).Should().Throw<ArgumentOutOfRangeException>();

        // batchmean: the sum over the batch divided by its size; for identical distributions the divergence is 0.
        var logP = a.LogSoftmax(1);
        F.KlDiv(logP, logP.Exp(), KlDivReduction.BatchMean).Item().Should().BeApproximately(0, 1e-6);
        F.KlDiv(logP, b.Softmax(1), KlDivReduction.BatchMean).Item().Should().BeApproximately(F.KlDiv(logP, b.Softmax(1), KlDivReduction.Sum).Item() / 4, 1e-6);
    }
}
