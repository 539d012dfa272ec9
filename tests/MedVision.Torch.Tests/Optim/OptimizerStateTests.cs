using MedVision.Torch;
using MedVision.Torch.Optim;
using MedVision.Torch.Serialization;
using static MedVision.Torch.Tests.Optim.OptimTestHelpers;

namespace MedVision.Torch.Tests.Optim;

public class OptimizerStateTests
{
    private static double[] GradFor(int step, int size) => Enumerable.Range(0, size).Select(i => Math.Sin(step * 1.3 + i) * (i + 1)).ToArray();

    [Fact]
    public void ParameterGroups_UseTheirOwnLearningRates()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Parameter(1, 1);
        var b = Parameter(1, 1);
        using var sgd = new Sgd(new[]
        {
            new SgdParameterGroup(new[] { a }, learningRate: 0.1),
            new SgdParameterGroup(new[] { b }, learningRate: 0.01, momentum: 0.9),
        });
        // loss = Σ 3a + Σ 5b: gradients 3 and 5.
        ((a * 3).Sum() + (b * 5).Sum()).Backward();
        sgd.Step();
        a.ShouldBe(new[] { 0.7, 0.7 });      // 1 − 0.1·3
        b.ShouldBe(new[] { 0.95, 0.95 });    // 1 − 0.01·5
        sgd.GetParameterState(0, 0).TryGetTensor(Sgd.MomentumBufferName, out _).Should().BeFalse();
        sgd.GetParameterState(1, 0).GetTensor(Sgd.MomentumBufferName).ShouldBe(new[] { 5.0, 5.0 });

