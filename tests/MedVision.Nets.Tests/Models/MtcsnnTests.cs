using MedVision.Nets.Blocks;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Models;


public class MtcsnnTests
{
    private static Mtcsnn Tiny(bool signed = false, double lambda = 0.5)
        => Mtcsnn.Builder()
            .WithBackbone(b => b.WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(4, 8).ForInput(3).WithSmallInputStem())
            .WithClasses(5)
            .WithDifferenceWeight(lambda)
            .WithSignedDifference(signed)
            .Build();

    [Theory]
    [InlineData(false, 0.5, 6)]
    [InlineData(false, 0.5, 5)]
    [InlineData(true, 2.0, 4)]
    public void Loss_EqualsCrossEntropyPlusLambdaMseComputedByHand(bool signed, double lambda, int batch)
    {
        using var model = Tiny(signed, lambda);
        model.Eval(); // running statistics: the same outputs in Predict and ComputeLoss
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(3);
        var images = Tensors.Randn(batch, 3, 8, 8);
        var grades = new long[] { 0, 4, 2, 1, 3, 2 }.Take(batch).ToArray();
        var labels = Tensors.FromArray(grades);

        var (logitsT, scoresT) = model.Predict(images);
        var logits = logitsT.ToArray<float>();
        var scores = scoresT.ToArray<float>();
        double ce = 0;
        for (int i = 0; i < batch; i++)
        {
            var row = logits.Skip(5 * i).Take(5).Select(v => (double)v).ToArray();
            var max = row.Max();
            var logSumExp = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            ce += logSumExp - row[grades[i]];
        }
        ce /= batch;
        int pairs = batch / 2;
        double mse = 0;
        for (int i = 0; i < pairs; i++)
        {
            double predicted = scores[i] - scores[i + pairs];
            double target = grades[i] - grades[i + pairs];
            if (!signed)
            {
                predicted = Math.Abs(predicted);
                target = Math.Abs(target);
            }
            mse += (predicted - target) * (predicted - target);
        }
        mse /= pairs;

        using var loss = model.ComputeLoss(images, labels);
        loss.PairCount.Should().Be(pairs);
        loss.Classification.Item().Should().BeApproximately(ce, 1e-5);
        loss.Difference.Item().Should().BeApproximately(mse, 1e-4);
        loss.Total.Item().Should().BeApproximately(ce + lambda * mse, 1e-4);
        loss.Logits.Shape.Should().Equal(batch, 5);
    }

    [Fact]
    public void TrainingStep_ReachesBackboneAndBothHeads()
    {
        using var model = Tiny();
        using var scope = Tensors.NewDisposeScope();
        var images = Tensors.Randn(4, 3, 8, 8);
        var labels = Tensors.FromArray(new long[] { 0, 1, 4, 2 });
        using var loss = model.ComputeLoss(images, labels);
        loss.Total.Backward();
        foreach (var (name, p) in model.NamedParameters())
        {
            using var grad = p.Grad;
            grad.Should().NotBeNull(because: name);
        }
        model.StateDict().Keys.Should().Contain(new[] { "backbone.conv1.weight", "fc.weight", "score.weight", "score.bias" });
    }

    [Fact]
    public void BatchOfOne_HasAZeroDifferenceTerm()
    {
        using var model = Tiny();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var loss = model.ComputeLoss(Tensors.Randn(1, 3, 8, 8), Tensors.FromArray(new long[] { 3 }));
        loss.PairCount.Should().Be(0);
        loss.Difference.Item().Should().Be(0);
        loss.Total.Item().Should().BeApproximately(loss.Classification.Item(), 1e-7);
    }

    [Fact]
    public void Inference_ClassifiesSingleImages_AndSummarises()
    {
        using var model = Mtcsnn.Builder().WithBackbone(b => b.WithDepth(18).ForInput(3).WithSmallInputStem()).WithClasses(5).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        model.Call(Tensors.Randn(2, 3, 28, 28)).Shape.Should().Equal(2, 5);
        model.ParameterCount().Should().Be(model.Backbone.ParameterCount() + 512 * 5 + 5 + 512 + 1);
        model.Summary(1, 3, 28, 28).Rows.Select(r => r.Name).Should().Contain("fc");
    }

    [Fact]
    public void ToResNet_IsThePlainResNetOfTheClassificationPath_ACopyInTheSameMode()
    {
        using var mtcsnn = Tiny();
        using var scope = Tensors.NewDisposeScope();
        // Non-trivial batch-norm statistics, so that copying them matters.
        var x = Tensors.Randn(6, 3, 16, 16);
        mtcsnn.Train();
        using (Tensors.NoGrad()) mtcsnn.Call(x);
        mtcsnn.Eval();
        using var resnet = mtcsnn.ToResNet();
        resnet.Training.Should().BeFalse("it starts in the MTCSNN's mode");
        resnet.NumClasses.Should().Be(5);
        resnet.FeaturesOnly.Should().BeFalse();
        resnet.StateDict().Keys.Should().BeEquivalentTo(mtcsnn.Backbone.StateDict().Keys.Append("fc.weight").Append("fc.bias"));
        Tensor expected, actual;
        using (Tensors.NoGrad())
        {
            expected = mtcsnn.Call(x);
            actual = resnet.Call(x);
        }
        (actual - expected).Abs().Max().Item().Should().Be(0, "the same layers and weights");
        resnet.ParameterCount().Should().Be(mtcsnn.ParameterCount() - mtcsnn.ScoreHead.ParameterCount());

        // A copy: changing the ResNet leaves the MTCSNN as it was.
        using (Tensors.NoGrad()) resnet.Classifier!.Weight.FillInPlace(0);
        mtcsnn.ClassificationHead!.Weight.Abs().Sum().Item().Should().BeGreaterThan(0);
        mtcsnn.Train();
        using var training = mtcsnn.ToResNet();
        training.Training.Should().BeTrue();
    }

