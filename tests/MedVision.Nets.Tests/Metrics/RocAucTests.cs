using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Metrics;

public class RocAucTests
{
    /// <summary>Independent definition: P(score+ &gt; score−) + ½·P(score+ = score−), by counting every pair.</summary>
    private static double PairwiseAuc(int[] labels, double[] scores)
    {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] != 1)
            {
                continue;
            }

            for (int j = 0; j < labels.Length; j++)
            {
                if (labels[j] != 0)
                {
                    continue;
                }

                pairs++;
                wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
            }
        }

        return wins / pairs;
    }

    /// <summary>Independent O(n log n) definition: Mann–Whitney U from mid-ranks.</summary>
    private static double MidRankAuc(int[] labels, double[] scores)
    {
        int n = scores.Length;
        var idx = Enumerable.Range(0, n).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && scores[idx[end + 1]] == scores[idx[start]])
            {
                end++;
            }

            double mid = ((start + end) / 2.0) + 1;
            for (int p = start; p <= end; p++)
            {
                ranks[idx[p]] = mid;
            }

            start = end + 1;
        }

        double pos = labels.Count(l => l == 1);
        double neg = n - pos;
        double rankSum = Enumerable.Range(0, n).Where(i => labels[i] == 1).Sum(i => ranks[i]);
        return (rankSum - (pos * (pos + 1) / 2)) / (pos * neg);
    }

    [Theory]
    [InlineData(1, 200, 5)]
    [InlineData(2, 300, 2)]
    [InlineData(3, 150, 1000)]
    public void TiedScoresMatchPairCounting(int seed, int n, int distinctScores)
    {
        var rng = new Random(seed);
        int[] labels = Enumerable.Range(0, n).Select(_ => rng.Next(2)).ToArray();
        double[] scores = labels.Select(l => (double)Math.Min(distinctScores - 1, rng.Next(distinctScores) + l)).ToArray();

        var auc = RocAuc.Compute(labels, scores);

        auc.IsDefined.Should().BeTrue();
        auc.Value.Should().BeApproximately(PairwiseAuc(labels, scores), 1e-12);
    }

    [Fact]
    public void LargeInputsWithNegativeAndSignedZeroScoresAreRankedCorrectly()
    {
        // Above the size where the radix sort takes over; negative scores, -0.0 and +0.0 (equal) and many ties.
        var rng = new Random(17);
        int n = 5000;
        int[] labels = Enumerable.Range(0, n).Select(_ => rng.Next(2)).ToArray();
        double[] scores = labels.Select(l => rng.Next(6) switch
        {
            0 => -0.0,
            1 => 0.0,
            2 => -1e300,
            _ => Math.Round((rng.NextDouble() * 4) - 2 + (0.5 * l), 2),
        }).ToArray();

        RocAuc.Compute(labels, scores).Value.Should().BeApproximately(PairwiseAuc(labels, scores), 1e-12);

        var roc = RocCurve.Compute(labels, scores);
        roc.Thresholds.Skip(1).Should().BeInDescendingOrder().And.OnlyHaveUniqueItems();
        roc.Count.Should().Be(scores.Distinct().Count() + 1); // -0.0 and 0.0 are one threshold
        roc.TruePositiveRates[^1].Should().Be(1.0);
        roc.FalsePositiveRates[^1].Should().Be(1.0);
    }

    [Fact]
    public void AllTiedScoresGiveOneHalf()
    {
        RocAuc.Compute(new[] { 0, 1, 1, 0, 1 }, new[] { 0.3, 0.3, 0.3, 0.3, 0.3 }).Value.Should().Be(0.5);
    }

    [Fact]
    public void OneClassOnlyIsNaNWithReason()
    {
        var r = RocAuc.Compute(new[] { 1, 1, 1 }, new[] { 0.1, 0.5, 0.9 });
        r.Value.Should().Be(double.NaN);
        r.IsDefined.Should().BeFalse();
        r.Reason.Should().Contain("no negative samples");
        RocAuc.Compute(new[] { 0, 0 }, new[] { 0.1, 0.5 }).Reason.Should().Contain("no positive samples");
    }

    [Fact]
    public void LargeMultiLabelMatchesMidRankDefinition()
    {
        const int n = 100_000;
        const int k = 14;
        var rng = new Random(7);
        var labels = new int[n, k];
        var scores = new double[n, k];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < k; j++)
            {
                labels[i, j] = rng.NextDouble() < 0.05 + (0.02 * j) ? 1 : 0;
                // Three decimals: many ties, as with quantised network outputs.
                scores[i, j] = Math.Round((0.2 * labels[i, j]) + (0.8 * rng.NextDouble()), 3);
            }
        }

        var auc = MedMnistEvaluator.GetAuc(MedMnistTask.MultiLabel, labels, scores);

        auc.PerClass.Should().HaveCount(k);
        double mean = 0;
        for (int j = 0; j < k; j++)
        {
            int[] col = Enumerable.Range(0, n).Select(i => labels[i, j]).ToArray();
            double[] s = Enumerable.Range(0, n).Select(i => scores[i, j]).ToArray();
            double expected = MidRankAuc(col, s);
            auc.PerClass[j].Value.Should().BeApproximately(expected, 1e-9, $"label {j}");
            mean += expected / k;
        }

        auc.Value.Should().BeApproximately(mean, 1e-9);
    }

    [Fact]
    public void AbsentClassGivesNaNForThatClassAndMeanOverDefinedClasses()
    {
        // Four classes, class 3 never occurs.
        int[] labels = { 0, 1, 2, 0, 1, 2, 0, 1 };
        var rng = new Random(3);
        var scores = new double[labels.Length, 4];
        for (int i = 0; i < labels.Length; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                scores[i, j] = rng.NextDouble();
            }
        }

        var auc = MedMnistEvaluator.GetAuc(MedMnistTask.MultiClass, labels, scores);

        auc.PerClass[3].IsDefined.Should().BeFalse();
        auc.PerClass[3].Reason.Should().Contain("class 3");
        auc.DefinedCount.Should().Be(3);
        double expected = Enumerable.Range(0, 3).Average(k => RocAuc.OneVsRest(labels, scores, k).Value);
        auc.Value.Should().BeApproximately(expected, 1e-15);
        auc.Warnings.Should().ContainSingle().Which.Should().Contain("class 3").And.Contain("3 of 4");
    }

    [Fact]
    public void NoDefinedClassGivesNaNSummary()
    {
        var auc = MedMnistEvaluator.GetAuc(MedMnistTask.MultiClass, new[] { 1, 1, 1 }, new double[,] { { 0.2, 0.8 }, { 0.6, 0.4 }, { 0.5, 0.5 } });
        auc.Value.Should().Be(double.NaN);
        auc.IsDefined.Should().BeFalse();
        auc.Warnings.Should().ContainSingle().Which.Should().Contain("undefined");
    }

    [Fact]
    public void BinaryUsesLastColumnAndThreshold()
    {
        int[] labels = { 0, 1, 1, 0 };
        var scores = new double[,] { { 0.9, 0.1 }, { 0.2, 0.8 }, { 0.6, 0.4 }, { 0.3, 0.7 } };
        MedMnistEvaluator.GetAuc(MedMnistTask.Binary, labels, scores).Value
            .Should().Be(RocAuc.Compute(labels, new[] { 0.1, 0.8, 0.4, 0.7 }).Value);
        MedMnistEvaluator.GetAcc(MedMnistTask.Binary, labels, scores).Should().Be(0.5); // predictions 0,1,0,1
        MedMnistEvaluator.GetAcc(MedMnistTask.Binary, labels, scores, threshold: 0.35).Should().Be(0.75); // 0,1,1,1
    }

    [Fact]
    public void ArgMaxTiesPickTheFirstClassLikeNumpy()
    {
        MedMnistEvaluator.Predict(MedMnistTask.MultiClass, new double[,] { { 0.4, 0.4, 0.2 }, { 0.1, 0.45, 0.45 } })
            .Should().Equal(0, 1);
    }
}
