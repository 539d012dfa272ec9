using MedVision.Torch;
using MedVision.Torch.Optim;
using static MedVision.Torch.Tests.Optim.OptimTestHelpers;

namespace MedVision.Torch.Tests.Optim;

public class SchedulerTests
{
    // Every expected sequence below is the hand-computed closed form; torch 1.13 gives the same values (recorded
    // by stepping torch.optim.lr_scheduler with an SGD optimizer of lr 1).

    private static List<double> Sequence(LearningRateScheduler scheduler, int steps, int group = 0)
    {
        var lrs = new List<double> { scheduler.Optimizer.ParameterGroups[group].LearningRate };
        for (int i = 0; i < steps; i++)
        {
            scheduler.Step();
            lrs.Add(scheduler.Optimizer.ParameterGroups[group].LearningRate);
            scheduler.LastLearningRates[group].Should().Be(lrs[^1]);
        }
        return lrs;
    }

    private static void ShouldEqual(List<double> actual, params double[] expected)
    {
        actual.Should().HaveCount(expected.Length);
        for (int i = 0; i < expected.Length; i++) actual[i].Should().BeApproximately(expected[i], 1e-12, $"epoch {i} of [{string.Join(", ", actual)}]");
    }

    [Fact]
    public void StepLR_DecaysEveryStepSizeEpochs()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new StepLR(sgd, stepSize: 3, gamma: 0.5);
        ShouldEqual(Sequence(scheduler, 8), 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25);
        scheduler.LastEpoch.Should().Be(8);
    }

    [Fact]
    public void MultiStepLR_DecaysAtMilestones_CountingRepeatedOnesTwice()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new MultiStepLR(sgd, new[] { 5, 2, 5 }, gamma: 0.1);
        scheduler.Milestones.Should().Equal(2, 5, 5);
        ShouldEqual(Sequence(scheduler, 7), 1, 1, 0.1, 0.1, 0.1, 0.001, 0.001, 0.001);
    }

    [Fact]
    public void CosineAnnealingLR_MatchesPyTorchClosedForm()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new CosineAnnealingLR(sgd, tMax: 4, etaMin: 0.1);
        // eta_min + (1 − eta_min)(1 + cos(π·e/4))/2: e=1 → 0.1 + 0.9·(1 + √½)/2 = 0.86819805…, e=2 → 0.55, e=4 → 0.1,
        // then the cosine rises again (PyTorch's periodic continuation).
        var c1 = 0.1 + 0.9 * (1 + Math.Sqrt(0.5)) / 2;
        var c3 = 0.1 + 0.9 * (1 - Math.Sqrt(0.5)) / 2;
        ShouldEqual(Sequence(scheduler, 10), 1, c1, 0.55, c3, 0.1, c3, 0.55, c1, 1, c1, 0.55);
        c1.Should().BeApproximately(0.8681980515339464, 1e-15);
    }

    [Fact]
    public void CosineAnnealingLR_WithWarmup_RisesLinearlyThenAnneals()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new CosineAnnealingLR(sgd, tMax: 4, etaMin: 0.1, warmupEpochs: 2, warmupStartFactor: 0.25);
        // Warm-up: 0.25 + 0.75·e/2 → 0.25, 0.625; then the cosine of the previous test shifted by 2 epochs
        // (same as torch's SequentialLR([LinearLR(0.25, total_iters=2), CosineAnnealingLR(4, 0.1)], milestones=[2])).
        var c1 = 0.1 + 0.9 * (1 + Math.Sqrt(0.5)) / 2;
        var c3 = 0.1 + 0.9 * (1 - Math.Sqrt(0.5)) / 2;
        ShouldEqual(Sequence(scheduler, 8), 0.25, 0.625, 1, c1, 0.55, c3, 0.1, c3, 0.55);
    }

    [Fact]
    public void Schedulers_ScaleEachGroupsInitialLearningRate()
    {
        using var scope = Tensors.NewDisposeScope();
        using var adam = new Adam(new[] { new AdamParameterGroup(new[] { Parameter(0) }, 0.1), new AdamParameterGroup(new[] { Parameter(0) }, 0.02) });
        var scheduler = new StepLR(adam, stepSize: 1, gamma: 0.5);
        scheduler.BaseLearningRates.Should().Equal(0.1, 0.02);
        scheduler.Step();
        scheduler.Step();
        adam.ParameterGroups[0].LearningRate.Should().BeApproximately(0.025, 1e-15);
        adam.ParameterGroups[1].LearningRate.Should().BeApproximately(0.005, 1e-15);
    }

    [Fact]
    public void SchedulerState_RoundTrip_ResumesTheSequence()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var original = new CosineAnnealingLR(sgd, tMax: 10, etaMin: 0.01, warmupEpochs: 3);
        for (int i = 0; i < 5; i++) original.Step();
        var state = original.GetState();
        state.Values["last_epoch"].Should().Be(5);

        using var sgd2 = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var resumed = new CosineAnnealingLR(sgd2, tMax: 10, etaMin: 0.01, warmupEpochs: 3);
        resumed.LoadState(state);
        resumed.LastEpoch.Should().Be(5);
        resumed.LastLearningRates.Should().Equal(original.LastLearningRates);
        for (int i = 0; i < 4; i++)
        {
            original.Step();
            resumed.Step();
            sgd2.ParameterGroups[0].LearningRate.Should().Be(sgd.ParameterGroups[0].LearningRate);
        }

        FluentActions.Invoking(() => new StepLR(sgd2, 2).LoadState(state)).Should().Throw<ArgumentException>().WithMessage("*CosineAnnealingLR*StepLR*");
    }

    [Fact]
    public void ReduceLROnPlateau_MinMode_FollowsPyTorch()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new ReduceLROnPlateau(sgd, PlateauMode.Min, factor: 0.5, patience: 2, cooldown: 1, minLearningRate: 0.2);
        var metrics = new[] { 10, 9, 9.5, 9.2, 9.1, 9.0, 8.0, 8.5, 8.6, 8.7, 8.8, 8.9, 9, 9 };
        var lrs = new List<double>();
        foreach (var m in metrics)
        {
            scheduler.Step(m);
            lrs.Add(sgd.ParameterGroups[0].LearningRate);
        }
        // Best 9 at epoch 2; 9.5, 9.2, 9.1 are bad (9.1 is not below 9·(1 − 1e-4)) → 3 > patience 2 → lr 0.5, cooldown 1.
        // 9.0: cooldown (bad count reset); 8.0 new best; 8.5, 8.6, 8.7 bad → 0.25; 8.8 cooldown; 8.9, 9, 9 bad → max(0.125, 0.2) = 0.2.
        lrs.Should().Equal(1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2);
        scheduler.Best.Should().Be(8.0);
        scheduler.LastEpoch.Should().Be(14);
    }

    [Fact]
    public void ReduceLROnPlateau_MaxModeWithAbsoluteThreshold_FollowsPyTorch()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new ReduceLROnPlateau(sgd, PlateauMode.Max, factor: 0.1, patience: 1, threshold: 0.5, thresholdMode: PlateauThresholdMode.Absolute);
        var lrs = new List<double>();
        foreach (var m in new[] { 1, 1.4, 1.6, 1.7, 2.2, 2.3, 2.4 })
        {
            scheduler.Step(m);
            lrs.Add(sgd.ParameterGroups[0].LearningRate);
        }
        // Improvements must exceed best + 0.5: 1 (best), 1.4 bad, 1.6 better, 1.7 bad, 2.2 better (> 2.1), 2.3 bad, 2.4 bad → 0.1.
        lrs.Should().Equal(1, 1, 1, 1, 1, 1, 0.1);
    }

    [Fact]
    public void ReduceLROnPlateau_StateRoundTrip_AndValidation()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new ReduceLROnPlateau(sgd, patience: 1);
        scheduler.Step(5);
        scheduler.Step(6);
        var state = scheduler.GetState();
        var resumed = new ReduceLROnPlateau(sgd, patience: 1);
        resumed.LoadState(state);
        resumed.Best.Should().Be(5);
        resumed.NumBadEpochs.Should().Be(1);
        resumed.Step(7);
        sgd.ParameterGroups[0].LearningRate.Should().BeApproximately(0.1, 1e-15);

        FluentActions.Invoking(() => new ReduceLROnPlateau(sgd, factor: 1.0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*factor*[0, 1)*");
        FluentActions.Invoking(() => new ReduceLROnPlateau(sgd, patience: -1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*patience*");
        FluentActions.Invoking(() => new ReduceLROnPlateau(sgd, minLearningRatesPerGroup: new[] { 0.1, 0.2 })).Should().Throw<ArgumentException>().WithMessage("*1 minimum learning rates*got 2*");
        FluentActions.Invoking(() => new StepLR(sgd, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*stepSize*");
        FluentActions.Invoking(() => new MultiStepLR(sgd, new[] { 0, 3 })).Should().Throw<ArgumentException>().WithMessage("*≥ 1*");
        FluentActions.Invoking(() => new CosineAnnealingLR(sgd, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*tMax*");
        FluentActions.Invoking(() => new CosineAnnealingLR(sgd, 5, warmupEpochs: 2, warmupStartFactor: 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*warmupStartFactor*");
    }

    [Fact]
    public void CosineAnnealingWarmRestarts_RestartsAfterGrowingCycles()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new CosineAnnealingWarmRestarts(sgd, t0: 2, tMult: 2);
        // Cycles of 2, 4 and 8 epochs: restarts at epochs 2 and 6.
        scheduler.CycleAt(1).Should().Be((1L, 2L));
        scheduler.CycleAt(2).Should().Be((0L, 4L));
        scheduler.CycleAt(5).Should().Be((3L, 4L));
        scheduler.CycleAt(6).Should().Be((0L, 8L));
        double H(double t, double T) => (1 + Math.Cos(Math.PI * t / T)) / 2;
        ShouldEqual(Sequence(scheduler, 6), 1, H(1, 2), 1, H(1, 4), H(2, 4), H(3, 4), 1);
        new CosineAnnealingWarmRestarts(sgd, t0: 3).CycleAt(int.MaxValue).Should().Be(((long)int.MaxValue % 3, 3L));
    }

    [Fact]
    public void CosineAnnealingWarmRestarts_FractionalEpochs_SurviveAStateRoundTrip_AndRefuseBadEpochs()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new CosineAnnealingWarmRestarts(sgd, t0: 2, tMult: 2);
        scheduler.CycleAt(5.5).Should().Be((3.5, 4L));
        scheduler.CycleAt(6.0).Should().Be((0.0, 8L));
        scheduler.GetLearningRate(1.0, 2.0).Should().Be(scheduler.GetLearningRate(1.0, 2));
        scheduler.Step(4.25);
        var state = scheduler.GetState();
        state.Values["epoch_fraction"].Should().Be(0.25);

        var restored = new CosineAnnealingWarmRestarts(sgd, t0: 2, tMult: 2);
        restored.LoadState(state);
        restored.LastEpoch.Should().Be(4);
        scheduler.Step();
        restored.Step();
        restored.LastLearningRates[0].Should().Be(scheduler.LastLearningRates[0]).And.Be((1 + Math.Cos(Math.PI * 3.25 / 4)) / 2, "one epoch on from 4.25");

        // A state saved before fractional epochs existed has no fraction: the epoch was whole.
        var whole = new Dictionary<string, double>(state.Values);
        whole.Remove("epoch_fraction");
        restored.LoadState(new SchedulerState(state.SchedulerType, whole));
        restored.Step();
        restored.LastLearningRates[0].Should().Be((1 + Math.Cos(Math.PI * 3 / 4)) / 2);
        whole["epoch_fraction"] = 1.5;
        FluentActions.Invoking(() => restored.LoadState(new SchedulerState(state.SchedulerType, whole)))
            .Should().Throw<ArgumentException>().WithMessage("*epoch_fraction must be in [0, 1)*");
        restored.LastEpoch.Should().Be(5, "a refused state changes nothing");

        foreach (var bad in new[] { -0.5, double.NaN, double.PositiveInfinity, 3e9 })
        {
            FluentActions.Invoking(() => scheduler.Step(bad)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("epoch");
            FluentActions.Invoking(() => scheduler.CycleAt(bad)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("epoch");
        }
        scheduler.LastEpoch.Should().Be(5);
    }

    [Fact]
    public void SequentialLR_HandsOverAtMilestones_AndChecksItsParts()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var warmup = new LinearLR(sgd, startFactor: 0.25, totalIterations: 2);
        var decay = new ExponentialLR(sgd, gamma: 0.5);
        var scheduler = new SequentialLR(sgd, [warmup, decay], [2]);
        ShouldEqual(Sequence(scheduler, 4), 0.25, 0.625, 1, 0.5, 0.25);
        scheduler.PhaseAt(3).Should().Be(((LearningRateScheduler)decay, 1));

        using var other = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        FluentActions.Invoking(() => new SequentialLR(sgd, [warmup, new ExponentialLR(other, 0.5)], [2]))
            .Should().Throw<ArgumentException>().WithMessage("*Schedule 1*another optimizer*");
        FluentActions.Invoking(() => new SequentialLR(sgd, [warmup, decay], [])).Should().Throw<ArgumentException>().WithMessage("*2 schedules need 1 milestones*");
        FluentActions.Invoking(() => new SequentialLR(sgd, [warmup, decay, warmup], [3, 3])).Should().Throw<ArgumentException>().WithMessage("*increasing*");
        FluentActions.Invoking(() => new SequentialLR(sgd, [], [])).Should().Throw<ArgumentException>().WithMessage("*at least one*");
    }

    [Fact]
    public void LambdaLR_RefusesANegativeFactor_NamingTheEpoch()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 0.5);
        var scheduler = new LambdaLR(sgd, e => 1 - 0.5 * e);
        ShouldEqual(Sequence(scheduler, 2), 0.5, 0.25, 0);
        FluentActions.Invoking(scheduler.Step).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*returned -0.5 for epoch 3*");
        sgd.ParameterGroups[0].LearningRate.Should().Be(0, "a refused step changes nothing");
        scheduler.LastEpoch.Should().Be(2);
    }

    [Fact]
    public void PolynomialAndLinearLR_StayAtTheirEndValue()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        ShouldEqual(Sequence(new PolynomialLR(sgd, totalIterations: 2, power: 2), 3), 1, 0.25, 0, 0);
        ShouldEqual(Sequence(new LinearLR(sgd, startFactor: 0.5, endFactor: 0.1, totalIterations: 2), 3), 0.5, 0.3, 0.1, 0.1);
        FluentActions.Invoking(() => new LinearLR(sgd, startFactor: 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*startFactor*");
        FluentActions.Invoking(() => new PolynomialLR(sgd, totalIterations: 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*totalIterations*");
    }

    [Fact]
    public void OneCycleLR_SetsTheInitialRate_CyclesMomentum_AndStopsAtTheEnd()
    {
        using var scope = Tensors.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 123, momentum: 0.5);
        var scheduler = new OneCycleLR(sgd, maxLearningRate: 1.0, totalSteps: 4, warmupFraction: 0.5, annealStrategy: AnnealStrategy.Linear, divFactor: 4, finalDivFactor: 2);
        var group = (SgdParameterGroup)sgd.ParameterGroups[0];
        group.InitialLearningRate.Should().Be(0.25);
        // Phases end at steps 1 and 3: 0.25 → 1 → 0.125, momentum 0.95 → 0.85 → 0.95; step 4 (after the last optimizer step) holds the end.
        ShouldEqual(Sequence(scheduler, 4), 0.25, 1, 1 - 0.875 / 2, 0.125, 0.125);
        group.Momentum.Should().BeApproximately(0.95, 1e-15);
        scheduler.MomentumAt(1).Should().BeApproximately(0.85, 1e-15);
        FluentActions.Invoking(scheduler.Step).Should().Throw<InvalidOperationException>().WithMessage("*stepped 5 times*created for 4 steps*");

        var state = scheduler.GetState();
        using var sgd2 = new Sgd(new[] { Parameter(0) }, learningRate: 123, momentum: 0.5);
        var resumed = new OneCycleLR(sgd2, maxLearningRate: 1.0, totalSteps: 4, warmupFraction: 0.5, annealStrategy: AnnealStrategy.Linear, divFactor: 4, finalDivFactor: 2);
        resumed.LoadState(state);
        resumed.LastEpoch.Should().Be(4);
    }

    [Fact]
    public void OneCycleLR_RefusesWhatItCannotCycle_LeavingTheOptimizerAsItWas()
    {
        using var scope = Tensors.NewDisposeScope();
        using var adagrad = new Adagrad(new[] { Parameter(0) }, learningRate: 0.1);
        FluentActions.Invoking(() => new OneCycleLR(adagrad, 1.0, totalSteps: 10)).Should().Throw<ArgumentException>().WithMessage("*AdagradParameterGroup*no momentum*cycleMomentum: false*");
        adagrad.ParameterGroups[0].InitialLearningRate.Should().Be(0.1);
        new OneCycleLR(adagrad, 1.0, totalSteps: 10, cycleMomentum: false).LastLearningRates[0].Should().BeApproximately(0.04, 1e-15);

        using var adam = new Adam(new[] { Parameter(0) }, learningRate: 0.1);
        FluentActions.Invoking(() => new OneCycleLR(adam, 1.0, totalSteps: 10, maxMomentum: 1.0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*β1*below 1*");
        FluentActions.Invoking(() => new OneCycleLR(adam, [1.0, 2.0], totalSteps: 10)).Should().Throw<ArgumentException>().WithMessage("*1 parameter groups but 2 maximum*");
        FluentActions.Invoking(() => new OneCycleLR(adam, 1.0, totalSteps: 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*totalSteps*");
        FluentActions.Invoking(() => new OneCycleLR(adam, 1.0, totalSteps: 10, warmupFraction: 1.5)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*warmupFraction*");
        adam.ParameterGroups[0].InitialLearningRate.Should().Be(0.1);
        ((AdamParameterGroup)adam.ParameterGroups[0]).Beta1.Should().Be(0.9);

        // A warm-up of exactly one step: PyTorch divides by zero there; here the phase is at its end value.
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 0.1, momentum: 0.9);
        new OneCycleLR(sgd, 1.0, totalSteps: 10, warmupFraction: 0.1).LastLearningRates[0].Should().Be(1.0);
    }
}
