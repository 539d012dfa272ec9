using System.Globalization;
using MathNet.Numerics.Distributions;

namespace MedVision.Nets.Metrics;

/// <summary>
/// DeLong's nonparametric inference for ROC AUCs (DeLong, DeLong and Clarke-Pearson, <i>Biometrics</i> 44, 1988):
/// the standard error and a confidence interval of one model's AUC, and the test of whether two models' AUCs on the
/// same samples differ — the test medical-imaging papers and reviewers ask for when two classifiers are compared on one
/// test set (pROC's <c>roc.test</c> and <c>ci.auc</c>, method "delong").
/// </summary>
/// <remarks>
/// <para>
/// Each sample's <i>placement value</i> says how it ranks against the other outcome: for a positive, the fraction of
/// negatives it scores above (ties count one half); for a negative, the fraction of positives that score above it. The
/// AUC is the mean placement of either group, and its variance is estimated from the spread of the placements:
/// S₁₀/m + S₀₁/n, with S₁₀ and S₀₁ the sample (co)variances over the m positives and n negatives. Two models scored on
/// the same samples have correlated placements, which is what makes the paired test far more sensitive than comparing
/// two separate intervals. Placements come from one sort per score column (O(N log N), the algorithm of Sun and Xu,
/// <i>IEEE Signal Processing Letters</i> 21, 2014).
/// </para>
/// <para>
/// The AUC is the MedMNIST one (<see cref="MedMnistEvaluator"/>): for multi-class, ordinal and multi-label tasks the
/// mean of the one-vs-rest (or per-label) AUCs over the classes whose AUC is defined. Its variance needs the covariances
/// between the classes' AUCs, which are estimated from the same per-sample structural components: each sample adds to
/// every class's AUC through its placement there (as a positive of its own class and a negative of the others), scaled
/// as DeLong's estimator scales it, and the variance of the mean is that of the sum of these contributions over the
/// samples. For a single class this is exactly DeLong's estimator, and for two models on one class exactly his
/// covariance. Confidence intervals are Wald intervals (estimate ± z·SE; an AUC's clipped to [0, 1], as pROC does);
/// the test is two-sided.
/// </para>
/// <para>
/// A class with fewer than two positives or two negatives has a defined AUC but no variance estimate; the standard
/// error, interval and p-value are then NaN with the reason in the warnings, never a number computed from too little.
/// </para>
/// </remarks>
public static class DeLong
{
    /// <summary>The default confidence level of the intervals.</summary>
    public const double DefaultLevel = 0.95;

    /// <summary>The AUC of binary labels against one score per sample, with DeLong's standard error and interval.</summary>
    /// <param name="labels">Binary targets, 0 or 1.</param>
    /// <param name="scores">Finite scores, higher meaning more likely positive.</param>
    /// <param name="level">Confidence level in (0, 1).</param>
    /// <returns>The estimate.</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch, a label other than 0/1, a non-finite score, or a level outside (0, 1).</exception>
    public static AucEstimate Estimate(int[] labels, double[] scores, double level = DefaultLevel)
        => Estimate(MedMnistTask.Binary, labels, Column(scores, nameof(scores)), level);

    /// <summary>
    /// The MedMNIST AUC of a single-label task (see <see cref="MedMnistEvaluator.GetAuc(MedMnistTask, int[], double[,])"/>,
    /// whose value it equals) with DeLong's standard error and interval, and the same for each class.
    /// </summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="labels">Class indices in [0, K) (0/1 for binary).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="level">Confidence level in (0, 1).</param>
    /// <returns>The estimate.</returns>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range, non-finite scores, or a level outside (0, 1).</exception>
    public static AucEstimate Estimate(MedMnistTask task, int[] labels, double[,] scores, double level = DefaultLevel)
        => Estimate(() => PredictionSet.Create(task, labels, scores), level);

    /// <summary>
    /// The MedMNIST AUC from a label matrix (N×K 0/1 targets for <see cref="MedMnistTask.MultiLabel"/>, N×1 class indices
    /// otherwise) with DeLong's standard error and interval.
    /// </summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label matrix.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="level">Confidence level in (0, 1).</param>
    /// <returns>The estimate.</returns>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range, non-finite scores, or a level outside (0, 1).</exception>
    public static AucEstimate Estimate(MedMnistTask task, int[,] labels, double[,] scores, double level = DefaultLevel)
        => Estimate(() => PredictionSet.Create(task, labels, scores), level);

