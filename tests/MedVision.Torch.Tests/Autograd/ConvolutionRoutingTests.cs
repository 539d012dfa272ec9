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

    // Forward and every gradient of one convolution, routed through oneDNN or left to libtorch.
    private static double[][] Gradients(bool oneDnn, long[] xs, long[] ws, bool bias, long stride, long padding, long dilation, long groups)
    {
        var saved = Tensors.RouteConvolutionsThroughOneDnn;
        Tensors.RouteConvolutionsThroughOneDnn = oneDnn;
        try
        {
            using var scope = Tensors.NewDisposeScope();
            int dims = xs.Length - 2;
            var xt = H.F32(H.Uniform((int)H.Prod(xs), 61), xs).RequiresGradInPlace();
            var wt = H.F32(H.Uniform((int)H.Prod(ws), 62, -0.3, 0.3), ws).RequiresGradInPlace();
            var bt = bias ? H.F32(H.Uniform((int)ws[0], 63), ws[0]).RequiresGradInPlace() : null;
            var y = F.Convolution(xt, wt, bt, dims, new[] { stride }, new[] { padding }, new[] { dilation }, groups);
            if (oneDnn && Tensors.OneDnnEnabled && Tensors.OneDnnConvolutionBackwardAvailable)
                y.GradFnName.Should().Contain("OneDnnConvolution", "the backward pass runs on oneDNN too");
            y.Backward(H.F32(H.Uniform((int)H.Prod(y.Shape), 64), y.Shape));
            var result = new List<double[]> { H.ToDoubles(y), H.ToDoubles(xt.Grad!), H.ToDoubles(wt.Grad!) };
            if (bt is not null) result.Add(H.ToDoubles(bt.Grad!));
            return result.ToArray();
        }
        finally { Tensors.RouteConvolutionsThroughOneDnn = saved; }
    }

    [Theory]
    [InlineData(1, 2, true, 1, 1, 1, 1)]      // 2-D, batch 1: the case libtorch's heuristic sends to its slow kernels
    [InlineData(2, 2, false, 2, 1, 1, 1)]     // strided, no bias
    [InlineData(1, 3, true, 1, 2, 2, 1)]      // 3-D dilated (MedicalNet's layer3)
    [InlineData(2, 3, true, 2, 1, 1, 2)]      // 3-D strided, grouped
    [InlineData(1, 3, false, 2, 3, 1, 1)]     // 3-D, batch 1, strided (MedicalNet's stem shape)
    public void TheBackwardPassOnOneDnn_GivesLibtorchsGradients(int batch, int dims, bool bias, long stride, long padding, long dilation, long groups)
    {
        long[] xs = dims == 2 ? new long[] { batch, 4, 9, 8 } : new long[] { batch, 4, 7, 6, 8 };
        long[] ws = dims == 2 ? new long[] { 6, 4 / groups, 3, 3 } : new long[] { 6, 4 / groups, 3, 3, 3 };
        var routed = Gradients(true, xs, ws, bias, stride, padding, dilation, groups);
        var libtorch = Gradients(false, xs, ws, bias, stride, padding, dilation, groups);
        string[] names = { "forward", "input gradient", "weight gradient", "bias gradient" };
        routed.Should().HaveSameCount(libtorch);
        for (int i = 0; i < routed.Length; i++) H.Close(routed[i], libtorch[i], 1e-4, 1e-4, names[i]);
    }

    [Fact]
    public void SecondOrderGradients_ThroughARoutedConvolution_AreLibtorchs()
    {
        // A gradient penalty: ‖∂(Σ conv(x))/∂x‖² differentiated with respect to the weight, batch 1 (create_graph takes
        // libtorch's differentiable backward; oneDNN's kernel records no history and must not be used for it).
        double[] Penalty(bool oneDnn)
        {
            var saved = Tensors.RouteConvolutionsThroughOneDnn;
            Tensors.RouteConvolutionsThroughOneDnn = oneDnn;
            try
            {
                using var scope = Tensors.NewDisposeScope();
                var x = H.F32(H.Uniform(1 * 3 * 6 * 6, 71), 1, 3, 6, 6).RequiresGradInPlace();
                var w = H.F32(H.Uniform(4 * 3 * 3 * 3, 72, -0.3, 0.3), 4, 3, 3, 3).RequiresGradInPlace();
                var y = F.Convolution(x, w, null, 2, null, new long[] { 1 });
                var gx = MedVision.Torch.Autograd.Gradients.Compute((y * y).Sum(), x, createGraph: true);
                (gx * gx).Sum().Backward();
                return H.ToDoubles(w.Grad!);
            }
            finally { Tensors.RouteConvolutionsThroughOneDnn = saved; }
        }
        var routed = Penalty(true);
        routed.Should().Contain(v => v != 0);
        H.Close(routed, Penalty(false), 1e-4, 1e-4, "weight gradient of the penalty");
    }

    [Fact]
    public void TheOneDnnBackwardPass_IsBuiltWhereLibtorchExportsIt()
    {
        // Debian's libtorch 1.13 on x86-64 (this project's default) exports oneDNN's convolution backward entry point.
        bool debianX64 = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64
            && File.Exists("/usr/lib/x86_64-linux-gnu/libtorch_cpu.so") && Environment.GetEnvironmentVariable("MEDVISION_LIBTORCH") is null or "";
        if (debianX64) Tensors.OneDnnConvolutionBackwardAvailable.Should().BeTrue();
        using var scope = Tensors.NewDisposeScope();
        using (Tensors.NoGrad())
        {
            var y = F.Convolution(Tensors.Randn(1, 2, 5, 5), Tensors.Randn(3, 2, 3, 3), null, 2);
            y.GradFnName.Should().BeEmpty("an inference call records nothing");
        }
    }
}
