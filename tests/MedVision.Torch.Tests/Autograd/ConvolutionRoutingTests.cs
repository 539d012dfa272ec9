using MedVision.Torch;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Autograd;

/// <summary>float32 CPU convolutions go through oneDNN by default; libtorch's own path must give the same numbers.</summary>
[Collection(SerialCollection.Name)]
public class ConvolutionRoutingTests
{
    private static (double[] Y, double[] Gx, double[] Gw, double[] Gb) Run(bool oneDnn, double[] x, long[] xs, double[] w, long[] ws, double[] b, double[] gy, int dims, long padding)
    {
        var saved = Tensors.RouteConvolutionsThroughOneDnn;
        Tensors.RouteConvolutionsThroughOneDnn = oneDnn;
        try
        {
            using var scope = Tensors.NewDisposeScope();
            var xt = H.F32(x, xs).RequiresGradInPlace();
            var wt = H.F32(w, ws).RequiresGradInPlace();
            var bt = H.F32(b, ws[0]).RequiresGradInPlace();
            var y = F.Convolution(xt, wt, bt, dims, null, new[] { padding });
            y.ScalarType.Should().Be(ScalarType.Float32);
            y.Backward(H.F32(gy, y.Shape));
            return (H.ToDoubles(y), H.ToDoubles(xt.Grad!), H.ToDoubles(wt.Grad!), H.ToDoubles(bt.Grad!));
        }
        finally { Tensors.RouteConvolutionsThroughOneDnn = saved; }
    }

    private static void Compare(long[] xs, long[] ws, int dims, long padding, long[] ys)
    {
        var fanIn = ws.Skip(1).Aggregate(1L, (a, c) => a * c);
        var x = H.Uniform((int)H.Prod(xs), 41, -1, 1);
        var w = H.Uniform((int)H.Prod(ws), 42, -1, 1).Select(v => v / Math.Sqrt(fanIn)).ToArray();
        var b = H.Uniform((int)ws[0], 43);
        var gy = H.Uniform((int)H.Prod(ys), 44);
        var a = Run(true, x, xs, w, ws, b, gy, dims, padding);
        var l = Run(false, x, xs, w, ws, b, gy, dims, padding);
        H.Close(a.Y, l.Y, 1e-4, 1e-4, "forward");
        H.Close(a.Gx, l.Gx, 1e-4, 1e-4, "input gradient");
        H.Close(a.Gw, l.Gw, 1e-4, 1e-4, "weight gradient");
        H.Close(a.Gb, l.Gb, 1e-4, 1e-4, "bias gradient");
        // and both agree with the float64 reference loops
        var stride = Enumerable.Repeat(1L, 3).ToArray();
        var pad = new long[3]; for (int i = 3 - dims; i < 3; i++) pad[i] = padding;
        var xs5 = dims == 2 ? new[] { xs[0], xs[1], 1, xs[2], xs[3] } : xs;
        var ws5 = dims == 2 ? new[] { ws[0], ws[1], 1, ws[2], ws[3] } : ws;
        var (yRef, _) = Naive.Conv3d(x, xs5, w, ws5, b, stride, pad, stride, 1);
        H.Close(a.Y, yRef, 1e-4, 1e-4, "forward against loops");
    }

    [Fact]
    public void OneDnnSelfCheck_RunsOnce_AndConvolutionGradientsAreRightWhateverItFound()
    {
        var result = Tensors.OneDnnSelfCheck;
        Tensors.OneDnnSelfCheck.Should().Be(result, "the check runs once per process");
        if (!Tensors.HasOneDnn) result.Should().Be(OneDnnCheckResult.Skipped);
        if (result == OneDnnCheckResult.Failed) Tensors.OneDnnEnabled.Should().BeFalse("a oneDNN that failed the check is turned off");
        if (result == OneDnnCheckResult.Passed) Tensors.OneDnnEnabled.Should().BeTrue();

        // Whichever path convolutions now take, their float32 gradients agree with float64 (16 random problems, the
        // check's own size: what Debian 13's libtorch 2.6 gets wrong in most of them with oneDNN on).
        var random = new Random(3);
        for (int trial = 0; trial < 16; trial++)
        {
            using var scope = Tensors.NewDisposeScope();
            double[] Values(int n, double scale) => Enumerable.Range(0, n).Select(_ => (random.NextDouble() * 2 - 1) * scale).ToArray();
            var x = Values(16 * 6 * 8 * 8, 1); var w = Values(6 * 6 * 3 * 3, 0.3); var gy = Values(16 * 6 * 8 * 8, 1);
            (double[] Gx, double[] Gw) Gradients(ScalarType type)
            {
                var xt = Tensors.FromArray(x, 16, 6, 8, 8).To(type).RequiresGradInPlace();
                var wt = Tensors.FromArray(w, 6, 6, 3, 3).To(type).RequiresGradInPlace();
                F.Convolution(xt, wt, null, 2, null, new long[] { 1 }).Backward(Tensors.FromArray(gy, 16, 6, 8, 8).To(type));
                return (H.ToDoubles(xt.Grad!), H.ToDoubles(wt.Grad!));
            }
            var single = Gradients(ScalarType.Float32);
            var reference = Gradients(ScalarType.Float64);
            H.Close(single.Gx, reference.Gx, 1e-4, 1e-4, $"input gradient, problem {trial}");
            H.Close(single.Gw, reference.Gw, 1e-3, 1e-3, $"weight gradient, problem {trial}");
        }
    }

