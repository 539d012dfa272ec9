using System.Text.Json;
using FluentAssertions;
using MedVision.Nets.Data.Loading;
using Xunit;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// Patient-level splits: <see cref="DataSplits.StratifiedGroupKFold"/> against scikit-learn's folds
/// (Fixtures/make_stratified_group_fixture.py) and its properties under shuffling, and the grouped hold-outs.
/// </summary>
public sealed class GroupSplitTests
{
    private static readonly Lazy<JsonElement> Cases = FixtureJson.Lazy(FixtureJson.Folder(""), "stratified_group_fixture.json", "cases");

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases.Value.EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    private static (int[] Labels, string[] Groups, int Folds, int[][] Validation) Case(string name)
    {
        var c = Cases.Value.EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        return (c.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            c.GetProperty("groups").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            c.GetProperty("folds").GetInt32(),
            c.GetProperty("validation").EnumerateArray().Select(f => f.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void UnshuffledFoldsAreScikitLearns(string name)
    {
        var (labels, groups, folds, expected) = Case(name);
        var splits = DataSplits.StratifiedGroupFolds(labels, groups, folds, seed: 0, shuffle: false);
        splits.Select(s => s.Validation).Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        foreach (var (train, validation) in splits)
            train.Should().Equal(Enumerable.Range(0, labels.Length).Except(validation), "a fold trains on every other sample, sorted");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ShuffledFoldsKeepGroupsWholeValidateEverySampleOnceAndDependOnTheSeed(string name)
    {
        var (labels, groups, folds, _) = Case(name);
        var first = DataSplits.StratifiedGroupKFold(labels, groups, folds, seed: 4);
        first.SelectMany(f => f.Validation).Should().BeEquivalentTo(Enumerable.Range(0, labels.Length));
        foreach (var (train, validation) in first)
        {
            validation.Should().BeInAscendingOrder();
            validation.Select(i => groups[i]).Intersect(train.Select(i => groups[i])).Should().BeEmpty("no group is both trained on and validated on");
        }
        DataSplits.StratifiedGroupKFold(labels, groups, folds, seed: 4).Select(f => f.Validation)
            .Should().BeEquivalentTo(first.Select(f => f.Validation), o => o.WithStrictOrdering(), "the seed decides the folds");
        DataSplits.StratifiedGroupKFold(labels, groups, folds, seed: 5).Select(f => f.Validation)
            .Should().NotBeEquivalentTo(first.Select(f => f.Validation), o => o.WithStrictOrdering());
    }

    [Fact]
    public void StratificationKeepsClassSharesCloserThanGroupingAlone()
    {
        var (labels, groups, folds, _) = Case("five_grades_patients");
        foreach (int seed in new[] { 0, 1, 2 })
        {
            double stratified = ShareSpread(labels, DataSplits.StratifiedGroupKFold(labels, groups, folds, seed));
            double grouped = ShareSpread(labels, DataSplits.GroupKFold(groups, folds, seed));
            stratified.Should().BeLessThan(grouped / 2, $"seed {seed}: the class shares of the folds are balanced");
            stratified.Should().BeLessThan(0.02);
        }
    }

    [Fact]
    public void GroupHoldoutKeepsGroupsOnOneSideNearTheFraction()
    {
        var (labels, groups, _, _) = Case("five_grades_patients");
        foreach (int seed in new[] { 0, 1 })
        {
            var (train, validation) = DataSplits.GroupHoldout(groups, 0.2, seed);
            train.Concat(validation).Order().Should().Equal(Enumerable.Range(0, labels.Length));
            validation.Select(i => groups[i]).Intersect(train.Select(i => groups[i])).Should().BeEmpty();
            int largest = groups.GroupBy(g => g).Max(g => g.Count());
            ((double)validation.Length).Should().BeApproximately(0.2 * labels.Length, largest, "largest first, each to the side further below its size");

            var (sTrain, sValidation) = DataSplits.StratifiedGroupHoldout(labels, groups, 0.2, seed);
            sTrain.Concat(sValidation).Order().Should().Equal(Enumerable.Range(0, labels.Length));
            sValidation.Select(i => groups[i]).Intersect(sTrain.Select(i => groups[i])).Should().BeEmpty();
            foreach (var c in labels.Distinct())
            {
                double share = (double)sValidation.Count(i => labels[i] == c) / labels.Count(l => l == c);
                share.Should().BeApproximately(0.2, 0.05, $"class {c} keeps about a fifth in validation");
            }
            ClassDeviation(labels, sValidation, 0.2).Should().BeLessThan(ClassDeviation(labels, validation, 0.2));
        }
        DataSplits.StratifiedGroupHoldout(labels, groups, 0.2, 0).Validation.Should().Equal(DataSplits.StratifiedGroupHoldout(labels, groups, 0.2, 0).Validation);
    }

    [Fact]
    public void BadInputIsRefusedByName()
    {
        var groups = new[] { "a", "a", "b", "c" };
        var labels = new[] { 0, 1, 0, 1 };
        FluentActions.Invoking(() => DataSplits.StratifiedGroupKFold(labels, groups.Take(3).ToArray(), 2))
            .Should().Throw<ArgumentException>().WithMessage("There are 4 labels but 3 groups*");
        FluentActions.Invoking(() => DataSplits.StratifiedGroupKFold(labels, groups, 4))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*4 folds need at least 4 distinct groups; there are 3*");
        FluentActions.Invoking(() => DataSplits.StratifiedGroupKFold(new[] { 0, -1, 0, 1 }, groups, 2))
            .Should().Throw<ArgumentException>().WithMessage("Label -1 of sample 1 is negative*");
        FluentActions.Invoking(() => DataSplits.StratifiedGroupKFold(labels, new[] { "a", null!, "b", "c" }, 2))
            .Should().Throw<ArgumentException>().WithMessage("The group of sample 1 is null*");
        FluentActions.Invoking(() => DataSplits.StratifiedGroupKFold(labels, groups, 1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => DataSplits.GroupHoldout(new[] { "a", "a" }, 0.5))
            .Should().Throw<ArgumentException>().WithMessage("A grouped hold-out needs at least two distinct groups; there is 1*");
        FluentActions.Invoking(() => DataSplits.StratifiedGroupHoldout(labels, groups, 1.0))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*strictly between 0 and 1*");
        FluentActions.Invoking(() => DataSplits.GroupHoldout(Array.Empty<string>(), 0.2))
            .Should().Throw<ArgumentException>().WithMessage("At least one sample is needed*");
        // One group of four and one of one: the fifth in validation is the small group, whichever comes first.
        foreach (int seed in Enumerable.Range(0, 4))
        {
            var (train, validation) = DataSplits.GroupHoldout(new[] { "big", "big", "small", "big", "big" }, 0.2, seed);
            train.Should().Equal(0, 1, 3, 4);
            validation.Should().Equal(2);
        }
        // Two equal groups cannot give a fifth: neither side is left empty.
        var (half, otherHalf) = DataSplits.GroupHoldout(new[] { "a", "b", "a", "b" }, 0.2);
        half.Should().HaveCount(2);
        otherHalf.Should().HaveCount(2);
        otherHalf.Select(i => new[] { "a", "b", "a", "b" }[i]).Distinct().Should().ContainSingle();
    }

    // The mean over classes of the standard deviation, across folds, of each fold's share of the class.
    private static double ShareSpread(int[] labels, IReadOnlyList<(int[] Train, int[] Validation)> folds)
    {
        var classes = labels.Distinct().ToArray();
        return classes.Average(c =>
        {
            var shares = folds.Select(f => (double)f.Validation.Count(i => labels[i] == c) / labels.Count(l => l == c)).ToArray();
            double mean = shares.Average();
            return Math.Sqrt(shares.Average(s => (s - mean) * (s - mean)));
        });
    }

    private static double ClassDeviation(int[] labels, int[] validation, double fraction) =>
        labels.Distinct().Sum(c => Math.Abs((double)validation.Count(i => labels[i] == c) / labels.Count(l => l == c) - fraction));
}
