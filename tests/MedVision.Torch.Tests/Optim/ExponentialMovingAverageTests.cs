using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using Net = MedVision.Torch.Tests.Optim.WeightAverageNet;

namespace MedVision.Torch.Tests.Optim;

public class ExponentialMovingAverageTests
{
    [Fact]
    public void Update_MovesFloatEntriesByOneMinusDecay_AndCopiesIntegerOnes()
    {
        using var net = new Net();
        var w0 = WeightAverageNet.Values(net.Fc.Weight);
        using var ema = new ExponentialMovingAverage(net, decay: 0.75);
        using (var scope = Tensors.NewDisposeScope())
        using (Tensors.NoGrad())
        {
            net.Fc.Weight.FillInPlace(1);
            net.Train();
            net.Call(Tensors.Randn(4, 2)); // batch norm: running statistics change, num_batches_tracked becomes 1
        }
        ema.Update(net);
        ema.Updates.Should().Be(1);
        WeightAverageNet.Values(ema.StateDict["fc.weight"]).Should().Equal(w0.Select(w => (0.75f * w) + 0.25f), (a, e) => Math.Abs(a - e) < 1e-6);
        var runningMean = WeightAverageNet.Values(net.StateDict()["bn.running_mean"]);
        WeightAverageNet.Values(ema.StateDict["bn.running_mean"]).Should().Equal(runningMean.Select(m => 0.25f * m), (a, e) => Math.Abs(a - e) < 1e-6, "buffers are averaged too (from 0)");
        ema.StateDict["bn.num_batches_tracked"].Item<long>().Should().Be(1, "integer entries are copied");

        ema.Update(net);
        WeightAverageNet.Values(ema.StateDict["fc.weight"]).Should().Equal(w0.Select(w => (0.5625f * w) + 0.4375f), (a, e) => Math.Abs(a - e) < 1e-6);
    }

    [Fact]
    public void Warmup_DecaysTheFirstUpdatesBy_OnePlusNOverTenPlusN_AsTensorFlowsNumUpdates()
    {
        using var net = new Net();
        var w0 = WeightAverageNet.Values(net.Fc.Weight);
        using var ema = new ExponentialMovingAverage(net, decay: 0.5, warmup: true);
        ema.Warmup.Should().BeTrue();
        ema.DecayAt(0).Should().Be(0.1);
        ema.DecayAt(1).Should().Be(2.0 / 11);
        ema.DecayAt(8).Should().Be(0.5, "(1 + 8) / (10 + 8) = 0.5 reaches the decay");
        ema.DecayAt(1000).Should().Be(0.5);
        using (var plain = new ExponentialMovingAverage(net, decay: 0.5)) plain.DecayAt(0).Should().Be(0.5, "without warm-up every update has the decay");
        FluentActions.Invoking(() => ema.DecayAt(-1)).Should().Throw<ArgumentOutOfRangeException>();
        using (Tensors.NoGrad()) net.Fc.Weight.FillInPlace(1);
        ema.Update(net);
        ema.Update(net);
        // 0.1 of the start kept by the first update, then 2/11 of that by the second.
        double kept = 0.1 * 2 / 11;
        WeightAverageNet.Values(ema.StateDict["fc.weight"]).Should().Equal(w0.Select(w => (float)(kept * w + (1 - kept))), (a, e) => Math.Abs(a - e) < 1e-6);
        ema.ToString().Should().Contain("decay 0.5, warm-up, 2 updates");
    }

    [Fact]
    public void ApplyTo_SwapsTheAverageIn_AndRestoresTheModel()
    {
        using var net = new Net();
        using var ema = new ExponentialMovingAverage(net, decay: 0.5);
        var original = WeightAverageNet.Values(net.Fc.Weight);
        using (Tensors.NoGrad()) net.Fc.Weight.FillInPlace(3);
        ema.Update(net);
        using (ema.ApplyTo(net))
            WeightAverageNet.Values(net.Fc.Weight).Should().Equal(original.Select(w => (0.5f * w) + 1.5f), (a, e) => Math.Abs(a - e) < 1e-6);
        WeightAverageNet.Values(net.Fc.Weight).Should().OnlyContain(w => w == 3f);

        using var other = new Net();
        ema.CopyTo(other);
        WeightAverageNet.Values(other.Fc.Weight).Should().Equal(WeightAverageNet.Values(ema.StateDict["fc.weight"]));
        using var fresh = new ExponentialMovingAverage(other, decay: 0.5);
        fresh.LoadState(ema.StateDict, ema.Updates);
        fresh.Updates.Should().Be(1);
        WeightAverageNet.Values(fresh.StateDict["fc.bias"]).Should().Equal(WeightAverageNet.Values(ema.StateDict["fc.bias"]));
    }

    [Fact]
    public void BadUse_GetsClearExceptions()
    {
        using var net = new Net();
        using var linear = new Linear(2, 3);
        FluentActions.Invoking(() => new ExponentialMovingAverage(net, decay: 1)).Should().Throw<ArgumentOutOfRangeException>();
        var ema = new ExponentialMovingAverage(net);
        FluentActions.Invoking(() => ema.Update(linear)).Should().Throw<ArgumentException>().WithMessage("*missing [fc.weight*unexpected [weight, bias]*");
        ema.Dispose();
        FluentActions.Invoking(() => ema.Update(net)).Should().Throw<ObjectDisposedException>();
    }
}
