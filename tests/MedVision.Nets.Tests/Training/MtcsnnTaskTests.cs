using MedVision.Nets.Blocks;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Training;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class MtcsnnTaskTests
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());

    private sealed class Subset(ILabeledImageSource inner, int count) : ILabeledImageSource
    {
        public int Count => count;
        public int LabelColumns => inner.LabelColumns;
        public (FloatImage Image, int[] Labels) Load(int index) => inner.Load(index);
    }

    private static DataLoader Loader(MedMnistSplitData split, int count, bool shuffle) => new(
        new Subset(new MedMnistImageSource(split), count),
        new DataLoaderOptions { BatchSize = 16, Shuffle = shuffle, Seed = 1, Transform = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build() });

    private static Mtcsnn Tiny(double lambda = 0.5) => Mtcsnn.Builder()
        .WithBackbone(b => b.WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(4, 8).ForInput(3).WithSmallInputStem())
        .WithClasses(5)
        .WithDifferenceWeight(lambda)
        .Build();

    [Fact]
    public void OneTrainerEpochOnA64ImageSubsetReportsBothLossTerms()
    {
        Tensors.ManualSeed(4);
        using var model = Tiny();
        var task = new MtcsnnTask(model);
        var result = Trainer.Create(task)
            .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true))
            .ValidateOn(Loader(Retina.Value.Validation, 32, shuffle: false))
            .UseAdam(1e-3)
            .ForEpochs(1)
            .Build()
            .Run();

        result.History.Should().HaveCount(1);
        var terms = result.History[0].TrainLossTerms;
        terms.Keys.Should().BeEquivalentTo(MtcsnnTask.ClassificationTerm, MtcsnnTask.DifferenceTerm);
        terms.Values.Should().OnlyContain(v => double.IsFinite(v) && v >= 0);
        result.History[0].TrainLoss.Should().BeApproximately(terms[MtcsnnTask.ClassificationTerm] + 0.5 * terms[MtcsnnTask.DifferenceTerm], 1e-4);
        double.IsFinite(result.Validation.Auc).Should().BeTrue();
    }

    [Fact]
    public void TaskLossEqualsMtcsnnLossOnTheSameBatch()
    {
        Tensors.ManualSeed(5);
        using var model = Tiny(lambda: 2.0);
        var task = new MtcsnnTask(model);
        using var batch = Loader(Retina.Value.Train, 64, shuffle: true).Epoch(0).First();
        model.Eval();

        using var value = task.ComputeLoss(batch, epoch: 0);
        using var reference = model.ComputeLoss(batch.Images, batch.Labels);

        value.Total.Item().Should().BeApproximately(reference.Total.Item(), 1e-5);
        value.Terms[MtcsnnTask.ClassificationTerm].Should().BeApproximately(reference.Classification.Item(), 1e-6);
        value.Terms[MtcsnnTask.DifferenceTerm].Should().BeApproximately(reference.Difference.Item(), 1e-6);
        value.Weights[MtcsnnTask.DifferenceTerm].Should().Be(2.0);
    }

    [Fact]
    public void WithLambdaZeroTheLossIsTheCrossEntropyAndStaysAlive()
    {
        Tensors.ManualSeed(7);
        using var model = Tiny(lambda: 0);
        model.Eval();
        var task = new MtcsnnTask(model);
        using var batch = Loader(Retina.Value.Train, 16, shuffle: false).Epoch(0).First();
        using var value = task.ComputeLoss(batch, epoch: 0);
        value.Total.Item().Should().BeApproximately(value.Terms[MtcsnnTask.ClassificationTerm], 1e-6);
        value.Total.Backward();
    }

    [Fact]
    public void ScoresAreSoftmaxOfTheClassificationHead()
    {
        Tensors.ManualSeed(6);
        using var model = Tiny();
        model.Eval();
        var task = new MtcsnnTask(model);
        using var batch = Loader(Retina.Value.Validation, 16, shuffle: false).Epoch(0).First();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var scores = task.PredictScores(batch);
        var expected = model.Call(batch.Images).Softmax(1);
        scores.Shape.Should().Equal(16, 5);
        scores.ToArray<float>().Should().Equal(expected.ToArray<float>());
    }

    [Fact]
    public void WithACoralHead_TheTaskTrainsCoralsLoss_ScoresTheGradesProbabilities_AndDecidesByTheMedian()
    {
        Tensors.ManualSeed(8);
        using var model = Mtcsnn.Builder()
            .WithBackbone(b => b.WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(4, 8).ForInput(3).WithSmallInputStem())
            .WithClasses(5).WithCoralHead().Build();
        var task = new MtcsnnTask(model);
        task.Decision.Should().Be(OrdinalDecision.Median);
        var result = Trainer.Create(task)
            .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true))
            .ValidateOn(Loader(Retina.Value.Validation, 32, shuffle: false))
            .UseAdam(1e-3)
            .ForEpochs(1)
            .Build()
            .Run();
        var terms = result.History[0].TrainLossTerms;
        terms.Keys.Should().BeEquivalentTo(MtcsnnTask.CoralTerm, MtcsnnTask.DifferenceTerm);
        result.History[0].TrainLoss.Should().BeApproximately(terms[MtcsnnTask.CoralTerm] + (0.5 * terms[MtcsnnTask.DifferenceTerm]), 1e-4);

        // Scores: the grades' probabilities of the cumulative logits; the validation ACC counts their median grades.
        using (var batch = Loader(Retina.Value.Validation, 16, shuffle: false).Epoch(0).First())
        using (var scope = Tensors.NewDisposeScope())
        using (Tensors.NoGrad())
        {
            model.Eval();
            var scores = task.PredictScores(batch);
            scores.Shape.Should().Equal(16, 5);
            scores.ToArray<float>().Should().Equal(MedVision.Nets.Losses.OrdinalDecoding.ToClassProbabilities(model.Call(batch.Images)).ToArray<float>());
        }
        var (labels, all) = Trainer.Predict(task, Loader(Retina.Value.Validation, 32, shuffle: false));
        result.Validation.Acc.Should().Be(MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, labels, all, OrdinalDecision.Median));

        FluentActions.Invoking(() => new MtcsnnTask(model, MedMnistTask.MultiClass)).Should().Throw<ArgumentException>()
            .WithMessage("*CORAL head ranks ordered grades; the task is MultiClass, not OrdinalRegression*");
    }

    [Fact]
    public void MultiLabelTaskIsRejected()
    {
        using var model = Tiny();
        var act = () => new MtcsnnTask(model, MedMnistTask.MultiLabel);
        act.Should().Throw<ArgumentException>().WithMessage("*multi-label*");
    }
}
