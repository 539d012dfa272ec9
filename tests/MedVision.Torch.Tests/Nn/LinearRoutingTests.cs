using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Nn;

/// <summary>
/// Float32 CPU linear layers with a product of at least 2^20 multiply-adds run on oneDNN's inner product
/// (<see cref="Tensors.RouteLinearLayersThroughOneDnn"/>): the same values and gradients as libtorch's BLAS path, to float
/// rounding, first and second order; the profiler shows which kernel ran.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class LinearRoutingTests
{
    private static (Tensor Output, Tensor?[] Gradients) Run(Tensor x, Tensor w, Tensor? b, bool routed)
    {
        bool before = Tensors.RouteLinearLayersThroughOneDnn;
        Tensors.RouteLinearLayersThroughOneDnn = routed;
        try
        {
            var xs = x.Detach().RequiresGradInPlace();
            var ws = w.Detach().RequiresGradInPlace();
            var bs = b?.Detach().RequiresGradInPlace();
            var y = F.Linear(xs, ws, bs);
            var weights = Tensors.Arange(0, y.NumElements, 1, ScalarType.Float32).Reshape(y.Shape).Sin();
            Tensor[] inputs = bs is null ? [xs, ws] : [xs, ws, bs];
            var gradients = Gradients.Compute([(y * weights).Sum()], inputs);
            return (y.Detach(), gradients);
        }
        finally
        {
            Tensors.RouteLinearLayersThroughOneDnn = before;
        }
    }

    // Debian's libtorch has oneDNN; a build without it, or one whose oneDNN failed the self-check, keeps BLAS.
    private static bool OneDnnInUse => Tensors.HasOneDnn && Tensors.OneDnnEnabled;

    private static bool RanOnOneDnn(Action action)
    {
        using var profiler = AutogradProfiler.Start();
        action();
        return profiler.Stop().Events.Any(e => e.Name == "aten::mkldnn_linear");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ALargeProduct_GivesBlasValuesAndGradients_OnOneDnn(bool bias)
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(5);
        var x = Tensors.Randn(3, 50, 192);            // a transformer's tokens: 150 rows
        var w = Tensors.Randn(576, 192) * 0.1;         // 150 · 576 · 192 ≈ 16.6 M multiply-adds
        var b = bias ? Tensors.Randn(576) : null;
        Tensors.RouteLinearLayersThroughOneDnn.Should().BeTrue("routing is on by default");
        RanOnOneDnn(() => F.Linear(x, w, b)).Should().Be(OneDnnInUse, "routed wherever libtorch has oneDNN in use");
        var (blas, blasGradients) = Run(x, w, b, routed: false);
        var (onednn, onednnGradients) = Run(x, w, b, routed: true);
        onednn.Shape.Should().Equal(3, 50, 576);
        onednn.AllClose(blas, 1e-5, 1e-4).Should().BeTrue($"the same product (largest difference {(onednn - blas).Abs().Max().Item():E2})");
        for (int i = 0; i < blasGradients.Length; i++)
            onednnGradients[i]!.AllClose(blasGradients[i]!, 1e-5, 1e-3).Should().BeTrue($"gradient {i} (largest difference {(onednnGradients[i]! - blasGradients[i]!).Abs().Max().Item():E2})");
        // the backward pass is oneDNN's too
        RanOnOneDnn(() =>
        {
            var xs = x.Detach().RequiresGradInPlace();
            Gradients.Compute(F.Linear(xs, w, b).Sum(), xs);
        }).Should().Be(OneDnnInUse);
    }

    [Fact]
    public void SecondOrderGradients_AreLibtorchsDifferentiableOnes()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(6);
        var x = Tensors.Randn(64, 256);
        var w = Tensors.Randn(128, 256) * 0.1;        // 64 · 128 · 256 = 2^21 multiply-adds
        Tensor Penalty(bool routed)
        {
            bool before = Tensors.RouteLinearLayersThroughOneDnn;
            Tensors.RouteLinearLayersThroughOneDnn = routed;
            try
            {
                var xs = x.Detach().RequiresGradInPlace();
                var ws = w.Detach().RequiresGradInPlace();
                var gx = Gradients.Compute([F.Linear(xs, ws).Tanh().Sum()], [xs], createGraph: true)[0]!;
                return Gradients.Compute(gx.Square().Sum(), ws);   // a gradient penalty's gradient for the weight
            }
            finally
            {
                Tensors.RouteLinearLayersThroughOneDnn = before;
            }
        }
        var routed = Penalty(true);
        routed.AllClose(Penalty(false), 1e-4, 1e-3).Should().BeTrue();
        routed.Abs().Max().Item().Should().BeGreaterThan(0);
    }

    [Fact]
    public void SmallProducts_AutocastAndRoutingOff_StayOnLibtorchsPath()
    {
        using var scope = Tensors.NewDisposeScope();
        var head = Tensors.Randn(8, 512);
        var classifier = Tensors.Randn(5, 512);        // a classifier head: 20,480 multiply-adds
        RanOnOneDnn(() => F.Linear(head, classifier)).Should().BeFalse();
        var x = Tensors.Randn(150, 192);
        var w = Tensors.Randn(576, 192);
        RanOnOneDnn(() => F.Linear(x, w)).Should().Be(OneDnnInUse);
        RanOnOneDnn(() => F.Linear(x.To(ScalarType.Float64), w.To(ScalarType.Float64))).Should().BeFalse("float64 stays on BLAS");
        RanOnOneDnn(() =>
        {
            using var autocast = Tensors.Autocast(DeviceType.Cpu);
            F.Linear(x, w).ScalarType.Should().Be(ScalarType.BFloat16);
        }).Should().BeFalse("autocast's bfloat16 rule is libtorch's");
        Tensors.RouteLinearLayersThroughOneDnn = false;
        try
        {
            RanOnOneDnn(() => F.Linear(x, w)).Should().BeFalse();
        }
        finally
        {
            Tensors.RouteLinearLayersThroughOneDnn = true;
        }
        // a 1-D input keeps its shape
        F.Linear(Tensors.Randn(192), Tensors.Randn(8192, 192)).Shape.Should().Equal(8192);
    }

    [Fact]
    public void TheNativeRoutingSwitches_RefuseAModeOtherThanLibtorchOrOneDnn_NamingTheSwitch()
    {
        // The managed setters pass 0 or 1 only; the shim checks the code itself, as it checks every enum code.
        bool conv = Tensors.RouteConvolutionsThroughOneDnn, linear = Tensors.RouteLinearLayersThroughOneDnn;
        MedVision.Torch.Native.NativeMethods.mvt_set_conv_routing(2).Should().Be(-1);
        TorchException.FromNative().Message.Should().Be("convolution routing must be 0 (libtorch) or 1 (oneDNN)");
        MedVision.Torch.Native.NativeMethods.mvt_set_linear_routing(-1).Should().Be(-1);
        var error = TorchException.FromNative();
        error.Kind.Should().Be(TorchErrorKind.Value);
        error.Message.Should().Be("linear routing must be 0 (libtorch) or 1 (oneDNN)");
        Tensors.RouteConvolutionsThroughOneDnn.Should().Be(conv, "a refused mode leaves the switch as it was");
        Tensors.RouteLinearLayersThroughOneDnn.Should().Be(linear);
    }
}
