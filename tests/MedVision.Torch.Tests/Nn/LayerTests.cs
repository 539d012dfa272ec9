using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Nn;

/// <summary>Layer modules pass their options through to the right functional arguments.</summary>
public class LayerTests
{
    [Fact]
    public void ConvLayers_UseTheirOwnWeightsAndOptions()
    {
        using var scope = Tensors.NewDisposeScope();
        using var c1 = new Conv1d(4, 6, 3, stride: 2, padding: 2, dilation: 2, groups: 2);
        c1.To(ScalarType.Float64);
        long[] xs = { 2, 4, 11 };
        var x = H.Uniform((int)H.Prod(xs), 71);
        var (yr, shape) = Naive.Conv3d(x, new[] { 2L, 4, 1, 1, 11 }, H.ToDoubles(c1.Weight), new[] { 6L, 2, 1, 1, 3 }, H.ToDoubles(c1.Bias!),
            new long[] { 1, 1, 2 }, new long[] { 0, 0, 2 }, new long[] { 1, 1, 2 }, 2);
        var y = c1.Call(H.F64(x, xs));
        y.Shape.Should().Equal(shape[0], shape[1], shape[4]);
        H.Close(y, yr, 1e-12);

        using var c3 = new Conv3d(2, 3, 3, padding: 1, bias: false);
        c3.Bias.Should().BeNull();
        c3.Call(Tensors.Randn(1, 2, 4, 5, 6)).Shape.Should().Equal(1, 3, 4, 5, 6);

        using var t2 = new ConvTranspose2d(3, 2, 3, stride: 2, padding: 1, outputPadding: 1);
        t2.To(ScalarType.Float64);
        long[] ts = { 1, 3, 3, 4 };
        var tx = H.Uniform((int)H.Prod(ts), 72);
        var (tr, tshape) = Naive.ConvTranspose2d(tx, ts, H.ToDoubles(t2.Weight), new long[] { 3, 2, 3, 3 }, H.ToDoubles(t2.Bias!), 2, 1, 1, 1, 1);
        var ty = t2.Call(H.F64(tx, ts));
        ty.Shape.Should().Equal(tshape);
        H.Close(ty, tr, 1e-12);
        using var t3 = new ConvTranspose3d(2, 4, 2, stride: 2);
        t3.Call(Tensors.Randn(1, 2, 3, 3, 3)).Shape.Should().Equal(1, 4, 6, 6, 6);
    }

    [Fact]
    public void PoolingLayers_MatchLoops()
    {
        using var scope = Tensors.NewDisposeScope();
        long[] vs = { 1, 2, 5, 6, 4 };
        var v = H.Uniform((int)H.Prod(vs), 73);
        var t = H.F64(v, vs);
        using var avg3 = new AvgPool3d(2, 1);
        H.Close(avg3.Call(t), Naive.Pool3d(false, v, vs, new long[] { 2, 2, 2 }, new long[] { 1, 1, 1 }, new long[3]).Out, 1e-12);
        using var max3 = new MaxPool3d(3, 2, 1);
        H.Close(max3.Call(t), Naive.Pool3d(true, v, vs, new long[] { 3, 3, 3 }, new long[] { 2, 2, 2 }, new long[] { 1, 1, 1 }).Out, 0);
        using var avg2 = new AvgPool2d(2);
        var t4 = t.Select(2, 0);
        H.Close(avg2.Call(t4), Naive.Pool3d(false, H.ToDoubles(t4), new long[] { 1, 2, 1, 6, 4 }, new long[] { 1, 2, 2 }, new long[] { 1, 2, 2 }, new long[3]).Out, 1e-12);
        using var ad3 = new AdaptiveAvgPool3d(2);
        H.Close(ad3.Call(t), Naive.AdaptiveAvg3d(v, vs, new long[] { 2, 2, 2 }), 1e-12);
    }

