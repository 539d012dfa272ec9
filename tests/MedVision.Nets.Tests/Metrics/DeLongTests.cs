using System.Text.Json;
using MathNet.Numerics.Distributions;
using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Metrics;

public class DeLongTests
{
    private static readonly Lazy<JsonElement[]> Fixture = new(() => FixtureJson.Load("delong_fixture.json").GetProperty("delong").EnumerateArray().ToArray());

    public static TheoryData<string> Cases() => FixtureJson.Names(Fixture.Value);

    private static MedMnistTask TaskOf(string task) => task switch
    {
        "binary" => MedMnistTask.Binary,
        "multilabel" => MedMnistTask.MultiLabel,
        _ => MedMnistTask.MultiClass,
    };

    private static int[,] LabelMatrix(JsonElement c, MedMnistTask task)
    {
        var labels = c.GetProperty("labels");
        if (task == MedMnistTask.MultiLabel)
        {
            var rows = labels.EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
            var matrix = new int[rows.Length, rows[0].Length];
            for (int i = 0; i < rows.Length; i++)
                for (int j = 0; j < rows[i].Length; j++) matrix[i, j] = rows[i][j];
            return matrix;
        }

        var vector = labels.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var column = new int[vector.Length, 1];
        for (int i = 0; i < vector.Length; i++) column[i, 0] = vector[i];
        return column;
    }

    private static void ShouldMatch(DeLongComparison actual, JsonElement expected)
    {
        const double Tolerance = 1e-12;
        actual.AucA.Should().BeApproximately(expected.GetProperty("auc_a").GetDouble(), Tolerance);
        actual.AucB.Should().BeApproximately(expected.GetProperty("auc_b").GetDouble(), Tolerance);
        actual.Difference.Should().BeApproximately(expected.GetProperty("difference").GetDouble(), Tolerance);
        actual.StandardError.Should().BeApproximately(expected.GetProperty("se_difference").GetDouble(), Tolerance);
        actual.Z.Should().BeApproximately(expected.GetProperty("z").GetDouble(), 1e-9);
        actual.PValue.Should().BeApproximately(expected.GetProperty("p").GetDouble(), 1e-9);
        actual.Correlation.Should().BeApproximately(expected.GetProperty("correlation").GetDouble(), 1e-9);
        var interval = expected.GetProperty("interval_difference").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        actual.DifferenceInterval.Lower.Should().BeApproximately(interval[0], 1e-9);
        actual.DifferenceInterval.Upper.Should().BeApproximately(interval[1], 1e-9);
        actual.DifferenceInterval.Level.Should().Be(0.95);
    }

    private static void ShouldMatch(AucEstimate actual, JsonElement expected)
    {
        actual.Value.Should().BeApproximately(expected.GetProperty("auc_a").GetDouble(), 1e-12);
        actual.StandardError.Should().BeApproximately(expected.GetProperty("se_a").GetDouble(), 1e-12);
        var interval = expected.GetProperty("interval_a").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        actual.Interval.Lower.Should().BeApproximately(interval[0], 1e-9);
        actual.Interval.Upper.Should().BeApproximately(interval[1], 1e-9);
    }

    // Fixtures/make_delong_fixture.py: brute force over every (positive, negative) pair, DeLong's covariances with numpy,
    // the normal tail with scipy, and statsmodels' exact McNemar test.
    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_TheBruteForceReference(string name)
    {
        var c = Fixture.Value.Single(e => e.GetProperty("name").GetString() == name);
        var task = TaskOf(c.GetProperty("task").GetString()!);
        int[,] labels = LabelMatrix(c, task);
        double[,] a = FixtureJson.Matrix(c.GetProperty("scores_a"));
        double[,] b = FixtureJson.Matrix(c.GetProperty("scores_b"));

        var comparison = DeLong.Compare(task, labels, a, b);
        var estimate = DeLong.Estimate(task, labels, a);

        ShouldMatch(comparison, c);
        ShouldMatch(estimate, c);
        estimate.Value.Should().Be(MedMnistEvaluator.GetAuc(task, labels, a).Value, "the value is the MedMNIST AUC itself");
        comparison.AucB.Should().Be(MedMnistEvaluator.GetAuc(task, labels, b).Value);
        var perClass = c.GetProperty("per_class").EnumerateArray().ToArray();
        comparison.PerClass.Should().HaveCount(perClass.Length);
        estimate.PerClass.Should().HaveCount(perClass.Length);
        for (int k = 0; k < perClass.Length; k++)
        {
            comparison.PerClass[k].Name.Should().Be(perClass[k].GetProperty("name").GetString());
            ShouldMatch(comparison.PerClass[k], perClass[k]);
            ShouldMatch(estimate.PerClass[k], perClass[k]);
        }

        comparison.Warnings.Should().BeEmpty();
        if (c.TryGetProperty("mcnemar", out var expected))
        {
            int[] vector = Enumerable.Range(0, labels.GetLength(0)).Select(i => labels[i, 0]).ToArray();
            var test = McNemar.Compare(task, vector, a, b);
            var table = expected.GetProperty("table").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
            new[] { test.BothCorrect, test.OnlyACorrect, test.OnlyBCorrect, test.NeitherCorrect }
                .Should().Equal(table[0][0], table[0][1], table[1][0], table[1][1]);
            test.PValue.Should().BeApproximately(expected.GetProperty("p").GetDouble(), 1e-12);
            test.AccuracyA.Should().Be(MedMnistEvaluator.GetAcc(task, vector, a));
            test.AccuracyB.Should().Be(MedMnistEvaluator.GetAcc(task, vector, b));
        }
    }

