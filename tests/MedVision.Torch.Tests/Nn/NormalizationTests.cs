using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Nn;

/// <summary>Batch, instance, group and layer normalisation against statistics computed in loops.</summary>
public class NormalizationTests
{
    // x (N=3, C=2, H=2, W=3)
    private const int N = 3, C = 2, S = 6;
    private static readonly double[] X = H.Uniform(N * C * S, 51, -2, 3);
    private static double At(int n, int c, int s) => X[(n * C + c) * S + s];

    private static (double Mean, double Biased, double Unbiased) Stats(IEnumerable<double> values)
    {
        var a = values.ToArray();
        var m = a.Average();
        var ss = a.Sum(v => (v - m) * (v - m));
        return (m, ss / a.Length, ss / (a.Length - 1));
    }

    private static IEnumerable<double> Channel(int c) => Enumerable.Range(0, N).SelectMany(n => Enumerable.Range(0, S).Select(s => At(n, c, s)));

    [Fact]
    public void BatchNorm_Eval_UsesRunningStatistics()
    {
        using var scope = Tensors.NewDisposeScope();
        double[] rm = { 0.3, -0.2 }, rv = { 1.5, 0.7 }, g = { 2, -1 }, b = { 0.1, 0.5 };
        var y = F.BatchNorm(H.F64(X, N, C, 2, 3), H.F64(rm, C), H.F64(rv, C), H.F64(g, C), H.F64(b, C), training: false, eps: 1e-5);
        var e = new double[X.Length];
        for (int n = 0; n < N; n++) for (int c = 0; c < C; c++) for (int s = 0; s < S; s++)
            e[(n * C + c) * S + s] = (At(n, c, s) - rm[c]) / Math.Sqrt(rv[c] + 1e-5) * g[c] + b[c];
        H.Close(y, e, 1e-12);
    }

    [Fact]
    public void BatchNorm_Training_NormalisesWithBatchStats_AndUpdatesRunningStatsWithUnbiasedVariance()
    {
        using var scope = Tensors.NewDisposeScope();
        double[] rm0 = { 0.3, -0.2 }, rv0 = { 1.5, 0.7 }, g = { 2, -1 }, b = { 0.1, 0.5 };
        const double momentum = 0.25, eps = 1e-3;
        var rm = H.F64(rm0, C); var rv = H.F64(rv0, C);
        var y = F.BatchNorm(H.F64(X, N, C, 2, 3), rm, rv, H.F64(g, C), H.F64(b, C), training: true, momentum: momentum, eps: eps);
        var e = new double[X.Length];
        var stats = Enumerable.Range(0, C).Select(c => Stats(Channel(c))).ToArray();
        for (int n = 0; n < N; n++) for (int c = 0; c < C; c++) for (int s = 0; s < S; s++)
            e[(n * C + c) * S + s] = (At(n, c, s) - stats[c].Mean) / Math.Sqrt(stats[c].Biased + eps) * g[c] + b[c];
        H.Close(y, e, 1e-12);
        H.Close(rm, Enumerable.Range(0, C).Select(c => (1 - momentum) * rm0[c] + momentum * stats[c].Mean).ToArray(), 1e-12);
        H.Close(rv, Enumerable.Range(0, C).Select(c => (1 - momentum) * rv0[c] + momentum * stats[c].Unbiased).ToArray(), 1e-12);
    }

    [Fact]
    public void BatchNorm2d_Module_TracksBatches_AndSwitchesStatsWithMode()
    {
        using var scope = Tensors.NewDisposeScope();
        using var bn = new BatchNorm2d(C).To(ScalarType.Float64);
        var m = (BatchNorm2d)bn;
        var x = H.F64(X, N, C, 2, 3);
        m.Call(x);
        m.Call(x);
        m.NumBatchesTracked!.Item<long>().Should().Be(2);
        var stats = Enumerable.Range(0, C).Select(c => Stats(Channel(c))).ToArray();
        // two updates with momentum 0.1 from (0, 1): r2 = 0.81·r0 + (1 − 0.81)·batch
        H.Close(m.RunningMean!, stats.Select(s => 0.19 * s.Mean).ToArray(), 1e-12);
        H.Close(m.RunningVar!, stats.Select(s => 0.81 + 0.19 * s.Unbiased).ToArray(), 1e-12);
        m.Eval();
        var y = m.Call(x);
        m.NumBatchesTracked!.Item<long>().Should().Be(2, "evaluation does not count batches");
        var rm = H.ToDoubles(m.RunningMean!); var rv = H.ToDoubles(m.RunningVar!);
        var e = new double[X.Length];
        for (int n = 0; n < N; n++) for (int c = 0; c < C; c++) for (int s = 0; s < S; s++)
            e[(n * C + c) * S + s] = (At(n, c, s) - rm[c]) / Math.Sqrt(rv[c] + 1e-5);
        H.Close(y, e, 1e-12);
        H.Close(m.RunningMean!, stats.Select(s => 0.19 * s.Mean).ToArray(), 1e-12, what: "running mean unchanged in eval");
    }

