using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Autograd;

public class GradientsTests
{
    [Fact]
    public void Compute_ReturnsTheGradientWithoutAccumulatingIntoGrad()
    {
        using var scope = Tensors.NewDisposeScope();
        var xs = new double[] { 0.5, -1.0, 2.0 };
        var x = H.F64(xs, 3).RequiresGradInPlace();
        var y = (x.Pow(3) + x.Sin() * 2).Sum();
        var dx = Gradients.Compute(y, x);
        H.Close(dx, xs.Select(v => (3 * v * v) + (2 * Math.Cos(v))).ToArray(), 1e-12);
        x.Grad.Should().BeNull("torch.autograd.grad returns gradients instead of accumulating them");
    }

    [Fact]
    public void Compute_OfAnIntermediateTensor_GivesTheGradientFlowingIntoIt()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(new double[] { 1, 2, 3 }, 3).RequiresGradInPlace();
        var hidden = x * 2;                        // d/dhidden of sum(hidden²) = 2·hidden = 4x
        var y = (hidden * hidden).Sum();
        Gradients.Compute(y, hidden).ToArray<double>().Should().Equal(4, 8, 12);
    }

    [Fact]
    public void Compute_WithGradOutputs_WeightsEachOutput_AndReturnsOneGradientPerInput()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = H.F64(new double[] { 1, 2 }, 2).RequiresGradInPlace();
        var b = H.F64(new double[] { 3, 4 }, 2).RequiresGradInPlace();
        var u = a * b;                             // du/da = b, du/db = a
        var v = (a + b).Sum();                     // scalar: implicit gradient 1
        var grads = Gradients.Compute(new[] { u, v }, new[] { a, b }, new Tensor?[] { H.F64(new double[] { 10, 100 }, 2), null });
        grads.Should().HaveCount(2);
        grads[0]!.ToArray<double>().Should().Equal(10 * 3 + 1, 100 * 4 + 1);
        grads[1]!.ToArray<double>().Should().Equal(10 * 1 + 1, 100 * 2 + 1);
    }

    [Fact]
    public void Compute_WithCreateGraph_GivesSecondDerivatives()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(new double[] { 0.5, 2.0 }, 2).RequiresGradInPlace();
        var y = x.Pow(4).Sum();
        var first = Gradients.Compute(y, x, createGraph: true);          // 4x³
        first.RequiresGrad.Should().BeTrue();
        var second = Gradients.Compute(first.Sum(), x);                  // 12x²
        H.Close(second, new[] { 12 * 0.25, 12 * 4.0 }, 1e-12);
    }

    [Fact]
    public void Compute_RetainGraph_AllowsASecondPass_WithoutItTheGraphIsFreed()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(new double[] { 3 }, 1).RequiresGradInPlace();
        var y = (x.Exp() * x).Sum();
        Gradients.Compute(y, x, retainGraph: true);
        Gradients.Compute(y, x);
        var again = () => Gradients.Compute(y, x);
        again.Should().Throw<InvalidOperationException>().WithMessage("*Gradient computation failed*");
    }

    [Fact]
    public void Compute_UnusedInput_ThrowsUnlessAllowed()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(new double[] { 1 }, 1).RequiresGradInPlace();
        var unused = H.F64(new double[] { 2 }, 1).RequiresGradInPlace();
        var y = (x * 5).Sum();
        var strict = () => Gradients.Compute(new[] { y }, new[] { x, unused }, retainGraph: true);
        strict.Should().Throw<InvalidOperationException>();
        var grads = Gradients.Compute(new[] { y }, new[] { x, unused }, allowUnused: true);
        grads[0]!.ToArray<double>().Should().Equal(5);
        grads[1].Should().BeNull();
    }

    [Fact]
    public void Compute_BadArguments_ThrowClearExceptions()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(new double[] { 1, 2 }, 2).RequiresGradInPlace();
        var y = x * 3;
        var constant = H.F64(new double[] { 1, 2 }, 2);
        FluentActions.Invoking(() => Gradients.Compute(y, x)).Should().Throw<InvalidOperationException>()
            .WithMessage("*scalar*", "a non-scalar output needs a gradOutput");
        FluentActions.Invoking(() => Gradients.Compute(y, x, H.F64(new double[] { 1, 2, 3 }, 3))).Should().Throw<ArgumentException>()
            .WithMessage("*gradOutputs[0] has shape [3] but outputs[0] has [2]*");
        FluentActions.Invoking(() => Gradients.Compute((constant * 2).Sum(), constant)).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => Gradients.Compute(Array.Empty<Tensor>(), new[] { x })).Should().Throw<ArgumentException>().WithMessage("*output*");
        FluentActions.Invoking(() => Gradients.Compute(new[] { y.Sum() }, Array.Empty<Tensor>())).Should().Throw<ArgumentException>().WithMessage("*input*");
        FluentActions.Invoking(() => Gradients.Compute(new[] { y.Sum() }, new[] { x }, new Tensor?[] { null, null })).Should().Throw<ArgumentException>()
            .WithMessage("*2 entries for 1 outputs*");
    }

    [Fact]
    public void RetainGrad_KeepsTheGradientOfANonLeafTensor()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = H.F64(new double[] { 1, 2 }, 2).RequiresGradInPlace();
        var hidden = x * 3;
        hidden.RetainsGrad.Should().BeFalse();
        hidden.RetainGrad().Should().BeSameAs(hidden);
        hidden.RetainsGrad.Should().BeTrue();
        (hidden * hidden).Sum().Backward();
        hidden.Grad!.ToArray<double>().Should().Equal(6, 12);
        x.Grad!.ToArray<double>().Should().Equal(18, 36);
        var constant = H.F64(new double[] { 1 }, 1);
        FluentActions.Invoking(() => constant.RetainGrad()).Should().Throw<InvalidOperationException>().WithMessage("*RetainGrad failed*");
    }
}