    [Theory]
    [InlineData(0.5, 6)]
    [InlineData(2.0, 5)]
    public void WithACoralHead_TheLossIsCoralsPlusLambdaMse_ComputedByHand(double lambda, int batch)
    {
        using var model = Mtcsnn.Builder()
            .WithBackbone(b => b.WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(4, 8).ForInput(3).WithSmallInputStem())
            .WithClasses(5).WithDifferenceWeight(lambda).WithCoralHead().Build();
        model.ClassifierKind.Should().Be(ClassifierHead.Coral);
        model.Head.Should().BeOfType<Heads.CoralHead>();
        model.ClassificationHead.Should().BeNull("the head is not a linear layer");
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(3);
        var images = Tensors.Randn(batch, 3, 8, 8);
        var grades = new long[] { 0, 4, 2, 1, 3, 2 }.Take(batch).ToArray();
        var (logitsT, scoresT) = model.Predict(images);
        logitsT.Shape.Should().Equal(batch, 4);
        var logits = logitsT.ToArray<float>();
        var scores = scoresT.ToArray<float>();
        // CORAL: the binary cross-entropies of the 4 cumulative logits against [grade > k], summed over k, averaged over images.
        double coral = 0;
        for (int i = 0; i < batch; i++)
            for (int k = 0; k < 4; k++)
            {
                double z = logits[(4 * i) + k], p = 1 / (1 + Math.Exp(-z));
                coral -= grades[i] > k ? Math.Log(p) : Math.Log(1 - p);
            }
        coral /= batch;
        int pairs = batch / 2;
        double mse = 0;
        for (int i = 0; i < pairs; i++)
        {
            double d = Math.Abs(scores[i] - scores[i + pairs]) - Math.Abs(grades[i] - grades[i + pairs]);
            mse += d * d;
        }
        mse /= pairs;
        using var loss = model.ComputeLoss(images, Tensors.FromArray(grades));
        loss.Classification.Item().Should().BeApproximately(coral, 1e-5);
        loss.Difference.Item().Should().BeApproximately(mse, 1e-4);
        loss.Total.Item().Should().BeApproximately(coral + (lambda * mse), 1e-4);
        model.Invoking(m => m.ComputeLoss(images, Tensors.FromArray(grades.Select(g => g + 1).ToArray()))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*grades must lie in [0, 4]*");
    }

    [Fact]
    public void WithACoralHead_ToResNet_IsACoralResNet_WhoseModelFilePredictsTheMedianGrade()
    {
        using var mtcsnn = Mtcsnn.Builder().WithBackbone(b => b.WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(4, 8).ForInput(3).WithSmallInputStem())
            .WithClasses(5).WithCoralHead().Build();
        mtcsnn.ParameterCount().Should().Be(mtcsnn.Backbone.ParameterCount() + (8 + 4) + (8 + 1), "a CORAL head of one weight row and 4 biases, and the score head");
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(6, 3, 16, 16);
        mtcsnn.Train();
        using (Tensors.NoGrad()) mtcsnn.Call(x);
        mtcsnn.Eval();
        using var resnet = mtcsnn.ToResNet();
        resnet.ClassifierKind.Should().Be(ClassifierHead.Coral);
        resnet.StateDict().Keys.Should().BeEquivalentTo(mtcsnn.Backbone.StateDict().Keys.Append("fc.weight").Append("fc.bias"));
        Tensor expected, actual;
        using (Tensors.NoGrad())
        {
            expected = mtcsnn.Call(x);
            actual = resnet.Call(x);
        }
        actual.Shape.Should().Equal(6, 4);
        (actual - expected).Abs().Max().Item().Should().Be(0, "the same layers and weights");

        var card = MedVision.Nets.Inference.ModelFile.Describe(resnet, new MedVision.Nets.Inference.PreprocessingCard { InputSize = [16, 16], Channels = 3, Mean = [0f], Std = [1f] },
            ["0", "1", "2", "3", "4"], MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression);
        card.HasCoralHead.Should().BeTrue();
        card.OrdinalDecision.Should().Be(MedVision.Nets.Metrics.OrdinalDecision.Median);
        Heads.CoralHead.Ends(mtcsnn).Should().BeTrue("explainers read an MTCSNN with a CORAL head by its grades");
    }

    [Fact]
    public void BadOptions_FailNamingTheOption()
    {
        Mtcsnn.Builder().Invoking(b => b.WithClasses(1)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("numClasses");
        Mtcsnn.Builder().Invoking(b => b.WithDifferenceWeight(-1)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("weight");
        var builder = Mtcsnn.Builder().WithBackbone(b => b.WithBlocks(ResidualBlockKind.Basic, 1).WithWidths(4));
        using var model = builder.Build();
        builder.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>();
        using var scope = Tensors.NewDisposeScope();
        model.Invoking(m => m.ComputeLoss(Tensors.Randn(2, 3, 8, 8), Tensors.FromArray(new long[] { 1, 2, 3 }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("labels");
        Mtcsnn.Builder().Invoking(b => b.WithHead((ClassifierHead)9)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("head");
        new MtcsnnOptions { Head = (ClassifierHead)9 }.Invoking(o => o.Validate()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Head");
        new MtcsnnOptions { Head = ClassifierHead.Coral }.Clone().Head.Should().Be(ClassifierHead.Coral);
    }
}
