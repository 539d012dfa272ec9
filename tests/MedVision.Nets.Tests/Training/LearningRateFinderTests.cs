using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Metrics;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;

namespace MedVision.Nets.Tests.Training;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class LearningRateFinderTests
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());

    private static DataLoader Loader(int count) => new(
        new SubsetSource(new MedMnistImageSource(Retina.Value.Train), Enumerable.Range(0, count).ToArray()),
        new DataLoaderOptions { BatchSize = 16, Shuffle = true, Seed = 3, Transform = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build() });

    private static float[] Values(Module model)
    {
        using var scope = Tensors.NewDisposeScope();
        return model.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.To(ScalarType.Float32).ToArray<float>()).ToArray();
    }

    // Three classes, each a fixed 4×4 pattern plus strong noise: a small network learns (memorises) the 48 samples once
    // the learning rate is large enough, so the range test's curve is flat, falls, then blows up.
    private sealed class PatternSource(int count) : ILabeledImageSource
    {
        private static readonly float[][] Patterns = Enumerable.Range(0, 3).Select(k => Enumerable.Range(0, 16).Select(i => (float)Math.Sin(i * (k + 1) * 0.7)).ToArray()).ToArray();

        public int Count => count;

        public int LabelColumns => 1;

        public (FloatImage Image, int[] Labels) Load(int index)
        {
            var random = new Random(index);
            int label = index % 3;
            return (new FloatImage(Patterns[label].Select(v => v + 2f * (float)(random.NextDouble() - 0.5)).ToArray(), 1, 4, 4), [label]);
        }
    }

    [Fact]
    public void Sweep_FindsWhereTheLossFalls_StopsWhenItDiverges_AndRestoresTheModel()
    {
        Tensors.ManualSeed(2);
        using var model = new Sequential(new Flatten(), new Linear(16, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 3));
        model.Eval();
        var before = Values(model);
        var task = new ClassificationTask(model, MedMnistTask.MultiClass);
        var options = new LearningRateFinderOptions { StartLearningRate = 1e-5, EndLearningRate = 1e3, Steps = 100 };
        var loader = new DataLoader(new PatternSource(48), new DataLoaderOptions { BatchSize = 16, Shuffle = true, Seed = 3 });

        // 48 samples in batches of 16: 3 batches per epoch, so the sweep runs through the loader's epochs many times.
        var sweep = LearningRateFinder.Run(task, loader, p => new Sgd(p, 1e-3, momentum: 0.9), options);

        Values(model).Should().Equal(before, "the weights and batch-norm statistics are restored");
        model.Training.Should().BeFalse("the model is left in the mode it was in");
        model.Parameters().Should().OnlyContain(p => p.Grad == null || p.Grad.Abs().Sum().Item() == 0);

        sweep.Diverged.Should().BeTrue("SGD at learning rates up to 1000 diverges");
        sweep.LearningRates.Count.Should().BeLessThan(100).And.BeGreaterThan(20);
        sweep.LearningRates[0].Should().Be(1e-5);
        for (int i = 0; i < sweep.LearningRates.Count; i++)
            sweep.LearningRates[i].Should().BeApproximately(LearningRateFinder.LearningRateAt(options, i), 1e-12 * sweep.LearningRates[i]);
        (sweep.LearningRates[1] / sweep.LearningRates[0]).Should().BeApproximately(Math.Pow(1e8, 1.0 / 99), 1e-9, "geometric steps");
        sweep.Losses.Should().HaveCount(sweep.LearningRates.Count);
        sweep.SmoothedLosses[0].Should().Be(sweep.Losses[0]);
        sweep.SmoothedLosses[1].Should().BeApproximately(0.05 * sweep.Losses[1] + 0.95 * sweep.Losses[0], 1e-12);
        double lowest = sweep.SmoothedLosses.Min();
        lowest.Should().BeLessThan(0.5 * sweep.SmoothedLosses[0], "the classes are learnable: the loss falls well below its start");
        sweep.SmoothedLosses[^1].Should().BeGreaterThan(5 * lowest, "it stopped at the first smoothed loss above 5× the best");
        sweep.SmoothedLosses.Take(sweep.SmoothedLosses.Count - 1).Should().OnlyContain(l => l <= 5 * lowest + 1e-12);

        // The suggestion is a rate of the sweep where the smoothed loss fell fastest: before the minimum, on the way down.
        var suggested = sweep.SuggestedLearningRate!.Value;
        int at = sweep.LearningRates.ToList().IndexOf(suggested);
        at.Should().BeGreaterThan(0);
        sweep.SmoothedLosses[at + 1].Should().BeLessThan(sweep.SmoothedLosses[at - 1]);
        suggested.Should().BeLessThan(sweep.MinimumLossLearningRate);
        var chart = sweep.ToChart();
        chart.YRange!.Value.Max.Should().BeLessThan(sweep.SmoothedLosses[^1], "the diverging end is cut at the frame, not given the axis");
        chart.YRange!.Value.Min.Should().BeLessThan(lowest);
        chart.ToSvg().Should().Contain("suggestion").And.Contain("clip-path=\"url(#plot-area)\"");
    }

    [Fact]
    public void Options_AreChecked_AndLinearSweepsStepEvenly()
    {
        using var model = new Sequential(new Flatten(), new Linear(3 * 28 * 28, 5));
        var task = new ClassificationTask(model, MedMnistTask.OrdinalRegression);
        Optimizer Sgd(IReadOnlyList<Tensor> p) => new Sgd(p, 1e-3);
        foreach (var (bad, name) in new (LearningRateFinderOptions, string)[]
        {
            (new() { StartLearningRate = 0 }, "StartLearningRate"),
            (new() { StartLearningRate = 1, EndLearningRate = 1 }, "EndLearningRate"),
            (new() { Steps = 1 }, "Steps"),
            (new() { Smoothing = 0 }, "Smoothing"),
            (new() { DivergenceFactor = 1 }, "DivergenceFactor"),
            (new() { SkipStart = -1 }, "SkipStart"),
        })
        {
            FluentActions.Invoking(() => LearningRateFinder.Run(task, Loader(16), Sgd, bad)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
        }

        var linear = new LearningRateFinderOptions { StartLearningRate = 1e-4, EndLearningRate = 4e-4, Steps = 4, Linear = true, Smoothing = 1, DivergenceFactor = double.PositiveInfinity };
        var sweep = LearningRateFinder.Run(task, Loader(32), Sgd, linear);
        sweep.LearningRates.Should().HaveCount(4);
        for (int i = 0; i < 4; i++) sweep.LearningRates[i].Should().BeApproximately((i + 1) * 1e-4, 1e-15);
        sweep.SmoothedLosses.Should().Equal(sweep.Losses, "smoothing 1 keeps each loss as it is");
        sweep.Diverged.Should().BeFalse();
    }
}