    [Fact]
    public void WorkedExample_ByHand()
    {
        // Positives score 0.9 and 0.4, negatives 0.6 and 0.1. Placements: positives V10 = (1, 1/2), negatives
        // V01 = (1/2, 1); AUC = 3/4; S10 = S01 = var(1, 1/2) = 1/8, so Var = 1/8/2 + 1/8/2 = 1/8.
        var estimate = DeLong.Estimate(new[] { 1, 1, 0, 0 }, new[] { 0.9, 0.4, 0.6, 0.1 });
        estimate.Value.Should().Be(0.75);
        estimate.StandardError.Should().BeApproximately(Math.Sqrt(0.125), 1e-15);
        estimate.Interval.Lower.Should().BeApproximately(0.75 - (1.959963984540054 * Math.Sqrt(0.125)), 1e-12);
        estimate.Interval.Upper.Should().Be(1, "the interval is clipped to [0, 1]");
        estimate.Name.Should().Be("class 1");
        estimate.PerClass.Should().ContainSingle().Which.Value.Should().Be(0.75);

        // A second model that swaps the positive 0.4 above the negative 0.6 (AUC 1): placements (1, 1) and (1, 1),
        // deviations of A from B: positives (0, −1/2), negatives (−1/2, 0), so Var(A − B) = 1/8 and z = −1/4/√(1/8).
        var comparison = DeLong.Compare(new[] { 1, 1, 0, 0 }, new[] { 0.9, 0.4, 0.6, 0.1 }, new[] { 0.9, 0.7, 0.6, 0.1 });
        comparison.AucB.Should().Be(1);
        comparison.Difference.Should().Be(-0.25);
        comparison.StandardError.Should().BeApproximately(Math.Sqrt(0.125), 1e-15);
        comparison.Z.Should().BeApproximately(-0.25 / Math.Sqrt(0.125), 1e-12);
        comparison.PValue.Should().BeApproximately(2 * Normal.CDF(0, 1, -0.25 / Math.Sqrt(0.125)), 1e-12);
        double.IsNaN(comparison.Correlation).Should().BeTrue("the perfect model's placements do not vary");
    }

    // The true AUC of a binormal model with positives N(δ, 1) and negatives N(0, 1) is Φ(δ/√2); over many simulated
    // test sets the 95% interval must cover it about 95% of the time (too narrow or too wide a standard error fails).
    [Fact]
    public void BinaryInterval_CoversTheTrueAuc_AtItsLevel()
    {
        const double Delta = 1.0;
        double truth = Normal.CDF(0, 1, Delta / Math.Sqrt(2));
        var rng = new Random(11);
        int covered = 0;
        const int Repeats = 2000;
        for (int r = 0; r < Repeats; r++)
        {
            var labels = new int[120];
            var scores = new double[120];
            for (int i = 0; i < labels.Length; i++)
            {
                labels[i] = i < 50 ? 1 : 0;
                scores[i] = Normal.Sample(rng, labels[i] * Delta, 1);
            }

            if (DeLong.Estimate(labels, scores).Interval.Contains(truth)) covered++;
        }

        ((double)covered / Repeats).Should().BeInRange(0.935, 0.965);
    }

