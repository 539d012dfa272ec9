using System.Text.Json;
using FluentAssertions;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Quality;
using MedVision.Nets.Transforms;
using Xunit;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// The near-duplicate search and the split audit: against a brute-force numpy search of the shipped RetinaMNIST
/// (Fixtures/make_near_duplicate_fixture.py), against a brute-force search here on images built with near-copies (so
/// the pruning never loses a pair), and their refusals.
/// </summary>
public sealed class NearDuplicateTests
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());
    private static readonly Lazy<JsonElement> Fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureJson.Folder(""), "near_duplicate_fixture.json"))).RootElement.Clone());

    private sealed class ListSource(IReadOnlyList<FloatImage> images, IReadOnlyList<int>? labels = null) : ILabeledImageSource
    {
        public int Count => images.Count;

        public int LabelColumns => 1;

        public (FloatImage Image, int[] Labels) Load(int index) => (images[index].Clone(), new[] { labels?[index] ?? 0 });
    }

    private static SplitAuditBuilder RetinaAudit() => SplitAudit.Create()
        .AddSplit("train", new MedMnistImageSource(Retina.Value.Train))
        .AddSplit("val", new MedMnistImageSource(Retina.Value.Validation))
        .AddSplit("test", new MedMnistImageSource(Retina.Value.Test));

    [Fact]
    public void RetinaMnistPairsAndNearestImagesAreNumpysBruteForce()
    {
        var fixture = Fixture.Value;
        double limit = fixture.GetProperty("limit").GetDouble();
        var expected = fixture.GetProperty("pairs").EnumerateArray()
            .Select(p => (p[0].GetString()!, p[1].GetInt32(), p[2].GetString()!, p[3].GetInt32(), p[4].GetDouble())).ToArray();
        expected.Should().NotBeEmpty();

        var audit = RetinaAudit().WithMaxDifference(limit).Run();
        audit.Duplicates.Select(d => (d.FirstSplit, d.FirstIndex, d.SecondSplit, d.SecondIndex)).Should().BeEquivalentTo(expected.Select(e => (e.Item1, e.Item2, e.Item3, e.Item4)));
        foreach (var d in audit.Duplicates)
            d.Difference.Should().BeApproximately(expected.Single(e => (e.Item1, e.Item2, e.Item3, e.Item4) == (d.FirstSplit, d.FirstIndex, d.SecondSplit, d.SecondIndex)).Item5, 1e-6);
        audit.SplitSizes.Should().Equal(1080, 120, 400);

        // At the default threshold: the pairs below 0.01, none of them across splits.
        var standard = RetinaAudit().Run();
        standard.Duplicates.Should().HaveCount(expected.Count(e => e.Item5 <= NearDuplicates.DefaultMaxDifference));
        standard.CrossSplit.Should().BeEmpty();
        standard.IsClean.Should().BeTrue();
        standard.ToString().Should().Contain("No image or group crosses splits.");

        var train = new MedMnistImageSource(Retina.Value.Train);
        foreach (var (split, source) in new[] { ("val", new MedMnistImageSource(Retina.Value.Validation)), ("test", new MedMnistImageSource(Retina.Value.Test)) })
        {
            var nearest = NearDuplicates.Nearest(source, train);
            var reference = fixture.GetProperty("nearest_to_train").GetProperty(split).EnumerateArray().Select(n => (n[0].GetInt32(), n[1].GetDouble())).ToArray();
            nearest.Select(n => n.Index).Should().Equal(reference.Select(r => r.Item1), $"the nearest training image of every {split} image");
            nearest.Select(n => n.Difference).Should().Equal(reference.Select(r => r.Item2), (a, e) => Math.Abs(a - e) < 1e-6);
        }
    }

    // Images of a given shape, with near-copies (noise, a brightness shift, a small patch changed) and exact copies.
    private static List<FloatImage> Images(int[] shape, int count, int seed)
    {
        var random = new Random(seed);
        int length = shape.Aggregate(1, (a, b) => a * b);
        var images = new List<FloatImage>();
        for (int i = 0; i < count; i++)
        {
            if (images.Count > 2 && random.NextDouble() < 0.4)
            {
                var source = images[random.Next(images.Count)].Data;
                int kind = random.Next(4);
                double scale = random.NextDouble() * 0.05;
                var copy = source.Select((v, k) => kind switch
                {
                    0 => v,
                    1 => Math.Clamp(v + (float)((random.NextDouble() - 0.5) * scale), 0, 1),
                    2 => Math.Clamp(v + (float)scale * 0.5f, 0, 1),
                    _ => k % 7 == 0 ? (float)random.NextDouble() : v,
                }).ToArray();
                images.Add(new FloatImage(copy, shape));
            }
            else
            {
                // Smooth-ish images around a random level, so that means overlap and the bounds must do the work.
                float level = (float)(0.3 + 0.4 * random.NextDouble());
                images.Add(new FloatImage(Enumerable.Range(0, length).Select(_ => Math.Clamp(level + (float)((random.NextDouble() - 0.5) * 0.3), 0, 1)).ToArray(), shape));
            }
        }
        return images;
    }

    private static double Brute(FloatImage a, FloatImage b)
    {
        double sum = 0;
        for (int k = 0; k < a.Data.Length; k++) sum += Math.Abs(a.Data[k] - b.Data[k]);
        return sum / a.Data.Length;
    }

    [Theory]
    [InlineData(new[] { 3, 8, 8 }, 1)]
    [InlineData(new[] { 1, 7, 5 }, 2)]
    [InlineData(new[] { 1, 3, 6, 5 }, 3)]
    [InlineData(new[] { 2, 1, 9 }, 4)]
    public void PrunedSearchFindsEveryPairABruteForceSearchFinds(int[] shape, int seed)
    {
        var images = Images(shape, 90, seed);
        var others = Images(shape, 40, seed + 100).Concat(images.Take(5).Select(i => i.Clone())).ToList();
        foreach (double threshold in new[] { 0, 0.002, 0.01, 0.03, 0.1 })
        {
            var within = NearDuplicates.Find(new ListSource(images), threshold);
            var expected = (from i in Enumerable.Range(0, images.Count)
                            from j in Enumerable.Range(i + 1, images.Count - i - 1)
                            let d = Brute(images[i], images[j])
                            where d <= threshold
                            select (i, j)).ToArray();
            within.Select(p => (p.First, p.Second)).Should().Equal(expected, $"threshold {threshold}");
            within.Should().OnlyContain(p => Math.Abs(p.Difference - Brute(images[p.First], images[p.Second])) < 1e-6);

            var between = NearDuplicates.Find(new ListSource(images), new ListSource(others), threshold);
            var expectedBetween = (from i in Enumerable.Range(0, images.Count)
                                   from j in Enumerable.Range(0, others.Count)
                                   where Brute(images[i], others[j]) <= threshold
                                   select (i, j)).ToArray();
            between.Select(p => (p.First, p.Second)).Should().Equal(expectedBetween, $"threshold {threshold}");
        }
        NearDuplicates.Find(new ListSource(images), new ListSource(others), 0).Select(p => (p.First, p.Second))
            .Should().Contain(Enumerable.Range(0, 5).Select(i => (i, 40 + i)), "the exact copies are found at difference 0");

        var nearest = NearDuplicates.Nearest(new ListSource(others), new ListSource(images));
        for (int q = 0; q < others.Count; q++)
        {
            var distances = images.Select(r => Brute(others[q], r)).ToArray();
            double best = distances.Min();
            nearest[q].Difference.Should().BeApproximately(best, 1e-6);
            nearest[q].Index.Should().Be(Array.FindIndex(distances, d => Math.Abs(d - best) < 1e-9), "ties go to the lower index");
        }
    }

    [Fact]
    public void GroupsJoinChainsOfNearDuplicates()
    {
        float[] Flat(float v) => Enumerable.Repeat(v, 16).ToArray();
        // 0.50, 0.508, 0.516 form a chain at 0.01 (0 and 2 differ by 0.016); 0.9 and 0.905 a pair; 0.2 alone.
        var images = new[] { 0.5f, 0.9f, 0.508f, 0.2f, 0.516f, 0.905f }.Select(v => new FloatImage(Flat(v), 1, 4, 4)).ToArray();
        var groups = NearDuplicates.Groups(new ListSource(images));
        groups.Should().Equal("near-duplicates-1", "near-duplicates-2", "near-duplicates-1", "image-3", "near-duplicates-1", "near-duplicates-2");
        NearDuplicates.Find(new ListSource(images)).Select(p => (p.First, p.Second)).Should().Equal((0, 2), (1, 5), (2, 4));
        NearDuplicates.Difference(images[0], images[4]).Should().BeApproximately(0.016, 1e-6);

        // Stratified grouped folds keep every chain in one fold.
        var labels = new[] { 0, 1, 0, 1, 0, 1 };
        foreach (var (train, validation) in DataSplits.StratifiedGroupKFold(labels, groups, 2))
            validation.Select(i => groups[i]).Intersect(train.Select(i => groups[i])).Should().BeEmpty();
    }

    [Fact]
    public void AuditReportsLeakageLabelConflictsAndPatientsInTwoSplits()
    {
        var images = Images(new[] { 1, 6, 6 }, 12, 9);
        var train = images.Take(8).ToList();
        // Test image 0 is a copy of training image 3 with the other label; test image 1 is new; test image 2 a copy of 5 with its label.
        var test = new List<FloatImage> { images[3].Clone(), Images(new[] { 1, 6, 6 }, 1, 77)[0], images[5].Clone() };
        var trainLabels = Enumerable.Range(0, 8).Select(i => i % 2).ToArray();
        var testLabels = new[] { 1 - trainLabels[3], 0, trainLabels[5] };
        var audit = SplitAudit.Create()
            .AddSplit("train", new ListSource(train, trainLabels), Enumerable.Range(0, 8).Select(i => $"p{i / 2}").ToArray())
            .AddSplit("test", new ListSource(test, testLabels), new[] { "p1", "p9", "p8" })
            .WithMaxDifference(0)
            .Run();
        audit.CrossSplit.Select(d => (d.FirstSplit, d.FirstIndex, d.SecondSplit, d.SecondIndex)).Should().Contain(new[] { ("train", 3, "test", 0), ("train", 5, "test", 2) });
        audit.Between("test", "train").Should().BeEquivalentTo(audit.CrossSplit);
        audit.LabelConflicts.Should().ContainSingle(d => d.FirstIndex == 3 && d.SecondIndex == 0).Which.LabelsAgree.Should().BeFalse();
        audit.GroupOverlaps.Should().ContainSingle().Which.Should().BeEquivalentTo(new GroupOverlap("p1", new Dictionary<string, int> { ["train"] = 2, ["test"] = 1 }));
        audit.IsClean.Should().BeFalse();
        audit.ImagesWithDuplicates("test", "train").Should().Be(2);
        audit.ToString().Should().Contain("train–test: ").And.Contain("groups in more than one of train, test: 1 (p1)").And.Contain("Leakage: ");

        using var folder = new TempFolder();
        var csv = Path.Combine(folder.Path, "audit", "near-duplicates.csv");
        audit.WriteCsv(csv);
        var lines = File.ReadAllLines(csv);
        lines[0].Should().Be("first_split,first_index,second_split,second_index,difference,first_labels,second_labels,labels_agree");
        lines.Should().Contain($"train,3,test,0,0,{trainLabels[3]},{testLabels[0]},false");
        lines.Should().HaveCount(audit.Duplicates.Count + 1);
        Directory.GetFiles(Path.GetDirectoryName(csv)!).Should().ContainSingle("the temporary file is renamed");
    }

    [Fact]
    public void BadInputIsRefusedByName()
    {
        var small = new ListSource(new[] { new FloatImage(new float[12], 3, 2, 2), new FloatImage(new float[12], 3, 2, 2) });
        var other = new ListSource(new[] { new FloatImage(new float[16], 1, 4, 4) });
        FluentActions.Invoking(() => NearDuplicates.Find(small, other))
            .Should().Throw<ArgumentException>().WithMessage("other image 0 has shape (1, 4, 4) but source image 0 has (3, 2, 2)*");
        FluentActions.Invoking(() => SplitAudit.Create().AddSplit("train", small).AddSplit("test", other).Run())
            .Should().Throw<ArgumentException>().WithMessage("test image 0 has shape (1, 4, 4) but train image 0 has (3, 2, 2)*give sources of one size*");
        foreach (var bad in new[] { -0.1, double.NaN, double.PositiveInfinity })
        {
            FluentActions.Invoking(() => NearDuplicates.Find(small, bad)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*finite and at least 0*");
            FluentActions.Invoking(() => SplitAudit.Create().WithMaxDifference(bad)).Should().Throw<ArgumentOutOfRangeException>();
        }
        var nan = new ListSource(new[] { new FloatImage(new[] { 0f, float.NaN, 0, 0 }, 1, 2, 2) });
        FluentActions.Invoking(() => NearDuplicates.Find(nan)).Should().Throw<ArgumentException>().WithMessage("source image 0 holds a value that is not finite at element 1*");
        FluentActions.Invoking(() => NearDuplicates.Nearest(small, new ListSource(Array.Empty<FloatImage>())))
            .Should().Throw<ArgumentException>().WithMessage("The reference has no images*");
        FluentActions.Invoking(() => NearDuplicates.Difference(new FloatImage(new float[4], 1, 2, 2), new FloatImage(new float[4], 1, 4, 1)))
            .Should().Throw<ArgumentException>().WithMessage("The images' shapes differ: (1, 2, 2) and (1, 4, 1)*");
        FluentActions.Invoking(() => SplitAudit.Create().AddSplit("a", small).AddSplit("a", small))
            .Should().Throw<ArgumentException>().WithMessage("A split named a is already in the audit*");
        FluentActions.Invoking(() => SplitAudit.Create().AddSplit("a", small, new[] { "p" }))
            .Should().Throw<ArgumentException>().WithMessage("Split a has 2 samples but 1 groups; give one per sample*");
        FluentActions.Invoking(() => SplitAudit.Create().AddSplit("a", small, new[] { "p", null! }))
            .Should().Throw<ArgumentException>().WithMessage("The group of sample 1 of split a is null*");
        FluentActions.Invoking(() => SplitAudit.Create().Run()).Should().Throw<InvalidOperationException>().WithMessage("Add at least one split with AddSplit.");
        var audit = SplitAudit.Create().AddSplit("a", small).Run();
        audit.Duplicates.Should().ContainSingle().Which.Difference.Should().Be(0);
        FluentActions.Invoking(() => audit.Between("a", "b")).Should().Throw<ArgumentException>().WithMessage("b is not a split of this audit (a)*");
    }
}
