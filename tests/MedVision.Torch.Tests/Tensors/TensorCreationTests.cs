using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.TensorOps;

public class TensorCreationTests
{
    [Fact]
    public void FromArray_RoundTripsEveryElementType()
    {
        using var scope = Tensors.NewDisposeScope();
        var f = Tensors.FromArray(new[] { 1.5f, -2f, 3.25f, 0f, 1e-7f, float.MaxValue }, 2, 3);
        f.ScalarType.Should().Be(ScalarType.Float32);
        f.Shape.Should().Equal(2, 3);
        f.ToArray<float>().Should().Equal(1.5f, -2f, 3.25f, 0f, 1e-7f, float.MaxValue);

        var d = Tensors.FromArray(new[] { Math.PI, -Math.E, 1e-300 });
        d.ScalarType.Should().Be(ScalarType.Float64);
        d.Shape.Should().Equal(3);
        d.ToArray<double>().Should().Equal(Math.PI, -Math.E, 1e-300);

        var l = Tensors.FromArray(new[] { long.MinValue, 0, long.MaxValue, 42 }, 4, 1);
        l.ScalarType.Should().Be(ScalarType.Int64);
        l.Shape.Should().Equal(4, 1);
        l.ToArray<long>().Should().Equal(long.MinValue, 0, long.MaxValue, 42);

        var i = Tensors.FromArray(new[] { int.MinValue, -1, int.MaxValue }, 3);
        i.ScalarType.Should().Be(ScalarType.Int32);
        i.ToArray<int>().Should().Equal(int.MinValue, -1, int.MaxValue);

        var b = Tensors.FromArray(new byte[] { 0, 1, 128, 255 }, 2, 2);
        b.ScalarType.Should().Be(ScalarType.Byte);
        b.ToArray<byte>().Should().Equal(0, 1, 128, 255);

        var z = Tensors.FromArray(new[] { true, false, false, true, true, false }, 3, 2);
        z.ScalarType.Should().Be(ScalarType.Bool);
        z.ToArray<bool>().Should().Equal(true, false, false, true, true, false);
    }

    [Fact]
    public void FromArray2D_KeepsShape_AndFromSpanCopiesTheData()
    {
        using var scope = Tensors.NewDisposeScope();
        var m = Tensors.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        m.Shape.Should().Equal(2, 3);
        m[1, 2].Item().Should().Be(6);
        m[0, 1].Item().Should().Be(2);

        var data = new float[] { 1, 2, 3, 4, 5, 6, 7, 8 };
        var t = Tensors.FromSpan<float>(data.AsSpan(2, 4), new long[] { 2, 2 }, requiresGrad: true);
        t.Shape.Should().Equal(2, 2);
        t.RequiresGrad.Should().BeTrue();
        t.ToArray<float>().Should().Equal(3, 4, 5, 6);
        data[2] = 100; // the tensor owns a copy
        t.ToArray<float>()[0].Should().Be(3);

        var ints = Tensors.FromSpan<long>(new long[] { 7, 8, 9 });
        ints.Shape.Should().Equal(3);
        ints.RequiresGrad.Should().BeFalse();
        ints.Device.Should().Be(Device.Cpu);
    }

