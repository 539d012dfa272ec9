using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Tests.Tensors;

[Collection(MedVision.Torch.Tests.Support.SerialCollection.Name)]
public class TensorBasicsTests
{
    [Fact]
    public void FromArray_RoundTripsValuesShapeAndType()
    {
        using var t = Torch.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        t.Shape.Should().Equal(2, 3);
        t.ScalarType.Should().Be(ScalarType.Float32);
        t.Device.Should().Be(Device.Cpu);
        t.ToArray<float>().Should().Equal(1, 2, 3, 4, 5, 6);
    }

    [Fact]
    public void Arithmetic_MatchesHandComputation()
    {
        using var scope = Torch.NewDisposeScope();
        var a = Torch.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2);
        var b = Torch.FromArray(new float[] { 10, 20, 30, 40 }, 2, 2);
        ((a + b) * 2 - 1).ToArray<float>().Should().Equal(21, 43, 65, 87);
        a.MatMul(b).ToArray<float>().Should().Equal(1 * 10 + 2 * 30, 1 * 20 + 2 * 40, 3 * 10 + 4 * 30, 3 * 20 + 4 * 40);
        a.Sum().Item().Should().Be(10);
        a.Mean(1).ToArray<float>().Should().Equal(1.5f, 3.5f);
    }

    [Fact]
    public void Backward_ComputesGradient()
    {
        using var scope = Torch.NewDisposeScope();
        var x = Torch.FromArray(new float[] { 1, 2, 3 }).RequiresGradInPlace();
        var y = (x * x).Sum();
        y.Backward();
        x.Grad!.ToArray<float>().Should().Equal(2, 4, 6);
    }

    [Fact]
    public void Scope_DisposesIntermediates()
    {
        var before = Torch.LiveTensors;
        Tensor kept;
        using (var scope = Torch.NewDisposeScope())
        {
            var a = Torch.Ones(3, 3);
            var b = a * 2 + 1;
            kept = scope.MoveToOuter(b.Relu());
        }
        Torch.LiveTensors.Should().Be(before + 1);
        kept.ToArray<float>().Should().AllBeEquivalentTo(3f);
        kept.Dispose();
        Torch.LiveTensors.Should().Be(before);
    }

    [Fact]
    public void Conv2d_ForwardAndBackwardRun()
    {
        using var scope = Torch.NewDisposeScope();
        using var conv = new Conv2d(3, 8, 3, padding: 1);
        var x = Torch.Randn(2, 3, 8, 8);
        var y = conv.Call(x);
        y.Shape.Should().Equal(2, 8, 8, 8);
        y.Sum().Backward();
        conv.Weight.Grad!.Shape.Should().Equal(8, 3, 3, 3);
    }
}
