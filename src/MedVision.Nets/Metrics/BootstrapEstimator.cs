namespace MedVision.Nets.Metrics;

/// <summary>
/// Percentile-bootstrap confidence intervals for the MedMNIST AUC and ACC (see <see cref="BootstrapOptions"/> for
/// the resampling protocol). Each score column is sorted once; a resample is evaluated by a linear sweep weighted by
/// how often each sample was drawn.
/// </summary>
/// <remarks>
/// A resample in which a class present in the data is absent (so that its one-vs-rest AUC would be undefined) is
/// skipped for every metric and counted in <see cref="BootstrapResult.SkippedResamples"/>. The interval bounds are the
/// (1 − level)/2 and (1 + level)/2 quantiles of the resampled values with linear interpolation (numpy's default
/// <c>percentile</c> method).
/// </remarks>
public static class BootstrapEstimator
{
    /// <summary>Bootstrap intervals of the AUC and ACC of a single-label task.</summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="options">Bootstrap settings; <see langword="null"/> for the defaults.</param>
    /// <param name="threshold">Decision threshold for binary ACC.</param>
    /// <returns>The intervals and resample counts.</returns>
    /// <exception cref="ArgumentException">Bad input or settings.</exception>
    public static BootstrapResult Estimate(MedMnistTask task, int[] labels, double[,] scores, BootstrapOptions? options = null, double threshold = MedMnistEvaluator.DefaultThreshold) =>
        Estimate(new EvaluationCore(PredictionSet.Create(task, labels, scores), threshold), options ?? new BootstrapOptions());

    /// <summary>Bootstrap intervals of the AUC and ACC from a label matrix (N×K 0/1 for multi-label, N×1 otherwise).</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label matrix.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="options">Bootstrap settings; <see langword="null"/> for the defaults.</param>
    /// <param name="threshold">Decision threshold for binary and multi-label ACC.</param>
    /// <returns>The intervals and resample counts.</returns>
    /// <exception cref="ArgumentException">Bad input or settings.</exception>
    public static BootstrapResult Estimate(MedMnistTask task, int[,] labels, double[,] scores, BootstrapOptions? options = null, double threshold = MedMnistEvaluator.DefaultThreshold) =>
        Estimate(new EvaluationCore(PredictionSet.Create(task, labels, scores), threshold), options ?? new BootstrapOptions());

    /// <summary>
    /// Compares two models' scores of the same samples (e.g. an ensemble and one of its members, or a new model and
    /// the one in use) by a paired bootstrap: each resample draws the same samples for both models, so what the two
    /// share — the test set's hard and easy cases — cancels out of the difference, and its interval is much narrower
    /// than the two models' own intervals suggest. The same resampling protocol as <see cref="Estimate(MedMnistTask, int[], double[,], BootstrapOptions?, double)"/>.
    /// </summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scoresA">The first model's N×K finite scores.</param>
    /// <param name="scoresB">The second model's, of the same shape.</param>
    /// <param name="options">Bootstrap settings; <see langword="null"/> for the defaults.</param>
    /// <param name="threshold">Decision threshold for binary ACC.</param>
    /// <returns>The differences (A − B) and their intervals.</returns>
    /// <exception cref="ArgumentException">Bad input or settings, or score matrices of different shapes.</exception>
    public static BootstrapComparison Compare(MedMnistTask task, int[] labels, double[,] scoresA, double[,] scoresB, BootstrapOptions? options = null, double threshold = MedMnistEvaluator.DefaultThreshold)
    {
        CheckSameShape(scoresA, scoresB);
        return Compare(new EvaluationCore(PredictionSet.Create(task, labels, scoresA), threshold), new EvaluationCore(PredictionSet.Create(task, labels, scoresB), threshold), options ?? new BootstrapOptions());
    }

