using MedVision.Nets.Blocks;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Models;


public class ResidualBlockTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void BasicBlock_HalvesTheSizeWithStrideTwoAndProjects(int spatialDims)
    {
        using var block = new BasicBlock(spatialDims, 4, 8, stride: 2);
        block.StateDict().Keys.Should().Equal(ExpectedKeys("conv1", "bn1", "conv2", "bn2").Concat(new[] { "downsample.0.weight" }).Concat(Bn("downsample.1")));
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(spatialDims == 2 ? new long[] { 2, 4, 8, 8 } : new long[] { 2, 4, 8, 8, 8 });
        var y = block.Call(x);
        y.Shape.Should().Equal(spatialDims == 2 ? new long[] { 2, 8, 4, 4 } : new long[] { 2, 8, 4, 4, 4 });
        y.Min().Item().Should().BeGreaterThanOrEqualTo(0, because: "the block ends with a ReLU");
    }

    [Fact]
    public void BasicBlock_KeepsTheIdentityShortcutWhenNothingChanges()
    {
        using var block = new BasicBlock(2, 8, 8);
        block.Downsample.Should().BeNull();
        block.OutChannels.Should().Be(8);
        block.LastNorm.Should().BeSameAs(block.NamedChildren().Single(c => c.Name == "bn2").Module);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Bottleneck_PutsTheStrideOnTheThreeByThreeConvolution(int spatialDims)
    {
        using var block = new Bottleneck(spatialDims, 16, 4, stride: 2);
        var convs = block.NamedChildren().Where(c => c.Module is Convolution).ToDictionary(c => c.Name, c => (Convolution)c.Module);
        convs["conv1"].Stride.Should().Equal(Enumerable.Repeat(1L, spatialDims));
        convs["conv1"].KernelSize.Should().Equal(Enumerable.Repeat(1L, spatialDims));
        convs["conv2"].Stride.Should().Equal(Enumerable.Repeat(2L, spatialDims));
        convs["conv2"].KernelSize.Should().Equal(Enumerable.Repeat(3L, spatialDims));
        convs["conv3"].OutChannels.Should().Be(4 * Bottleneck.Expansion);
        block.Downsample.Should().NotBeNull();
        block.StateDict().Keys.Should().Equal(ExpectedKeys("conv1", "bn1", "conv2", "bn2", "conv3", "bn3").Concat(new[] { "downsample.0.weight" }).Concat(Bn("downsample.1")));
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(spatialDims == 2 ? new long[] { 1, 16, 8, 8 } : new long[] { 1, 16, 8, 8, 8 });
        block.Call(x).Shape.Should().Equal(spatialDims == 2 ? new long[] { 1, 16, 4, 4 } : new long[] { 1, 16, 4, 4, 4 });
    }

    [Fact]
    public void Blocks_RejectOtherSpatialDimensions()
    {
        FluentActions.Invoking(() => new BasicBlock(1, 4, 4)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("spatialDims");
        FluentActions.Invoking(() => ResidualBlock.Create(ResidualBlockKind.Bottleneck, 4, 4, 4)).Should().Throw<ArgumentOutOfRangeException>();
        ResidualBlock.ExpansionOf(ResidualBlockKind.Basic).Should().Be(1);
        ResidualBlock.ExpansionOf(ResidualBlockKind.Bottleneck).Should().Be(4);
    }

    [Fact]
    public void GeneratorResidualBlock_AddsItsBranchToTheInput()
    {
        using var block = new GeneratorResidualBlock(3, 4, NormalizationKind.Batch);
        using (Tensors.NoGrad())
        {
            // Zero scale on the last norm: the branch contributes exactly nothing.
            var weight = block.StateDict()["norm2.weight"];
            weight.ZeroInPlace();
        }
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(2, 4, 4, 4, 4);
        block.Call(x).AllClose(x, atol: 1e-6).Should().BeTrue();
    }

    private static IEnumerable<string> ExpectedKeys(params string[] layers)
        => layers.SelectMany(l => l.StartsWith("conv", StringComparison.Ordinal) ? new[] { $"{l}.weight" } : Bn(l));

    private static IEnumerable<string> Bn(string prefix)
        => new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }.Select(s => $"{prefix}.{s}");
}
