using MedVision.Torch;
using MedVision.Torch.Optim;
using static MedVision.Torch.Tests.Optim.OptimTestHelpers;

namespace MedVision.Torch.Tests.Optim;

public class SgdTests
{
    // Gradients fed at steps 1, 2, 3 to the parameter p0 = [1, -2, 3]. Reference values were also produced with
    // torch 1.13 (torch.optim.SGD, float64) and agree with the hand computation below.
    private static readonly double[][] Grads = { new[] { 0.5, -1.0, 2.0 }, new[] { -0.25, 0.5, 1.0 }, new[] { 1.0, 1.0, -3.0 } };

    [Fact]
    public void Step_NesterovWithWeightDecay_MatchesHandComputation()
    {
        using var scope = Tensors.NewDisposeScope();
        var p = Parameter(1, -2, 3);
        using var sgd = new Sgd(new[] { p }, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true);

        // Step 1, element 0: d = 0.5 + 0.01·1 = 0.51; buf = d = 0.51 (first step: clone, no dampening);
        // nesterov: d = 0.51 + 0.9·0.51 = 0.969; p = 1 − 0.1·0.969 = 0.9031.
        SetGrad(p, Grads[0]);
        sgd.Step();
        p.ShouldBe(new[] { 0.9031, -1.8062, 2.6143 });

        // Step 2, element 0: d = −0.25 + 0.01·0.9031 = −0.240969; buf = 0.9·0.51 + 1·(−0.240969) = 0.218031;
        // d = −0.240969 + 0.9·0.218031 = −0.0447411; p = 0.9031 + 0.00447411 = 0.90757411.
        SetGrad(p, Grads[1]);
        sgd.Step();
        p.ShouldBe(new[] { 0.90757411, -1.81514822, 2.25490283 });

        SetGrad(p, Grads[2]);
        sgd.Step();
        p.ShouldBe(new[] { 0.6981892081909999, -1.966378416382, 2.589513931623 });
        sgd.GetParameterState(0, 0).Step.Should().Be(3);
    }

    [Fact]
    public void Step_MomentumWithDampening_InitialisesBufferToGradientThenDampens()
    {
        using var scope = Tensors.NewDisposeScope();
        var p = Parameter(1, -2, 3);
        using var sgd = new Sgd(new[] { p }, learningRate: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.1);

        // Step 1, element 0: d = 0.5 + 0.1·1 = 0.6; buf = 0.6 (dampening is not applied on the first step);
        // p = 1 − 0.06 = 0.94.
        SetGrad(p, Grads[0]);
        sgd.Step();
        p.ShouldBe(new[] { 0.94, -1.88, 2.77 });
        sgd.GetParameterState(0, 0).GetTensor(Sgd.MomentumBufferName).ShouldBe(new[] { 0.6, -1.2, 2.3 });

        // Step 2, element 0: d = −0.25 + 0.1·0.94 = −0.156; buf = 0.9·0.6 + 0.5·(−0.156) = 0.462;
        // p = 0.94 − 0.0462 = 0.8938.
        SetGrad(p, Grads[1]);
        sgd.Step();
        p.ShouldBe(new[] { 0.8938, -1.7876, 2.49915 });

        SetGrad(p, Grads[2]);
        sgd.Step();
        p.ShouldBe(new[] { 0.797751, -1.745502, 2.39288925 });
    }

    [Fact]
    public void GroupSettingsChangedBetweenSteps_ApplyFromTheNextStep()
    {
        using var scope = Tensors.NewDisposeScope();
        var p = Parameter(1, -2, 3);
        using var sgd = new Sgd(new[] { p }, learningRate: 0.1, momentum: 0.9);
        var group = (SgdParameterGroup)sgd.ParameterGroups[0];

        // Step 1: buf = g = [0.5, −1, 2]; p = p − 0.1·buf.
        SetGrad(p, Grads[0]);
        sgd.Step();
        p.ShouldBe(new[] { 0.95, -1.9, 2.8 });

        // Step 2 with dampening 0.5: buf = 0.9·[0.5, −1, 2] + 0.5·[−0.25, 0.5, 1] = [0.325, −0.65, 2.3].
        group.Dampening = 0.5;
        SetGrad(p, Grads[1]);
        sgd.Step();
        p.ShouldBe(new[] { 0.9175, -1.835, 2.57 });
        group.GetHyperParameters()["dampening"].Should().Be(0.5);

        // Nesterov needs zero dampening: refused while it is 0.5, accepted after. Step 3: buf = 0.9·[0.325, −0.65, 2.3] +
        // [1, 1, −3] = [1.2925, 0.415, −0.93]; d = g + 0.9·buf = [2.16325, 1.3735, −3.837]; p = p − 0.1·d.
        group.Invoking(g => g.Nesterov = true).Should().Throw<ArgumentException>().WithMessage("*Nesterov*zero dampening*");
        group.Nesterov.Should().BeFalse();
        group.Dampening = 0;
        group.Nesterov = true;
        group.Invoking(g => g.Dampening = 0.1).Should().Throw<ArgumentException>().WithMessage("*Nesterov*");
        group.Invoking(g => g.Dampening = double.NaN).Should().Throw<ArgumentOutOfRangeException>();
        SetGrad(p, Grads[2]);
        sgd.Step();
        p.ShouldBe(new[] { 0.701175, -1.97235, 2.9537 });
        group.GetHyperParameters()["nesterov"].Should().Be(1);
    }