    [Fact]
    public void Factories_HaveTheRequestedShapeTypeAndValues()
    {
        using var scope = Tensors.NewDisposeScope();
        var z = Tensors.Zeros(new long[] { 2, 3 }, ScalarType.Float64);
        z.Shape.Should().Equal(2, 3);
        z.ScalarType.Should().Be(ScalarType.Float64);
        z.ToArray<double>().Should().OnlyContain(v => v == 0);

        var o = Tensors.Ones(4, 1);
        o.ScalarType.Should().Be(ScalarType.Float32);
        o.ToArray<float>().Should().Equal(1, 1, 1, 1);

        var full = Tensors.Full(new long[] { 3 }, 7, ScalarType.Int32);
        full.ToArray<int>().Should().Equal(7, 7, 7);

        var s = Tensors.Scalar(2.5, ScalarType.Float64);
        s.Dim.Should().Be(0);
        s.NumElements.Should().Be(1);
        s.Item().Should().Be(2.5);

        var e = Tensors.Empty(new long[] { 5, 0, 2 });
        e.Shape.Should().Equal(5, 0, 2);
        e.NumElements.Should().Be(0);

        var eg = Tensors.Empty(new long[] { 2 }, ScalarType.Float64, requiresGrad: true);
        eg.RequiresGrad.Should().BeTrue();
        eg.IsLeaf.Should().BeTrue();

        Tensors.ZerosLike(z).Shape.Should().Equal(2, 3);
        Tensors.OnesLike(full).ScalarType.Should().Be(ScalarType.Int32);
        Tensors.OnesLike(full).ToArray<int>().Should().Equal(1, 1, 1);
        Tensors.FullLike(full, 7).ToArray<int>().Should().Equal(7, 7, 7);
        Tensors.FullLike(z, -2.5).ToArray<double>().Should().Equal(-2.5, -2.5, -2.5, -2.5, -2.5, -2.5);
    }

    [Fact]
    public void CanHold_AgreesWithWhatLibtorchAcceptsAndKeeps()
    {
        using var scope = Tensors.NewDisposeScope();
        var cases = new (ScalarType Type, double Value, bool Holds)[]
        {
            (ScalarType.Float32, 1e300, false), (ScalarType.Float32, -3.4e38, true), (ScalarType.Float32, double.NaN, true),
            (ScalarType.Float32, double.NegativeInfinity, true), (ScalarType.Float64, 1e300, true), (ScalarType.Float16, 65504, true),
            (ScalarType.Float16, 70000, false), (ScalarType.BFloat16, 3e38, true), (ScalarType.BFloat16, 3.4e38, false),
            (ScalarType.Byte, 255, true), (ScalarType.Byte, 256, false), (ScalarType.Byte, -1, false), (ScalarType.Byte, 0.5, false),
            (ScalarType.Int8, -128, true), (ScalarType.Int16, 40000, false), (ScalarType.Int32, -2147483648, true),
            (ScalarType.Int32, 2147483648, false), (ScalarType.Int64, 1e18, true), (ScalarType.Int64, 1e19, false),
            (ScalarType.Int64, double.NaN, false), (ScalarType.Bool, 1, true), (ScalarType.Bool, 2, false),
        };
        foreach (var (type, value, holds) in cases)
        {
            type.CanHold(value).Should().Be(holds, $"{value} in {type}");
            var t = Tensors.Zeros(new long[] { 1 }, type);
            if (holds)
            {
                FluentActions.Invoking(() => t.FillInPlace(value)).Should().NotThrow($"{value} fits {type}");
                if (!type.IsFloatingPoint()) t.To(ScalarType.Float64).Item().Should().Be(value, "an integer value is kept exactly");
            }
            // a fraction or NaN in an integer type, −1 in a byte (it wraps to 255) and 2 as a bool are not refused by
            // libtorch, only changed
            else if (value == Math.Floor(value) && value >= 0 && type != ScalarType.Bool)
                FluentActions.Invoking(() => t.FillInPlace(value)).Should().Throw<TorchException>($"libtorch refuses {value} for {type}");
        }
    }

    [Fact]
    public void Arange_And_Linspace_MatchTheirDefinitions()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Tensors.Arange(5);
        a.ScalarType.Should().Be(ScalarType.Int64);
        a.ToArray<long>().Should().Equal(0, 1, 2, 3, 4);

        var b = Tensors.Arange(2, 11, 3);
        b.ToArray<long>().Should().Equal(2, 5, 8);

        var c = Tensors.Arange(0, 1, 0.25);
        c.ScalarType.Should().Be(ScalarType.Float32);
        c.ToArray<float>().Should().Equal(0f, 0.25f, 0.5f, 0.75f);

        var down = Tensors.Arange(3, 0, -1, ScalarType.Float64);
        down.ToArray<double>().Should().Equal(3, 2, 1);