    // The level checked first, then the validated predictions and the estimate.
    private static AucEstimate Estimate(Func<PredictionSet> predictions, double level)
    {
        double z = Quantile(level);
        return Estimate(new EvaluationCore(predictions(), MedMnistEvaluator.DefaultThreshold), z, level);
    }

    /// <summary>DeLong's test of two models' AUCs on the same binary labels (first model minus second).</summary>
    /// <param name="labels">Binary targets, 0 or 1.</param>
    /// <param name="scoresA">The first model's finite scores.</param>
    /// <param name="scoresB">The second model's, one per sample as well.</param>
    /// <param name="level">Confidence level of the difference's interval, in (0, 1).</param>
    /// <returns>The comparison.</returns>
    /// <exception cref="ArgumentException">Bad input (as for <see cref="Estimate(int[], double[], double)"/>), or score arrays of different lengths.</exception>
    public static DeLongComparison Compare(int[] labels, double[] scoresA, double[] scoresB, double level = DefaultLevel)
        => Compare(MedMnistTask.Binary, labels, Column(scoresA, nameof(scoresA)), Column(scoresB, nameof(scoresB)), level);

    /// <summary>
    /// DeLong's test of two models' MedMNIST AUCs on the same samples of a single-label task (first model minus second),
    /// with the same test for each class.
    /// </summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scoresA">The first model's N×K finite scores.</param>
    /// <param name="scoresB">The second model's, of the same shape.</param>
    /// <param name="level">Confidence level of the difference's interval, in (0, 1).</param>
    /// <returns>The comparison.</returns>
    /// <exception cref="ArgumentException">Bad input, a level outside (0, 1), or score matrices of different shapes.</exception>
    public static DeLongComparison Compare(MedMnistTask task, int[] labels, double[,] scoresA, double[,] scoresB, double level = DefaultLevel)
        => Compare(scores => PredictionSet.Create(task, labels, scores), scoresA, scoresB, level);

    /// <summary>DeLong's test of two models' MedMNIST AUCs, labels given as a matrix (N×K 0/1 for multi-label, N×1 otherwise).</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label matrix.</param>
    /// <param name="scoresA">The first model's N×K finite scores.</param>
    /// <param name="scoresB">The second model's, of the same shape.</param>
    /// <param name="level">Confidence level of the difference's interval, in (0, 1).</param>
    /// <returns>The comparison.</returns>
    /// <exception cref="ArgumentException">Bad input, a level outside (0, 1), or score matrices of different shapes.</exception>
    public static DeLongComparison Compare(MedMnistTask task, int[,] labels, double[,] scoresA, double[,] scoresB, double level = DefaultLevel)
        => Compare(scores => PredictionSet.Create(task, labels, scores), scoresA, scoresB, level);

    // The validated prediction sets of both models (one labels array, two score matrices of one shape), then the test.
    private static DeLongComparison Compare(Func<double[,], PredictionSet> predictions, double[,] scoresA, double[,] scoresB, double level)
    {
        double z = Quantile(level);
        BootstrapEstimator.CheckSameShape(scoresA, scoresB);
        return Compare(
            new EvaluationCore(predictions(scoresA), MedMnistEvaluator.DefaultThreshold),
            new EvaluationCore(predictions(scoresB), MedMnistEvaluator.DefaultThreshold),
            z,
            level);
    }

    private static double[,] Column(double[] scores, string name)
    {
        ArgumentNullException.ThrowIfNull(scores, name);
        var column = new double[scores.Length, 1];
        for (int i = 0; i < scores.Length; i++)
        {
            column[i, 0] = scores[i];
        }

        return column;
    }

    private static double Quantile(double level)
    {
        if (!(level > 0 && level < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "The confidence level must lie strictly between 0 and 1 (for example 0.95).");
        }

        return Normal.InvCDF(0, 1, 0.5 + (level / 2));
    }

    private static AucEstimate Estimate(EvaluationCore core, double z, double level)
    {
        AucResult auc = core.Auc(null);
        Structural[] parts = Parts(core, auc);
        var perClass = new AucEstimate[parts.Length];
        for (int c = 0; c < parts.Length; c++)
        {
            perClass[c] = EstimateOf(parts[c].Name, auc.PerClass[c], Combine(new[] { parts[c] }), Array.Empty<AucEstimate>(), z, level);
        }

        Structural[] defined = parts.Where(p => p.IsDefined).ToArray();
        return EstimateOf(NameOf(parts, defined), new MetricResult(auc.Value, auc.Warnings), Combine(defined), perClass, z, level);
    }

