using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using Net = MedVision.Torch.Tests.Optim.WeightAverageNet;

namespace MedVision.Torch.Tests.Optim;

public class StochasticWeightAverageTests
{
    private static void Fill(Net net, float value)
    {
        using var noGrad = Tensors.NoGrad();
        net.Fc.Weight.FillInPlace(value);
    }

    [Fact]
    public void Update_IsTheRunningMeanOfTheSnapshots_StartingAtTheFirstUpdate()
    {
        using var net = new Net();
        using var swa = new StochasticWeightAverage(net);
        Fill(net, 100); // the weights at construction are not part of the average
        using var scope = Tensors.NewDisposeScope();
        foreach (var (value, mean) in new[] { (2f, 2f), (4f, 3f), (9f, 5f) })
        {
            Fill(net, value);
            swa.Update(net);
            WeightAverageNet.Values(swa.StateDict["fc.weight"]).Should().AllBeEquivalentTo(mean);
        }
        swa.Updates.Should().Be(3);
        swa.StateDict.Keys.Should().BeEquivalentTo("fc.weight", "fc.bias", "bn.weight", "bn.bias");
        swa.ToString().Should().Contain("3 updates").And.Contain("parameters");
    }

    [Fact]
    public void WithoutAnUpdate_TheAverageCannotBeUsed()
    {
        using var net = new Net();
        using var swa = new StochasticWeightAverage(net);
        var act = () => swa.CopyTo(net);
        act.Should().Throw<InvalidOperationException>().WithMessage("*Update*");
        var apply = () => swa.ApplyTo(net);
        apply.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void CopyTo_SetsParametersOnly_UnlessBuffersAreAveraged()
    {
        using var net = new Net();
        using var scope = Tensors.NewDisposeScope();
        using var parametersOnly = new StochasticWeightAverage(net);
        using var withBuffers = new StochasticWeightAverage(net, includeBuffers: true);
        withBuffers.StateDict.Keys.Should().Contain(["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]);
        Fill(net, 3);
        using (Tensors.NoGrad()) net.Bn.RunningMean!.FillInPlace(5);
        parametersOnly.Update(net);
        withBuffers.Update(net);
        Fill(net, 0);
        using (Tensors.NoGrad()) net.Bn.RunningMean!.FillInPlace(-1);

        parametersOnly.CopyTo(net);
        WeightAverageNet.Values(net.Fc.Weight).Should().AllBeEquivalentTo(3f);
        WeightAverageNet.Values(net.Bn.RunningMean!).Should().AllBeEquivalentTo(-1f, "buffers are not part of a parameters-only average");
        withBuffers.CopyTo(net);
        WeightAverageNet.Values(net.Bn.RunningMean!).Should().AllBeEquivalentTo(5f);
    }

    [Fact]
    public void ApplyTo_RestoresWeightsAndRecomputedStatistics()
    {
        Tensors.ManualSeed(3);
        using var net = new Net();
        using var scope = Tensors.NewDisposeScope();
        using var swa = new StochasticWeightAverage(net);
        Fill(net, 2);
        swa.Update(net);
        Fill(net, 7);
        var meanBefore = WeightAverageNet.Values(net.Bn.RunningMean!);
        var batches = new[] { Tensors.Randn(8, 2) * 3 + 1, Tensors.Randn(8, 2) };
        using (swa.ApplyTo(net))
        {
            WeightAverageNet.Values(net.Fc.Weight).Should().AllBeEquivalentTo(2f);
            StochasticWeightAverage.UpdateBatchNorm(net, batches).Should().Be(2);
            WeightAverageNet.Values(net.Bn.RunningMean!).Should().NotEqual(meanBefore);
            net.Bn.NumBatchesTracked!.Item<long>().Should().Be(2);
        }
        WeightAverageNet.Values(net.Fc.Weight).Should().AllBeEquivalentTo(7f);
        WeightAverageNet.Values(net.Bn.RunningMean!).Should().Equal(meanBefore);
    }

    [Fact]
    public void AnotherModel_IsAClearError()
    {
        using var net = new Net();
        using var other = new Linear(2, 3);
        using var swa = new StochasticWeightAverage(net);
        var act = () => swa.Update(other);
        act.Should().Throw<ArgumentException>().WithMessage("*missing [fc.weight*");
    }

    [Fact]
    public void LoadState_ContinuesTheAverage()
    {
        using var net = new Net();
        using var scope = Tensors.NewDisposeScope();
        using var first = new StochasticWeightAverage(net);
        Fill(net, 2);
        first.Update(net);
        Fill(net, 4);
        first.Update(net);

        using var resumed = new StochasticWeightAverage(net);
        resumed.LoadState(first.StateDict, first.Updates);
        Fill(net, 9);
        first.Update(net);
        resumed.Update(net);
        WeightAverageNet.Values(resumed.StateDict["fc.weight"]).Should().Equal(WeightAverageNet.Values(first.StateDict["fc.weight"]));
        WeightAverageNet.Values(resumed.StateDict["fc.weight"]).Should().AllBeEquivalentTo(5f);
    }

    [Fact]
    public void UpdateBatchNorm_WithoutBatchNorm_RunsNothing()
    {
        using var net = new Sequential(new Linear(2, 2), new ReLU());
        int calls = 0;
        StochasticWeightAverage.UpdateBatchNorm(net, new[] { 1, 2 }, _ => calls++).Should().Be(0);
        calls.Should().Be(0);
    }

    [Fact]
    public void UpdateBatchNorm_ThatFails_LeavesTheStatisticsMomentumAndModeAsTheyWere()
    {
        using var net = new Net();
        using var scope = Tensors.NewDisposeScope();
        using (Tensors.NoGrad()) net.Bn.RunningVar!.FillInPlace(4);
        net.Eval();
        var good = Tensors.Randn(4, 2);

        var empty = () => StochasticWeightAverage.UpdateBatchNorm(net, Array.Empty<Tensor>());
        empty.Should().Throw<ArgumentException>().WithMessage("*no batches*");
        var bad = () => StochasticWeightAverage.UpdateBatchNorm(net, new[] { good, Tensors.Randn(4, 3) });
        bad.Should().Throw<Exception>().WithMessage("*shapes cannot be multiplied*");

        WeightAverageNet.Values(net.Bn.RunningVar!).Should().AllBeEquivalentTo(4f);
        net.Bn.NumBatchesTracked!.Item<long>().Should().Be(0);
        net.Bn.Momentum.Should().Be(0.1);
        net.Training.Should().BeFalse();
    }

    [Fact]
    public void BatchNormMomentum_IsSettable_WithinItsRange()
    {
        using var bn = new BatchNorm2d(3);
        bn.Momentum = null;
        bn.ToString().Should().Contain("momentum=None");
        bn.Momentum = 0.5;
        var act = () => bn.Momentum = 1.5;
        act.Should().Throw<ArgumentOutOfRangeException>();
        var nan = () => bn.Momentum = double.NaN;
        nan.Should().Throw<ArgumentOutOfRangeException>();
        bn.Momentum.Should().Be(0.5);
    }
}
