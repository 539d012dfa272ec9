using MedVision.Torch;
using MedVision.Torch.Nn;
using static MedVision.Torch.Tests.Optim.OptimTestHelpers;

namespace MedVision.Torch.Tests.Optim;

public class GradientClippingTests
{
    [Fact]
    public void ClipGradNorm_ScalesByMaxNormOverTotalNorm()
    {
        using var scope = Torch.NewDisposeScope();
        var a = Parameter(0, 0);
        var b = Parameter(0);
        var c = Parameter(0); // no gradient: ignored
        SetGrad(a, 3, 4);
        SetGrad(b, 12);
        // Total 2-norm = √(3² + 4² + 12²) = 13; clip_coef = 6.5 / (13 + 1e-6).
        var total = GradientClipping.ClipGradNorm(new[] { a, b, c }, maxNorm: 6.5);
        total.Should().BeApproximately(13, 1e-12);
        var coef = 6.5 / (13 + 1e-6);
        using (var ga = a.Grad) ga!.ShouldBe(new[] { 3 * coef, 4 * coef });
        using (var gb = b.Grad) gb!.ShouldBe(new[] { 12 * coef });
        using (var gc = c.Grad) gc.Should().BeNull();
    }

    [Fact]
    public void ClipGradNorm_LeavesSmallGradientsUnchanged()
    {
        using var scope = Torch.NewDisposeScope();
        var a = Parameter(0, 0);
        SetGrad(a, 3, 4);
        GradientClipping.ClipGradNorm(new[] { a }, maxNorm: 5.5).Should().BeApproximately(5, 1e-12);
        using var g = a.Grad;
        g!.ShouldBe(new[] { 3.0, 4.0 }, 0);
    }

    [Fact]
    public void ClipGradNorm_SupportsOtherNorms()
    {
        using var scope = Torch.NewDisposeScope();
        var a = Parameter(0, 0);
        var b = Parameter(0);
        SetGrad(a, 3, -4);
        SetGrad(b, -12);
        // ∞-norm: max |g| = 12; clip to 6 → coefficient 6/(12 + 1e-6).
        GradientClipping.ClipGradNorm(new[] { a, b }, 6, double.PositiveInfinity).Should().Be(12);
        var coef = 6 / (12 + 1e-6);
        using (var ga = a.Grad) ga!.ShouldBe(new[] { 3 * coef, -4 * coef });

        SetGrad(a, 3, -4);
        SetGrad(b, -12);
        // 1-norm: 3 + 4 + 12 = 19 (no clipping at max 100).
        GradientClipping.ClipGradNorm(new[] { a, b }, 100, 1).Should().BeApproximately(19, 1e-12);
        // 3-norm: (27 + 64 + 1728)^(1/3).
        GradientClipping.ClipGradNorm(new[] { a, b }, 100, 3).Should().BeApproximately(Math.Pow(1819, 1.0 / 3), 1e-12);
    }

    [Fact]
    public void ClipGradNorm_ValidatesAndReportsNonFiniteNorms()
    {
        using var scope = Torch.NewDisposeScope();
        var a = Parameter(0, 0);
        GradientClipping.ClipGradNorm(new[] { a }, 1).Should().Be(0);
        SetGrad(a, double.NaN, 1);
        FluentActions.Invoking(() => GradientClipping.ClipGradNorm(new[] { a }, 1, errorIfNonFinite: true)).Should().Throw<InvalidOperationException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => GradientClipping.ClipGradNorm(new[] { a }, -1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*maxNorm*");
        FluentActions.Invoking(() => GradientClipping.ClipGradNorm(new[] { a }, 1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*normType*");
    }

    [Fact]
    public void ClipGradValue_ClampsEachGradient()
    {
        using var scope = Torch.NewDisposeScope();
        var a = Parameter(0, 0, 0);
        SetGrad(a, -3, 0.5, 7);
        GradientClipping.ClipGradValue(new[] { a }, 1);
        using var g = a.Grad;
        g!.ShouldBe(new[] { -1, 0.5, 1 });
    }
}