    [Fact]
    public void Step_PlainSgdWithBackward_DescendsTheGradient()
    {
        using var scope = Tensors.NewDisposeScope();
        var p = Parameter(1, -2, 3);
        using var sgd = new Sgd(new[] { p }, learningRate: 0.25);
        // loss = Σ p², gradient 2p; p ← p − 0.25·2p = p/2.
        (p * p).Sum().Backward();
        sgd.Step();
        p.ShouldBe(new[] { 0.5, -1.0, 1.5 });
        p.RequiresGrad.Should().BeTrue();
        p.IsLeaf.Should().BeTrue();
    }

    [Fact]
    public void Step_SkipsParametersWithoutGradient()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Parameter(1, 2);
        var b = Parameter(3, 4);
        using var sgd = new Sgd(new[] { a, b }, learningRate: 0.5, momentum: 0.9);
        SetGrad(a, 1, 1);
        sgd.Step();
        a.ShouldBe(new[] { 0.5, 1.5 });
        b.ShouldBe(new[] { 3.0, 4.0 });
        sgd.GetParameterState(0, 1).IsEmpty.Should().BeTrue();
        sgd.GetParameterState(0, 1).TryGetTensor(Sgd.MomentumBufferName, out _).Should().BeFalse();
    }

    [Fact]
    public void ZeroGrad_SetsToNullByDefault_OrZeroesInPlace()
    {
        using var scope = Tensors.NewDisposeScope();
        var p = Parameter(1, 2);
        using var sgd = new Sgd(new[] { p }, learningRate: 0.1);

        SetGrad(p, 3, 4);
        sgd.ZeroGrad(setToNone: false);
        using (var g = p.Grad)
        {
            g.Should().NotBeNull();
            g!.ShouldBe(new[] { 0.0, 0.0 });
        }

        sgd.ZeroGrad();
        using (var g = p.Grad) g.Should().BeNull();
    }

    [Fact]
    public void Constructor_RejectsInvalidArguments()
    {
        using var scope = Tensors.NewDisposeScope();
        var p = Parameter(1, 2);
        var q = Parameter(3);

        FluentActions.Invoking(() => new Sgd(new[] { p }, learningRate: -0.1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*LearningRate*");
        FluentActions.Invoking(() => new Sgd(new[] { p }, 0.1, momentum: -1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*momentum*");
        FluentActions.Invoking(() => new Sgd(new[] { p }, 0.1, nesterov: true)).Should().Throw<ArgumentException>().WithMessage("*Nesterov*momentum > 0*");
        FluentActions.Invoking(() => new Sgd(new[] { p }, 0.1, momentum: 0.9, dampening: 0.1, nesterov: true)).Should().Throw<ArgumentException>().WithMessage("*zero dampening*");
        FluentActions.Invoking(() => new Sgd(Array.Empty<Tensor>(), 0.1)).Should().Throw<ArgumentException>().WithMessage("*empty parameter list*");
        FluentActions.Invoking(() => new Sgd(new[] { p, p }, 0.1)).Should().Throw<ArgumentException>().WithMessage("*more than once*");
        FluentActions.Invoking(() => new Sgd(new[] { new SgdParameterGroup(new[] { p }, 0.1), new SgdParameterGroup(new[] { q, p }, 0.1) }))
            .Should().Throw<ArgumentException>().WithMessage("*one group only*");
        var nonLeaf = p * 2;
        FluentActions.Invoking(() => new Sgd(new[] { nonLeaf }, 0.1)).Should().Throw<ArgumentException>().WithMessage("*not a leaf*");
        var integers = Tensors.FromArray(new long[] { 1, 2 });
        FluentActions.Invoking(() => new Sgd(new[] { integers }, 0.1)).Should().Throw<ArgumentException>().WithMessage("*Int64*floating-point*");

        var group = new SgdParameterGroup(new[] { p }, 0.1, momentum: 0.9, nesterov: true);
        FluentActions.Invoking(() => group.Momentum = 0).Should().Throw<ArgumentException>().WithMessage("*Nesterov*");
        FluentActions.Invoking(() => group.LearningRate = double.NaN).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Dispose_FreesStateTensors_AndLaterCallsThrow()
    {
        using var scope = Tensors.NewDisposeScope();
        var p = Parameter(1, 2);
        var sgd = new Sgd(new[] { p }, learningRate: 0.1, momentum: 0.9);
        SetGrad(p, 1, 1);
        sgd.Step();
        var buffer = sgd.GetParameterState(0, 0).GetTensor(Sgd.MomentumBufferName);
        buffer.IsDisposed.Should().BeFalse();
        sgd.Dispose();
        buffer.IsDisposed.Should().BeTrue();
        p.IsDisposed.Should().BeFalse();
        FluentActions.Invoking(() => sgd.Step()).Should().Throw<ObjectDisposedException>();
    }
}
