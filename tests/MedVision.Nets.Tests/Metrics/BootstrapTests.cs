using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Metrics;

public class BootstrapTests
{
    private static (int[] Labels, double[,] Scores) Noisy(int seed, int n, int k, double signal)
    {
        var rng = new Random(seed);
        var labels = new int[n];
        var scores = new double[n, k];
        for (int i = 0; i < n; i++)
        {
            labels[i] = rng.Next(k);
            for (int j = 0; j < k; j++)
            {
                scores[i, j] = rng.NextDouble() + (j == labels[i] ? signal : 0);
            }
        }

        return (labels, scores);
    }

    // The resamples the estimator draws for a seed, replayed (n draws of one sample index each; a resample is the
    // samples drawn, with repeats), as an independent oracle: the metrics of a resample are then those of an ordinary
    // data set holding the drawn samples.
    private static IEnumerable<int[]> Resamples(int n, int count, int seed)
    {
        var random = new Random(seed);
        for (int b = 0; b < count; b++)
        {
            var weights = new int[n];
            for (int i = 0; i < n; i++) weights[random.Next(n)]++;
            yield return Enumerable.Range(0, n).SelectMany(i => Enumerable.Repeat(i, weights[i])).ToArray();
        }
    }

    private static double[,] Rows(double[,] scores, int[] rows)
    {
        var picked = new double[rows.Length, scores.GetLength(1)];
        for (int r = 0; r < rows.Length; r++) for (int c = 0; c < scores.GetLength(1); c++) picked[r, c] = scores[rows[r], c];
        return picked;
    }

    [Fact]
    public void Compare_IsThePercentileIntervalOfThePairedDifferences()
    {
        var (labels, better) = Noisy(3, 80, 5, 0.4);
        var rng = new Random(4);
        var worse = new double[80, 5];
        for (int i = 0; i < 80; i++) for (int j = 0; j < 5; j++) worse[i, j] = better[i, j] + (rng.NextDouble() * 0.3);
        var options = new BootstrapOptions { Resamples = 300, Seed = 11 };
        var comparison = BootstrapEstimator.Compare(MedMnistTask.OrdinalRegression, labels, better, worse, options);

        double Auc(double[,] s, int[] rows) => MedMnistEvaluator.GetAuc(MedMnistTask.OrdinalRegression, rows.Select(r => labels[r]).ToArray(), Rows(s, rows)).Value;
        double Acc(double[,] s, int[] rows) => MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, rows.Select(r => labels[r]).ToArray(), Rows(s, rows));
        var all = Enumerable.Range(0, 80).ToArray();
        comparison.AucDifference.Should().BeApproximately(Auc(better, all) - Auc(worse, all), 1e-12);
        comparison.AccDifference.Should().BeApproximately(Acc(better, all) - Acc(worse, all), 1e-12);
        comparison.AucDifference.Should().BeGreaterThan(0, "noise added to a model's scores makes it worse");

        // Replaying the draws: resamples that lose a class are skipped, the others give both models' metrics on the
        // same samples, and the interval is the 2.5th and 97.5th percentiles of their differences.
        var kept = Resamples(80, 300, 11).Where(rows => rows.Select(r => labels[r]).Distinct().Count() == labels.Distinct().Count()).ToList();
        comparison.SkippedResamples.Should().Be(300 - kept.Count);
        var auc = BootstrapEstimator.PercentileInterval(kept.Select(rows => Auc(better, rows) - Auc(worse, rows)), 0.95);
        var acc = BootstrapEstimator.PercentileInterval(kept.Select(rows => Acc(better, rows) - Acc(worse, rows)), 0.95);
        comparison.AucDifferenceInterval.Lower.Should().BeApproximately(auc.Lower, 1e-12);
        comparison.AucDifferenceInterval.Upper.Should().BeApproximately(auc.Upper, 1e-12);
        comparison.AccDifferenceInterval.Lower.Should().BeApproximately(acc.Lower, 1e-12);
        comparison.AccDifferenceInterval.Upper.Should().BeApproximately(acc.Upper, 1e-12);