    private static AucEstimate EstimateOf(string name, MetricResult auc, Contributions contributions, IReadOnlyList<AucEstimate> perClass, double z, double level)
    {
        var warnings = new List<string>(auc.Warnings);
        double se = double.NaN;
        if (auc.IsDefined)
        {
            if (contributions.Reason is null)
            {
                se = Math.Sqrt(SumOfSquares(contributions.Values!, null));
                if (se == 0)
                {
                    warnings.Add(
                        "DeLong's standard error is 0: every sample's placement equals the AUC (e.g. perfect separation), so the Wald interval " +
                        "collapses to a point and understates the uncertainty of so small or so clean a sample.");
                }
            }
            else
            {
                warnings.Add(contributions.Reason);
            }
        }

        var interval = new ConfidenceInterval(
            Math.Max(0, auc.Value - (z * se)),
            Math.Min(1, auc.Value + (z * se)),
            level);
        if (double.IsNaN(se))
        {
            interval = new ConfidenceInterval(double.NaN, double.NaN, level);
        }

        return new AucEstimate(name, auc.Value, se, interval, perClass, warnings);
    }

    private static DeLongComparison Compare(EvaluationCore a, EvaluationCore b, double z, double level)
    {
        AucResult aucA = a.Auc(null);
        AucResult aucB = b.Auc(null);
        Structural[] partsA = Parts(a, aucA);
        Structural[] partsB = Parts(b, aucB);
        var perClass = new DeLongComparison[partsA.Length];
        for (int c = 0; c < partsA.Length; c++)
        {
            perClass[c] = ComparisonOf(
                partsA[c].Name, aucA.PerClass[c], aucB.PerClass[c], Combine(new[] { partsA[c] }), Combine(new[] { partsB[c] }), Array.Empty<DeLongComparison>(), z, level);
        }

        // The labels are shared, so the same classes are defined for both models.
        Structural[] definedA = partsA.Where(p => p.IsDefined).ToArray();
        Structural[] definedB = partsB.Where(p => p.IsDefined).ToArray();
        return ComparisonOf(
            NameOf(partsA, definedA), new MetricResult(aucA.Value, aucA.Warnings), new MetricResult(aucB.Value, aucB.Warnings), Combine(definedA), Combine(definedB), perClass, z, level);
    }

    private static DeLongComparison ComparisonOf(
        string name, MetricResult aucA, MetricResult aucB, Contributions a, Contributions b, IReadOnlyList<DeLongComparison> perClass, double z, double level)
    {
        var warnings = new List<string>(aucA.Warnings);
        double difference = aucA.Value - aucB.Value;
        double se = double.NaN, correlation = double.NaN, statistic = double.NaN, p = double.NaN;
        if (aucA.IsDefined && aucB.IsDefined)
        {
            if (a.Reason is not null)
            {
                warnings.Add(a.Reason);
            }
            else
            {
                double[] va = a.Values!, vb = b.Values!;
                double varA = SumOfSquares(va, null);
                double varB = SumOfSquares(vb, null);
                double covariance = 0;
                for (int i = 0; i < va.Length; i++)
                {
                    covariance += va[i] * vb[i];
                }

                double varDifference = SumOfSquares(va, vb);
                se = Math.Sqrt(varDifference);
                correlation = varA > 0 && varB > 0 ? Math.Clamp(covariance / Math.Sqrt(varA * varB), -1, 1) : double.NaN;
                if (varDifference > 0)
                {
                    statistic = difference / se;
                    p = Math.Min(1, 2 * Normal.CDF(0, 1, -Math.Abs(statistic)));
                }
                else if (difference == 0)
                {
                    statistic = 0;
                    p = 1;
                    warnings.Add("The two models' placement values are identical on every sample: their AUCs cannot differ on these samples (p = 1).");
                }
                else
                {
                    warnings.Add(
                        "The difference's standard error is 0 although the AUCs differ (every sample's placement shifts by the same amount), " +
                        "so DeLong's test is undefined on these samples.");
                }
            }
        }

        ConfidenceInterval interval = double.IsNaN(se)
            ? new ConfidenceInterval(double.NaN, double.NaN, level)
            : new ConfidenceInterval(Math.Max(-1, difference - (z * se)), Math.Min(1, difference + (z * se)), level);
        return new DeLongComparison(name, aucA.Value, aucB.Value, difference, se, correlation, statistic, p, interval, perClass, warnings);
    }

