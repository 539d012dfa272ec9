using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Nn;

/// <summary>Functional NN ops against plain C# loops on small float64 inputs.</summary>
public class FunctionalTests
{
    private static readonly long[] One3 = { 1, 1, 1 };

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    [InlineData(1L << 32)] // libtorch truncates this to a 32-bit 0 and divides by it: SIGFPE, in Python's PyTorch 1.13 too
    [InlineData(1L << 40)]
    public void Convolutions_RefuseGroupsOutsideThePositiveIntRange_InsteadOfCrashing(long groups)
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Zeros(1, 4, 5, 5);
        var w = Tensors.Zeros(4, 2, 3, 3);
        foreach (var act in new Action[]
        {
            () => F.Conv2d(x, w, groups: groups),
            () => F.ConvTranspose2d(x, w, groups: groups),
            () => F.Conv3d(x.Unsqueeze(2), w.Unsqueeze(2), groups: groups),
        })
        {
            act.Should().Throw<ArgumentOutOfRangeException>().Which.Message.Should().Contain($"groups must be a positive number of channel groups, got {groups}");
        }

        // The shim checks as well, for callers that do not come through Functional (the packed-weight path).
        unsafe
        {
            long[] ones = { 1, 1 }, zeros = { 0, 0 };
            fixed (long* s = ones, p = zeros)
            {
                MedVision.Torch.Native.NativeMethods.mvt_conv(x.Handle, w.Handle, IntPtr.Zero, s, p, s, 2, groups).Should().Be(IntPtr.Zero);
                TorchException.FromNative("conv2d").Message.Should().Contain($"groups must be a positive number of channel groups, got {groups}");
            }
        }
    }

    [Theory]
    [InlineData(1, 0, 1, 1)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(1, 2, 2, 1)]
    [InlineData(2, 1, 1, 3)]
    [InlineData(3, 2, 2, 3)]
    public void Conv1d_2d_3d_MatchLoops(long stride, long padding, long dilation, long groups)
    {
        using var scope = Tensors.NewDisposeScope();
        long cin = groups == 1 ? 2 : 2 * groups;   // two input channels per group
        long cout = groups == 1 ? 3 : 2 * groups;  // two output channels per group
        var b = H.Uniform((int)cout, 3);
        // 1-D
        {
            long[] xs = { 2, cin, 9 }, ws = { cout, cin / groups, 3 };
            var x = H.Uniform((int)H.Prod(xs), 1); var w = H.Uniform((int)H.Prod(ws), 2);
            var y = F.Conv1d(H.F64(x, xs), H.F64(w, ws), H.F64(b, cout), stride, padding, dilation, groups);
            var (yr, shape) = Naive.Conv3d(x, new[] { xs[0], xs[1], 1, 1, xs[2] }, w, new[] { ws[0], ws[1], 1, 1, ws[2] }, b,
                new[] { 1, 1, stride }, new[] { 0, 0, padding }, new[] { 1, 1, dilation }, groups);
            y.Shape.Should().Equal(shape[0], shape[1], shape[4]);
            H.Close(y, yr, 1e-12, 1e-12, "conv1d");
        }
        // 2-D
        {
            long[] xs = { 2, cin, 7, 8 }, ws = { cout, cin / groups, 3, 2 };
            var x = H.Uniform((int)H.Prod(xs), 4); var w = H.Uniform((int)H.Prod(ws), 5);
            var y = F.Conv2d(H.F64(x, xs), H.F64(w, ws), H.F64(b, cout), stride, padding, dilation, groups);
            var (yr, shape) = Naive.Conv3d(x, new[] { xs[0], xs[1], 1, xs[2], xs[3] }, w, new[] { ws[0], ws[1], 1, ws[2], ws[3] }, b,
                new[] { 1, stride, stride }, new[] { 0, padding, padding }, new[] { 1, dilation, dilation }, groups);
            y.Shape.Should().Equal(shape[0], shape[1], shape[3], shape[4]);
            H.Close(y, yr, 1e-12, 1e-12, "conv2d");
            // float32 (oneDNN path) agrees to float precision
            var y32 = F.Conv2d(H.F32(x, xs), H.F32(w, ws), H.F32(b, cout), stride, padding, dilation, groups);
            H.Close(y32, yr, 1e-5, 1e-5, "conv2d float32");
        }
        // 3-D
        {
            long[] xs = { 1, cin, 5, 6, 5 }, ws = { cout, cin / groups, 2, 3, 2 };
            var x = H.Uniform((int)H.Prod(xs), 6); var w = H.Uniform((int)H.Prod(ws), 7);
            var y = F.Conv3d(H.F64(x, xs), H.F64(w, ws), null, stride, padding, dilation, groups);
            var (yr, shape) = Naive.Conv3d(x, xs, w, ws, null, new[] { stride, stride, stride }, new[] { padding, padding, padding },
                new[] { dilation, dilation, dilation }, groups);
            y.Shape.Should().Equal(shape);
            H.Close(y, yr, 1e-12, 1e-12, "conv3d");
            var y32 = F.Conv3d(H.F32(x, xs), H.F32(w, ws), null, stride, padding, dilation, groups);
            H.Close(y32, yr, 1e-5, 1e-5, "conv3d float32");
        }
    }

    [Theory]
    [InlineData(1, 0, 0, 1, 1)]
    [InlineData(2, 1, 1, 1, 1)]
    [InlineData(2, 0, 0, 2, 2)]
    [InlineData(3, 1, 2, 1, 2)]
    public void ConvTranspose2d_MatchesScatterLoop(long stride, long padding, long outputPadding, long dilation, long groups)
    {
        using var scope = Tensors.NewDisposeScope();
        long[] xs = { 2, 2 * groups, 4, 3 }, ws = { 2 * groups, 3, 3, 3 };
        var x = H.Uniform((int)H.Prod(xs), 8); var w = H.Uniform((int)H.Prod(ws), 9); var b = H.Uniform((int)(3 * groups), 10);
        var y = F.ConvTranspose2d(H.F64(x, xs), H.F64(w, ws), H.F64(b, 3 * groups), stride, padding, outputPadding, groups, dilation);
        var (yr, shape) = Naive.ConvTranspose2d(x, xs, w, ws, b, stride, padding, outputPadding, dilation, groups);
        y.Shape.Should().Equal(shape);
        H.Close(y, yr, 1e-12, 1e-12);
    }

    [Fact]
    public void Pooling2d_3d_MatchLoops()
    {
        using var scope = Tensors.NewDisposeScope();
        long[] xs = { 2, 3, 7, 6 };
        var x = H.Uniform((int)H.Prod(xs), 11);
        var x5 = new[] { xs[0], xs[1], 1, xs[2], xs[3] };
        var t = H.F64(x, xs);
        var (mr, ms) = Naive.Pool3d(true, x, x5, new long[] { 1, 2, 2 }, new long[] { 1, 2, 2 }, new long[3]);
        var m = F.MaxPool2d(t, 2);
        m.Shape.Should().Equal(ms[0], ms[1], ms[3], ms[4]);
        H.Close(m, mr, 0);
        (mr, _) = Naive.Pool3d(true, x, x5, new long[] { 1, 3, 3 }, new long[] { 1, 2, 2 }, new long[] { 0, 1, 1 });
        H.Close(F.MaxPool2d(t, 3, 2, 1), mr, 0);
        var (ar, _) = Naive.Pool3d(false, x, x5, new long[] { 1, 3, 3 }, new long[] { 1, 2, 2 }, new long[] { 0, 1, 1 }, countIncludePad: true);
        H.Close(F.AvgPool2d(t, 3, 2, 1), ar, 1e-12);
        (ar, _) = Naive.Pool3d(false, x, x5, new long[] { 1, 3, 3 }, new long[] { 1, 2, 2 }, new long[] { 0, 1, 1 }, countIncludePad: false);
        H.Close(F.AvgPool2d(t, 3, 2, 1, countIncludePad: false), ar, 1e-12);

        long[] vs = { 1, 2, 5, 4, 6 };
        var v = H.Uniform((int)H.Prod(vs), 12);
        var vt = H.F64(v, vs);
        (mr, ms) = Naive.Pool3d(true, v, vs, new long[] { 2, 2, 2 }, new long[] { 2, 2, 2 }, new long[3]);
        var m3 = F.MaxPool3d(vt, 2);
        m3.Shape.Should().Equal(ms);
        H.Close(m3, mr, 0);
        (ar, _) = Naive.Pool3d(false, v, vs, new long[] { 3, 3, 3 }, new long[] { 1, 1, 1 }, new long[] { 1, 1, 1 });
        H.Close(F.AvgPool3d(vt, 3, 1, 1), ar, 1e-12);

        // modules use the same code
        using var pool = new MaxPool2d(2);
        H.Close(pool.Call(t), F.MaxPool2d(t, 2), 0);
    }

    [Fact]
    public void AdaptiveAvgPool_MatchesLoop()
    {
        using var scope = Tensors.NewDisposeScope();
        long[] xs = { 2, 2, 7, 5 };
        var x = H.Uniform((int)H.Prod(xs), 13);
        var t = H.F64(x, xs);
        var y = F.AdaptiveAvgPool2d(t, 3, 2);
        y.Shape.Should().Equal(2, 2, 3, 2);
        H.Close(y, Naive.AdaptiveAvg3d(x, new[] { xs[0], xs[1], 1, xs[2], xs[3] }, new long[] { 1, 3, 2 }), 1e-12);
        using var global = new AdaptiveAvgPool2d(1);
        H.Close(global.Call(t), t.Mean(new long[] { 2, 3 }, keepDim: true), 1e-12);
        long[] vs = { 1, 2, 5, 4, 6 };
        var v = H.Uniform((int)H.Prod(vs), 14);
        H.Close(F.AdaptiveAvgPool3d(H.F64(v, vs), 2, 3, 4), Naive.AdaptiveAvg3d(v, vs, new long[] { 2, 3, 4 }), 1e-12);
    }

    [Fact]
    public void Interpolate_NearestAndBilinear_MatchLoops()
    {
        using var scope = Tensors.NewDisposeScope();
        long[] xs = { 1, 2, 3, 5 };
        var x = H.Uniform((int)H.Prod(xs), 15);
        var t = H.F64(x, xs);
        var n = F.Interpolate(t, new long[] { 7, 4 });
        n.Shape.Should().Equal(1, 2, 7, 4);
        H.Close(n, Naive.Nearest(x, xs, 7, 4), 0);
        H.Close(F.Interpolate(t, new long[] { 6, 10 }, InterpolationMode.Nearest), Naive.Nearest(x, xs, 6, 10), 0);
        H.Close(F.Interpolate(t, new long[] { 8, 3 }, InterpolationMode.Linear), Naive.Bilinear(x, xs, 8, 3), 1e-12);
    }

    [Fact]
    public void Dropout_Identity_WhenPIsZeroOrEvaluating_AndScalesSurvivors()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Rand(new long[] { 200, 500 }, ScalarType.Float64) + 0.5;
        var xv = x.ToArray<double>();
        F.Dropout(x, 0, training: true).ToArray<double>().Should().Equal(xv);
        F.Dropout(x, 0.7, training: false).ToArray<double>().Should().Equal(xv);
        using (var d = new Dropout(0.4))
        {
            d.Eval();
            d.Call(x).ToArray<double>().Should().Equal(xv);
        }
        const double p = 0.3;
        var y = F.Dropout(x, p, training: true).ToArray<double>();
        var zeros = y.Count(v => v == 0);
        ((double)zeros / y.Length).Should().BeApproximately(p, 0.01); // σ ≈ 0.002 for 100 000 draws
        for (int i = 0; i < y.Length; i++)
            if (y[i] != 0) y[i].Should().BeApproximately(xv[i] / (1 - p), 1e-12);
        F.Dropout(x, 1, training: true).ToArray<double>().Should().OnlyContain(v => v == 0);
    }

    [Fact]
    public void Linear_MatchesLoop()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.Uniform(2 * 3 * 4, 16); var w = H.Uniform(5 * 4, 17); var b = H.Uniform(5, 18);
        var y = F.Linear(H.F64(x, 2, 3, 4), H.F64(w, 5, 4), H.F64(b, 5));
        y.Shape.Should().Equal(2, 3, 5);
        var e = new double[30];
        for (int r = 0; r < 6; r++) for (int o = 0; o < 5; o++) e[r * 5 + o] = b[o] + Enumerable.Range(0, 4).Sum(k => x[r * 4 + k] * w[o * 4 + k]);
        H.Close(y, e, 1e-12);
        H.Close(F.Linear(H.F64(x, 6, 4), H.F64(w, 5, 4)), e.Select((v, i) => v - b[i % 5]).ToArray(), 1e-12);
    }

    [Fact]
    public void PairwiseDistance_And_Normalize_MatchDefinitions()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = H.Uniform(12, 19); var c = H.Uniform(12, 20);
        var d = F.PairwiseDistance(H.F64(a, 3, 4), H.F64(c, 3, 4));
        H.Close(d, Enumerable.Range(0, 3).Select(i => Math.Sqrt(Enumerable.Range(0, 4).Sum(k => Math.Pow(a[i * 4 + k] - c[i * 4 + k] + 1e-6, 2)))).ToArray(), 1e-12);
        var n = F.Normalize(H.F64(a, 3, 4), 2, 1);
        var norms = Enumerable.Range(0, 3).Select(i => Math.Sqrt(Enumerable.Range(0, 4).Sum(k => a[i * 4 + k] * a[i * 4 + k]))).ToArray();
        H.Close(n, a.Select((v, i) => v / norms[i / 4]).ToArray(), 1e-12);
    }
}