        // Paired resampling cancels what both models share: the difference's interval is narrower than the
        // difference of the two models' own intervals would suggest.
        var alone = BootstrapEstimator.Estimate(MedMnistTask.OrdinalRegression, labels, better, options);
        (comparison.AucDifferenceInterval.Upper - comparison.AucDifferenceInterval.Lower).Should().BeLessThan(alone.Auc.Upper - alone.Auc.Lower);
    }

    [Fact]
    public void Compare_OfAModelWithItself_IsZero_AndMismatchedScoresAreRefused()
    {
        var (labels, scores) = Noisy(5, 50, 3, 0.5);
        var same = BootstrapEstimator.Compare(MedMnistTask.MultiClass, labels, scores, (double[,])scores.Clone(), new BootstrapOptions { Resamples = 50 });
        same.AucDifference.Should().Be(0);
        same.AucDifferenceInterval.Lower.Should().Be(0);
        same.AucDifferenceInterval.Upper.Should().Be(0);
        same.AccDifferenceInterval.Upper.Should().Be(0);
        same.UsedResamples.Should().Be(50);

        var matrix = new int[50, 1];
        for (int i = 0; i < 50; i++) matrix[i, 0] = labels[i];
        BootstrapEstimator.Compare(MedMnistTask.MultiClass, matrix, scores, scores, new BootstrapOptions { Resamples = 20 }).AucDifference.Should().Be(0);
        FluentActions.Invoking(() => BootstrapEstimator.Compare(MedMnistTask.MultiClass, labels, scores, new double[50, 4])).Should().Throw<ArgumentException>()
            .WithMessage("scoresB is 50×4 but scoresA is 50×3*").Which.ParamName.Should().Be("scoresB");
        FluentActions.Invoking(() => BootstrapEstimator.Compare(MedMnistTask.MultiClass, labels, scores, new double[49, 3])).Should().Throw<ArgumentException>();
        var nan = (double[,])scores.Clone();
        nan[3, 1] = double.NaN;
        FluentActions.Invoking(() => BootstrapEstimator.Compare(MedMnistTask.MultiClass, labels, scores, nan)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void SameSeedGivesSameIntervalsAndOtherSeedDiffers()
    {
        var (labels, scores) = Noisy(1, 200, 5, 0.6);
        var a = BootstrapEstimator.Estimate(MedMnistTask.MultiClass, labels, scores, new BootstrapOptions { Resamples = 200, Seed = 42 });
        var b = BootstrapEstimator.Estimate(MedMnistTask.MultiClass, labels, scores, new BootstrapOptions { Resamples = 200, Seed = 42 });
        var c = BootstrapEstimator.Estimate(MedMnistTask.MultiClass, labels, scores, new BootstrapOptions { Resamples = 200, Seed = 43 });

        a.Auc.Lower.Should().Be(b.Auc.Lower);
        a.Auc.Upper.Should().Be(b.Auc.Upper);
        a.Acc.Lower.Should().Be(b.Acc.Lower);
        (a.Auc.Lower != c.Auc.Lower || a.Auc.Upper != c.Auc.Upper).Should().BeTrue();
    }

    [Fact]
    public void IntervalsBracketThePointEstimate()
    {
        var (labels, scores) = Noisy(2, 300, 5, 0.5);
        var r = BootstrapEstimator.Estimate(MedMnistTask.OrdinalRegression, labels, scores, new BootstrapOptions { Resamples = 500, Seed = 1 });
        double auc = MedMnistEvaluator.GetAuc(MedMnistTask.OrdinalRegression, labels, scores).Value;
        double acc = MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, labels, scores);

        r.Auc.Level.Should().Be(0.95);
        r.Auc.Contains(auc).Should().BeTrue();
        r.Acc.Contains(acc).Should().BeTrue();
        (r.Auc.Upper - r.Auc.Lower).Should().BeGreaterThan(0).And.BeLessThan(0.2);
        r.SkippedResamples.Should().Be(0);
        r.UsedResamples.Should().Be(500);
    }

    [Fact]
    public void PerfectPredictionsGiveDegenerateIntervalAtOne()
    {
        int[] labels = Enumerable.Range(0, 60).Select(i => i % 2).ToArray();
        var scores = new double[60, 2];
        for (int i = 0; i < 60; i++)
        {
            scores[i, 1] = labels[i] == 1 ? 0.9 : 0.1;
            scores[i, 0] = 1 - scores[i, 1];
        }

        var r = BootstrapEstimator.Estimate(MedMnistTask.Binary, labels, scores, new BootstrapOptions { Resamples = 100 });
        r.Auc.Lower.Should().Be(1);
        r.Auc.Upper.Should().Be(1);
        r.Acc.Lower.Should().Be(1);
    }

    [Fact]
    public void ResamplesMissingAPresentClassAreSkippedAndCounted()
    {
        // Class 2 occurs once in 12 samples, so roughly (11/12)^12 ≈ 35% of resamples miss it.
        int[] labels = { 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 2 };
        var rng = new Random(5);
        var scores = new double[labels.Length, 3];
        for (int i = 0; i < labels.Length; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                scores[i, j] = rng.NextDouble();
            }
        }

        var options = new BootstrapOptions { Resamples = 400, Seed = 9 };
        var r = BootstrapEstimator.Estimate(MedMnistTask.MultiClass, labels, scores, options);

        // Replay the documented protocol: Random(seed), N draws of Next(N) per resample.
        var replay = new Random(options.Seed);
        int expectedSkipped = 0;
        for (int b = 0; b < options.Resamples; b++)
        {
            var seen = new HashSet<int>();
            for (int i = 0; i < labels.Length; i++)
            {
                seen.Add(labels[replay.Next(labels.Length)]);
            }

            if (seen.Count < 3)
            {
                expectedSkipped++;
            }
        }

        expectedSkipped.Should().BeInRange(80, 220);
        r.SkippedResamples.Should().Be(expectedSkipped);
        r.UsedResamples.Should().Be(options.Resamples - expectedSkipped);
        r.Warnings.Should().ContainSingle().Which.Should().Contain($"{expectedSkipped} of 400");
    }

    [Fact]
    public void ClassAbsentFromTheDataDoesNotCauseSkips()
    {
        int[] labels = Enumerable.Range(0, 50).Select(i => i % 3).ToArray(); // class 3 of 4 never occurs
        var (_, scores) = Noisy(4, 50, 4, 0.5);
        var r = BootstrapEstimator.Estimate(MedMnistTask.MultiClass, labels, scores, new BootstrapOptions { Resamples = 100 });
        r.UsedResamples.Should().BeGreaterThan(90);
        r.Auc.IsDefined.Should().BeTrue();
    }

    [Fact]
    public void MultiLabelBootstrapRuns()
    {
        var rng = new Random(11);
        var labels = new int[80, 4];
        var scores = new double[80, 4];
        for (int i = 0; i < 80; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                labels[i, j] = rng.Next(2);
                scores[i, j] = (0.3 * labels[i, j]) + (0.7 * rng.NextDouble());
            }
        }

        var r = BootstrapEstimator.Estimate(MedMnistTask.MultiLabel, labels, scores, new BootstrapOptions { Resamples = 100, ConfidenceLevel = 0.9 });
        r.Auc.Contains(MedMnistEvaluator.GetAuc(MedMnistTask.MultiLabel, labels, scores).Value).Should().BeTrue();
        r.Acc.Level.Should().Be(0.9);
    }

    [Fact]
    public void PercentileIntervalIgnoresNaNAndUsesLinearInterpolation()
    {
        var ci = BootstrapEstimator.PercentileInterval(new[] { 3.0, double.NaN, 1.0, 2.0, 4.0, 5.0 }, 0.5);
        // Sorted 1..5: 25th percentile at position 1 → 2, 75th at position 3 → 4.
        ci.Lower.Should().Be(2.0);
        ci.Upper.Should().Be(4.0);
        BootstrapEstimator.PercentileInterval(new[] { double.NaN }, 0.95).IsDefined.Should().BeFalse();
    }
}