    private static string NameOf(Structural[] parts, Structural[] defined) =>
        parts.Length == 1 ? parts[0].Name : string.Create(CultureInfo.InvariantCulture, $"mean of {defined.Length} AUCs");

    private static double SumOfSquares(double[] values, double[]? minus)
    {
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double v = minus is null ? values[i] : values[i] - minus[i];
            sum += v * v;
        }

        return sum;
    }

    /// <summary>
    /// The per-sample contributions to a mean of AUCs: Σ over the components of each sample's scaled placement
    /// deviation, divided by the number of components; the variance of the mean is their sum of squares.
    /// </summary>
    private static Contributions Combine(Structural[] parts)
    {
        if (parts.Length == 0)
        {
            return new Contributions(null, "No class has a defined AUC, so it has no standard error.");
        }

        Structural[] missing = parts.Where(p => p.Deviations is null).ToArray();
        if (missing.Length > 0)
        {
            return new Contributions(null, string.Join(" ", missing.Select(p => p.VarianceReason)));
        }

        int n = parts[0].Deviations!.Length;
        var values = new double[n];
        foreach (Structural part in parts)
        {
            double[] d = part.Deviations!;
            for (int i = 0; i < n; i++)
            {
                values[i] += d[i];
            }
        }

        if (parts.Length > 1)
        {
            for (int i = 0; i < n; i++)
            {
                values[i] /= parts.Length;
            }
        }

        return new Contributions(values, null);
    }

    private static Structural[] Parts(EvaluationCore core, AucResult auc)
    {
        var parts = new Structural[core.ComponentCount];
        for (int c = 0; c < parts.Length; c++)
        {
            parts[c] = Placements(core.Set.Scores, core.ScoreColumn(c), core.Positive(c), core.ComponentNames[c], auc.PerClass[c]);
        }

        return parts;
    }

    /// <summary>
    /// Each sample's placement value in one component, as its deviation from the AUC scaled so that the sum of squares
    /// over the positives is S₁₀/m and over the negatives S₀₁/n: (V − AUC)/√(m(m−1)) and (V − AUC)/√(n(n−1)).
    /// </summary>
    private static Structural Placements(double[,] scores, int column, byte[] positive, string name, MetricResult auc)
    {
        if (!auc.IsDefined)
        {
            return new Structural(name, null, null);
        }

        int count = positive.Length;
        var keys = new double[count];
        var order = new int[count];
        long m = 0;
        for (int i = 0; i < count; i++)
        {
            keys[i] = scores[i, column];
            order[i] = i;
            m += positive[i];
        }

        long n = count - m;
        if (m < 2 || n < 2)
        {
            return new Structural(
                name,
                null,
                string.Create(CultureInfo.InvariantCulture, $"The AUC of {name} has no DeLong variance: it has {m} positive and {n} negative samples, and the estimate needs at least two of each."));
        }

        Array.Sort(keys, order);
        var deviations = new double[count];
        double scalePositive = 1 / Math.Sqrt((double)m * (m - 1));
        double scaleNegative = 1 / Math.Sqrt((double)n * (n - 1));
        long positivesBelow = 0, negativesBelow = 0;
        for (int start = 0; start < count;)
        {
            int end = start + 1;
            while (end < count && keys[end] == keys[start])
            {
                end++;
            }

            long groupPositives = 0;
            for (int p = start; p < end; p++)
            {
                groupPositives += positive[order[p]];
            }

            long groupNegatives = end - start - groupPositives;
            // Positives: negatives strictly below plus half the tied ones; negatives: positives strictly above plus half the tied ones.
            double positivePlacement = (negativesBelow + (0.5 * groupNegatives)) / n;
            double negativePlacement = (m - positivesBelow - groupPositives + (0.5 * groupPositives)) / m;
            double positiveDeviation = (positivePlacement - auc.Value) * scalePositive;
            double negativeDeviation = (negativePlacement - auc.Value) * scaleNegative;
            for (int p = start; p < end; p++)
            {
                int i = order[p];
                deviations[i] = positive[i] != 0 ? positiveDeviation : negativeDeviation;
            }

            positivesBelow += groupPositives;
            negativesBelow += groupNegatives;
            start = end;
        }

        return new Structural(name, deviations, null);
    }

    private sealed record Structural(string Name, double[]? Deviations, string? VarianceReason)
    {
        /// <summary>Whether the component's AUC is defined (its variance may still be missing).</summary>
        public bool IsDefined => Deviations is not null || VarianceReason is not null;
    }

    private sealed record Contributions(double[]? Values, string? Reason);
}