    [Fact]
    public void OneDnnOff_StopsRoutingAndPacking_AndConvolutionsStayTheSame()
    {
        var saved = Tensors.OneDnnEnabled;
        var x = H.Uniform(2 * 3 * 9 * 9, 51, -1, 1);
        var w = H.Uniform(4 * 3 * 3 * 3, 52, -0.3, 0.3);
        var b = H.Uniform(4, 53);
        var gy = H.Uniform(2 * 4 * 9 * 9, 54);
        var on = Run(true, x, new long[] { 2, 3, 9, 9 }, w, new long[] { 4, 3, 3, 3 }, b, gy, 2, 1);
        try
        {
            Tensors.OneDnnEnabled = false;
            Tensors.OneDnnEnabled.Should().BeFalse();
            var off = Run(true, x, new long[] { 2, 3, 9, 9 }, w, new long[] { 4, 3, 3, 3 }, b, gy, 2, 1);
            H.Close(off.Y, on.Y, 1e-4, 1e-4, "forward");
            H.Close(off.Gx, on.Gx, 1e-4, 1e-4, "input gradient");
            H.Close(off.Gw, on.Gw, 1e-4, 1e-4, "weight gradient");

            using var conv = new MedVision.Torch.Nn.Conv2d(3, 4, 3, padding: 1);
            conv.Eval();
            using (Tensors.NoGrad())
            using (var input = H.F32(x, 2, 3, 9, 9))
            using (var y = conv.Call(input)) { }
            conv.HoldsPackedWeight.Should().BeFalse("no oneDNN-layout copy is made while oneDNN is off");
        }
        finally { Tensors.OneDnnEnabled = saved; }
        Tensors.OneDnnEnabled.Should().Be(saved);
    }

    [Theory]
    [InlineData("0", "check=Skipped enabled=False")]
    [InlineData("1", "check=Skipped enabled=True")]
    public void MedvisionOneDnn_SetsTheStateOfANewProcess_WithoutTheCheck(string value, string expected)
    {
        if (!Tensors.HasOneDnn) return; // nothing to turn on or off
        Distributed.WorkerRunner.RunSingle("onednn", ("MEDVISION_ONEDNN", value)).Should().Be(expected);
    }

    [Fact]
    public void RoutingFlag_RoundTrips()
    {
        var saved = Tensors.RouteConvolutionsThroughOneDnn;
        saved.Should().BeTrue("oneDNN routing is the default");
        Tensors.RouteConvolutionsThroughOneDnn = false;
        Tensors.RouteConvolutionsThroughOneDnn.Should().BeFalse();
        Tensors.RouteConvolutionsThroughOneDnn = saved;
        Tensors.RouteConvolutionsThroughOneDnn.Should().Be(saved);
    }

    [Fact]
    public void Batch1_3x3_On256x7x7_SameBothRoutes() => Compare(new long[] { 1, 256, 7, 7 }, new long[] { 32, 256, 3, 3 }, 2, 1, new long[] { 1, 32, 7, 7 });

    [Fact]
    public void Conv3d_SameBothRoutes() => Compare(new long[] { 1, 4, 5, 6, 6 }, new long[] { 6, 4, 3, 3, 3 }, 3, 1, new long[] { 1, 6, 5, 6, 6 });
}