    [Fact]
    public void BatchNorm_CumulativeAverage_WhenMomentumIsNull()
    {
        using var scope = Tensors.NewDisposeScope();
        using var bn = new BatchNorm1d(2, momentum: null);
        var a = H.Uniform(8, 52); var c = H.Uniform(8, 53);
        bn.Call(H.F32(a, 4, 2));
        bn.Call(H.F32(c, 4, 2));
        // with momentum None PyTorch keeps the plain average of the batch means
        var e = Enumerable.Range(0, 2).Select(ch => (Enumerable.Range(0, 4).Average(n => a[n * 2 + ch]) + Enumerable.Range(0, 4).Average(n => c[n * 2 + ch])) / 2).ToArray();
        H.Close(bn.RunningMean!, e, 1e-6);
    }

    [Fact]
    public void InstanceNorm_UsesPerSamplePerChannelStats()
    {
        using var scope = Tensors.NewDisposeScope();
        var y = F.InstanceNorm(H.F64(X, N, C, 2, 3));
        var e = new double[X.Length];
        for (int n = 0; n < N; n++) for (int c = 0; c < C; c++)
        {
            var st = Stats(Enumerable.Range(0, S).Select(s => At(n, c, s)));
            for (int s = 0; s < S; s++) e[(n * C + c) * S + s] = (At(n, c, s) - st.Mean) / Math.Sqrt(st.Biased + 1e-5);
        }
        H.Close(y, e, 1e-12);
        using var layer = new InstanceNorm2d(C);
        H.Close(layer.Call(H.F32(X, N, C, 2, 3)), e, 1e-5);
    }

    [Fact]
    public void NormLayers_RejectBadHyperparameters_NamingThem()
    {
        FluentActions.Invoking(() => new BatchNorm2d(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("numFeatures");
        FluentActions.Invoking(() => new BatchNorm2d(2, eps: 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eps");
        FluentActions.Invoking(() => new BatchNorm2d(2, momentum: 1.5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("momentum");
        FluentActions.Invoking(() => new InstanceNorm2d(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("numFeatures");
        FluentActions.Invoking(() => new InstanceNorm3d(2, eps: -1e-5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eps");
        FluentActions.Invoking(() => new InstanceNorm2d(2, momentum: -0.1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("momentum");
        FluentActions.Invoking(() => new LayerNorm(new long[] { 4 }, eps: 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eps");
        FluentActions.Invoking(() => new GroupNorm(2, 4, eps: -1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eps");
    }

    [Fact]
    public void GroupNorm_UsesStatsOverChannelGroups()
    {
        using var scope = Tensors.NewDisposeScope();
        const int c4 = 4, groups = 2, s2 = 3;
        var x = H.Uniform(2 * c4 * s2, 54, -1, 2);
        double[] g = { 1, 2, 0.5, -1 }, b = { 0, 1, -1, 0.25 };
        var y = F.GroupNorm(H.F64(x, 2, c4, s2), groups, H.F64(g, c4), H.F64(b, c4), 1e-5);
        var e = new double[x.Length];
        for (int n = 0; n < 2; n++) for (int grp = 0; grp < groups; grp++)
        {
            var idx = Enumerable.Range(0, c4 / groups).SelectMany(k => Enumerable.Range(0, s2).Select(s => (n * c4 + grp * 2 + k) * s2 + s)).ToArray();
            var st = Stats(idx.Select(i => x[i]));
            foreach (var i in idx)
            {
                var ch = i / s2 % c4;
                e[i] = (x[i] - st.Mean) / Math.Sqrt(st.Biased + 1e-5) * g[ch] + b[ch];
            }
        }
        H.Close(y, e, 1e-12);
    }

    [Fact]
    public void LayerNorm_NormalisesTrailingDims()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.Uniform(2 * 3 * 4, 55, -1, 2);
        var g = H.Uniform(12, 56); var b = H.Uniform(12, 57);
        var y = F.LayerNorm(H.F64(x, 2, 3, 4), new long[] { 3, 4 }, H.F64(g, 3, 4), H.F64(b, 3, 4), 1e-5);
        var e = new double[x.Length];
        for (int n = 0; n < 2; n++)
        {
            var st = Stats(x.Skip(n * 12).Take(12));
            for (int k = 0; k < 12; k++) e[n * 12 + k] = (x[n * 12 + k] - st.Mean) / Math.Sqrt(st.Biased + 1e-5) * g[k] + b[k];
        }
        H.Close(y, e, 1e-12);
        using var ln = new LayerNorm(4);
        var y1 = ln.Call(H.F32(x, 6, 4));
        var e1 = new double[x.Length];
        for (int r = 0; r < 6; r++)
        {
            var st = Stats(x.Skip(r * 4).Take(4));
            for (int k = 0; k < 4; k++) e1[r * 4 + k] = (x[r * 4 + k] - st.Mean) / Math.Sqrt(st.Biased + 1e-5);
        }
        H.Close(y1, e1, 1e-5);
    }
}
