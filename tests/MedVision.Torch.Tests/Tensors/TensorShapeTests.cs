using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.TensorOps;

public class TensorShapeTests
{
    // x[i, j, k] = 100 i + 10 j + k for shape (2, 3, 4): every value names its own position
    private static Tensor Coded() => H.F64(Enumerable.Range(0, 24).Select(n => (double)(100 * (n / 12) + 10 * (n / 4 % 3) + n % 4)).ToArray(), 2, 3, 4);
    private static double Code(long i, long j, long k) => 100 * i + 10 * j + k;

    [Fact]
    public void View_Reshape_Flatten_KeepRowMajorOrder()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Coded();
        var flat = x.ToArray<double>();
        var v = x.View(6, 4);
        v.Shape.Should().Equal(6, 4);
        v.ToArray<double>().Should().Equal(flat);
        x.View(-1).Shape.Should().Equal(24);
        x.Reshape(4, -1).Shape.Should().Equal(4, 6);
        x.Reshape(4, -1).ToArray<double>().Should().Equal(flat);
        // a view shares storage
        v.FillInPlace(0);
        x.Sum().Item().Should().Be(0);

        var y = Coded();
        var t = y.Transpose(1, 2);
        var r = t.Reshape(-1); // needs a copy
        r.ToArray<double>().Should().Equal(t.ToArray<double>());
        y.Flatten().Shape.Should().Equal(24);
        y.Flatten(1).Shape.Should().Equal(2, 12);
        y.Flatten(0, 1).Shape.Should().Equal(6, 4);
        y.Flatten(1).ToArray<double>().Should().Equal(flat);
    }

    [Fact]
    public void Squeeze_Unsqueeze_Permute_Transpose_Expand()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Coded();
        var u = x.Unsqueeze(1);
        u.Shape.Should().Equal(2, 1, 3, 4);
        x.Unsqueeze(-1).Shape.Should().Equal(2, 3, 4, 1);
        u.Squeeze().Shape.Should().Equal(2, 3, 4);
        u.Squeeze(1).Shape.Should().Equal(2, 3, 4);
        u.Squeeze(0).Shape.Should().Equal(new long[] { 2, 1, 3, 4 }, "a dimension of size 2 is not squeezed");
        Tensors.Zeros(1, 3, 1).Squeeze().Shape.Should().Equal(3);

        var p = x.Permute(2, 0, 1);
        p.Shape.Should().Equal(4, 2, 3);
        for (int k = 0; k < 4; k++) for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++)
            p[k, i, j].Item().Should().Be(Code(i, j, k));
        var t = x.Transpose(0, 2);
        t.Shape.Should().Equal(4, 3, 2);
        t[3, 1, 0].Item().Should().Be(Code(0, 1, 3));

        var row = H.F64(new double[] { 1, 2, 3 }, 1, 3);
        var e = row.Expand(4, 3);
        e.Shape.Should().Equal(4, 3);
        e.ToArray<double>().Should().Equal(1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3);
        row.Expand(2, -1).Shape.Should().Equal(2, 3);
    }

    [Fact]
    public void Cat_Stack_Split_Chunk()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = H.F64(new double[] { 1, 2, 3, 4 }, 2, 2);
        var b = H.F64(new double[] { 5, 6 }, 1, 2);
        var c0 = Tensors.Cat(new[] { a, b });
        c0.Shape.Should().Equal(3, 2);
        c0.ToArray<double>().Should().Equal(1, 2, 3, 4, 5, 6);
        var c1 = Tensors.Cat(new[] { a, a }, 1);
        c1.Shape.Should().Equal(2, 4);
        c1.ToArray<double>().Should().Equal(1, 2, 1, 2, 3, 4, 3, 4);

        var s0 = Tensors.Stack(new[] { a, a * 10 });
        s0.Shape.Should().Equal(2, 2, 2);
        s0.ToArray<double>().Should().Equal(1, 2, 3, 4, 10, 20, 30, 40);
        var s2 = Tensors.Stack(new[] { a, a * 10 }, 2);
        s2.Shape.Should().Equal(2, 2, 2);
        s2.ToArray<double>().Should().Equal(1, 10, 2, 20, 3, 30, 4, 40);

        var x = Tensors.Arange(0, 10, 1, ScalarType.Float64);
        var parts = x.Split(4);
        parts.Select(p => p.ToArray<double>()).Should().BeEquivalentTo(new[] { new double[] { 0, 1, 2, 3 }, new double[] { 4, 5, 6, 7 }, new double[] { 8, 9 } }, o => o.WithStrictOrdering());
        var sized = x.Split(new long[] { 2, 3, 5 });
        sized.Select(p => p.NumElements).Should().Equal(2, 3, 5);
        sized[1].ToArray<double>().Should().Equal(2, 3, 4);
        x.Split(new long[] { 10 }).Should().ContainSingle().Which.NumElements.Should().Be(10);

        var m = Coded();
        var byCol = m.Split(3, 2);
        byCol.Should().HaveCount(2);
        byCol[1].Shape.Should().Equal(2, 3, 1);
        byCol[1][1, 2, 0].Item().Should().Be(Code(1, 2, 3));

        var ch = x.Chunk(3);
        ch.Select(p => p.NumElements).Should().Equal(4, 4, 2);
        ch[2].ToArray<double>().Should().Equal(8, 9);
        var ch1 = m.Chunk(3, 1);
        ch1.Should().HaveCount(3);
        ch1[2][0, 0, 1].Item().Should().Be(Code(0, 2, 1));
    }

    [Fact]
    public void Narrow_IndexSelect_Gather_MaskedFill()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Coded();
        var n = x.Narrow(2, 1, 2);
        n.Shape.Should().Equal(2, 3, 2);
        n[1, 2, 1].Item().Should().Be(Code(1, 2, 2));

        var idx = Tensors.FromArray(new long[] { 2, 0, 2 });
        var sel = x.IndexSelect(1, idx);
        sel.Shape.Should().Equal(2, 3, 4);
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++)
            sel[i, j, k].Item().Should().Be(Code(i, new long[] { 2, 0, 2 }[j], k));

        // gather along dim 2: out[i][j][k] = x[i][j][index[i][j][k]]
        var gi = new long[] { 3, 0, 1, 1, 2, 2, 0, 3, 0, 1, 3, 2 };
        var g = x.Gather(2, Tensors.FromArray(gi, 2, 3, 2));
        g.Shape.Should().Equal(2, 3, 2);
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 2; k++)
            g[i, j, k].Item().Should().Be(Code(i, j, gi[(i * 3 + j) * 2 + k]));

        var v = H.F64(new double[] { 1, -2, 3, -4 }, 2, 2);
        v.MaskedFill(v < 0, 9).ToArray<double>().Should().Equal(1, 9, 3, 9);
        v.ToArray<double>().Should().Equal(new double[] { 1, -2, 3, -4 }, "MaskedFill is out of place");
        v.MaskedFill(H.F64(new double[] { 1, 0 }, 1, 2) > 0, 0).ToArray<double>().Should().Equal(new double[] { 0, -2, 0, -4 }, "the mask broadcasts");
        v.MaskedSelect(v > 0).ToArray<double>().Should().Equal(1, 3);
    }

    [Fact]
    public void Indexer_SupportsRangesFromEndAndEllipsis()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Coded();
        var a = x[.., 1..3];
        a.Shape.Should().Equal(2, 2, 4);
        for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) for (int k = 0; k < 4; k++)
            a[i, j, k].Item().Should().Be(Code(i, j + 1, k));

        var last = x[^1];
        last.Shape.Should().Equal(3, 4);
        last[0, 0].Item().Should().Be(Code(1, 0, 0));
        x[0, ^1, ^2].Item().Should().Be(Code(0, 2, 2));
        x[1, 2, 3].Item().Should().Be(Code(1, 2, 3));
        x[-1, -1, -1].Item().Should().Be(Code(1, 2, 3));

        var e = x[TensorIndex.Ellipsis, 1];
        e.Shape.Should().Equal(2, 3);
        e[1, 2].Item().Should().Be(Code(1, 2, 1));
        var e2 = x[1, TensorIndex.Ellipsis];
        e2.Shape.Should().Equal(3, 4);
        var e3 = x[0, TensorIndex.Ellipsis, 2..];
        e3.Shape.Should().Equal(3, 2);
        e3[2, 1].Item().Should().Be(Code(0, 2, 3));

        var r = x[.., ^2.., ..^1];
        r.Shape.Should().Equal(2, 2, 3);
        r[1, 0, 2].Item().Should().Be(Code(1, 1, 2));

        var stepped = x[TensorIndex.Ellipsis, TensorIndex.Slice(0, null, 2)];
        stepped.Shape.Should().Equal(2, 3, 2);
        stepped[1, 1, 1].Item().Should().Be(Code(1, 1, 2));
        x[TensorIndex.NewAxis, 0].Shape.Should().Equal(1, 3, 4);
        // negative slice bounds count from the end, as in Python: x[:, -2:, :-3]
        var neg = x[.., TensorIndex.Slice(-2), TensorIndex.Slice(null, -3)];
        neg.Shape.Should().Equal(2, 2, 1);
        neg[1, 0, 0].Item().Should().Be(Code(1, 1, 0));
        x[0, 0, TensorIndex.Slice(-100, 100)].Shape.Should().Equal(new long[] { 4 }, "out-of-range slice bounds clamp");

        // indexing returns views: writing through them changes x
        x[0, 1..2].FillInPlace(-1);
        x[0, 1, 3].Item().Should().Be(-1);
        x[0, 0, 3].Item().Should().Be(Code(0, 0, 3));
    }

    [Fact]
    public void InPlaceOps_ChangeTheTensorAndReturnIt()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = H.Uniform(6, 31);
        var b = H.Uniform(6, 32, 0.5, 2);
        var c = H.Uniform(6, 33, 0.5, 2);
        double[] Expect(Func<int, double> f) => Enumerable.Range(0, 6).Select(f).ToArray();

        var t = H.F64(a, 2, 3);
        var same = t.AddInPlace(H.F64(b, 2, 3), 2);
        ReferenceEquals(same, t).Should().BeTrue();
        H.Close(t, Expect(i => a[i] + 2 * b[i]), 1e-12);

        t = H.F64(a, 2, 3);
        t.AddInPlace(1.5);
        H.Close(t, Expect(i => a[i] + 1.5), 1e-12);

        t = H.F64(a, 2, 3);
        t.MulInPlace(H.F64(b, 2, 3));
        H.Close(t, Expect(i => a[i] * b[i]), 1e-12);
        t.MulInPlace(-2);
        H.Close(t, Expect(i => -2 * a[i] * b[i]), 1e-12);

        t = H.F64(a, 2, 3);
        t.SubInPlace(H.F64(b, 2, 3), 0.5).DivInPlace(4);
        H.Close(t, Expect(i => (a[i] - 0.5 * b[i]) / 4), 1e-12);

        t = H.F64(a, 2, 3);
        t.AddcmulInPlace(H.F64(b, 2, 3), H.F64(c, 2, 3), 0.3);
        H.Close(t, Expect(i => a[i] + 0.3 * b[i] * c[i]), 1e-12);

        t = H.F64(a, 2, 3);
        t.AddcdivInPlace(H.F64(b, 2, 3), H.F64(c, 2, 3), -0.7);
        H.Close(t, Expect(i => a[i] - 0.7 * b[i] / c[i]), 1e-12);

        t = H.F64(a, 2, 3);
        t.LerpInPlace(H.F64(b, 2, 3), 0.25);
        H.Close(t, Expect(i => a[i] + 0.25 * (b[i] - a[i])), 1e-12);

        t = H.F64(a, 2, 3);
        t.ZeroInPlace().ToArray<double>().Should().OnlyContain(v => v == 0);
        t.FillInPlace(3.5).ToArray<double>().Should().OnlyContain(v => v == 3.5);
        t.CopyInPlace(H.F64(new double[] { 1, 2, 3 }, 3)); // broadcast copy
        t.ToArray<double>().Should().Equal(1, 2, 3, 1, 2, 3);
        t.CopyInPlace(Tensors.FromArray(new long[] { 4, 5, 6, 7, 8, 9 }, 2, 3)); // converting copy
        t.ToArray<double>().Should().Equal(4, 5, 6, 7, 8, 9);
        t.ClampInPlace(5, 8).ToArray<double>().Should().Equal(5, 5, 6, 7, 8, 8);
        t.MaximumInPlace(H.F64(new double[] { 7, 0, 9 }, 3)).ToArray<double>().Should().Equal(7, 5, 9, 7, 8, 9);
        // like add_, an in-place maximum keeps the tensor's shape: a larger broadcast is refused, not a silent resize
        var column = H.F64(new double[] { 1, 2 }, 2, 1);
        column.Invoking(x => x.MaximumInPlace(H.F64(a, 2, 3))).Should().Throw<TorchException>().WithMessage("*[2, 1]*broadcast shape [2, 3]*");
        column.Shape.Should().Equal(2, 1);
        column.ToArray<double>().Should().Equal(1, 2);

        // in-place ops on a view write through to the base
        var baseT = H.F64(a, 2, 3);
        baseT[1].MulInPlace(0);
        baseT.ToArray<double>().Should().Equal(a[0], a[1], a[2], 0, 0, 0);
    }

    [Fact]
    public void TensorIndex_DescribesItself_InPythonsSliceNotation_AndLongPositionsIndexAsInts()
    {
        ((TensorIndex)3L).ToString().Should().Be("3");
        TensorIndex last = ^1;
        last.ToString().Should().Be("-1");
        ((TensorIndex)(1..^2)).ToString().Should().Be("1:^2:1");
        ((TensorIndex)(^3..)).ToString().Should().Be("^3::1");
        TensorIndex.Slice(-2, null, 2).ToString().Should().Be("-2::2");
        TensorIndex.Ellipsis.ToString().Should().Be("...");
        TensorIndex.NewAxis.ToString().Should().Be("None");
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Arange(12).Reshape(3, 4);
        x[2L, 1L].Item<long>().Should().Be(9);
        x[^1, ^1].Item<long>().Should().Be(11);
        x[TensorIndex.Slice(-2, null, 2)].Shape.Should().Equal(1, 4);
    }
}
