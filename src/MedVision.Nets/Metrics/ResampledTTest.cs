using System.Globalization;
using MathNet.Numerics.Distributions;

namespace MedVision.Nets.Metrics;

/// <summary>
/// Nadeau and Bengio's corrected resampled t-test (<i>Machine Learning</i> 52, 2003) of two training recipes scored on
/// the same folds of a cross-validation (or the same random splits): the per-fold differences are not independent —
/// every two folds' training sets share most of their samples — so the plain paired t-test's variance s²/J is far too
/// small and it rejects much more often than its level says. The correction inflates it to (1/J + n_test/n_train)·s²;
/// the statistic is then compared with Student's t with J − 1 degrees of freedom (as recommended for k-fold
/// cross-validation by Bouckaert and Frank, 2004).
/// </summary>
public static class ResampledTTest
{
    /// <summary>The corrected resampled t-test of per-fold differences (recipe A's metric minus recipe B's, fold by fold).</summary>
    /// <param name="differences">One difference per fold (J ≥ 2), every one finite.</param>
    /// <param name="testToTrainRatio">
    /// The folds' scored samples over their training samples, n_test/n_train (1/(k − 1) for k-fold cross-validation: 0.25
    /// for 5 folds). 0 gives the uncorrected paired t-test, which is too liberal for overlapping training sets.
    /// </param>
    /// <param name="level">Confidence level of the mean difference's interval, in (0, 1).</param>
    /// <returns>The test.</returns>
    /// <exception cref="ArgumentException">Fewer than two differences, a non-finite one, a negative or non-finite ratio, or a level outside (0, 1).</exception>
    public static ResampledTTestResult Corrected(IReadOnlyList<double> differences, double testToTrainRatio, double level = DeLong.DefaultLevel)
    {
        ArgumentNullException.ThrowIfNull(differences);
        if (differences.Count < 2)
        {
            throw new ArgumentException($"The test needs the differences of at least two folds; got {differences.Count}.", nameof(differences));
        }

        for (int i = 0; i < differences.Count; i++)
        {
            if (!double.IsFinite(differences[i]))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The difference of fold {i + 1} is {differences[i]}; every fold's difference must be a finite number."), nameof(differences));
            }
        }

        if (!(testToTrainRatio >= 0) || double.IsInfinity(testToTrainRatio))
        {
            throw new ArgumentOutOfRangeException(nameof(testToTrainRatio), testToTrainRatio, "The ratio of scored to training samples must be a finite number ≥ 0 (0.25 for 5-fold cross-validation).");
        }

        if (!(level > 0 && level < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "The confidence level must lie strictly between 0 and 1 (for example 0.95).");
        }

        int j = differences.Count;
        double mean = differences.Average();
        double squares = 0;
        foreach (double d in differences)
        {
            squares += (d - mean) * (d - mean);
        }

        double variance = squares / (j - 1);
        double se = Math.Sqrt(((1.0 / j) + testToTrainRatio) * variance);
        int df = j - 1;
        var warnings = new List<string>();
        double t = double.NaN, p = double.NaN;
        if (se > 0)
        {
            t = mean / se;
            p = Math.Min(1, 2 * StudentT.CDF(0, 1, df, -Math.Abs(t)));
        }
        else if (mean == 0)
        {
            t = 0;
            p = 1;
            warnings.Add("Every fold's difference is 0: the recipes score alike on every fold (p = 1).");
        }
        else
        {
            warnings.Add("Every fold's difference is the same non-zero number, so their spread is 0 and the t statistic is undefined.");
        }

        double half = se * StudentT.InvCDF(0, 1, df, 0.5 + (level / 2));
        var interval = double.IsNaN(t) ? new ConfidenceInterval(double.NaN, double.NaN, level) : new ConfidenceInterval(mean - half, mean + half, level);
        return new ResampledTTestResult(differences.ToArray(), mean, se, t, df, p, interval, warnings);
    }

    /// <summary>A result without a test, for differences that are not all numbers.</summary>
    internal static ResampledTTestResult Undefined(IReadOnlyList<double> differences, double level, string reason)
        => new(differences.ToArray(), double.NaN, double.NaN, double.NaN, differences.Count - 1, double.NaN, new ConfidenceInterval(double.NaN, double.NaN, level), new[] { reason });
}
