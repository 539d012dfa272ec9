namespace MedVision.Nets.Metrics;

/// <summary>
/// Evaluates a model's scores in one call: the MedMNIST AUC and ACC, and for single-label tasks the confusion-matrix
/// metrics (per-class and averaged sensitivity, specificity, precision, F1, balanced accuracy, Cohen's kappa, and for
/// ordinal tasks the weighted kappas and mean absolute grade error), each with a percentile-bootstrap interval.
/// </summary>
/// <remarks>
/// All metrics share the same resamples; a resample in which a class present in the data is absent is skipped and
/// counted (see <see cref="BootstrapEstimator"/>). A metric that is undefined in a kept resample (for example kappa)
/// is left out of that metric's interval only. Predictions for the confusion matrix are those of
/// <see cref="MedMnistEvaluator.Predict(MedMnistTask, double[,], double)"/>.
/// </remarks>
public static class ModelEvaluator
{
    /// <summary>Evaluates a single-label task.</summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="labels">Class indices in [0, K) (0/1 for binary).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="bootstrap">Bootstrap settings; <see langword="null"/> for the defaults, <c>Resamples = 0</c> for none.</param>
    /// <param name="threshold">Decision threshold for binary tasks.</param>
    /// <returns>The evaluation.</returns>
    /// <exception cref="ArgumentException">Bad input or settings.</exception>
    public static EvaluationResult Evaluate(MedMnistTask task, int[] labels, double[,] scores, BootstrapOptions? bootstrap = null, double threshold = MedMnistEvaluator.DefaultThreshold) =>
        Evaluate(new EvaluationCore(PredictionSet.Create(task, labels, scores), threshold), bootstrap ?? new BootstrapOptions());

    /// <summary>Evaluates a single-label task from single-precision scores.</summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="labels">Class indices in [0, K) (0/1 for binary).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="bootstrap">Bootstrap settings; <see langword="null"/> for the defaults, <c>Resamples = 0</c> for none.</param>
    /// <param name="threshold">Decision threshold for binary tasks.</param>
    /// <returns>The evaluation.</returns>
    /// <exception cref="ArgumentException">Bad input or settings.</exception>
    public static EvaluationResult Evaluate(MedMnistTask task, int[] labels, float[,] scores, BootstrapOptions? bootstrap = null, double threshold = MedMnistEvaluator.DefaultThreshold) =>
        Evaluate(task, labels, PredictionSet.ToDouble(scores), bootstrap, threshold);

    /// <summary>Evaluates from a label matrix (N×K 0/1 for multi-label, N×1 class indices otherwise).</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label matrix.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="bootstrap">Bootstrap settings; <see langword="null"/> for the defaults, <c>Resamples = 0</c> for none.</param>
    /// <param name="threshold">Decision threshold for binary and multi-label tasks.</param>
    /// <returns>The evaluation.</returns>
    /// <exception cref="ArgumentException">Bad input or settings.</exception>
    public static EvaluationResult Evaluate(MedMnistTask task, int[,] labels, double[,] scores, BootstrapOptions? bootstrap = null, double threshold = MedMnistEvaluator.DefaultThreshold) =>
        Evaluate(new EvaluationCore(PredictionSet.Create(task, labels, scores), threshold), bootstrap ?? new BootstrapOptions());

    /// <summary>Evaluates from a label matrix and single-precision scores.</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label matrix.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="bootstrap">Bootstrap settings; <see langword="null"/> for the defaults, <c>Resamples = 0</c> for none.</param>
    /// <param name="threshold">Decision threshold for binary and multi-label tasks.</param>
    /// <returns>The evaluation.</returns>
    /// <exception cref="ArgumentException">Bad input or settings.</exception>
    public static EvaluationResult Evaluate(MedMnistTask task, int[,] labels, float[,] scores, BootstrapOptions? bootstrap = null, double threshold = MedMnistEvaluator.DefaultThreshold) =>
        Evaluate(task, labels, PredictionSet.ToDouble(scores), bootstrap, threshold);

    /// <summary>Evaluates from jagged labels (one row per sample).</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label rows.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="bootstrap">Bootstrap settings; <see langword="null"/> for the defaults, <c>Resamples = 0</c> for none.</param>
    /// <param name="threshold">Decision threshold for binary and multi-label tasks.</param>
    /// <returns>The evaluation.</returns>
    /// <exception cref="ArgumentException">Ragged rows or other bad input or settings.</exception>
    public static EvaluationResult Evaluate(MedMnistTask task, int[][] labels, double[,] scores, BootstrapOptions? bootstrap = null, double threshold = MedMnistEvaluator.DefaultThreshold) =>
        Evaluate(task, PredictionSet.ToMatrix(labels), scores, bootstrap, threshold);

    /// <summary>
    /// Evaluates an ordinal (or other single-label) task whose predictions follow <paramref name="decision"/>: ACC,
    /// kappas, the confusion matrix and the other label measures of the median grade (<see cref="OrdinalDecision.Median"/>,
    /// CORAL's rule) instead of the most probable one; AUCs read the scores as before.
    /// </summary>
    /// <exception cref="ArgumentException">As the other overloads, or the median decision for a task that is not ordinal.</exception>
    public static EvaluationResult Evaluate(MedMnistTask task, int[] labels, double[,] scores, OrdinalDecision decision, BootstrapOptions? bootstrap = null) =>
        Evaluate(new EvaluationCore(PredictionSet.Create(task, labels, scores), MedMnistEvaluator.DefaultThreshold, decision), bootstrap ?? new BootstrapOptions());