    /// <summary>Compares two models by a paired bootstrap (see <see cref="Compare(MedMnistTask, int[], double[,], double[,], BootstrapOptions?, double)"/>), labels given as a matrix (N×K 0/1 for multi-label, N×1 otherwise).</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label matrix.</param>
    /// <param name="scoresA">The first model's N×K finite scores.</param>
    /// <param name="scoresB">The second model's, of the same shape.</param>
    /// <param name="options">Bootstrap settings; <see langword="null"/> for the defaults.</param>
    /// <param name="threshold">Decision threshold for binary and multi-label ACC.</param>
    /// <returns>The differences (A − B) and their intervals.</returns>
    /// <exception cref="ArgumentException">Bad input or settings, or score matrices of different shapes.</exception>
    public static BootstrapComparison Compare(MedMnistTask task, int[,] labels, double[,] scoresA, double[,] scoresB, BootstrapOptions? options = null, double threshold = MedMnistEvaluator.DefaultThreshold)
    {
        CheckSameShape(scoresA, scoresB);
        return Compare(new EvaluationCore(PredictionSet.Create(task, labels, scoresA), threshold), new EvaluationCore(PredictionSet.Create(task, labels, scoresB), threshold), options ?? new BootstrapOptions());
    }

    /// <summary>
    /// Bootstrap intervals of the AUC and of the ACC of predictions that follow <paramref name="decision"/> (the median
    /// grade of a CORAL model: <see cref="OrdinalDecision.Median"/>); the AUC reads the scores as the other overloads.
    /// </summary>
    /// <param name="task">The task type (ordinal for the median decision).</param>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="decision">How a class is chosen from a row of scores.</param>
    /// <param name="options">Bootstrap settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The intervals and resample counts.</returns>
    /// <exception cref="ArgumentException">Bad input or settings, or the median decision for a task that is not ordinal.</exception>
    public static BootstrapResult Estimate(MedMnistTask task, int[] labels, double[,] scores, OrdinalDecision decision, BootstrapOptions? options = null) =>
        Estimate(new EvaluationCore(PredictionSet.Create(task, labels, scores), MedMnistEvaluator.DefaultThreshold, decision), options ?? new BootstrapOptions());

    /// <summary>As <see cref="Estimate(MedMnistTask, int[], double[,], OrdinalDecision, BootstrapOptions?)"/>, labels given as an N×1 matrix.</summary>
    /// <param name="task">The task type (ordinal for the median decision).</param>
    /// <param name="labels">N×1 class indices in [0, K).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="decision">How a class is chosen from a row of scores.</param>
    /// <param name="options">Bootstrap settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The intervals and resample counts.</returns>
    /// <exception cref="ArgumentException">Bad input or settings, or the median decision for a task that is not ordinal.</exception>
    public static BootstrapResult Estimate(MedMnistTask task, int[,] labels, double[,] scores, OrdinalDecision decision, BootstrapOptions? options = null) =>
        Estimate(new EvaluationCore(PredictionSet.Create(task, labels, scores), MedMnistEvaluator.DefaultThreshold, decision), options ?? new BootstrapOptions());

    /// <summary>
    /// Compares two models by a paired bootstrap (see <see cref="Compare(MedMnistTask, int[], double[,], double[,], BootstrapOptions?, double)"/>)
    /// when either decides an ordinal task's grade by another rule than the most probable one: each model's ACC is that
    /// of its own decision (a CORAL model's median grade, <see cref="OrdinalDecision.Median"/>).
    /// </summary>
    /// <param name="task">The task type (ordinal for the median decision).</param>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scoresA">The first model's N×K finite scores.</param>
    /// <param name="scoresB">The second model's, of the same shape.</param>
    /// <param name="decisionA">How the first model decides (e.g. <see cref="Inference.EnsemblePredictor.OrdinalDecision"/>).</param>
    /// <param name="decisionB">How the second model decides.</param>
    /// <param name="options">Bootstrap settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The differences (A − B) and their intervals.</returns>
    /// <exception cref="ArgumentException">Bad input or settings, score matrices of different shapes, or the median decision for a task that is not ordinal.</exception>
    public static BootstrapComparison Compare(MedMnistTask task, int[] labels, double[,] scoresA, double[,] scoresB, OrdinalDecision decisionA, OrdinalDecision decisionB, BootstrapOptions? options = null)
    {
        CheckSameShape(scoresA, scoresB);
        return Compare(
            new EvaluationCore(PredictionSet.Create(task, labels, scoresA), MedMnistEvaluator.DefaultThreshold, decisionA),
            new EvaluationCore(PredictionSet.Create(task, labels, scoresB), MedMnistEvaluator.DefaultThreshold, decisionB),
            options ?? new BootstrapOptions());
    }

