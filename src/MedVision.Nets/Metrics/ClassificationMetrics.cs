namespace MedVision.Nets.Metrics;

/// <summary>
/// Clinical per-class metrics (sensitivity, specificity, precision, F1) with their macro and support-weighted
/// averages, balanced accuracy, Cohen's kappa (plain, linear, quadratic) and the mean absolute grade error, all
/// derived from one <see cref="ConfusionMatrix"/>.
/// </summary>
/// <remarks>
/// <para>Conventions follow scikit-learn with <c>labels=range(K)</c> and <c>zero_division=0</c> (its default
/// <c>"warn"</c> behaviour): a ratio whose denominator is zero is reported as 0 and a warning names it.
/// Sensitivity is recall (tp / (tp + fn)); specificity is tn / (tn + fp), i.e. the recall of the negative class in
/// one-vs-rest; F1 is 2·tp / (2·tp + fp + fn).</para>
/// <para>Macro averages are unweighted means over all K classes (including zero-division zeros, as scikit-learn);
/// weighted averages weigh each class by its support (true count). Balanced accuracy is the mean recall over the
/// classes present in the targets (as <c>balanced_accuracy_score</c>).</para>
/// </remarks>
public sealed class ClassificationMetrics
{
    private ClassificationMetrics(ConfusionMatrix matrix)
    {
        ConfusionMatrix = matrix;
        int k = matrix.ClassCount;
        var warnings = new List<string>();
        var sensitivity = new double[k];
        var specificity = new double[k];
        var precision = new double[k];
        var f1 = new double[k];
        var support = new long[k];
        double recallSumPresent = 0;
        int present = 0;
        for (int c = 0; c < k; c++)
        {
            long tp = matrix.TruePositives(c);
            long fp = matrix.FalsePositives(c);
            long fn = matrix.FalseNegatives(c);
            long tn = matrix.TrueNegatives(c);
            support[c] = tp + fn;
            sensitivity[c] = Ratio(tp, tp + fn, $"Sensitivity of class {c} is ill-defined (no true samples of the class); set to 0.", warnings);
            specificity[c] = Ratio(tn, tn + fp, $"Specificity of class {c} is ill-defined (no samples of other classes); set to 0.", warnings);
            precision[c] = Ratio(tp, tp + fp, $"Precision of class {c} is ill-defined (the class is never predicted); set to 0.", warnings);
            f1[c] = Ratio(2 * tp, (2 * tp) + fp + fn, $"F1 of class {c} is ill-defined (the class is neither present nor predicted); set to 0.", warnings);
            if (tp + fn > 0)
            {
                recallSumPresent += sensitivity[c];
                present++;
            }
        }

        Sensitivity = sensitivity;
        Specificity = specificity;
        Precision = precision;
        F1 = f1;
        Support = support;
        MacroSensitivity = sensitivity.Average();
        MacroSpecificity = specificity.Average();
        MacroPrecision = precision.Average();
        MacroF1 = f1.Average();
        WeightedSensitivity = Weighted(sensitivity, support);
        WeightedSpecificity = Weighted(specificity, support);
        WeightedPrecision = Weighted(precision, support);
        WeightedF1 = Weighted(f1, support);
        BalancedAccuracy = recallSumPresent / present;
        Accuracy = matrix.Accuracy;
        Kappa = matrix.CohenKappa(KappaWeighting.None);
        LinearKappa = matrix.CohenKappa(KappaWeighting.Linear);
        QuadraticKappa = matrix.CohenKappa(KappaWeighting.Quadratic);
        MeanAbsoluteError = matrix.MeanAbsoluteError();
        Warnings = warnings;
    }

    /// <summary>The confusion matrix the metrics were derived from.</summary>
    public ConfusionMatrix ConfusionMatrix { get; }

    /// <summary>Per-class sensitivity (recall, true positive rate).</summary>
    public IReadOnlyList<double> Sensitivity { get; }

    /// <summary>Per-class specificity (true negative rate, one-vs-rest).</summary>
    public IReadOnlyList<double> Specificity { get; }

    /// <summary>Per-class precision (positive predictive value).</summary>
    public IReadOnlyList<double> Precision { get; }

    /// <summary>Per-class F1 score.</summary>
    public IReadOnlyList<double> F1 { get; }

    /// <summary>Per-class support: the number of samples whose true class it is.</summary>
    public IReadOnlyList<long> Support { get; }

    /// <summary>Unweighted mean of <see cref="Sensitivity"/> over all classes (macro recall).</summary>
    public double MacroSensitivity { get; }

    /// <summary>Unweighted mean of <see cref="Specificity"/> over all classes.</summary>
    public double MacroSpecificity { get; }

    /// <summary>Unweighted mean of <see cref="Precision"/> over all classes.</summary>
    public double MacroPrecision { get; }

    /// <summary>Unweighted mean of the per-class <see cref="F1"/> over all classes (scikit-learn's macro F1).</summary>
    public double MacroF1 { get; }

    /// <summary>Support-weighted mean of <see cref="Sensitivity"/> (equals the accuracy).</summary>
    public double WeightedSensitivity { get; }

    /// <summary>Support-weighted mean of <see cref="Specificity"/>.</summary>
    public double WeightedSpecificity { get; }

    /// <summary>Support-weighted mean of <see cref="Precision"/>.</summary>
    public double WeightedPrecision { get; }

    /// <summary>Support-weighted mean of <see cref="F1"/>.</summary>
    public double WeightedF1 { get; }

    /// <summary>Mean sensitivity over the classes present in the targets.</summary>
    public double BalancedAccuracy { get; }

    /// <summary>Fraction of correct predictions.</summary>
    public double Accuracy { get; }

    /// <summary>Cohen's kappa.</summary>
    public MetricResult Kappa { get; }

    /// <summary>Linearly weighted Cohen's kappa.</summary>
    public MetricResult LinearKappa { get; }

    /// <summary>Quadratically weighted Cohen's kappa (QWK).</summary>
    public MetricResult QuadraticKappa { get; }

    /// <summary>Mean absolute error of the class indices read as grades.</summary>
    public double MeanAbsoluteError { get; }

    /// <summary>Zero-division warnings (ill-defined ratios reported as 0).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Derives the metrics from a confusion matrix.</summary>
    /// <param name="matrix">The confusion matrix (must count at least one sample).</param>
    /// <returns>The metrics.</returns>
    public static ClassificationMetrics FromConfusionMatrix(ConfusionMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.Total == 0)
        {
            throw new ArgumentException("The confusion matrix is empty: at least one sample is required.", nameof(matrix));
        }

        return new ClassificationMetrics(matrix);
    }

    /// <summary>Computes the metrics of predicted against true class indices.</summary>
    /// <param name="actual">True class indices in [0, K).</param>
    /// <param name="predicted">Predicted class indices in [0, K).</param>
    /// <param name="classCount">The number of classes K.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch or a class index outside [0, K).</exception>
    public static ClassificationMetrics Compute(int[] actual, int[] predicted, int classCount) =>
        new(ConfusionMatrix.FromPredictions(actual, predicted, classCount));

    private static double Ratio(long numerator, long denominator, string warning, List<string> warnings)
    {
        if (denominator == 0)
        {
            warnings.Add(warning);
            return 0.0;
        }

        return (double)numerator / denominator;
    }

    private static double Weighted(double[] values, long[] support)
    {
        double sum = 0;
        long total = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i] * support[i];
            total += support[i];
        }

        return sum / total;
    }
}
