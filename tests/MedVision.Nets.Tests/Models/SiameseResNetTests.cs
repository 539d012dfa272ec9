using MedVision.Nets.Blocks;
using MedVision.Nets.Losses;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Models;


public class SiameseResNetTests
{
    private static SiameseResNet Tiny(EmbeddingDistance distance = EmbeddingDistance.Euclidean, int spatialDims = 2)
        => SiameseResNet.Builder()
            .WithBackbone(b => b.WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(4, 8).ForInput(1, spatialDims).WithSmallInputStem())
            .WithDistance(distance)
            .Build();

    [Fact]
    public void HasOneSetOfParameters_TheBackbones()
    {
        using var model = Tiny();
        model.ParameterCount().Should().Be(model.Backbone.ParameterCount());
        model.NamedParameters().Should().OnlyContain(p => p.Name.StartsWith("backbone.", StringComparison.Ordinal));
        model.Backbone.FeaturesOnly.Should().BeTrue();
    }

    [Fact]
    public void BothBranches_AccumulateGradientsIntoTheSameTensors()
    {
        using var model = Tiny();
        model.Eval(); // batch statistics would couple the branches; eval makes each branch's gradient separable
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(7);
        var a = Tensors.Randn(2, 1, 8, 8);
        var b = Tensors.Randn(2, 1, 8, 8);
        var weight = model.StateDict()["backbone.conv1.weight"];

        model.Embed(a).Sum().Backward();
        var gradA = weight.Grad!.Clone();
        model.ZeroGrad();
        model.Embed(b).Sum().Backward();
        var gradB = weight.Grad!.Clone();
        model.ZeroGrad();

        using var output = model.Call((a, b));
        (output.First.Sum() + output.Second.Sum()).Backward();
        var both = weight.Grad!;
        both.AllClose(gradA + gradB, rtol: 1e-4, atol: 1e-6).Should().BeTrue();
    }

    [Theory]
    [InlineData(EmbeddingDistance.Euclidean, 2)]
    [InlineData(EmbeddingDistance.Cosine, 2)]
    [InlineData(EmbeddingDistance.Euclidean, 3)]
    public void Forward_ReturnsEmbeddingsAndTheirDistance(EmbeddingDistance distance, int spatialDims)
    {
        using var model = Tiny(distance, spatialDims);
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var shape = spatialDims == 2 ? new long[] { 3, 1, 8, 8 } : new long[] { 3, 1, 8, 8, 8 };
        var a = Tensors.Randn(shape);
        var b = Tensors.Randn(shape);
        using var output = model.Call((a, b));
        output.First.Shape.Should().Equal(3, 8);
        output.Second.Shape.Should().Equal(3, 8);
        output.Distance.Shape.Should().Equal(3);
        var e1 = output.First.ToArray<float>();
        var e2 = output.Second.ToArray<float>();
        var d = output.Distance.ToArray<float>();
        for (int i = 0; i < 3; i++)
        {
            var x = e1.Skip(8 * i).Take(8).ToArray();
            var y = e2.Skip(8 * i).Take(8).ToArray();
            double expected = distance == EmbeddingDistance.Euclidean
                ? Math.Sqrt(x.Zip(y, (p, q) => (p - q + 1e-6) * (p - q + 1e-6)).Sum())
                : 1 - x.Zip(y, (p, q) => (double)p * q).Sum() / Math.Max(Math.Sqrt(x.Sum(p => (double)p * p) * y.Sum(q => (double)q * q)), 1e-8);
            d[i].Should().BeApproximately((float)expected, 1e-4f);
        }
    }

    [Fact]
    public void SameInput_HasZeroDistance()
    {
        using var model = Tiny(EmbeddingDistance.Cosine);
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var a = Tensors.Rand(2, 1, 8, 8);
        using var output = model.Call((a, a));
        output.Distance.Abs().Max().Item().Should().BeLessThan(1e-5);
    }

    [Fact]
    public void ContrastiveLoss_MatchesHadsellByHand()
    {
        using var scope = Tensors.NewDisposeScope();
        var distance = Tensors.FromArray(new float[] { 0.5f, 2.0f, 0.3f, 1.5f });
        var similar = Tensors.FromArray(new long[] { 1, 1, 0, 0 });
        var loss = new ContrastiveLoss(margin: 1.0).Compute(distance, similar);
        // similar: ½d²; dissimilar: ½max(0, 1 − d)²
        double expected = (0.5 * 0.25 + 0.5 * 4.0 + 0.5 * 0.49 + 0) / 4;
        loss.Item().Should().BeApproximately(expected, 1e-6);
        FluentActions.Invoking(() => new ContrastiveLoss(0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("margin");
    }

    [Fact]
    public void ContrastiveTraining_BackpropagatesThroughTheSharedBackbone()
    {
        using var model = Tiny();
        using var scope = Tensors.NewDisposeScope();
        var a = Tensors.Randn(4, 1, 8, 8);
        var b = Tensors.Randn(4, 1, 8, 8);
        using var output = model.Call((a, b));
        var loss = new ContrastiveLoss(2.0).Compute(output.Distance, Tensors.FromArray(new long[] { 1, 0, 1, 0 }));
        loss.Backward();
        foreach (var (name, p) in model.NamedParameters())
        {
            using var grad = p.Grad;
            grad.Should().NotBeNull(because: name);
        }
        model.Summary(1, 1, 8, 8).TotalParameters.Should().Be(model.ParameterCount());
    }
}