        var l = Tensors.Linspace(-1, 1, 5, ScalarType.Float64);
        l.ToArray<double>().Should().Equal(-1, -0.5, 0, 0.5, 1);
        var l1 = Tensors.Linspace(0, 10, 11);
        H.Close(l1, Enumerable.Range(0, 11).Select(i => (double)i).ToArray(), 1e-6);
    }

    [Fact]
    public void RandomFactories_RespectRangesAndMoments()
    {
        using var scope = Tensors.NewDisposeScope();
        var u = Tensors.Rand(new long[] { 20000 }, ScalarType.Float64).ToArray<double>();
        u.Should().OnlyContain(v => v >= 0 && v < 1);
        u.Average().Should().BeApproximately(0.5, 0.01);
        // variance of U(0,1) is 1/12
        u.Select(v => (v - 0.5) * (v - 0.5)).Average().Should().BeApproximately(1.0 / 12, 0.005);

        var n = Tensors.Randn(new long[] { 20000 }, ScalarType.Float64).ToArray<double>();
        var mean = n.Average();
        mean.Should().BeApproximately(0, 0.04); // about 6 standard errors of the mean of 20 000 draws
        Math.Sqrt(n.Select(v => (v - mean) * (v - mean)).Average()).Should().BeApproximately(1, 0.03);

        var r = Tensors.RandInt(-3, 4, new long[] { 5000 });
        r.ScalarType.Should().Be(ScalarType.Int64);
        var ri = r.ToArray<long>();
        ri.Should().OnlyContain(v => v >= -3 && v < 4);
        ri.Distinct().Should().HaveCount(7, "every value of [-3, 4) should appear in 5000 draws");

        var ri32 = Tensors.RandInt(0, 2, new long[] { 3, 3 }, ScalarType.Int32);
        ri32.ScalarType.Should().Be(ScalarType.Int32);
        ri32.Shape.Should().Equal(3, 3);

        var rg = Tensors.Randn(new long[] { 2, 2 }, requiresGrad: true);
        rg.RequiresGrad.Should().BeTrue();
        var p = Tensors.RandPerm(10).ToArray<long>();
        p.OrderBy(v => v).Should().Equal(Enumerable.Range(0, 10).Select(v => (long)v));
    }

    [Fact]
    public void Properties_DescribeTheTensor()
    {
        using var scope = Tensors.NewDisposeScope();
        var t = Tensors.Zeros(new long[] { 2, 3, 4 });
        t.Dim.Should().Be(3);
        t.NumElements.Should().Be(24);
        t.Size(0).Should().Be(2);
        t.Size(-1).Should().Be(4);
        t.Device.Should().Be(Device.Cpu);
        t.Device.ToString().Should().Be("cpu");
        t.IsContiguous.Should().BeTrue();
        t.RequiresGrad.Should().BeFalse();
        t.RequiresGrad = true;
        t.RequiresGrad.Should().BeTrue();
        t.Transpose(0, 2).IsContiguous.Should().BeFalse();
        var shape = t.Shape;
        shape[0] = 99; // Shape returns a copy
        t.Shape.Should().Equal(2, 3, 4);
    }

    [Fact]
    public void To_ConvertsElementTypes_LikeCasts()
    {
        using var scope = Tensors.NewDisposeScope();
        var f = Tensors.FromArray(new[] { -1.7f, -0.2f, 0.0f, 0.6f, 2.9f });
        f.To(ScalarType.Int64).ToArray<long>().Should().Equal(-1, 0, 0, 0, 2); // truncation toward zero
        f.To(ScalarType.Bool).ToArray<bool>().Should().Equal(true, true, false, true, true);
        var d = f.To(ScalarType.Float64);
        d.ScalarType.Should().Be(ScalarType.Float64);
        d.ToArray<double>().Should().Equal(f.ToArray<float>().Select(v => (double)v));
        Tensors.FromArray(new long[] { 3, 300 }).To(ScalarType.Byte).ToArray<byte>().Should().Equal(3, unchecked((byte)300));
        Tensors.FromArray(new[] { true, false }).To(ScalarType.Float32).ToArray<float>().Should().Equal(1, 0);
        var same = f.To(ScalarType.Float32);
        same.ToArray<float>().Should().Equal(f.ToArray<float>());
        f.To(ScalarType.Int32, Device.Cpu).ScalarType.Should().Be(ScalarType.Int32);
        f.Cpu().Device.Should().Be(Device.Cpu);
    }

    [Fact]
    public void Contiguous_Clone_Detach_HaveTheirSharingSemantics()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Tensors.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var t = a.Transpose(0, 1);
        t.IsContiguous.Should().BeFalse();
        var c = t.Contiguous();
        c.IsContiguous.Should().BeTrue();
        c.ToArray<float>().Should().Equal(1, 4, 2, 5, 3, 6);
        t.ToArray<float>().Should().Equal(new float[] { 1, 4, 2, 5, 3, 6 }, "ToArray reads a non-contiguous tensor in logical order");

        var clone = a.Clone();
        clone.FillInPlace(0);
        a.ToArray<float>().Should().Equal(new float[] { 1, 2, 3, 4, 5, 6 }, "a clone owns its storage");

        var x = Tensors.FromArray(new float[] { 1, 2 }).RequiresGradInPlace();
        var det = x.Detach();
        det.RequiresGrad.Should().BeFalse();
        det.MulInPlace(10);
        x.ToArray<float>().Should().Equal(new float[] { 10, 20 }, "a detached tensor shares storage");

        var y = x * 3;
        var yc = y.Clone();
        yc.RequiresGrad.Should().BeTrue("clone is recorded by autograd");
        yc.GradFnName.Should().Contain("Clone");
    }

    [Fact]
    public void CopyTo_And_CopyFrom_MoveRowMajorData()
    {
        using var scope = Tensors.NewDisposeScope();
        var t = Tensors.FromArray(new double[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var buf = new double[6];
        t.Transpose(0, 1).CopyTo<double>(buf);
        buf.Should().Equal(1, 4, 2, 5, 3, 6);
        var small = new double[5];
        var act = () => t.CopyTo<double>(small);
        act.Should().Throw<ArgumentException>().WithMessage("*bytes*");
        t.CopyFrom<double>(new double[] { 6, 5, 4, 3, 2, 1 });
        t.ToArray<double>().Should().Equal(6, 5, 4, 3, 2, 1);
    }

    [Fact]
    public void Item_ReadsOneElement()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.FromArray(new[] { 3.75 }).Item().Should().Be(3.75);
        Tensors.FromArray(new long[] { long.MaxValue - 1 }).Item<long>().Should().Be(long.MaxValue - 1, "int64 items must not pass through double");
        Tensors.FromArray(new[] { 7 }).Item<int>().Should().Be(7);
        Tensors.FromArray(new[] { true }).Item<bool>().Should().BeTrue();
        Tensors.FromArray(new[] { 2.5f }).Item<float>().Should().Be(2.5f);
        Tensors.FromArray(new float[] { 1, 2, 3 }, 3)[1].Item().Should().Be(2);
    }

    [Fact]
    public void ToString_ShowsShapeTypeDeviceAndValues()
    {
        using var scope = Tensors.NewDisposeScope();
        var t = Tensors.FromArray(new float[] { 1, 2.5f, -3 }, 1, 3);
        var s = t.ToString();
        s.Should().Contain("shape=[1, 3]").And.Contain("Float32").And.Contain("cpu").And.Contain("[1, 2.5, -3]");
        s.Should().NotContain("requires_grad");
        t.RequiresGrad = true;
        t.ToString().Should().Contain("requires_grad");

        var big = Tensors.Arange(100);
        var b = big.ToString();
        b.Should().Contain("Int64").And.Contain("0, 1, 2").And.Contain("100 values");
        b.Should().NotContain(" 50,", "only a preview of the values is shown");

        Tensors.Zeros(new long[] { 0, 3 }).ToString().Should().EndWith("[]");
        var d = Tensors.Ones(2);
        d.Dispose();
        d.ToString().Should().Be("tensor(disposed)");
    }
}
