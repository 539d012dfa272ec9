using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.TensorOps;

public class TensorMathTests
{
    private static readonly double[] A = H.Uniform(12, 1, -2, 2);
    private static readonly double[] B = H.Uniform(12, 2, 0.5, 3);

    private static double[] Map(double[] x, Func<double, double> f) => x.Select(f).ToArray();
    private static double[] Zip(double[] x, double[] y, Func<double, double, double> f) => x.Zip(y, f).ToArray();

    [Fact]
    public void BinaryOperators_MatchElementwiseLoops()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = H.F64(A, 3, 4);
        var b = H.F64(B, 3, 4);
        H.Close(a + b, Zip(A, B, (x, y) => x + y), 1e-12);
        H.Close(a - b, Zip(A, B, (x, y) => x - y), 1e-12);
        H.Close(a * b, Zip(A, B, (x, y) => x * y), 1e-12);
        H.Close(a / b, Zip(A, B, (x, y) => x / y), 1e-12);
        H.Close(a.Add(b, 2.5), Zip(A, B, (x, y) => x + 2.5 * y), 1e-12);
        H.Close(a.Sub(b, 0.5), Zip(A, B, (x, y) => x - 0.5 * y), 1e-12);
        H.Close(b.Pow(a), Zip(B, A, Math.Pow), 1e-12);
        H.Close(a.Maximum(b), Zip(A, B, Math.Max), 0);
        H.Close(a.Minimum(b), Zip(A, B, Math.Min), 0);
        H.Close(a.FloorDivide(b), Zip(A, B, (x, y) => Math.Floor(x / y)), 0);
        H.Close(-a, Map(A, x => -x), 0);
    }

    [Fact]
    public void ScalarOperators_MatchElementwiseLoops()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = H.F64(A, 12);
        H.Close(a + 3, Map(A, x => x + 3), 1e-12);
        H.Close(3 + a, Map(A, x => 3 + x), 1e-12);
        H.Close(a - 3, Map(A, x => x - 3), 1e-12);
        H.Close(3 - a, Map(A, x => 3 - x), 1e-12);
        H.Close(a * -2, Map(A, x => -2 * x), 1e-12);
        H.Close(-2 * a, Map(A, x => -2 * x), 1e-12);
        H.Close(a / 4, Map(A, x => x / 4), 1e-12);
        H.Close(4 / a, Map(A, x => 4 / x), 1e-12);
        H.Close(a.Remainder(0.7), Map(A, x => x - 0.7 * Math.Floor(x / 0.7)), 1e-12);
        // broadcasting a row and a column
        var row = H.F64(new double[] { 1, 2, 3, 4 }, 1, 4);
        var col = H.F64(new double[] { 10, 20, 30 }, 3, 1);
        var s = row + col;
        s.Shape.Should().Equal(3, 4);
        H.Close(s, Enumerable.Range(0, 12).Select(i => (double)(i % 4 + 1 + 10 * (i / 4 + 1))).ToArray(), 0);
    }

    [Fact]
    public void ScalarOps_OnIntegerTensors_FollowPythonIntSemantics()
    {
        using var scope = Tensors.NewDisposeScope();
        var i = Tensors.Arange(5);
        var plus = i + 1;
        plus.ScalarType.Should().Be(ScalarType.Int64, "int64 + 1 stays int64, as in PyTorch");
        plus.ToArray<long>().Should().Equal(1, 2, 3, 4, 5);
        (i * 3).ToArray<long>().Should().Equal(0, 3, 6, 9, 12);
        (10 - i).ToArray<long>().Should().Equal(10, 9, 8, 7, 6);
        var half = i + 0.5;
        half.ScalarType.Should().Be(ScalarType.Float32, "a fractional scalar promotes to the default float type");
        half.ToArray<float>().Should().Equal(0.5f, 1.5f, 2.5f, 3.5f, 4.5f);
        (i / 2).ToArray<float>().Should().Equal(new[] { 0, 0.5f, 1, 1.5f, 2 }, "division is true division");
        i.AddInPlace(2).MulInPlace(3).ToArray<long>().Should().Equal(6, 9, 12, 15, 18);
        i.ScalarType.Should().Be(ScalarType.Int64);
        var counter = Tensors.Zeros(Array.Empty<long>(), ScalarType.Int64);
        counter.AddInPlace(1);
        counter.AddInPlace(1);
        counter.Item<long>().Should().Be(2);
        i.ClampInPlace(max: 10).ToArray<long>().Should().Equal(6, 9, 10, 10, 10);
    }

    [Fact]
    public void UnaryFunctions_MatchMathLibrary()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = H.F64(A, 12);
        var p = H.F64(B, 12);
        H.Close(a.Neg(), Map(A, x => -x), 0);
        H.Close(a.Abs(), Map(A, Math.Abs), 0);
        H.Close(a.Exp(), Map(A, Math.Exp), 1e-12);
        H.Close(p.Log(), Map(B, Math.Log), 1e-12);
        H.Close(p.Sqrt(), Map(B, Math.Sqrt), 1e-12);
        H.Close(a.Pow(2), Map(A, x => x * x), 1e-12);
        H.Close(p.Pow(0.5), Map(B, Math.Sqrt), 1e-12);
        H.Close(a.Pow(3), Map(A, x => x * x * x), 1e-12);
        H.Close(a.Clamp(-0.5, 0.8), Map(A, x => Math.Clamp(x, -0.5, 0.8)), 0);
        H.Close(a.Clamp(min: 0.1), Map(A, x => Math.Max(x, 0.1)), 0);
        H.Close(a.Clamp(max: 0.1), Map(A, x => Math.Min(x, 0.1)), 0);
        H.Close(a.Sigmoid(), Map(A, x => 1 / (1 + Math.Exp(-x))), 1e-12);
        H.Close(a.Tanh(), Map(A, Math.Tanh), 1e-12);
        H.Close(a.Relu(), Map(A, x => Math.Max(x, 0)), 0);
        H.Close(a.LeakyRelu(0.2), Map(A, x => x >= 0 ? x : 0.2 * x), 1e-15);
        H.Close(a.LeakyRelu(), Map(A, x => x >= 0 ? x : 0.01 * x), 1e-15);
        H.Close(a.Floor(), Map(A, Math.Floor), 0);
        H.Close(a.Sin(), Map(A, Math.Sin), 1e-12);
        H.Close(a.Square(), Map(A, x => x * x), 1e-12);
        // float32 follows the same functions to float precision
        H.Close(H.F32(A, 12).Exp(), Map(A, x => Math.Exp((float)x)), 1e-5, 1e-6);
    }

    [Fact]
    public void SoftmaxAndLogSoftmax_MatchDefinition()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(A, 3, 4);
        var lsm = Naive.LogSoftmaxRows(A, 3, 4);
        H.Close(x.LogSoftmax(1), lsm, 1e-12);
        H.Close(x.Softmax(-1), lsm.Select(Math.Exp).ToArray(), 1e-12);
        // along dim 0: softmax of columns
        var col = x.Softmax(0).ToArray<double>();
        for (int j = 0; j < 4; j++)
        {
            var denom = Enumerable.Range(0, 3).Sum(i => Math.Exp(A[i * 4 + j]));
            for (int i = 0; i < 3; i++) col[i * 4 + j].Should().BeApproximately(Math.Exp(A[i * 4 + j]) / denom, 1e-12);
        }
        // large logits do not overflow
        var big = H.F64(new double[] { 1000, 1001, 1002 }, 1, 3).Softmax(1).ToArray<double>();
        big.Should().OnlyContain(v => double.IsFinite(v));
        big.Sum().Should().BeApproximately(1, 1e-12);
    }

    [Fact]
    public void Reductions_OverDims_WithAndWithoutKeepDim()
    {
        using var scope = Tensors.NewDisposeScope();
        // x (2, 3, 2)
        var data = H.Uniform(12, 7, -3, 3);
        var x = H.F64(data, 2, 3, 2);
        double X(int i, int j, int k) => data[(i * 3 + j) * 2 + k];

        x.Sum().Item().Should().BeApproximately(data.Sum(), 1e-12);
        x.Mean().Item().Should().BeApproximately(data.Average(), 1e-12);
        x.Max().Item().Should().Be(data.Max());
        x.Min().Item().Should().Be(data.Min());
        x.ArgMax().Item<long>().Should().Be(Array.IndexOf(data, data.Max()));

        var s1 = x.Sum(1);
        s1.Shape.Should().Equal(2, 2);
        var e1 = new List<double>();
        for (int i = 0; i < 2; i++) for (int k = 0; k < 2; k++) e1.Add(Enumerable.Range(0, 3).Sum(j => X(i, j, k)));
        H.Close(s1, e1, 1e-12);
        var s1k = x.Sum(1, keepDim: true);
        s1k.Shape.Should().Equal(2, 1, 2);
        H.Close(s1k, e1, 1e-12);

        var m02 = x.Mean(new long[] { 0, 2 });
        m02.Shape.Should().Equal(3);
        H.Close(m02, Enumerable.Range(0, 3).Select(j => (X(0, j, 0) + X(0, j, 1) + X(1, j, 0) + X(1, j, 1)) / 4).ToArray(), 1e-12);
        x.Mean(new long[] { 0, 2 }, keepDim: true).Shape.Should().Equal(1, 3, 1);

        var (mx, ix) = x.Max(-1, keepDim: false);
        mx.Shape.Should().Equal(2, 3);
        var (mn, inn) = x.Min(1, keepDim: true);
        mn.Shape.Should().Equal(2, 1, 2);
        for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
        {
            var best = Math.Max(X(i, j, 0), X(i, j, 1));
            mx[i, j].Item().Should().Be(best);
            ix[i, j].Item<long>().Should().Be(X(i, j, 0) >= X(i, j, 1) ? 0 : 1);
        }
        for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++)
        {
            var vals = Enumerable.Range(0, 3).Select(j => X(i, j, k)).ToArray();
            mn[i, 0, k].Item().Should().Be(vals.Min());
            inn[i, 0, k].Item<long>().Should().Be(Array.IndexOf(vals, vals.Min()));
        }
        var am = x.ArgMax(1);
        am.Shape.Should().Equal(2, 2);
        x.ArgMax(1, keepDim: true).Shape.Should().Equal(2, 1, 2);
        for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++)
        {
            var vals = Enumerable.Range(0, 3).Select(j => X(i, j, k)).ToArray();
            am[i, k].Item<long>().Should().Be(Array.IndexOf(vals, vals.Max()));
        }
        H.Close(x.Amax(new long[] { 0, 1 }), new[] { data.Where((_, n) => n % 2 == 0).Max(), data.Where((_, n) => n % 2 == 1).Max() }, 0);
    }

    [Fact]
    public void ProdAnyAll_OverOneDimension_CountFromEitherEnd()
    {
        using var scope = Tensors.NewDisposeScope();
        // x (2, 3): [[1, 2, 0], [3, 4, 5]]
        var x = H.F64(new double[] { 1, 2, 0, 3, 4, 5 }, 2, 3);
        H.Close(x.Prod(1), new double[] { 0, 60 }, 0);
        H.Close(x.Prod(-2), new double[] { 3, 8, 0 }, 0);
        x.Prod(0, keepDim: true).Shape.Should().Equal(1, 3);
        var nonZero = x.Ne(0);
        nonZero.All(1).ToArray<bool>().Should().Equal(false, true);
        nonZero.All(-2).ToArray<bool>().Should().Equal(true, true, false);
        nonZero.All(0, keepDim: true).Shape.Should().Equal(1, 3);
        x.Gt(4).Any(-1).ToArray<bool>().Should().Equal(false, true);
        x.Gt(4).Any(0).ToArray<bool>().Should().Equal(false, false, true);
        x.Invoking(t => t.All(2)).Should().Throw<TorchException>().WithMessage("*range*");
        x.Invoking(t => t.Prod(-3)).Should().Throw<TorchException>().WithMessage("*range*");
    }

    [Fact]
    public void StdAndVar_AreUnbiasedByDefault()
    {
        using var scope = Tensors.NewDisposeScope();
        var data = H.Uniform(12, 9, -3, 3);
        var x = H.F64(data, 3, 4);
        double Var(IEnumerable<double> v, bool unbiased)
        {
            var a = v.ToArray();
            var m = a.Average();
            return a.Sum(t => (t - m) * (t - m)) / (a.Length - (unbiased ? 1 : 0));
        }
        x.Var().Item().Should().BeApproximately(Var(data, true), 1e-12);
        x.Var(unbiased: false).Item().Should().BeApproximately(Var(data, false), 1e-12);
        x.Std().Item().Should().BeApproximately(Math.Sqrt(Var(data, true)), 1e-12);
        var rows = Enumerable.Range(0, 3).Select(i => data.Skip(4 * i).Take(4)).ToArray();
        H.Close(x.Var(new long[] { 1 }), rows.Select(r => Var(r, true)).ToArray(), 1e-12);
        H.Close(x.Std(new long[] { 1 }, unbiased: false), rows.Select(r => Math.Sqrt(Var(r, false))).ToArray(), 1e-12);
        x.Std(new long[] { 1 }, keepDim: true).Shape.Should().Equal(3, 1);
        var cols = Enumerable.Range(0, 4).Select(j => Enumerable.Range(0, 3).Select(i => data[i * 4 + j])).ToArray();
        H.Close(x.Var(new long[] { 0 }, keepDim: true), cols.Select(c => Var(c, true)).ToArray(), 1e-12);
    }

    [Fact]
    public void Comparisons_And_Where()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = H.F64(new double[] { 1, 2, 3, 4 }, 4);
        var b = H.F64(new double[] { 4, 2, 1, 5 }, 4);
        (a < b).ToArray<bool>().Should().Equal(true, false, false, true);
        (a <= b).ToArray<bool>().Should().Equal(true, true, false, true);
        (a > b).ToArray<bool>().Should().Equal(false, false, true, false);
        (a >= b).ToArray<bool>().Should().Equal(false, true, true, false);
        a.Eq(b).ToArray<bool>().Should().Equal(false, true, false, false);
        a.Ne(b).ToArray<bool>().Should().Equal(true, false, true, true);
        (a > 2.5).ToArray<bool>().Should().Equal(false, false, true, true);
        (a <= 2).ToArray<bool>().Should().Equal(true, true, false, false);
        a.Eq(3).ToArray<bool>().Should().Equal(false, false, true, false);
        ((a > 1) & (a < 4)).ToArray<bool>().Should().Equal(false, true, true, false);
        ((a < 2) | (a > 3)).ToArray<bool>().Should().Equal(true, false, false, true);
        (!(a > 2)).ToArray<bool>().Should().Equal(true, true, false, false);
        (a > 2).ScalarType.Should().Be(ScalarType.Bool);
        Tensors.Where(a > b, a, b).ToArray<double>().Should().Equal(4, 2, 3, 5);
        a.AllClose(a + 1e-9).Should().BeTrue();
        a.AllClose(b).Should().BeFalse();
    }

    [Fact]
    public void MatMul_And_Bmm_MatchTripleLoops()
    {
        using var scope = Tensors.NewDisposeScope();
        int n = 3, k = 5, m = 4, batch = 2;
        var x = H.Uniform(batch * n * k, 11);
        var y = H.Uniform(batch * k * m, 12);
        double[] MatMul(int bb)
        {
            var r = new double[n * m];
            for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            for (int t = 0; t < k; t++)
                r[i * m + j] += x[bb * n * k + i * k + t] * y[bb * k * m + t * m + j];
            return r;
        }
        var expected = MatMul(0).Concat(MatMul(1)).ToArray();
        var xb = H.F64(x, batch, n, k);
        var yb = H.F64(y, batch, k, m);
        var bmm = xb.Bmm(yb);
        bmm.Shape.Should().Equal(batch, n, m);
        H.Close(bmm, expected, 1e-12);
        H.Close(xb.MatMul(yb), expected, 1e-12);
        H.Close(xb[0].MatMul(yb[0]), MatMul(0), 1e-12);
        H.Close(xb[0].Mm(yb[0]), MatMul(0), 1e-12);
        // matrix-vector
        var v = H.F64(y.Take(k).ToArray(), k);
        var mv = xb[1].MatMul(v);
        mv.Shape.Should().Equal(n);
        H.Close(mv, Enumerable.Range(0, n).Select(i => Enumerable.Range(0, k).Sum(t => x[n * k + i * k + t] * y[t])).ToArray(), 1e-12);
        // float32 agrees to float precision
        H.Close(H.F32(x, batch, n, k).Bmm(H.F32(y, batch, k, m)), expected, 1e-5);
    }
}