    /// <summary>As <see cref="Compare(MedMnistTask, int[], double[,], double[,], OrdinalDecision, OrdinalDecision, BootstrapOptions?)"/>, labels given as an N×1 matrix.</summary>
    /// <param name="task">The task type (ordinal for the median decision).</param>
    /// <param name="labels">N×1 class indices in [0, K).</param>
    /// <param name="scoresA">The first model's N×K finite scores.</param>
    /// <param name="scoresB">The second model's, of the same shape.</param>
    /// <param name="decisionA">How the first model decides.</param>
    /// <param name="decisionB">How the second model decides.</param>
    /// <param name="options">Bootstrap settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The differences (A − B) and their intervals.</returns>
    /// <exception cref="ArgumentException">Bad input or settings, score matrices of different shapes, or the median decision for a task that is not ordinal.</exception>
    public static BootstrapComparison Compare(MedMnistTask task, int[,] labels, double[,] scoresA, double[,] scoresB, OrdinalDecision decisionA, OrdinalDecision decisionB, BootstrapOptions? options = null)
    {
        CheckSameShape(scoresA, scoresB);
        return Compare(
            new EvaluationCore(PredictionSet.Create(task, labels, scoresA), MedMnistEvaluator.DefaultThreshold, decisionA),
            new EvaluationCore(PredictionSet.Create(task, labels, scoresB), MedMnistEvaluator.DefaultThreshold, decisionB),
            options ?? new BootstrapOptions());
    }

    internal static void CheckSameShape(double[,] scoresA, double[,] scoresB)
    {
        ArgumentNullException.ThrowIfNull(scoresA);
        ArgumentNullException.ThrowIfNull(scoresB);
        if (scoresA.GetLength(0) != scoresB.GetLength(0) || scoresA.GetLength(1) != scoresB.GetLength(1))
            throw new ArgumentException($"scoresB is {scoresB.GetLength(0)}×{scoresB.GetLength(1)} but scoresA is {scoresA.GetLength(0)}×{scoresA.GetLength(1)}; a paired comparison needs both models' scores of the same samples and classes.", nameof(scoresB));
    }

    /// <summary>
    /// The q-th quantile (0 ≤ q ≤ 1) of values sorted ascending, by linear interpolation between closest ranks
    /// (numpy's default <c>percentile</c>/<c>quantile</c> method).
    /// </summary>
    /// <param name="sortedValues">Values in ascending order; at least one.</param>
    /// <param name="q">Quantile in [0, 1].</param>
    /// <returns>The quantile.</returns>
    /// <exception cref="ArgumentException">Empty input or q outside [0, 1].</exception>
    public static double Quantile(IReadOnlyList<double> sortedValues, double q)
    {
        ArgumentNullException.ThrowIfNull(sortedValues);
        if (sortedValues.Count == 0)
        {
            throw new ArgumentException("Values are empty: a quantile needs at least one value.", nameof(sortedValues));
        }

        if (!(q >= 0 && q <= 1))
        {
            throw new ArgumentException($"Quantile must be in [0, 1]; got {q}.", nameof(q));
        }

        double position = q * (sortedValues.Count - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sortedValues.Count - 1);
        double fraction = position - lower;
        return sortedValues[lower] + ((sortedValues[upper] - sortedValues[lower]) * fraction);
    }

