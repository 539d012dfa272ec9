using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Tests;

[Collection(MedVision.Torch.Tests.Support.SerialCollection.Name)]
public class TensorBasicsTests
{
    [Fact]
    public void FromArray_RoundTripsValuesShapeAndType()
    {
        using var t = Tensors.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        t.Shape.Should().Equal(2, 3);
        t.ScalarType.Should().Be(ScalarType.Float32);
        t.Device.Should().Be(Device.Cpu);
        t.ToArray<float>().Should().Equal(1, 2, 3, 4, 5, 6);
    }

    [Fact]
    public void Arithmetic_MatchesHandComputation()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Tensors.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2);
        var b = Tensors.FromArray(new float[] { 10, 20, 30, 40 }, 2, 2);
        ((a + b) * 2 - 1).ToArray<float>().Should().Equal(21, 43, 65, 87);
        a.MatMul(b).ToArray<float>().Should().Equal(1 * 10 + 2 * 30, 1 * 20 + 2 * 40, 3 * 10 + 4 * 30, 3 * 20 + 4 * 40);
        a.Sum().Item().Should().Be(10);
        a.Mean(1).ToArray<float>().Should().Equal(1.5f, 3.5f);
    }

    [Fact]
    public void Backward_ComputesGradient()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(new float[] { 1, 2, 3 }).RequiresGradInPlace();
        var y = (x * x).Sum();
        y.Backward();
        x.Grad!.ToArray<float>().Should().Equal(2, 4, 6);
    }

    [Fact]
    public void Conv2d_ForwardAndBackwardRun()
    {
        using var scope = Tensors.NewDisposeScope();
        using var conv = new Conv2d(3, 8, 3, padding: 1);
        var x = Tensors.Randn(2, 3, 8, 8);
        var y = conv.Call(x);
        y.Shape.Should().Equal(2, 8, 8, 8);
        y.Sum().Backward();
        conv.Weight.Grad!.Shape.Should().Equal(8, 3, 3, 3);
    }

    [Fact]
    public void IntegerTensors_TakeIntegralScalarsInPlaceAndOutOfPlace()
    {
        using var scope = Tensors.NewDisposeScope();
        var counter = Tensors.Zeros(System.Array.Empty<long>(), ScalarType.Int64);
        counter.AddInPlace(1).AddInPlace(2);
        counter.Item<long>().Should().Be(3);
        var t = Tensors.Arange(4) * 3 + 1;
        t.ScalarType.Should().Be(ScalarType.Int64);
        t.ToArray<long>().Should().Equal(1, 4, 7, 10);
        (Tensors.Arange(4) * 0.5).ToArray<float>().Should().Equal(0f, 0.5f, 1f, 1.5f);
    }

    [Fact]
    public void Summary_RunsInEvalModeAndLeavesRunningStatisticsAlone()
    {
        using var model = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new ReLU());
        model.Training.Should().BeTrue();
        var summary = ModelSummary.Create(model, 1, 1, 6, 6);
        summary.Rows.Select(r => r.TypeName).Should().Equal("Sequential", "Conv2d", "BatchNorm2d", "ReLU");
        summary.Rows[1].OutputShape.Should().Equal(1, 2, 4, 4);
        summary.TotalParameters.Should().Be(2 * 9 + 2 + 2 + 2);
        model.Training.Should().BeTrue();
        var bn = (BatchNorm2d)model[1];
        bn.NumBatchesTracked!.Item<long>().Should().Be(0);
    }
}
