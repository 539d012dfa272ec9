using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Tests.Nn;

/// <summary>
/// A layer constructor that refuses its arguments allocates nothing that outlives it: the caller never gets the object,
/// so it could never dispose it. Found by the layer fuzzer (tests/FormatFuzzer layers): BatchNorm and InstanceNorm
/// checked momentum (and InstanceNorm its spatial dimensions) after the base class had registered their tensors.
/// </summary>
[Collection(NativeMemoryCollection.Name)]
public class LayerConstructorTests
{
    public static IEnumerable<object[]> Refused() => new[]
    {
        new object[] { "BatchNorm2d momentum 2", (Func<Module>)(() => new BatchNorm2d(3, momentum: 2)), "momentum" },
        new object[] { "BatchNorm1d momentum NaN", (Func<Module>)(() => new BatchNorm1d(3, momentum: double.NaN)), "momentum" },
        new object[] { "InstanceNorm2d momentum -1", (Func<Module>)(() => new InstanceNorm2d(3, momentum: -1, affine: true, trackRunningStats: true)), "momentum" },
        new object[] { "InstanceNorm with 5 spatial dims", (Func<Module>)(() => new InstanceNorm(5, 3, affine: true, trackRunningStats: true)), "spatialDims" },
        new object[] { "BatchNorm3d eps NaN", (Func<Module>)(() => new BatchNorm3d(3, eps: double.NaN)), "eps" },
        new object[] { "GroupNorm eps NaN", (Func<Module>)(() => new GroupNorm(1, 3, eps: double.NaN)), "eps" },
        new object[] { "LayerNorm eps infinite", (Func<Module>)(() => new LayerNorm(3, eps: double.PositiveInfinity)), "eps" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void RefusedArguments_ThrowNamingTheParameter_AndLeaveNoTensorBehind(string name, Func<Module> create, string parameter)
    {
        long before = Tensors.LiveTensors;
        var act = () => create();
        act.Should().Throw<ArgumentOutOfRangeException>(name).Which.ParamName.Should().Be(parameter);
        Tensors.LiveTensors.Should().Be(before, $"{name} must not leave tensors that nobody can dispose");
    }

    [Fact]
    public void TheSameLayers_WithValidArguments_RegisterTheirTensors_AndDisposeThem()
    {
        long before = Tensors.LiveTensors;
        using (var bn = new BatchNorm2d(3, momentum: null))
        using (var inorm = new InstanceNorm(3, 3, affine: true, trackRunningStats: true))
        {
            bn.Momentum.Should().BeNull();
            inorm.TypeName.Should().Be("InstanceNorm3d");
            Tensors.LiveTensors.Should().Be(before + 10); // weight, bias, running mean and var, batches tracked: twice
        }
        Tensors.LiveTensors.Should().Be(before);
    }

    /// <summary>A layer whose second allocation fails, as an out-of-memory bias after a weight that fitted would.</summary>
    private sealed class FailsAfterItsWeight : Module
    {
        public FailsAfterItsWeight() => DisposeIfThrows(() =>
        {
            RegisterParameter("weight", Tensors.Ones(new long[] { 4, 4 }));
            RegisterBuffer("running", Tensors.Zeros(new long[] { 4 }));
            throw new InsufficientExecutionStackException("simulated allocation failure");
        });
    }

    [Fact]
    public void AConstructorFailingAfterItsFirstTensors_DisposesThem_BeforeTheExceptionLeaves()
    {
        // Linear, the convolutions, GroupNorm, LayerNorm, the norm layers and CoralHead register their tensors this way.
        Tensors.CollectUnreachable(); // garbage of earlier tests must not be finalized during the count
        long before = Tensors.LiveTensors;
        var act = () => new FailsAfterItsWeight();
        act.Should().Throw<InsufficientExecutionStackException>().WithMessage("simulated allocation failure");
        Tensors.LiveTensors.Should().Be(before, "the weight and the buffer registered before the failure are freed at once, not by a finalizer");
    }
}
