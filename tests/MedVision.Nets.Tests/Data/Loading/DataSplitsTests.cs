using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;

namespace MedVision.Nets.Tests.Data.Loading;

public class DataSplitsTests
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());

    private static int[] TrainLabels() => Enumerable.Range(0, Retina.Value.Train.Count).Select(i => Retina.Value.Train.Labels[i, 0]).ToArray();

    [Fact]
    public void StratifiedKFold_ValidatesEverySampleOnce_KeepingEachClassShare()
    {
        var labels = TrainLabels();
        var folds = DataSplits.StratifiedKFold(labels, folds: 5, seed: 7);
        folds.Should().HaveCount(5);
        folds.SelectMany(f => f.Validation).Should().BeEquivalentTo(Enumerable.Range(0, labels.Length), "every sample is validated exactly once");
        foreach (var (train, validation) in folds)
        {
            train.Intersect(validation).Should().BeEmpty();
            (train.Length + validation.Length).Should().Be(labels.Length);
            validation.Should().BeInAscendingOrder();
            validation.Length.Should().BeInRange(labels.Length / 5, (labels.Length / 5) + 1);
            for (int k = 0; k < 5; k++)
            {
                int total = labels.Count(l => l == k), inFold = validation.Count(i => labels[i] == k);
                inFold.Should().BeInRange(total / 5, (total / 5) + 1, $"class {k} keeps its share");
            }
        }
        DataSplits.StratifiedKFold(labels, 5, seed: 7).Select(f => f.Validation).Should().BeEquivalentTo(folds.Select(f => f.Validation), o => o.WithStrictOrdering(), "seeded");
        DataSplits.StratifiedKFold(labels, 5, seed: 8)[0].Validation.Should().NotEqual(folds[0].Validation);
    }

    [Fact]
    public void StratifiedHoldout_TakesTheFractionOfEachClass_AndSubsetsLoadTheChosenSamples()
    {
        var labels = TrainLabels();
        var (train, validation) = DataSplits.StratifiedHoldout(labels, 0.2, seed: 1);
        (train.Length + validation.Length).Should().Be(labels.Length);
        train.Intersect(validation).Should().BeEmpty();
        for (int k = 0; k < 5; k++)
            validation.Count(i => labels[i] == k).Should().Be((int)Math.Round(0.2 * labels.Count(l => l == k), MidpointRounding.AwayFromZero));

        var source = new MedMnistImageSource(Retina.Value.Train);
        var subset = new SubsetSource(source, validation);
        subset.Count.Should().Be(validation.Length);
        subset.LabelColumns.Should().Be(1);
        var (image, sampleLabels) = subset.Load(3);
        var (expectedImage, expectedLabels) = source.Load(validation[3]);
        image.Data.Should().Equal(expectedImage.Data);
        sampleLabels.Should().Equal(expectedLabels);
        var loader = new DataLoader(subset, new DataLoaderOptions { BatchSize = 50, Prefetch = 0 });
        loader.BatchesPerEpoch.Should().Be((validation.Length + 49) / 50);
    }

    [Fact]
    public void BadInput_GetsClearExceptions()
    {
        FluentActions.Invoking(() => DataSplits.StratifiedKFold(new[] { 0, 1 }, 3)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*3 folds need at least 3 samples*");
        FluentActions.Invoking(() => DataSplits.StratifiedKFold(new[] { 0, 1 }, 1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => DataSplits.StratifiedHoldout(new[] { 0, 1 }, 1.0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*strictly between 0 and 1*");
        FluentActions.Invoking(() => DataSplits.StratifiedHoldout(new[] { 0, 1 }, 0.1)).Should().Throw<ArgumentException>().WithMessage("*no validation sample*");
        FluentActions.Invoking(() => DataSplits.StratifiedHoldout(new[] { 0, -1 }, 0.5)).Should().Throw<ArgumentException>().WithMessage("*negative*");
        var source = new MedMnistImageSource(Retina.Value.Validation);
        FluentActions.Invoking(() => new SubsetSource(source, new[] { 0, 120 })).Should().Throw<ArgumentException>().WithMessage("*Index 120 (position 1)*120 samples*");
        FluentActions.Invoking(() => new SubsetSource(source, Array.Empty<int>())).Should().Throw<ArgumentException>().WithMessage("*at least one index*");
        FluentActions.Invoking(() => new SubsetSource(source, new[] { 1 }).Load(1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void GroupsFromPattern_ReadsEachNamesGroup_FromTheFirstCaptureGroupOrTheWholeMatch()
    {
        DataSplits.GroupsFromPattern(["P0012_slice041.png", "P0012_slice042.png", "P0107_slice003.png"], "^([^_]+)_")
            .Should().Equal("P0012", "P0012", "P0107");
        DataSplits.GroupsFromPattern(["healthy/sub-03_ses-1.nii.gz", "tumour/sub-03_ses-2.nii.gz"], "sub-[0-9]+").Should().Equal("sub-03", "sub-03");
        // An optional capture group that did not take part falls back to the whole match.
        DataSplits.GroupsFromPattern(["case7.png"], "case(x)?[0-9]").Should().Equal("case7");
        var names = new[] { "P0012_slice041.png", "scan.png" };
        FluentActions.Invoking(() => DataSplits.GroupsFromPattern(names, "^(P[0-9]+)_")).Should().Throw<ArgumentException>()
            .WithMessage("The group pattern ^(P[0-9]+)_ does not match scan.png*");
        FluentActions.Invoking(() => DataSplits.GroupsFromPattern(names, "^(x?)")).Should().Throw<ArgumentException>().WithMessage("*finds an empty group in P0012_slice041.png*");
        FluentActions.Invoking(() => DataSplits.GroupsFromPattern(names, "(unclosed")).Should().Throw<ArgumentException>().WithMessage("The group pattern (unclosed is not a valid regular expression*");
        FluentActions.Invoking(() => DataSplits.GroupsFromPattern(["a", null!], "a")).Should().Throw<ArgumentException>().WithMessage("Name 1 of 2 is null*");
    }
}
