using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Data.Loading;

public class WeightedRandomSamplerTests
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());

    [Fact]
    public void WithReplacement_DrawsInProportionToTheWeights_AndNeverAZeroWeight()
    {
        var sampler = new WeightedRandomSampler(new[] { 1.0, 0.0, 3.0, 6.0 }, numSamples: 100_000);
        var drawn = sampler.Draw(new Random(1));
        drawn.Should().HaveCount(100_000).And.NotContain(1);
        var share = Enumerable.Range(0, 4).Select(i => drawn.Count(d => d == i) / 100_000.0).ToArray();
        // Binomial sd of a share p over 100 000 draws is at most 0.0016; 5 sd.
        share[0].Should().BeApproximately(0.1, 0.008);
        share[2].Should().BeApproximately(0.3, 0.008);
        share[3].Should().BeApproximately(0.6, 0.008);
    }

    [Fact]
    public void WithoutReplacement_DrawsEachSampleAtMostOnce_AndFavoursHeavyOnes()
    {
        var weights = Enumerable.Range(0, 20).Select(i => i < 10 ? 1.0 : 100.0).ToArray();
        var sampler = new WeightedRandomSampler(weights, numSamples: 10, replacement: false);
        int heavy = 0;
        for (int seed = 0; seed < 200; seed++)
        {
            var drawn = sampler.Draw(new Random(seed));
            drawn.Should().OnlyHaveUniqueItems().And.HaveCount(10);
            heavy += drawn.Count(d => d >= 10);
        }
        (heavy / 2000.0).Should().BeGreaterThan(0.9, "samples 100 times heavier are drawn first almost always");
        new WeightedRandomSampler(new[] { 0.0, 2.0, 1.0 }, 2, replacement: false).Draw(new Random(0)).Should().BeEquivalentTo(new[] { 1, 2 });
    }

    [Fact]
    public void BalanceClasses_DrawsRetinaMnistGradesEquallyOften_ThroughTheLoader()
    {
        var train = Retina.Value.Train;
        var sampler = WeightedRandomSampler.BalanceClasses(train.Labels);
        var loader = new DataLoader(new MedMnistImageSource(train), new DataLoaderOptions { BatchSize = 64, WeightedSampler = sampler, Seed = 5, Prefetch = 0 });
        loader.SamplesPerEpoch.Should().Be(train.Count);
        var counts = new int[5];
        for (int epoch = 0; epoch < 10; epoch++)
            foreach (var i in loader.EpochOrder(epoch)) counts[train.Labels[i, 0]]++;
        var natural = Enumerable.Range(0, 5).Select(k => Enumerable.Range(0, train.Count).Count(i => train.Labels[i, 0] == k)).ToArray();
        natural[0].Should().BeGreaterThan(5 * natural[4], "RetinaMNIST is imbalanced: the check would be empty otherwise");
        foreach (var c in counts) (c / (10.0 * train.Count)).Should().BeApproximately(0.2, 0.02);
        loader.EpochOrder(3).Should().Equal(loader.EpochOrder(3), "an epoch's draw is seeded by (seed, epoch)");
        loader.EpochOrder(3).Should().NotEqual(loader.EpochOrder(4));
    }

    [Fact]
    public void DataParallelRanks_ShardTheSameDraw()
    {
        var sampler = new WeightedRandomSampler(Enumerable.Range(1, 1080).Select(i => (double)i).ToArray());
        var split = Retina.Value.Train;
        int[] Order(int rank) => new DataLoader(new MedMnistImageSource(split), new DataLoaderOptions { WeightedSampler = sampler, Seed = 2, Sampler = new DistributedSampler(rank, 2) }).EpochOrder(1);
        var whole = new DataLoader(new MedMnistImageSource(split), new DataLoaderOptions { WeightedSampler = sampler, Seed = 2 }).EpochOrder(1);
        var zero = Order(0);
        var one = Order(1);
        zero.Should().HaveCount(540);
        zero.Should().Equal(whole.Where((_, i) => i % 2 == 0));
        one.Should().Equal(whole.Where((_, i) => i % 2 == 1));
    }

    [Fact]
    public void BadUse_GetsClearExceptions()
    {
        FluentActions.Invoking(() => new WeightedRandomSampler(new[] { 1.0, -2.0 })).Should().Throw<ArgumentException>().WithMessage("*Weight -2 of sample 1*");
        FluentActions.Invoking(() => new WeightedRandomSampler(new[] { 1.0, double.NaN })).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => new WeightedRandomSampler(new[] { 0.0, 0.0 })).Should().Throw<ArgumentException>().WithMessage("*All weights are zero*");
        FluentActions.Invoking(() => new WeightedRandomSampler(new[] { 1.0, 0.0 }, 2, replacement: false)).Should().Throw<ArgumentException>().WithMessage("*without replacement from 1*");
        FluentActions.Invoking(() => new WeightedRandomSampler(new[] { 1.0 }, 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => WeightedRandomSampler.BalanceClasses(new int[,] { { 0, 1 } })).Should().Throw<ArgumentException>().WithMessage("*multi-label*");
        FluentActions.Invoking(() => WeightedRandomSampler.BalanceClasses(new[] { 0, -1 })).Should().Throw<ArgumentException>().WithMessage("*negative*");

        var source = new MedMnistImageSource(Retina.Value.Validation);
        var wrongSize = new WeightedRandomSampler(new[] { 1.0, 2.0 });
        FluentActions.Invoking(() => new DataLoader(source, new DataLoaderOptions { WeightedSampler = wrongSize })).Should().Throw<ArgumentException>().WithMessage("*2 weights*120 samples*");
        var balanced = WeightedRandomSampler.BalanceClasses(Retina.Value.Validation.Labels);
        FluentActions.Invoking(() => new DataLoader(source, new DataLoaderOptions { WeightedSampler = balanced, Shuffle = true })).Should().Throw<ArgumentException>().WithMessage("*mutually exclusive*");
        var loader = new DataLoader(source, new DataLoaderOptions { WeightedSampler = balanced });
        loader.Options.Shuffle = true;
        FluentActions.Invoking(() => loader.EpochOrder(0)).Should().Throw<ArgumentException>().WithMessage("*mutually exclusive*");
    }

    [Fact]
    public void EvaluationLoaders_MustNotDrawByWeight()
    {
        var split = Retina.Value.Validation;
        var weighted = new DataLoader(new MedMnistImageSource(split), new DataLoaderOptions { WeightedSampler = WeightedRandomSampler.BalanceClasses(split.Labels) });
        var plain = new DataLoader(new MedMnistImageSource(split));
        using var model = MedVision.Nets.Models.ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(3).WithSmallInputStem().WithClasses(5).Build();
        var task = new MedVision.Nets.Training.ClassificationTask(model, MedMnistTask.OrdinalRegression);
        FluentActions.Invoking(() => MedVision.Nets.Training.Trainer.Predict(task, weighted)).Should().Throw<ArgumentException>().WithMessage("*visit every sample once*");
        FluentActions.Invoking(() => MedVision.Nets.Training.Trainer.Create(task).TrainOn(weighted).ValidateOn(weighted).UseAdam().Build())
            .Should().Throw<InvalidOperationException>().WithMessage("ValidateOn: *visit every sample once*");
        FluentActions.Invoking(() => MedVision.Nets.Training.Trainer.Create(task).TrainOn(weighted).ValidateOn(plain).UseAdam().Build()).Should().NotThrow("training may draw by weight");
    }

    [Fact]
    public void WeightsSummingToInfinity_AndEpochsLongerThanAnArray_AreRefused()
    {
        // Found by the loader fuzzer: weights of 1e308 summed to infinity and every draw picked the first sample that
        // reached it; int.MaxValue samples failed with OutOfMemoryException when the epoch's order was drawn.
        var inf = () => new WeightedRandomSampler(new[] { 1e308, 1e308, 1e308 });
        inf.Should().Throw<ArgumentException>().WithMessage("The weights sum to more than a double holds*").Which.ParamName.Should().Be("weights");
        var huge = () => new WeightedRandomSampler(new[] { 1.0, 2.0 }, numSamples: int.MaxValue);
        huge.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("numSamples");
    }
}