    // The same for the MedMNIST mean over five classes, whose variance needs the covariances between the classes'
    // one-vs-rest AUCs: each sample is a positive of one class and a negative of the others, and with softmax
    // probabilities a clear case (a large logit for its class) ranks high in its own column and low in every other,
    // so it helps all the classes' AUCs at once. The truth is the mean AUC on 200,000 samples of the same model. An
    // interval from the classes' variances alone (covariances left out) is too narrow here and covers too rarely.
    [Fact]
    public void MulticlassMeanInterval_CoversTheTrueMean_AtItsLevel()
    {
        const int K = 5;
        double[] prevalence = { 0.43, 0.12, 0.21, 0.17, 0.07 };
        (int[] Labels, double[,] Scores) Draw(Random rng, int n)
        {
            var labels = new int[n];
            var scores = new double[n, K];
            for (int i = 0; i < n; i++)
            {
                double u = rng.NextDouble(), cumulative = 0;
                labels[i] = K - 1;
                for (int k = 0; k < K; k++)
                {
                    cumulative += prevalence[k];
                    if (u < cumulative) { labels[i] = k; break; }
                }

                double clarity = Math.Abs(Normal.Sample(rng, 0, 2.5)), sum = 0;
                for (int k = 0; k < K; k++)
                {
                    scores[i, k] = Math.Exp((k == labels[i] ? clarity : 0) + Normal.Sample(rng, 0, 0.5));
                    sum += scores[i, k];
                }

                for (int k = 0; k < K; k++) scores[i, k] /= sum;
            }

            return (labels, scores);
        }

        var truthSet = Draw(new Random(1), 200_000);
        double truth = MedMnistEvaluator.GetAuc(MedMnistTask.MultiClass, truthSet.Labels, truthSet.Scores).Value;
        var rng = new Random(12);
        int covered = 0, coveredIgnoringCovariances = 0;
        const int Repeats = 1500;
        for (int r = 0; r < Repeats; r++)
        {
            var (labels, scores) = Draw(rng, 600);
            var estimate = DeLong.Estimate(MedMnistTask.MultiClass, labels, scores);
            if (estimate.Interval.Contains(truth)) covered++;
            double independentSe = Math.Sqrt(estimate.PerClass.Sum(c => c.StandardError * c.StandardError)) / K;
            if (Math.Abs(estimate.Value - truth) <= 1.959963984540054 * independentSe) coveredIgnoringCovariances++;
        }

        ((double)covered / Repeats).Should().BeInRange(0.93, 0.97, $"the truth is {truth}");
        ((double)coveredIgnoringCovariances / Repeats).Should().BeLessThan(0.92, $"the classes' AUCs are positively correlated here (the intervals cover {covered} times)");
    }

    // Two models with the same true AUC (the same signal, independent noise on a shared component): the test must
    // reject at about its level; with a real difference it must reject most of the time.
    [Fact]
    public void PairedTest_HoldsItsLevel_AndFindsARealDifference()
    {
        int RejectionsOf(double deltaB, int seed)
        {
            var rng = new Random(seed);
            int rejections = 0;
            for (int r = 0; r < 1000; r++)
            {
                var labels = new int[200];
                var a = new double[200];
                var b = new double[200];
                for (int i = 0; i < labels.Length; i++)
                {
                    labels[i] = i % 2;
                    double shared = Normal.Sample(rng, 0, 1);
                    a[i] = (labels[i] * 1.0) + shared + Normal.Sample(rng, 0, 0.7);
                    b[i] = (labels[i] * deltaB) + shared + Normal.Sample(rng, 0, 0.7);
                }

                if (DeLong.Compare(labels, a, b).IsSignificant(0.05)) rejections++;
            }

            return rejections;
        }

        RejectionsOf(1.0, 21).Should().BeInRange(35, 65, "under equal AUCs about 5% of 1,000 tests reject");
        RejectionsOf(0.5, 22).Should().BeGreaterThan(700, "a drop from AUC ≈ 0.73 to ≈ 0.62 on 200 paired samples is seen");
    }

    [Fact]
    public void AClassWithOnePositive_HasAnAuc_ButNoStandardError()
    {
        // Class 2 appears once: its AUC is defined, DeLong's variance is not (S10 over one positive).
        int[] labels = { 0, 0, 0, 1, 1, 1, 2, 0, 1, 0 };
        var rng = new Random(3);
        var scores = new double[labels.Length, 3];
        for (int i = 0; i < labels.Length; i++)
            for (int k = 0; k < 3; k++) scores[i, k] = rng.NextDouble() + (labels[i] == k ? 0.5 : 0);

        var estimate = DeLong.Estimate(MedMnistTask.MultiClass, labels, scores);

        estimate.Value.Should().Be(MedMnistEvaluator.GetAuc(MedMnistTask.MultiClass, labels, scores).Value);
        double.IsNaN(estimate.StandardError).Should().BeTrue();
        estimate.Interval.IsDefined.Should().BeFalse();
        estimate.Warnings.Should().ContainSingle().Which.Should().Contain("class 2").And.Contain("1 positive").And.Contain("at least two");
        estimate.PerClass[0].StandardError.Should().BePositive();
        double.IsNaN(estimate.PerClass[2].StandardError).Should().BeTrue();
        estimate.PerClass[2].IsDefined.Should().BeTrue();

        var comparison = DeLong.Compare(MedMnistTask.MultiClass, labels, scores, scores);
        double.IsNaN(comparison.PValue).Should().BeTrue();
        comparison.Warnings.Should().Contain(w => w.Contains("class 2"));
        comparison.PerClass[0].PValue.Should().Be(1, "a model compared with itself");
    }

