using MedVision.Torch;
using MedVision.Torch.Optim;
using static MedVision.Torch.Tests.Optim.OptimTestHelpers;

namespace MedVision.Torch.Tests.Optim;

public class AdamTests
{
    // p0 = [1, -2, 3]; lr 0.1, betas (0.9, 0.99), eps 1e-8. Expected values are hand computations, cross-checked
    // against torch 1.13's torch.optim.Adam / AdamW (single-tensor implementation, float64).
    private static readonly double[][] Grads = { new[] { 0.5, -1.0, 2.0 }, new[] { -0.25, 0.5, 1.0 }, new[] { 1.0, 1.0, -3.0 } };

    /// <summary>One Adam step for one element, written out as torch.optim.Adam computes it.</summary>
    private static double AdamElement(ref double p, ref double m, ref double v, double g, int t, double lr = 0.1, double b1 = 0.9, double b2 = 0.99, double eps = 1e-8)
    {
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        var stepSize = lr / (1 - Math.Pow(b1, t));
        var denom = Math.Sqrt(v) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps;
        p -= stepSize * m / denom;
        return p;
    }

    [Fact]
    public void Step_WithL2WeightDecay_MatchesHandComputation()
    {
        using var scope = Torch.NewDisposeScope();
        var p = Parameter(1, -2, 3);
        using var adam = new Adam(new[] { p }, learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1);

        // Step 1, element 0: g = 0.5 + 0.1·1 = 0.6; m = 0.06; v = 0.01·0.36 = 0.0036;
        // step_size = 0.1 / (1 − 0.9) = 1; denom = √0.0036 / √(1 − 0.99) + 1e-8 = 0.6 + 1e-8;
        // p = 1 − 0.06 / (0.6 + 1e-8) = 0.9000000016666666.
        SetGrad(p, Grads[0]);
        adam.Step();
        p.ShouldBe(new[] { 0.9000000016666666, -1.9000000008333333, 2.900000000434783 });

        SetGrad(p, Grads[1]);
        adam.Step();
        p.ShouldBe(new[] { 0.8543516770478369, -1.8536554009308068, 2.805037988901461 });

        SetGrad(p, Grads[2]);
        adam.Step();
        p.ShouldBe(new[] { 0.7815872581100614, -1.8589062769752625, 2.799904184049754 });

        var state = adam.GetParameterState(0, 0);
        state.Step.Should().Be(3);
        state.Names.Should().BeEquivalentTo(Adam.ExpAvgName, Adam.ExpAvgSqName);
    }

    [Fact]
    public void Step_WithoutWeightDecay_MatchesScalarReference()
    {
        using var scope = Torch.NewDisposeScope();
        var p = Parameter(1, -2, 3);
        using var adam = new Adam(new[] { p }, learningRate: 0.1, beta1: 0.9, beta2: 0.99);
        var expected = new[] { 1.0, -2.0, 3.0 };
        var m = new double[3];
        var v = new double[3];
        for (int t = 1; t <= 3; t++)
        {
            SetGrad(p, Grads[t - 1]);
            adam.Step();
            for (int i = 0; i < 3; i++) AdamElement(ref expected[i], ref m[i], ref v[i], Grads[t - 1][i], t);
            p.ShouldBe(expected);
        }
        adam.GetParameterState(0, 0).GetTensor(Adam.ExpAvgName).ShouldBe(m);
        adam.GetParameterState(0, 0).GetTensor(Adam.ExpAvgSqName).ShouldBe(v);
    }

    [Fact]
    public void Step_AmsGrad_UsesRunningMaximumOfSecondMoment()
    {
        // A large first gradient then small ones: v shrinks, so AMSGrad's max(v) differs from v.
        var grads = new[] { new[] { 2.0, -4.0, 1.0 }, new[] { 0.1, 0.1, 0.1 }, new[] { 0.1, -0.1, 0.1 } };
        using var scope = Torch.NewDisposeScope();
        var plain = Parameter(1, -2, 3);
        var ams = Parameter(1, -2, 3);
        using var adam = new Adam(new[] { plain }, learningRate: 0.1, beta1: 0.9, beta2: 0.99);
        using var amsAdam = new Adam(new[] { ams }, learningRate: 0.1, beta1: 0.9, beta2: 0.99, amsGrad: true);
        foreach (var g in grads)
        {
            SetGrad(plain, g);
            SetGrad(ams, g);
            adam.Step();
            amsAdam.Step();
        }
        // torch 1.13 reference values.
        plain.ShouldBe(new[] { 0.7712133852451357, -1.7825691133340897, 2.7621600092971006 });
        ams.ShouldBe(new[] { 0.7719137380147622, -1.783364632024136, 2.7621600092971006 });
        // Element 0: v1 = 0.01·4 = 0.04, v2 = 0.99·0.04 + 0.01·0.01 = 0.0397, v3 = 0.99·0.0397 + 0.0001 = 0.039403; max = 0.04.
        amsAdam.GetParameterState(0, 0).GetTensor(Adam.MaxExpAvgSqName).ShouldBe(new[] { 0.04, 0.16, 0.01 });
        adam.GetParameterState(0, 0).GetTensor(Adam.ExpAvgSqName).ShouldBe(new[] { 0.039403, 0.157015, 0.01 });
    }

    [Fact]
    public void AdamW_DecouplesWeightDecay()
    {
        using var scope = Torch.NewDisposeScope();
        var p = Parameter(1, -2, 3);
        using var adamW = new AdamW(new[] { p }, learningRate: 0.1, beta1: 0.9, beta2: 0.99, weightDecay: 0.1);

        // Step 1, element 0: p = 1·(1 − 0.1·0.1) = 0.99, then the Adam update with g = 0.5 (no L2 term):
        // m = 0.05, v = 0.0025, step_size = 1, denom = 0.05 + 1e-8; p = 0.99 − 0.05 / (0.05 + 1e-8) = 0.890000002.
        SetGrad(p, Grads[0]);
        adamW.Step();
        p.ShouldBe(new[] { 0.890000002, -1.880000001, 2.8700000004999997 });

        SetGrad(p, Grads[1]);
        adamW.Step();
        p.ShouldBe(new[] { 0.8544300597479334, -1.8345300584200728, 2.7479552009089976 });

        SetGrad(p, Grads[2]);
        adamW.Step();
        p.ShouldBe(new[] { 0.7802444752781004, -1.8434542851100926, 2.728660064436531 });
    }

    [Fact]
    public void AdamW_DefaultWeightDecayIsOneHundredth()
    {
        using var scope = Torch.NewDisposeScope();
        var p = Parameter(1);
        using var adamW = new AdamW(new[] { p });
        adamW.ParameterGroups[0].WeightDecay.Should().Be(1e-2);
        adamW.ParameterGroups[0].LearningRate.Should().Be(1e-3);
    }

    [Fact]
    public void Constructor_RejectsInvalidHyperParameters()
    {
        using var scope = Torch.NewDisposeScope();
        var p = Parameter(1);
        FluentActions.Invoking(() => new Adam(new[] { p }, beta1: 1.0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Beta1*[0, 1)*");
        FluentActions.Invoking(() => new Adam(new[] { p }, beta2: -0.1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Beta2*");
        FluentActions.Invoking(() => new AdamW(new[] { p }, epsilon: -1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Epsilon*");
        FluentActions.Invoking(() => new AdamW(new[] { p }, weightDecay: double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*WeightDecay*");
    }
}