    /// <summary>The percentile interval of bootstrap values at a confidence level; NaN values are ignored.</summary>
    /// <param name="values">Resampled metric values (any order).</param>
    /// <param name="level">Confidence level in (0, 1).</param>
    /// <returns>The interval; NaN bounds when no value is a number.</returns>
    public static ConfidenceInterval PercentileInterval(IEnumerable<double> values, double level)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!(level > 0 && level < 1))
        {
            throw new ArgumentException($"Confidence level must be in (0, 1); got {level}.", nameof(level));
        }

        var sorted = values.Where(v => !double.IsNaN(v)).ToArray();
        if (sorted.Length == 0)
        {
            return new ConfidenceInterval(double.NaN, double.NaN, level);
        }

        Array.Sort(sorted);
        return new ConfidenceInterval(Quantile(sorted, (1 - level) / 2), Quantile(sorted, (1 + level) / 2), level);
    }

    /// <summary>
    /// Draws the resamples and evaluates <paramref name="metrics"/> on each kept one.
    /// </summary>
    /// <returns>Per metric, the values over the kept resamples.</returns>
    internal static List<double>[] Run(
        EvaluationCore core, BootstrapOptions options, int metricCount, Func<int[], double[]> metrics, out int skipped)
    {
        options.Validate();
        int n = core.Set.SampleCount;
        var random = new Random(options.Seed);
        var weights = new int[n];
        var values = new List<double>[metricCount];
        for (int m = 0; m < metricCount; m++)
        {
            values[m] = new List<double>(options.Resamples);
        }

        skipped = 0;
        for (int b = 0; b < options.Resamples; b++)
        {
            Array.Clear(weights);
            for (int i = 0; i < n; i++)
            {
                weights[random.Next(n)]++;
            }

            if (!core.KeepsClasses(weights))
            {
                skipped++;
                continue;
            }

            double[] v = metrics(weights);
            for (int m = 0; m < metricCount; m++)
            {
                values[m].Add(v[m]);
            }
        }

        return values;
    }

    private static BootstrapResult Estimate(EvaluationCore core, BootstrapOptions options)
    {
        var values = Run(core, options, 2, w => new[] { core.Auc(w).Value, core.Acc(w) }, out int skipped);
        return new BootstrapResult(
            PercentileInterval(values[0], options.ConfidenceLevel),
            PercentileInterval(values[1], options.ConfidenceLevel),
            options.Resamples,
            skipped,
            SkipWarnings(options, skipped));
    }

    // Both models' metrics on the same resamples (the labels, and so the kept resamples, are the same for both).
    private static BootstrapComparison Compare(EvaluationCore a, EvaluationCore b, BootstrapOptions options)
    {
        var values = Run(a, options, 2, w => new[] { a.Auc(w).Value - b.Auc(w).Value, a.Acc(w) - b.Acc(w) }, out int skipped);
        return new BootstrapComparison(
            a.Auc(null).Value - b.Auc(null).Value,
            a.Acc(null) - b.Acc(null),
            PercentileInterval(values[0], options.ConfidenceLevel),
            PercentileInterval(values[1], options.ConfidenceLevel),
            options.Resamples,
            skipped,
            SkipWarnings(options, skipped));
    }

    private static List<string> SkipWarnings(BootstrapOptions options, int skipped)
    {
        var warnings = new List<string>();
        if (options.Resamples > 0 && skipped == options.Resamples)
        {
            warnings.Add($"All {skipped} bootstrap resamples were skipped (a class was absent from each); the intervals are undefined.");
        }
        else if (skipped > 0)
        {
            warnings.Add($"{skipped} of {options.Resamples} bootstrap resamples were skipped because a class present in the data was absent from them.");
        }

        return warnings;
    }
}
