using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Autograd;

public class AutogradTests
{
    [Fact]
    public void Backward_OfScalar_GivesAnalyticGradient()
    {
        using var scope = Tensors.NewDisposeScope();
        var xs = new double[] { 0.5, -1.0, 2.0 };
        var x = H.F64(xs, 3).RequiresGradInPlace();
        x.IsLeaf.Should().BeTrue();
        var y = (x.Pow(3) + x.Sin() * 2).Sum();
        y.IsLeaf.Should().BeFalse();
        y.RequiresGrad.Should().BeTrue();
        y.GradFnName.Should().NotBeEmpty();
        x.GradFnName.Should().BeEmpty();
        x.Grad.Should().BeNull("no backward pass has run yet");
        y.Backward();
        H.Close(x.Grad!, xs.Select(v => 3 * v * v + 2 * Math.Cos(v)).ToArray(), 1e-12);
    }

    [Fact]
    public void Backward_WithExplicitGradient_ComputesVectorJacobianProduct()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(new double[] { 1, 2, 3 }, 3).RequiresGradInPlace();
        var y = x * x; // non-scalar
        y.Backward(H.F64(new double[] { 1, 10, 100 }, 3));
        x.Grad!.ToArray<double>().Should().Equal(2, 40, 600);
    }

    [Fact]
    public void Gradients_Accumulate_UntilCleared()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(new double[] { 1, 2 }, 2).RequiresGradInPlace();
        (x * 3).Sum().Backward();
        (x * 3).Sum().Backward();
        x.Grad!.ToArray<double>().Should().Equal(6, 6);
        x.Grad = null;
        x.Grad.Should().BeNull();
        (x * x).Sum().Backward();
        x.Grad!.ToArray<double>().Should().Equal(2, 4);
        x.Grad = H.F64(new double[] { 7, 8 }, 2);
        x.Grad!.ToArray<double>().Should().Equal(7, 8);
    }

    [Fact]
    public void RetainGraph_AllowsASecondBackward()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(new double[] { 2 }, 1).RequiresGradInPlace();
        var y = (x.Exp() * x).Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        x.Grad!.Item().Should().BeApproximately(2 * (Math.Exp(2) * 3), 1e-10);
    }

    [Fact]
    public void Module_ZeroGrad_ClearsEveryParameterGradient()
    {
        using var scope = Tensors.NewDisposeScope();
        using var lin = new Linear(3, 2);
        lin.Call(Tensors.Randn(4, 3)).Sum().Backward();
        lin.Parameters().Should().OnlyContain(p => p.Grad != null);
        // d/db of Σ (xWᵀ + b) is the batch size for every output
        lin.Bias!.Grad!.ToArray<float>().Should().Equal(4, 4);
        lin.ZeroGrad();
        lin.Parameters().Should().OnlyContain(p => p.Grad == null);
    }

    [Fact]
    public void NoGrad_StopsRecording_AndRestoresOnDispose()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Ones(new long[] { 2 }, requiresGrad: true);
        Tensors.IsGradEnabled.Should().BeTrue();
        using (Tensors.NoGrad())
        {
            Tensors.IsGradEnabled.Should().BeFalse();
            (x * 2).RequiresGrad.Should().BeFalse();
            using (Tensors.EnableGrad())
            {
                Tensors.IsGradEnabled.Should().BeTrue();
                (x * 2).RequiresGrad.Should().BeTrue();
            }
            Tensors.IsGradEnabled.Should().BeFalse("the inner scope restores the outer mode");
            using (Tensors.NoGrad()) { }
            Tensors.IsGradEnabled.Should().BeFalse();
        }
        Tensors.IsGradEnabled.Should().BeTrue();
        (x * 2).RequiresGrad.Should().BeTrue();
        var s = Tensors.NoGrad();
        s.Dispose();
        s.Dispose(); // idempotent
        Tensors.IsGradEnabled.Should().BeTrue();
    }

    [Fact]
    public void NoGrad_IsThreadLocal()
    {
        bool otherEnabled = false, otherRecorded = false;
        using (Tensors.NoGrad())
        {
            var thread = new Thread(() =>
            {
                otherEnabled = Tensors.IsGradEnabled;
                using var s = Tensors.NewDisposeScope();
                var x = Tensors.Ones(new long[] { 2 }, requiresGrad: true);
                otherRecorded = (x * 2).RequiresGrad;
            });
            thread.Start();
            thread.Join();
            Tensors.IsGradEnabled.Should().BeFalse();
        }
        otherEnabled.Should().BeTrue("another thread keeps its own grad mode");
        otherRecorded.Should().BeTrue();
    }

    [Fact]
    public void Detach_CutsTheGraph()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(new double[] { 3 }, 1).RequiresGradInPlace();
        var y = x * x;
        var d = y.Detach();
        d.RequiresGrad.Should().BeFalse();
        d.IsLeaf.Should().BeTrue();
        // z = y·stop(y): dz/dx = 2x·stop(y) = 2·3·9
        (y * d).Sum().Backward();
        x.Grad!.Item().Should().Be(54);
    }

    [Fact]
    public void RequiresGrad_CannotBeChangedOnNonLeaf()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Ones(new long[] { 2 }, requiresGrad: true);
        var y = x * 2;
        var act = () => y.RequiresGrad = false;
        act.Should().Throw<InvalidOperationException>().WithMessage("*leaf*");
        x.RequiresGradInPlace(false).RequiresGrad.Should().BeFalse();
    }
}
