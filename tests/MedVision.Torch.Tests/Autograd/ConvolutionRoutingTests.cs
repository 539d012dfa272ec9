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