    [Fact]
    public void ActivationAndShapeLayers()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = H.Uniform(12, 74, -3, 3);
        var x = H.F64(a, 3, 4);
        using var sig = new Sigmoid();
        using var tanh = new Tanh();
        using var relu = new ReLU();
        using var leaky = new LeakyReLU(0.3);
        using var soft = new Softmax(0);
        using var id = new Identity();
        using var flat = new Flatten(0);
        H.Close(sig.Call(x), a.Select(v => 1 / (1 + Math.Exp(-v))).ToArray(), 1e-12);
        H.Close(tanh.Call(x), a.Select(Math.Tanh).ToArray(), 1e-12);
        H.Close(relu.Call(x), a.Select(v => Math.Max(0, v)).ToArray(), 0);
        H.Close(leaky.Call(x), a.Select(v => v > 0 ? v : 0.3 * v).ToArray(), 1e-15);
        H.Close(soft.Call(x), x.Softmax(0), 0);
        H.Close(id.Call(x), a, 0);
        flat.Call(x).Shape.Should().Equal(12);
        using var flat1 = new Flatten();
        flat1.Call(Tensors.Zeros(2, 3, 4, 5)).Shape.Should().Equal(2, 60);
    }

    [Fact]
    public void NormLayers_TrackRunningStatsWhenAsked()
    {
        using var scope = Tensors.NewDisposeScope();
        using var bn3 = new BatchNorm3d(2, momentum: 0.5);
        var x = Tensors.Randn(new long[] { 3, 2, 2, 2, 2 }, ScalarType.Float32);
        bn3.Call(x);
        H.Close(bn3.RunningMean!, H.ToDoubles(x.Mean(new long[] { 0, 2, 3, 4 })).Select(m => 0.5 * m).ToArray(), 1e-6);
        using var inorm = new InstanceNorm2d(2, momentum: 0.5, affine: true, trackRunningStats: true);
        inorm.StateDict().Keys.Should().BeEquivalentTo("weight", "bias", "running_mean", "running_var", "num_batches_tracked");
        var xi = Tensors.Randn(4, 2, 3, 3);
        var y = inorm.Call(xi);
        // training mode uses per-instance statistics and moves the running mean towards the mean of the instance means
        H.Close(y.Mean(new long[] { 2, 3 }), new double[8], 1e-5);
        H.Close(inorm.StateDict()["running_mean"], H.ToDoubles(xi.Mean(new long[] { 0, 2, 3 })).Select(m => 0.5 * m).ToArray(), 1e-5);
        inorm.Eval();
        var rm = H.ToDoubles(inorm.StateDict()["running_mean"]);
        var rv = H.ToDoubles(inorm.StateDict()["running_var"]);
        var xe = H.ToDoubles(xi);
        var ye = inorm.Call(xi);
        H.Close(ye, xe.Select((v, i) => (v - rm[i / 9 % 2]) / Math.Sqrt(rv[i / 9 % 2] + 1e-5)).ToArray(), 1e-5);
        using var gn = new GroupNorm(2, 4);
        var xg = Tensors.Randn(2, 4, 3);
        H.Close(gn.Call(xg), F.GroupNorm(xg, 2), 1e-6);
        ((Action)(() => new GroupNorm(3, 4).Dispose())).Should().Throw<ArgumentException>().WithMessage("*divisible*");
    }

    [Fact]
    public void InPlaceReLU_AfterBatchNorm_GivesTheOutOfPlaceValuesAndGradients()
    {
        (float[] Y, float[] Gx, float[] Gw) Run(bool inPlace)
        {
            // Fixed data, not the global RNG: tests of other classes run in parallel and draw from it.
            using var bn = new BatchNorm2d(3);
            using var relu = new ReLU(inPlace);
            using var scope = Tensors.NewDisposeScope();
            var x = H.F32(H.Uniform(4 * 3 * 5 * 5, 7, -2, 2), 4, 3, 5, 5).RequiresGradInPlace();
            var normalized = bn.Call(x);
            var y = relu.Call(normalized);
            if (inPlace) y.Should().BeSameAs(normalized, "the in-place layer returns its input");
            (y * y).Sum().Backward();
            return (y.ToArray<float>(), x.Grad!.ToArray<float>(), bn.Weight!.Grad!.ToArray<float>());
        }

        var plain = Run(false);
        var inPlace = Run(true);
        inPlace.Y.Should().Equal(plain.Y);
        inPlace.Gx.Should().Equal(plain.Gx);
        inPlace.Gw.Should().Equal(plain.Gw);
        plain.Y.Should().OnlyContain(v => v >= 0).And.Contain(v => v > 0);
        new ReLU(inPlace: true).ToString().Should().Contain("inplace=True");

        using var s2 = Tensors.NewDisposeScope();
        var t = Tensors.FromArray(new float[] { -1, 2, -3 }, 3);
        t.ReluInPlace().Should().BeSameAs(t);
        t.ToArray<float>().Should().Equal(0, 2, 0);
    }
}
