using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Data.Synthetic;

namespace MedVision.Nets.Tests.Data;

public sealed class SegmentationFoldsTests
{
    private static readonly PhantomSegmentationSource Source = new(new PhantomGenerator(size: 8, seed: 1), 0, 11);

    [Fact]
    public void Folds_PartitionTheSamples_InNearlyEqualSeededParts()
    {
        var folds = SegmentationFolds.Split(Source, 3, seed: 4);
        folds.Should().HaveCount(3);
        folds.Select(f => f.Validation.Count).Should().Equal(4, 4, 3);
        folds.SelectMany(f => f.Validation.Indices).Order().Should().Equal(Enumerable.Range(0, 11), "every sample validates in exactly one fold");
        foreach (var fold in folds)
        {
            fold.Train.Indices.Should().BeInAscendingOrder().And.NotIntersectWith(fold.Validation.Indices);
            fold.Train.Count.Should().Be(11 - fold.Validation.Count);
            fold.FoldCount.Should().Be(3);
        }
        folds[1].Validation.Load(0).Labels.Data.Should().Equal(Source.Load(folds[1].Validation.Indices[0]).Labels.Data, "the subset loads the source's sample");
        SegmentationFolds.Split(Source, 3, seed: 4).Select(f => f.Validation.Indices).Should().BeEquivalentTo(folds.Select(f => f.Validation.Indices), o => o.WithStrictOrdering(), "seeded");
        SegmentationFolds.Split(Source, 3, seed: 5)[0].Validation.Indices.Should().NotEqual(folds[0].Validation.Indices, "another seed, another split");
        folds[2].ToString().Should().Be("fold 3 of 3: 8 training, 3 validation samples");
    }

    [Fact]
    public void Groups_StayInOneFold_AndBadArgumentsAreRefused()
    {
        // Two scans per patient (p0, p0, p1, p1, …, p5 alone).
        var groups = Enumerable.Range(0, 11).Select(i => $"p{i / 2}").ToArray();
        var folds = SegmentationFolds.Split(Source, 3, seed: 1, groups);
        foreach (var fold in folds)
        {
            var validationPatients = fold.Validation.Indices.Select(i => groups[i]).ToHashSet();
            fold.Train.Indices.Select(i => groups[i]).Should().NotIntersectWith(validationPatients, "no patient on both sides");
        }
        folds.SelectMany(f => f.Validation.Indices).Order().Should().Equal(Enumerable.Range(0, 11));
        folds.Select(f => f.Validation.Indices.Select(i => groups[i]).Distinct().Count()).Should().Equal(new[] { 2, 2, 2 }, "six patients in three folds");

        var act = () => SegmentationFolds.Split(Source, 1);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*at least two folds*");
        act = () => SegmentationFolds.Split(Source, 12);
        act.Should().Throw<ArgumentException>().WithMessage("*12 folds need at least 12 samples; the source has 11*");
        act = () => SegmentationFolds.Split(Source, 7, groups: groups);
        act.Should().Throw<ArgumentException>().WithMessage("*7 folds need at least 7 groups; the source has 6*");
        act = () => SegmentationFolds.Split(Source, 2, groups: ["a"]);
        act.Should().Throw<ArgumentException>().WithMessage("*1 keys for 11 samples*");
        var outside = () => new SegmentationSubset(Source, [11]);
        outside.Should().Throw<ArgumentOutOfRangeException>();
    }
}
