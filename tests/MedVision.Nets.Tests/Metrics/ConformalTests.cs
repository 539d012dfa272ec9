using System.Text.Json;
using FluentAssertions;
using MedVision.Nets.Metrics.Conformal;
using Xunit;

namespace MedVision.Nets.Tests.Metrics;

/// <summary>
/// <see cref="ConformalClassifier"/> against a brute-force reference (Fixtures/make_conformal_fixture.py: thresholds,
/// scores, sets, Clopper–Pearson and Beta intervals from scipy/statsmodels), its coverage guarantee on exchangeable data,
/// and its refusals of bad input.
/// </summary>
public sealed class ConformalTests
{
    private static readonly Lazy<JsonElement[]> Cases = new(() => FixtureJson.Load("conformal_fixture.json").GetProperty("cases").EnumerateArray().ToArray());

    public static TheoryData<string> Names() => FixtureJson.Names(Cases.Value);

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    [Theory]
    [MemberData(nameof(Names))]
    public void ThresholdsScoresAndSetsAreTheReference(string name)
    {
        var c = Cases.Value.Single(x => x.GetProperty("name").GetString() == name);
        var calP = FixtureJson.Matrix(c.GetProperty("calibration_probabilities"));
        var calY = Ints(c.GetProperty("calibration_labels"));
        var testP = FixtureJson.Matrix(c.GetProperty("test_probabilities"));
        var testY = Ints(c.GetProperty("test_labels"));
        int k = c.GetProperty("classes").GetInt32();
        int recipes = 0;
        foreach (var r in c.GetProperty("recipes").EnumerateArray())
        {
            var score = Enum.Parse<ConformalScore>(r.GetProperty("score").GetString()!);
            double coverage = r.GetProperty("coverage").GetDouble();
            bool conditional = r.GetProperty("class_conditional").GetBoolean();
            string what = $"{score} coverage {coverage} conditional {conditional} λ {r.GetProperty("lambda").GetDouble()} k_reg {r.GetProperty("k_reg").GetInt32()}";
            var builder = ConformalClassifier.Create().WithScore(score).WithCoverage(coverage).ClassConditional(conditional);
            if (score == ConformalScore.Raps) builder.WithRegularization(r.GetProperty("lambda").GetDouble(), r.GetProperty("k_reg").GetInt32());
            var conformal = builder.Calibrate(calY, calP);

            var thresholds = r.GetProperty("thresholds").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? double.PositiveInfinity : e.GetDouble()).ToArray();
            conformal.Thresholds.Should().Equal(thresholds, (a, b) => a == b || Math.Abs(a - b) <= 1e-12, what);
            conformal.Warnings.Count.Should().Be(thresholds.Any(double.IsPositiveInfinity) ? (conditional ? thresholds.Count(double.IsPositiveInfinity) : 1) : 0, what);

            var calibrationScores = r.GetProperty("calibration_scores").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (int i = 0; i < calibrationScores.Length; i++)
            {
                var row = Enumerable.Range(0, k).Select(j => calP[i, j]).ToArray();
                conformal.ScoreOf(row, calY[i]).Should().BeApproximately(calibrationScores[i], 1e-12, $"{what}: calibration image {i}");
            }

            var expectedSets = r.GetProperty("sets").EnumerateArray().Select(Ints).ToArray();
            var sets = conformal.PredictSets(testP);
            for (int i = 0; i < sets.Length; i++) sets[i].Should().Equal(expectedSets[i], $"{what}: test image {i}");

            var evaluation = conformal.Evaluate(testY, testP);
            evaluation.Covered.Should().Be(r.GetProperty("covered").GetInt32(), what);
            evaluation.MeanSetSize.Should().BeApproximately(r.GetProperty("mean_size").GetDouble(), 1e-12, what);
            var interval = r.GetProperty("coverage_interval").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            evaluation.CoverageInterval.Lower.Should().BeApproximately(interval[0], 1e-9, what);
            evaluation.CoverageInterval.Upper.Should().BeApproximately(interval[1], 1e-9, what);
            if (!conditional)
            {
                var distribution = r.GetProperty("coverage_distribution_90").EnumerateArray().Select(e => e.GetDouble()).ToArray();
                var d = conformal.CoverageDistribution(0.9);
                d.Lower.Should().BeApproximately(distribution[0], 1e-9, what);
                d.Upper.Should().BeApproximately(distribution[1], 1e-9, what);
            }
            recipes++;
        }
        recipes.Should().Be(36);
    }

    [Fact]
    public void CoverageOverRandomSplitsIsTheConformalRankNotTheEmpiricalQuantile()
    {
        // Continuous LAC scores, 20 calibration images, α = 0.1: the expected coverage is exactly ⌈21 · 0.9⌉ / 21 = 19/21
        // (0.905). The plain empirical quantile ⌈20 · 0.9⌉ = 18 would give 18/21 (0.857): 2,000 splits tell them apart.
        var (labels, probabilities) = Synthetic(3000, 5, seed: 11);
        var splits = ConformalClassifier.Create().WithScore(ConformalScore.Lac).WithCoverage(0.9)
            .EvaluateOnRandomSplits(labels, probabilities, calibrationCount: 20, trials: 2000, seed: 5);
        double se = splits.CoverageStandardDeviation / Math.Sqrt(splits.Trials);
        splits.MeanCoverage.Should().BeApproximately(19.0 / 21, 4 * se + 0.002);
        splits.Trials.Should().Be(2000);
        splits.Coverages.Should().HaveCount(2000);
        splits.ShareBelowTarget.Should().BeInRange(0.05, 0.6, "one split of 20 calibration images often falls short of the target; the average does not");
    }

    [Theory]
    [InlineData(ConformalScore.Lac)]
    [InlineData(ConformalScore.Aps)]
    [InlineData(ConformalScore.Raps)]
    [InlineData(ConformalScore.OrdinalAps)]
    public void EveryScoreCoversAtLeastWhatWasAskedOnExchangeableData(ConformalScore score)
    {
        var (labels, probabilities) = Synthetic(2000, 5, seed: 3);
        foreach (bool conditional in new[] { false, true })
        {
            var builder = ConformalClassifier.Create().WithScore(score).WithCoverage(0.8).ClassConditional(conditional);
            var splits = builder.EvaluateOnRandomSplits(labels, probabilities, calibrationCount: 500, trials: 200, seed: 1);
            double se = splits.CoverageStandardDeviation / Math.Sqrt(splits.Trials);
            splits.MeanCoverage.Should().BeGreaterThan(0.8 - (4 * se), $"{score}, class-conditional {conditional}");
            // LAC's continuous scores cover at most 1 − α + 1/(n+1); the cumulative scores also keep the most probable class,
            // which adds a little on confident images — but not the 0.98 of sets that take the class crossing q̂.
            splits.MeanCoverage.Should().BeLessThan(score == ConformalScore.Lac ? 0.8 + (1.0 / 501) + (4 * se) : 0.9, $"{score}, class-conditional {conditional}: sets that cover far more than asked are wastefully large");
            if (conditional) splits.MeanWorstClassCoverage.Should().BeGreaterThan(0.75, $"{score}: per-class thresholds cover every class");
        }
    }

    [Fact]
    public void ClassConditionalThresholdsCoverTheRareClassThatMarginalOnesFail()
    {
        // Class 4 is rare and the model is unsure of it: a marginal threshold serves the common classes and leaves it
        // under-covered; per-class thresholds cover it as asked.
        var random = new Random(8);
        int n = 4000;
        var labels = new int[n];
        var p = new double[n, 5];
        for (int i = 0; i < n; i++)
        {
            int y = random.NextDouble() < 0.08 ? 4 : random.Next(4);
            labels[i] = y;
            double confidence = y == 4 ? 0.3 + (0.2 * random.NextDouble()) : 0.6 + (0.35 * random.NextDouble());
            int shown = y == 4 && random.NextDouble() < 0.6 ? random.Next(4) : y;
            for (int j = 0; j < 5; j++) p[i, j] = j == shown ? confidence : (1 - confidence) / 4;
        }
        var marginal = ConformalClassifier.Create().WithScore(ConformalScore.Aps).WithCoverage(0.9)
            .EvaluateOnRandomSplits(labels, p, 2000, trials: 50, seed: 2);
        var conditional = ConformalClassifier.Create().WithScore(ConformalScore.Aps).WithCoverage(0.9).ClassConditional()
            .EvaluateOnRandomSplits(labels, p, 2000, trials: 50, seed: 2);
        marginal.MeanCoverage.Should().BeGreaterThan(0.89);
        marginal.MeanWorstClassCoverage.Should().BeLessThan(0.8);
        conditional.MeanWorstClassCoverage.Should().BeGreaterThan(0.85);
    }

    [Fact]
    public void OrdinalSetsAreIntervalsOfGrades()
    {
        var (labels, probabilities) = Synthetic(600, 7, seed: 9, bimodal: true);
        foreach (bool conditional in new[] { false, true })
        {
            var conformal = ConformalClassifier.Create().WithScore(ConformalScore.OrdinalAps).WithCoverage(0.9).ClassConditional(conditional)
                .Calibrate(labels[..300], Rows(probabilities, 0, 300));
            var sets = conformal.PredictSets(Rows(probabilities, 300, 300));
            sets.Where(s => s.Length > 0 && s[^1] - s[0] + 1 != s.Length).Should().BeEmpty($"class-conditional {conditional}");
            sets.Count(s => s.Length >= 2).Should().BeGreaterThan(50);
            // The bimodal rows make APS's sets gapped sometimes: ordinal APS never is.
        }
        var aps = ConformalClassifier.Create().WithScore(ConformalScore.Aps).WithCoverage(0.9).Calibrate(labels[..300], Rows(probabilities, 0, 300));
        aps.PredictSets(Rows(probabilities, 300, 300)).Where(s => s.Length > 0 && s[^1] - s[0] + 1 != s.Length).Should().NotBeEmpty();
    }

    [Fact]
    public void AThousandClassesAreScoredOnTheHeap()
    {
        // Sets of ImageNet-sized outputs: beyond the classes the scores keep on the stack, the same definitions hold.
        var (labels, probabilities) = Synthetic(300, 1000, seed: 6);
        foreach (var score in Enum.GetValues<ConformalScore>())
        {
            var conformal = ConformalClassifier.Create().WithScore(score).WithCoverage(0.8).Calibrate(labels[..200], Rows(probabilities, 0, 200));
            var test = Rows(probabilities, 200, 100);
            var sets = conformal.PredictSets(test);
            for (int i = 0; i < 100; i += 10)
            {
                var row = Enumerable.Range(0, 1000).Select(j => test[i, j]).ToArray();
                // The scores from their definitions: the classes ranked at or above y are those more probable, or as
                // probable and of a lower index (the order is not the code's own).
                double Score(int y)
                {
                    var above = Enumerable.Range(0, 1000).Where(j => row[j] > row[y] || (row[j] == row[y] && j <= y)).ToArray();
                    return score switch
                    {
                        ConformalScore.Lac => 1 - row[y],
                        ConformalScore.Aps => above.Sum(j => row[j]),
                        ConformalScore.Raps => above.Sum(j => row[j]) + (conformal.Regularization * Math.Max(0, above.Length - conformal.RegularizationRank)),
                        _ => conformal.ScoreOf(row, y),
                    };
                }
                var expected = Enumerable.Range(0, 1000).Where(y => Score(y) <= conformal.Threshold).ToHashSet();
                if (score != ConformalScore.Lac) expected.Add(Array.IndexOf(row, row.Max()));
                sets[i].Should().BeEquivalentTo(expected, $"{score}, image {i}");
            }
            conformal.Evaluate(labels[200..], test).Coverage.Should().BeGreaterThan(0.6, score.ToString());
        }
    }

    [Fact]
    public void EvaluationCountsAgreeWithTheSets()
    {
        var (labels, probabilities) = Synthetic(500, 4, seed: 21);
        var conformal = ConformalClassifier.Create().WithScore(ConformalScore.Lac).WithCoverage(0.95).Calibrate(labels[..250], Rows(probabilities, 0, 250));
        var testLabels = labels[250..];
        var e = conformal.Evaluate(testLabels, Rows(probabilities, 250, 250));
        e.Count.Should().Be(250);
        e.Sets.Should().HaveCount(250);
        e.Covered.Should().Be(Enumerable.Range(0, 250).Count(i => e.Sets[i].Contains(testLabels[i])));
        e.SizeCounts.Sum().Should().Be(250);
        e.MeanSetSize.Should().BeApproximately(e.Sets.Average(s => s.Count), 1e-12);
        e.SingletonRate.Should().Be(e.Sets.Count(s => s.Count == 1) / 250.0);
        e.EmptyRate.Should().Be(e.Sets.Count(s => s.Count == 0) / 250.0);
        e.FullRate.Should().Be(e.Sets.Count(s => s.Count == 4) / 250.0);
        for (int c = 0; c < 4; c++)
        {
            var mine = Enumerable.Range(0, 250).Where(i => testLabels[i] == c).ToArray();
            e.ByClass[c].Count.Should().Be(mine.Length);
            e.ByClass[c].Covered.Should().Be(mine.Count(i => e.Sets[i].Contains(c)));
        }
        e.BySize.Sum(g => g.Count).Should().Be(250);
        e.BySize.Sum(g => g.Covered).Should().Be(e.Covered);
        e.SizeStratifiedViolation.Should().Be(e.BySize.Max(g => Math.Abs(g.Coverage - 0.95)));
        e.WorstClassCoverage.Should().Be(e.ByClass.Min(g => g.Coverage));
        e.ToString().Should().Contain("Coverage").And.Contain("class 3").And.Contain("size ");
        conformal.ToString().Should().Contain("Lac").And.Contain("coverage 0.95").And.Contain("250 calibration images");
    }

    [Fact]
    public void TooFewCalibrationImagesGiveFullSetsAndSayWhy()
    {
        var (labels, probabilities) = Synthetic(8, 3, seed: 4);
        var conformal = ConformalClassifier.Create().WithCoverage(0.9).Calibrate(labels, probabilities);
        conformal.Threshold.Should().Be(double.PositiveInfinity);
        conformal.Warnings.Should().ContainSingle().Which.Should().Contain("needs at least 9 calibration images").And.Contain("8 calibration images");
        conformal.PredictSets(probabilities).Should().OnlyContain(s => s.Length == 3);
        conformal.CoverageDistribution().Lower.Should().Be(1);

        var (more, moreP) = Synthetic(9, 3, seed: 4);
        ConformalClassifier.Create().WithCoverage(0.9).Calibrate(more, moreP).Warnings.Should().BeEmpty("9 images are enough for 90%: ⌈10 · 0.9⌉ = 9");

        var perClass = ConformalClassifier.Create().ClassConditional().Calibrate(new[] { 0, 0, 1 }, new double[,] { { 0.9, 0.1 }, { 0.6, 0.4 }, { 0.3, 0.7 } });
        perClass.Warnings.Should().HaveCount(2).And.Contain(w => w.Contains("class 1 has 1 calibration image:"));
        FluentActions.Invoking(() => perClass.Threshold).Should().Throw<InvalidOperationException>().WithMessage("*one threshold per class*");
        FluentActions.Invoking(() => perClass.CoverageDistribution()).Should().Throw<ArgumentException>().WithMessage("*name the class*");
        perClass.CoverageDistribution(forClass: 1).Upper.Should().Be(1);
    }

    [Fact]
    public void BadInputIsRefusedByName()
    {
        var good = new double[,] { { 0.7, 0.2, 0.1 }, { 0.1, 0.8, 0.1 } };
        var builder = ConformalClassifier.Create();
        FluentActions.Invoking(() => builder.Calibrate(new[] { 0, 1 }, new double[,] { { 2.0, -1.0, 0.5 }, { 0.1, 0.8, 0.1 } }))
            .Should().Throw<ArgumentException>().WithMessage("*row 0*class 0 is 2*not logits*");
        FluentActions.Invoking(() => builder.Calibrate(new[] { 0, 1 }, new double[,] { { 0.9, 0.9, 0.9 }, { 0.1, 0.8, 0.1 } }))
            .Should().Throw<ArgumentException>().WithMessage("*row 0*sum to 2.7*not 1*");
        FluentActions.Invoking(() => builder.Calibrate(new[] { 0, 1 }, new double[,] { { double.NaN, 0.5, 0.5 }, { 0.1, 0.8, 0.1 } }))
            .Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => builder.Calibrate(new[] { 0, 3 }, good)).Should().Throw<ArgumentException>().WithMessage("*Label 3 at index 1*");
        FluentActions.Invoking(() => builder.Calibrate(new[] { 0 }, good)).Should().Throw<ArgumentException>().WithMessage("*1 labels but 2 probability rows*");
        FluentActions.Invoking(() => builder.Calibrate(new[] { 0 }, new double[,] { { 1.0 } })).Should().Throw<ArgumentException>().WithMessage("*at least two classes*");
        FluentActions.Invoking(() => builder.Calibrate(Array.Empty<int>(), new double[0, 3])).Should().Throw<ArgumentException>().WithMessage("*no rows*");
        FluentActions.Invoking(() => builder.Calibrate(new[,] { { 0, 1 }, { 1, 0 } }, good)).Should().Throw<ArgumentException>().WithMessage("*2 columns (multi-label data)*");
        foreach (double bad in new[] { 0, 1, double.NaN, -0.5, 1.5 })
            FluentActions.Invoking(() => ConformalClassifier.Create().WithCoverage(bad)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*strictly between 0 and 1*");
        FluentActions.Invoking(() => ConformalClassifier.Create().WithScore((ConformalScore)9)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ConformalClassifier.Create().WithRegularization(-1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ConformalClassifier.Create().WithRegularization(0.1, -2)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ConformalClassifier.Create().WithScore(ConformalScore.Aps).WithRegularization(0.1).Calibrate(new[] { 0, 1 }, good))
            .Should().Throw<InvalidOperationException>().WithMessage("*Raps only*");
        FluentActions.Invoking(() => builder.EvaluateOnRandomSplits(new[] { 0, 1 }, good, calibrationCount: 2)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => builder.EvaluateOnRandomSplits(new[] { 0, 1 }, good, calibrationCount: 1, trials: 0)).Should().Throw<ArgumentOutOfRangeException>();

        var conformal = builder.Calibrate(new[] { 0, 1 }, good);
        FluentActions.Invoking(() => conformal.PredictSet(new double[] { 0.5, 0.5 })).Should().Throw<ArgumentException>().WithMessage("*2 probabilities but the calibration has 3 classes*");
        FluentActions.Invoking(() => conformal.PredictSets(new double[,] { { 0.5, 0.5 } })).Should().Throw<ArgumentException>().WithMessage("*2 columns but the calibration has 3 classes*");
        FluentActions.Invoking(() => conformal.ScoreOf(new double[] { 0.5, 0.25, 0.25 }, 3)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => conformal.Evaluate(new[] { 0, 5 }, good)).Should().Throw<ArgumentException>().WithMessage("*Label 5*");
        FluentActions.Invoking(() => conformal.CoverageDistribution(1.0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => conformal.CoverageDistribution(0.9, forClass: 0)).Should().Throw<ArgumentException>().WithMessage("*leave the class out*");
        conformal.PredictSet(new float[] { 0.6f, 0.3f, 0.1f }).Should().Equal(conformal.PredictSet(new double[] { 0.6f, 0.3f, 0.1f }));
    }

    // Labels drawn from each row's own probabilities (a calibrated model), rows from a Dirichlet-like draw.
    private static (int[] Labels, double[,] Probabilities) Synthetic(int n, int k, int seed, bool bimodal = false)
    {
        var random = new Random(seed);
        var labels = new int[n];
        var p = new double[n, k];
        var row = new double[k];
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int j = 0; j < k; j++) sum += row[j] = Math.Pow(-Math.Log(1 - random.NextDouble()), 2.5);
            if (bimodal && i % 3 == 0)
            {
                // Two separated peaks (grades 1 and k−2) with little between them.
                Array.Fill(row, 0.02);
                row[1] = 0.3 + random.NextDouble();
                row[k - 2] = 0.3 + random.NextDouble();
                sum = row.Sum();
            }
            double u = random.NextDouble(), cumulative = 0;
            labels[i] = k - 1;
            for (int j = 0; j < k; j++)
            {
                p[i, j] = row[j] / sum;
                cumulative += p[i, j];
                if (u < cumulative && labels[i] == k - 1 && cumulative - p[i, j] <= u) labels[i] = j;
            }
        }
        return (labels, p);
    }

    private static double[,] Rows(double[,] p, int start, int count)
    {
        int k = p.GetLength(1);
        var r = new double[count, k];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < k; j++) r[i, j] = p[start + i, j];
        return r;
    }
}
