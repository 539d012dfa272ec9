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
}
