using MedVision.Torch;

namespace MedVision.Torch.Tests.TensorOps;

/// <summary>The indexing and statistics ops beyond their PyTorch reference cases (OpReferenceTests): what they refuse, and how.</summary>
public class IndexingOpsTests
{
    [Fact]
    public void BadArguments_AreRefusedByName()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Tensors.Randn(3, 4);
        FluentActions.Invoking(() => a.Roll([1, 2], [0])).Should().Throw<ArgumentException>().WithMessage("*2 shifts for 1 dimensions*").Which.ParamName.Should().Be("dims");
        FluentActions.Invoking(() => a.Roll([1, 2])).Should().Throw<ArgumentException>().WithMessage("*Without dimensions, Roll takes one shift*");
        FluentActions.Invoking(() => a.Roll([])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("shifts");
        FluentActions.Invoking(() => a.Quantile(1.5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("q");
        FluentActions.Invoking(() => a.Quantile(0.5, interpolation: (QuantileInterpolation)9)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => a.Logit(eps: 0.7)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eps");
        FluentActions.Invoking(() => a.Unfold(0, 2, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("step");
        FluentActions.Invoking(() => a.ScatterReduce(0, a, a, (ScatterReduction)7)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => Tensors.Eye(-1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("n");
        FluentActions.Invoking(() => Tensors.Cdist(a, a, double.NaN)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("p");
        FluentActions.Invoking(() => Tensors.Einsum("ij,jk->ik")).Should().Throw<ArgumentException>().WithMessage("*at least one operand*");
        // What only libtorch can judge comes back as a TorchException with its message, not a crash.
        FluentActions.Invoking(() => Tensors.Einsum("ij,jk->ik", a, a)).Should().Throw<TorchException>();
        FluentActions.Invoking(() => a.Bincount()).Should().Throw<InvalidOperationException>().WithMessage("*1-D integer tensor, not Float32 [3, 4]*");
        FluentActions.Invoking(() => Tensors.FromArray(new long[] { 1, -1 }).Bincount()).Should().Throw<TorchException>().WithMessage("*non-negative*");
        var index = Tensors.FromArray(new long[] { 9, 0, 1, 2 }).Reshape(1, 4);
        FluentActions.Invoking(() => a.Scatter(1, index, a.Narrow(0, 0, 1))).Should().Throw<TorchException>().WithMessage("*index 9 is out of bounds*");
    }

    [Fact]
    public void Unique_ReturnsOnlyWhatWasAskedFor_AndPerClassSumsComeFromScatterAdd()
    {
        using var scope = Tensors.NewDisposeScope();
        var labels = Tensors.FromArray(new long[] { 2, 0, 2, 1, 2 });
        var (values, inverse, counts) = labels.Unique();
        values.ToArray<long>().Should().Equal(0, 1, 2);
        inverse.Should().BeNull();
        counts.Should().BeNull();
        labels.Unique(returnCounts: true).Counts!.ToArray<long>().Should().Equal(1, 1, 3);
        labels.Bincount().ToArray<long>().Should().Equal(1, 1, 3);

        // Per-class loss sums, as a custom loss computes them: scatter_add of the per-sample losses by label.
        var losses = Tensors.FromArray(new[] { 0.5, 1.0, 0.25, 2.0, 0.75 });
        Tensors.Zeros([3], ScalarType.Float64).ScatterAdd(0, labels, losses).ToArray<double>().Should().Equal(1.0, 2.0, 1.5);
        Tensors.Eye(2).ToArray<float>().Should().Equal(1, 0, 0, 1);
    }
}
