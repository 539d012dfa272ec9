namespace MedVision.Nets.Metrics;

/// <summary>
/// Binary ROC AUC with scikit-learn's <c>roc_auc_score</c> semantics: samples are sorted once by score, tied scores
/// form a single threshold, and the area is the trapezoidal sum over the distinct thresholds. O(n log n).
/// </summary>
public static class RocAuc
{
    /// <summary>Computes the ROC AUC of binary labels against scores.</summary>
    /// <param name="labels">Binary targets, 0 (negative) or 1 (positive).</param>
    /// <param name="scores">Scores, higher meaning more likely positive. Must be finite.</param>
    /// <returns>
    /// The AUC; when the labels hold only one class the AUC is undefined and the result is NaN with the reason.
    /// </returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch, a label other than 0/1, or a non-finite score.</exception>
    public static MetricResult Compute(int[] labels, double[] scores)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores);
        ValidateBinary(labels, scores.Length);
        PredictionSet.ValidateScores(scores);
        var positive = new byte[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            positive[i] = (byte)labels[i];
        }

        return FromRanked(RankedColumn.FromSpan(scores), positive, null, "the labels");
    }

    /// <summary>Computes the one-vs-rest ROC AUC of one class of a score matrix.</summary>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scores">N×K scores; column <paramref name="positiveClass"/> is ranked.</param>
    /// <param name="positiveClass">The class treated as positive.</param>
    /// <returns>The AUC, or NaN with the reason when the class is absent from (or is all of) the labels.</returns>
    /// <exception cref="ArgumentException">Empty input, shape mismatch, an out-of-range label or class, or a non-finite score.</exception>
    public static MetricResult OneVsRest(int[] labels, double[,] scores, int positiveClass)
    {
        var set = PredictionSet.Create(MedMnistTask.MultiClass, labels, scores);
        if ((uint)positiveClass >= (uint)set.ColumnCount)
        {
            throw new ArgumentOutOfRangeException(
                nameof(positiveClass), positiveClass, $"Positive class must be in [0, {set.ColumnCount}).");
        }

        var positive = new byte[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            positive[i] = labels[i] == positiveClass ? (byte)1 : (byte)0;
        }

        return FromRanked(RankedColumn.FromColumn(scores, positiveClass), positive, null, $"class {positiveClass}");
    }

    internal static MetricResult FromRanked(RankedColumn column, byte[] positive, int[]? weights, string what)
    {
        double auc = column.Auc(positive, weights, out long positives, out long negatives);
        if (positives == 0)
        {
            return new MetricResult(double.NaN, new[] { $"ROC AUC is undefined for {what}: no positive samples (only one class present)." });
        }

        if (negatives == 0)
        {
            return new MetricResult(double.NaN, new[] { $"ROC AUC is undefined for {what}: no negative samples (only one class present)." });
        }

        return new MetricResult(auc);
    }

    internal static void ValidateBinary(int[] labels, int scoreCount)
    {
        if (labels.Length == 0)
        {
            throw new ArgumentException("Labels are empty: at least one sample is required.", nameof(labels));
        }

        if (labels.Length != scoreCount)
        {
            throw new ArgumentException(
                $"Length mismatch: labels has {labels.Length} entries but scores has {scoreCount}.", nameof(labels));
        }

        PredictionSet.ValidateClassLabels(labels, 2, nameof(labels));
    }
}