        sgd.ParameterGroups[0].LearningRate = 0.5;
        sgd.ZeroGrad();
        ((a * 3).Sum() + (b * 5).Sum()).Backward();
        sgd.Step();
        a.ShouldBe(new[] { -0.8, -0.8 });    // 0.7 − 0.5·3
        b.ShouldBe(new[] { 0.855, 0.855 }); // buf = 0.9·5 + 5 = 9.5; 0.95 − 0.01·9.5
    }

    private static void RunSteps(Optimizer optimizer, Tensor[] parameters, int from, int to)
    {
        for (int step = from; step < to; step++)
        {
            using var scope = Tensors.NewDisposeScope();
            for (int i = 0; i < parameters.Length; i++) SetGrad(parameters[i], GradFor(step + i, (int)parameters[i].NumElements));
            optimizer.Step();
        }
    }

    public static TheoryData<string> OptimizerKinds => new() { "sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam", "radam" };

    private static Optimizer Create(string kind, Tensor a, Tensor b) => kind switch
    {
        "sgd" => new Sgd(new[] { new SgdParameterGroup(new[] { a }, 0.1, momentum: 0.9, nesterov: true), new SgdParameterGroup(new[] { b }, 0.05, momentum: 0.5, dampening: 0.1, weightDecay: 0.01) }),
        "adam" => new Adam(new[] { new AdamParameterGroup(new[] { a }, 0.1, amsGrad: true), new AdamParameterGroup(new[] { b }, 0.01, beta1: 0.8, weightDecay: 0.1) }),
        "adamw" => new AdamW(new[] { new AdamParameterGroup(new[] { a }, 0.1, weightDecay: 0.1), new AdamParameterGroup(new[] { b }, 0.01, amsGrad: true) }),
        "rmsprop" => new RmsProp(new[] { new RmsPropParameterGroup(new[] { a }, 0.1, momentum: 0.9, centered: true), new RmsPropParameterGroup(new[] { b }, 0.05, alpha: 0.9, weightDecay: 0.01) }),
        "adagrad" => new Adagrad(new[] { new AdagradParameterGroup(new[] { a }, 0.1, learningRateDecay: 0.1, initialAccumulatorValue: 0.1), new AdagradParameterGroup(new[] { b }, 0.05, weightDecay: 0.01) }),
        "nadam" => new NAdam(new[] { new NAdamParameterGroup(new[] { a }, 0.1), new NAdamParameterGroup(new[] { b }, 0.01, beta1: 0.8, weightDecay: 0.1, momentumDecay: 0.01) }),
        "radam" => new RAdam(new[] { new RAdamParameterGroup(new[] { a }, 0.1, beta2: 0.9), new RAdamParameterGroup(new[] { b }, 0.01, weightDecay: 0.01) }),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    [Theory]
    [MemberData(nameof(OptimizerKinds))]
    public void LoadState_ThenContinuing_MatchesUninterruptedRun(string kind)
    {
        using var scope = Tensors.NewDisposeScope();
        // Uninterrupted: 6 steps.
        var a1 = Parameter(1, -2, 3);
        var b1 = Parameter(0.5, 0.25);
        using (var opt = Create(kind, a1, b1)) RunSteps(opt, new[] { a1, b1 }, 0, 6);

        // Interrupted: 3 steps, export, a fresh optimizer (with other hyper-parameters) loads the state, 3 more steps.
        var a2 = Parameter(1, -2, 3);
        var b2 = Parameter(0.5, 0.25);
        OptimizerState saved;
        using (var opt = Create(kind, a2, b2))
        {
            RunSteps(opt, new[] { a2, b2 }, 0, 3);
            saved = opt.GetState();
        }
        using (saved)
        using (var resumed = Create(kind, a2, b2))
        {
            foreach (var g in resumed.ParameterGroups) g.LearningRate = 123;
            resumed.LoadState(saved);
            resumed.ParameterGroups[0].LearningRate.Should().Be(0.1);
            resumed.GetParameterState(0, 0).Step.Should().Be(3);
            RunSteps(resumed, new[] { a2, b2 }, 3, 6);
        }
        a2.ShouldBe(a1.ToArray<double>(), 0);
        b2.ShouldBe(b1.ToArray<double>(), 0);
    }

    [Theory]
    [MemberData(nameof(OptimizerKinds))]
    public void StateSavedToAFile_ResumesExactly(string kind)
    {
        using var scope = Tensors.NewDisposeScope();
        var a1 = Parameter(1, -2, 3);
        var b1 = Parameter(0.5, 0.25);
        using var reference = Create(kind, a1, b1);
        RunSteps(reference, new[] { a1, b1 }, 0, 4);

        var a2 = Parameter(1, -2, 3);
        var b2 = Parameter(0.5, 0.25);
        var path = Path.Combine(Path.GetTempPath(), $"optim-{kind}-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var opt = Create(kind, a2, b2))
            {
                RunSteps(opt, new[] { a2, b2 }, 0, 2);
                using var state = opt.GetState();
                state.OptimizerType.Should().Be(opt.GetType().Name);
                state.Save(path);
            }
            using var loaded = OptimizerState.Load(path);
            using var resumed = Create(kind, a2, b2);
            resumed.LoadState(loaded);
            if (kind == "nadam")
            {
                // NAdam's running product of the momentum schedule is a float64 scalar on the CPU, whatever the parameter.
                var muProduct = resumed.GetParameterState(0, 0).GetTensor(NAdam.MuProductName);
                muProduct.Shape.Should().BeEmpty();
                muProduct.ScalarType.Should().Be(ScalarType.Float64);
            }
            RunSteps(resumed, new[] { a2, b2 }, 2, 4);
            a2.ShouldBe(a1.ToArray<double>(), 0);
            b2.ShouldBe(b1.ToArray<double>(), 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void NAdam_KeepsItsMomentumProductInFloat64_ForFloat32Parameters()
    {
        using var scope = Tensors.NewDisposeScope();
        var p = Tensors.FromArray(new[] { 1f, -2f }).RequiresGradInPlace();
        using var nadam = new NAdam(new[] { p }, learningRate: 0.1);
        for (int step = 0; step < 2; step++)
        {
            using var stepScope = Tensors.NewDisposeScope();
            nadam.ZeroGrad();
            (p * p).Sum().Backward();
            nadam.Step();
        }
        using var state = nadam.GetState();
        using var resumed = new NAdam(new[] { p }, learningRate: 0.1);
        resumed.LoadState(state);
        var muProduct = resumed.GetParameterState(0, 0).GetTensor(NAdam.MuProductName);
        muProduct.ScalarType.Should().Be(ScalarType.Float64);
        muProduct.Shape.Should().BeEmpty();
        // μ1·μ2 with β1 = 0.9 and ψ = 0.004.
        double Mu(int t) => 0.9 * (1 - 0.5 * Math.Pow(0.96, t * 0.004));
        muProduct.Item<double>().Should().Be(Mu(1) * Mu(2));
        resumed.GetParameterState(0, 0).GetTensor(Adam.ExpAvgName).ScalarType.Should().Be(ScalarType.Float32);
    }

    [Fact]
    public void State_IsACopy_AndSurvivesSaveAndLoadThroughSafeTensors()
    {
        using var scope = Tensors.NewDisposeScope();
        var a1 = Parameter(1, -2, 3);
        var b1 = Parameter(0.5, 0.25);
        using var reference = Create("adam", a1, b1);
        RunSteps(reference, new[] { a1, b1 }, 0, 2);

        var a2 = Parameter(1, -2, 3);
        var b2 = Parameter(0.5, 0.25);
        var path = Path.Combine(Path.GetTempPath(), $"optim-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var opt = Create("adam", a2, b2))
            {
                RunSteps(opt, new[] { a2, b2 }, 0, 2);
                using var state = opt.GetState();
                state.OptimizerType.Should().Be("Adam");
                state.GroupSizes.Should().Equal(1, 1);
                state.Steps.Should().BeEquivalentTo(new Dictionary<int, long> { [0] = 2, [1] = 2 });
                state.Tensors.Keys.Should().BeEquivalentTo("0.exp_avg", "0.exp_avg_sq", "0.max_exp_avg_sq", "1.exp_avg", "1.exp_avg_sq");
                state.Groups[1]["beta1"].Should().Be(0.8);
                // A copy: further steps do not change the exported tensors.
                var before = state.Tensors["0.exp_avg"].ToArray<double>();
                RunSteps(opt, new[] { a2, b2 }, 2, 3);
                state.Tensors["0.exp_avg"].ToArray<double>().Should().Equal(before);
                state.Save(path);
            }
            // Roll the parameters back to step 2 and resume from the file.
            using (var noGrad = Tensors.NoGrad())
            {
                a2.CopyInPlace(a1);
                b2.CopyInPlace(b1);
            }
            using var loaded = OptimizerState.Load(path);
            using var resumed = Create("adam", a2, b2);
            resumed.LoadState(loaded);
            RunSteps(resumed, new[] { a2, b2 }, 2, 4);
            RunSteps(reference, new[] { a1, b1 }, 2, 4);
            a2.ShouldBe(a1.ToArray<double>(), 0);
            b2.ShouldBe(b1.ToArray<double>(), 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadState_RejectsMismatchedStates_WithoutChangingTheOptimizer()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Parameter(1, -2, 3);
        var b = Parameter(0.5, 0.25);
        using var adam = Create("adam", a, b);
        RunSteps(adam, new[] { a, b }, 0, 1);
        using var adamState = adam.GetState();

        using var sgd = Create("sgd", Parameter(1, -2, 3), Parameter(0.5, 0.25));
        FluentActions.Invoking(() => sgd.LoadState(adamState)).Should().Throw<ArgumentException>().WithMessage("*Adam*cannot be loaded into a Sgd*");

        using var oneGroup = new Adam(new[] { Parameter(1, -2, 3) });
        FluentActions.Invoking(() => oneGroup.LoadState(adamState)).Should().Throw<ArgumentException>().WithMessage("*2 parameter groups*optimizer has 1*");

        using var otherShapes = Create("adam", Parameter(1, -2), Parameter(0.5, 0.25));
        FluentActions.Invoking(() => otherShapes.LoadState(adamState)).Should().Throw<ArgumentException>().WithMessage("*'0.exp_avg' has shape [3]*parameter 0 has shape [2]*");
        otherShapes.GetParameterState(0, 0).IsEmpty.Should().BeTrue();
        otherShapes.ParameterGroups[0].LearningRate.Should().Be(0.1);

        var badGroups = adamState.Groups.Select(g => (IReadOnlyDictionary<string, double>)new Dictionary<string, double>(g)).ToList();
        ((Dictionary<string, double>)badGroups[0])["beta1"] = 2;
        using var bad = new OptimizerState("Adam", badGroups, adamState.GroupSizes, adamState.Steps, new Dictionary<string, Tensor>());
        FluentActions.Invoking(() => adam.LoadState(bad)).Should().Throw<ArgumentException>().WithMessage("*Group 0*beta1*");
        adam.GetParameterState(0, 0).Step.Should().Be(1);

        FluentActions.Invoking(() => OptimizerState.ParseTensorKey("exp_avg")).Should().Throw<ArgumentException>().WithMessage("*'<parameter index>.<name>'*");
    }

    [Fact]
    public void OptimizerState_Dispose_FreesItsTensors()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Parameter(1, 2);
        using var sgd = new Sgd(new[] { a }, 0.1, momentum: 0.9);
        SetGrad(a, 1, 1);
        sgd.Step();
        var state = sgd.GetState();
        var copy = state.Tensors["0.momentum_buffer"];
        state.Dispose();
        copy.IsDisposed.Should().BeTrue();
        sgd.GetParameterState(0, 0).GetTensor(Sgd.MomentumBufferName).IsDisposed.Should().BeFalse();
        FluentActions.Invoking(() => sgd.LoadState(state)).Should().Throw<ObjectDisposedException>();
    }
}
