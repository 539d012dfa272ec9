using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Models;

/// <summary>
/// A model whose construction fails frees what it had built: the caller never gets the object, so it could never
/// dispose it. Found by the model fuzzer (tests/FormatFuzzer models): a ResNet with a huge stage width ran out of
/// memory after building the stem and the earlier stages, and left dozens of tensors to the finalizer; a stage of
/// int.MaxValue blocks failed with OutOfMemoryException ("Array dimensions exceeded supported range").
/// </summary>
[Collection(NativeMemoryCollection.Name)]
public class ModelConstructionTests
{
    [Theory]
    [InlineData(false)] // the fourth stage's first block fails
    [InlineData(true)] // bottlenecks
    public void AResNetThatRunsOutOfMemory_FreesEveryTensorItHadBuilt(bool bottleneck)
    {
        long before = Tensors.LiveTensors;
        var builder = ResNet.Builder().ForInput(1).WithSmallInputStem().WithClasses(2)
            .WithBlocks(bottleneck ? Blocks.ResidualBlockKind.Bottleneck : Blocks.ResidualBlockKind.Basic, 2, 2, 1)
            .WithWidths(4, 8, int.MaxValue); // a 3×3 convolution of 8 → 2^31 − 1 channels: terabytes
        var act = () => builder.Build();
        act.Should().Throw<TorchOutOfMemoryException>();
        Tensors.LiveTensors.Should().Be(before);
    }

    [Fact]
    public void AStageOfMoreBlocksThanAnyResNetHas_IsRefusedByName()
    {
        var act = () => ResNet.Builder().WithBlocks(Blocks.ResidualBlockKind.Basic, 2, int.MaxValue).WithWidths(4, 8).Build();
        act.Should().Throw<ArgumentException>().WithMessage("At most 1000 blocks per stage, got [2, 2147483647].*").Which.ParamName.Should().Be("Layers");
        using var deep = ResNet.Builder().ForInput(1).WithSmallInputStem().WithClasses(2)
            .WithBlocks(Blocks.ResidualBlockKind.Basic, 1, ResNetOptions.MaxBlocksPerStage).WithWidths(2, 2).Build();
        deep.Stages[1].Count.Should().Be(1000);
    }

    [Fact]
    public void AnMdmRefusingItsVolumeSize_LeavesNoTensorBehind()
    {
        // A realistic mistake (28³ volumes are too small for the four pools): the size was checked after the feature
        // layers had been built and registered, which left them to the finalizer.
        long before = Tensors.LiveTensors;
        var act = () => new Mdm(new long[] { 28, 40, 40 });
        act.Should().Throw<ArgumentException>().WithMessage("Every volume size must be at least 33*");
        Tensors.LiveTensors.Should().Be(before);
        var huge = () => new Mdm(new long[] { 1L << 40, 1L << 40, 64 });
        huge.Should().Throw<ArgumentException>().WithMessage("The volume size [1099511627776, 1099511627776, 64] is too large*");
        var tooBigToAllocate = () => new Mdm(new long[] { 1L << 20, 1L << 20, 64 }); // a classifier of 2^38 weights (1 TiB)
        tooBigToAllocate.Should().Throw<TorchOutOfMemoryException>();
        Tensors.LiveTensors.Should().Be(before);
    }

    [Fact]
    public void MtcsnnIsmAndCdsf_FreeWhatTheyBuilt_WhenConstructionFails()
    {
        long before = Tensors.LiveTensors;
        // The backbone builds; its classifier of 1,024 × (2^31 − 1) weights (8 TiB) cannot be allocated anywhere.
        var mtcsnn = () => Mtcsnn.Builder().WithBackbone(b => b.ForInput(3).WithSmallInputStem().WithBlocks(Blocks.ResidualBlockKind.Basic, 1, 1).WithWidths(4, 1024))
            .WithClasses(int.MaxValue).Build();
        mtcsnn.Should().Throw<TorchOutOfMemoryException>();
        Tensors.LiveTensors.Should().Be(before);
        var ism = () => new Ism(residualBlocks: int.MaxValue);
        ism.Should().Throw<ArgumentException>().WithMessage("Between 1 and 1000 residual blocks are needed, got 2147483647.*");
        Tensors.LiveTensors.Should().Be(before);
    }
}
