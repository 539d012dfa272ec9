using MedVision.Torch;
using MedVision.Torch.Optim;

namespace MedVision.Torch.Tests.Optim;

public class SwaLRTests
{
    [Fact]
    public void StartsFromTheCurrentRate_NotTheInitialOne()
    {
        using var scope = Tensors.NewDisposeScope();
        var w = Tensors.Zeros(2).RequiresGradInPlace();
        using var sgd = new Sgd([w], learningRate: 0.1);
        var cosine = new CosineAnnealingLR(sgd, tMax: 4);
        cosine.Step();
        cosine.Step(); // lr 0.05
        var swa = new SwaLR(sgd, swaLearningRate: 0.01, annealEpochs: 2, annealStrategy: AnnealStrategy.Linear);
        swa.BaseLearningRates[0].Should().BeApproximately(0.05, 1e-15);
        sgd.ParameterGroups[0].LearningRate.Should().BeApproximately(0.05, 1e-15);
        swa.Step();
        sgd.ParameterGroups[0].LearningRate.Should().BeApproximately(0.03, 1e-15);
        swa.Step();
        swa.Step();
        sgd.ParameterGroups[0].LearningRate.Should().BeApproximately(0.01, 1e-15);
    }

    [Fact]
    public void RestoredState_ContinuesExactly()
    {
        using var scope = Tensors.NewDisposeScope();
        var w = Tensors.Zeros(2).RequiresGradInPlace();
        using var sgd = new Sgd([w], learningRate: 0.2);
        var first = new SwaLR(sgd, swaLearningRate: 0.02, annealEpochs: 5);
        first.Step();
        first.Step();
        var state = first.GetState();
        first.Step();
        var expected = sgd.ParameterGroups[0].LearningRate;

        using var other = new Sgd([w], learningRate: 0.9);
        var resumed = new SwaLR(other, swaLearningRate: 0.02, annealEpochs: 5);
        resumed.LoadState(state);
        resumed.Step();
        other.ParameterGroups[0].LearningRate.Should().Be(expected);
    }

    [Fact]
    public void BadArguments_AreClearErrors()
    {
        using var scope = Tensors.NewDisposeScope();
        var w = Tensors.Zeros(2).RequiresGradInPlace();
        using var sgd = new Sgd([w], learningRate: 0.2);
        FluentActions.Invoking(() => new SwaLR(sgd, [0.1, 0.2])).Should().Throw<ArgumentException>().WithMessage("*1 SWA learning rates*got 2*");
        FluentActions.Invoking(() => new SwaLR(sgd, -0.1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SwaLR(sgd, double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SwaLR(sgd, 0.1, annealEpochs: -1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SwaLR(sgd, 0.1, annealStrategy: (AnnealStrategy)7)).Should().Throw<ArgumentOutOfRangeException>();
        sgd.ParameterGroups[0].LearningRate.Should().Be(0.2, "a rejected scheduler changes nothing");
    }
}
