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
        using var scope = Torch.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new StepLR(sgd, stepSize: 3, gamma: 0.5);
        ShouldEqual(Sequence(scheduler, 8), 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25);
        scheduler.LastEpoch.Should().Be(8);
    }

    [Fact]
    public void MultiStepLR_DecaysAtMilestones_CountingRepeatedOnesTwice()
    {
        using var scope = Torch.NewDisposeScope();
        using var sgd = new Sgd(new[] { Parameter(0) }, learningRate: 1.0);
        var scheduler = new MultiStepLR(sgd, new[] { 5, 2, 5 }, gamma: 0.1);
        scheduler.Milestones.Should().Equal(2, 5, 5);
        ShouldEqual(Sequence(scheduler, 7), 1, 1, 0.1, 0.1, 0.1, 0.001, 0.001, 0.001);
    }

    [Fact]
    public void CosineAnnealingLR_MatchesPyTorchClosedForm()
    {
        using var scope = Torch.NewDisposeScope();
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
        using var scope = Torch.NewDisposeScope();
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
        using var scope = Torch.NewDisposeScope();
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
        using var scope = Torch.NewDisposeScope();
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
        using var scope = Torch.NewDisposeScope();
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
        using var scope = Torch.NewDisposeScope();
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
        using var scope = Torch.NewDisposeScope();
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
}