    [Fact]
    public void AnAbsentClass_LeavesTheMean_AsTheEvaluatorDoes()
    {
        // Class 3 never occurs: the mean is over classes 0–2, with the evaluator's warning, and its SE over them.
        var rng = new Random(4);
        int[] labels = Enumerable.Range(0, 60).Select(i => i % 3).ToArray();
        var scores = new double[60, 4];
        for (int i = 0; i < 60; i++)
            for (int k = 0; k < 4; k++) scores[i, k] = rng.NextDouble() + (labels[i] == k ? 0.4 : 0);

        var estimate = DeLong.Estimate(MedMnistTask.MultiClass, labels, scores);

        var auc = MedMnistEvaluator.GetAuc(MedMnistTask.MultiClass, labels, scores);
        estimate.Value.Should().Be(auc.Value);
        estimate.Name.Should().Be("mean of 3 AUCs");
        estimate.Warnings.Should().Equal(auc.Warnings);
        estimate.StandardError.Should().BePositive();
        estimate.PerClass[3].IsDefined.Should().BeFalse();
        estimate.PerClass[3].Warnings[0].Should().Contain("class 3");
    }

    [Fact]
    public void AModelAgainstItself_HasNoDifference()
    {
        var rng = new Random(5);
        int[] labels = Enumerable.Range(0, 40).Select(i => i % 2).ToArray();
        double[] scores = labels.Select(l => rng.NextDouble() + (0.3 * l)).ToArray();
        var comparison = DeLong.Compare(labels, scores, scores);
        comparison.Difference.Should().Be(0);
        comparison.PValue.Should().Be(1);
        comparison.Correlation.Should().BeApproximately(1, 1e-12);
        comparison.Warnings.Should().ContainSingle().Which.Should().Contain("identical");
        comparison.IsSignificant().Should().BeFalse();
    }

    [Fact]
    public void BadInput_IsRefused_WithTheProblemNamed()
    {
        int[] labels = { 0, 1, 0, 1 };
        double[] scores = { 0.1, 0.9, 0.3, 0.7 };
        FluentActions.Invoking(() => DeLong.Estimate(labels, scores, level: 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("level");
        FluentActions.Invoking(() => DeLong.Estimate(labels, scores, level: double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => DeLong.Compare(labels, scores, new[] { 0.1, 0.2 })).Should().Throw<ArgumentException>().WithMessage("*same samples*");
        FluentActions.Invoking(() => DeLong.Estimate(labels, new[] { 0.1, double.NaN, 0.3, 0.7 })).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => DeLong.Estimate(new[] { 0, 2, 0, 1 }, scores)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => DeLong.Estimate(labels, null!)).Should().Throw<ArgumentNullException>().WithParameterName("scores");
        FluentActions.Invoking(() => new DeLongComparisonProbe().Significant(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("alpha");
    }

    private sealed class DeLongComparisonProbe
    {
        public bool Significant(double alpha) => DeLong.Compare(new[] { 0, 1, 0, 1 }, new[] { 0.1, 0.9, 0.3, 0.7 }, new[] { 0.2, 0.8, 0.3, 0.6 }).IsSignificant(alpha);
    }

    [Fact]
    public void PerfectSeparation_HasAPointInterval_AndSaysItUnderstatesTheUncertainty()
    {
        var estimate = DeLong.Estimate(new[] { 0, 0, 1, 1 }, new[] { 0.1, 0.2, 0.8, 0.9 });
        estimate.Value.Should().Be(1);
        estimate.StandardError.Should().Be(0);
        (estimate.Interval.Lower, estimate.Interval.Upper).Should().Be((1.0, 1.0));
        estimate.Warnings.Should().ContainSingle().Which.Should().Contain("standard error is 0");
    }

    [Fact]
    public void OneClassOnly_IsUndefined_NotAZero()
    {
        var estimate = DeLong.Estimate(new[] { 1, 1, 1 }, new[] { 0.2, 0.5, 0.9 });
        estimate.IsDefined.Should().BeFalse();
        double.IsNaN(estimate.StandardError).Should().BeTrue();
        estimate.Warnings[0].Should().Contain("no negative samples");
        var comparison = DeLong.Compare(new[] { 1, 1, 1 }, new[] { 0.2, 0.5, 0.9 }, new[] { 0.3, 0.5, 0.9 });
        double.IsNaN(comparison.PValue).Should().BeTrue();
        comparison.DifferenceInterval.IsDefined.Should().BeFalse();
    }
}