    /// <summary>As <see cref="Evaluate(MedMnistTask, int[], double[,], OrdinalDecision, BootstrapOptions?)"/>, from a label matrix (N×1).</summary>
    /// <exception cref="ArgumentException">As the other overloads, or the median decision for a task that is not ordinal.</exception>
    public static EvaluationResult Evaluate(MedMnistTask task, int[,] labels, double[,] scores, OrdinalDecision decision, BootstrapOptions? bootstrap = null) =>
        Evaluate(new EvaluationCore(PredictionSet.Create(task, labels, scores), MedMnistEvaluator.DefaultThreshold, decision), bootstrap ?? new BootstrapOptions());

    private static EvaluationResult Evaluate(EvaluationCore core, BootstrapOptions bootstrap)
    {
        bootstrap.Validate();
        var set = core.Set;
        bool ordinal = set.Task == MedMnistTask.OrdinalRegression;
        int classCount = set.Task == MedMnistTask.MultiLabel ? set.ColumnCount : set.ClassCount;
        var names = new List<string> { "AUC", "ACC" };
        if (core.ComponentCount > 1)
        {
            names.AddRange(core.ComponentNames.Select(c => $"AUC[{c}]"));
        }

        if (core.Predicted is not null)
        {
            names.AddRange(new[]
            {
                "Balanced accuracy",
                "Sensitivity (macro)", "Specificity (macro)", "Precision (macro)", "F1 (macro)",
                "Sensitivity (weighted)", "Specificity (weighted)", "Precision (weighted)", "F1 (weighted)",
                "Cohen's kappa",
            });
            if (ordinal)
            {
                names.AddRange(new[] { "Cohen's kappa (linear)", "Cohen's kappa (quadratic)", "Mean absolute error" });
            }

            for (int k = 0; k < set.ClassCount; k++)
            {
                names.AddRange(new[] { $"Sensitivity[class {k}]", $"Specificity[class {k}]", $"Precision[class {k}]", $"F1[class {k}]" });
            }
        }

        double[] Values(int[]? weights, out AucResult auc, out ClassificationMetrics? classification)
        {
            var v = new List<double>(names.Count);
            auc = core.Auc(weights);
            v.Add(auc.Value);
            v.Add(core.Acc(weights));
            if (core.ComponentCount > 1)
            {
                v.AddRange(auc.PerClass.Select(r => r.Value));
            }

            classification = null;
            if (core.Predicted is not null)
            {
                var c = ClassificationMetrics.FromConfusionMatrix(
                    ConfusionMatrix.FromValidated(set.Labels!, core.Predicted, set.ClassCount, weights));
                classification = c;
                v.AddRange(new[]
                {
                    c.BalancedAccuracy,
                    c.MacroSensitivity, c.MacroSpecificity, c.MacroPrecision, c.MacroF1,
                    c.WeightedSensitivity, c.WeightedSpecificity, c.WeightedPrecision, c.WeightedF1,
                    c.Kappa.Value,
                });
                if (ordinal)
                {
                    v.AddRange(new[] { c.LinearKappa.Value, c.QuadraticKappa.Value, c.MeanAbsoluteError });
                }

                for (int k = 0; k < set.ClassCount; k++)
                {
                    v.AddRange(new[] { c.Sensitivity[k], c.Specificity[k], c.Precision[k], c.F1[k] });
                }
            }

            return v.ToArray();
        }

        double[] point = Values(null, out AucResult fullAuc, out ClassificationMetrics? fullClassification);
        var warnings = new List<string>(fullAuc.Warnings);
        if (fullClassification is not null)
        {
            warnings.AddRange(fullClassification.Warnings);
            foreach (var kappa in new[] { fullClassification.Kappa, fullClassification.LinearKappa, fullClassification.QuadraticKappa })
            {
                if (!kappa.IsDefined)
                {
                    warnings.Add(kappa.Reason!);
                    break;
                }
            }
        }

        ConfidenceInterval?[] intervals = new ConfidenceInterval?[names.Count];
        int skipped = 0;
        if (bootstrap.Resamples > 0)
        {
            var samples = BootstrapEstimator.Run(core, bootstrap, names.Count, w => Values(w, out _, out _), out skipped);
            for (int m = 0; m < names.Count; m++)
            {
                intervals[m] = BootstrapEstimator.PercentileInterval(samples[m], bootstrap.ConfidenceLevel);
            }

            if (skipped == bootstrap.Resamples)
            {
                warnings.Add($"All {skipped} bootstrap resamples were skipped (a class was absent from each); the intervals are undefined.");
            }
            else if (skipped > 0)
            {
                warnings.Add($"{skipped} of {bootstrap.Resamples} bootstrap resamples were skipped because a class present in the data was absent from them.");
            }
        }

        var metrics = new MetricEntry[names.Count];
        for (int m = 0; m < names.Count; m++)
        {
            metrics[m] = new MetricEntry(names[m], point[m], intervals[m]);
        }

        return new EvaluationResult(
            set.Task,
            set.SampleCount,
            classCount,
            metrics,
            fullAuc,
            fullClassification,
            bootstrap.Resamples > 0 ? bootstrap : null,
            skipped,
            warnings.Distinct().ToList());
    }
}
