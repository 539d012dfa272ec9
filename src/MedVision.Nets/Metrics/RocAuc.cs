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
    public static MetricResult Compute(int[] labels, double[] scores) => FromTargets(BinaryTargets.FromBinary(labels, scores));

    /// <summary>Computes the one-vs-rest ROC AUC of one class of a score matrix.</summary>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scores">N×K scores; column <paramref name="positiveClass"/> is ranked.</param>
    /// <param name="positiveClass">The class treated as positive.</param>
    /// <returns>The AUC, or NaN with the reason when the class is absent from (or is all of) the labels.</returns>
    /// <exception cref="ArgumentException">Empty input, shape mismatch, an out-of-range label or class, or a non-finite score.</exception>
    public static MetricResult OneVsRest(int[] labels, double[,] scores, int positiveClass)
        => FromTargets(BinaryTargets.OneVsRest(labels, scores, positiveClass));

    /// <summary>Computes the ROC AUC of one label of a multi-label problem.</summary>
    /// <param name="labels">N×K 0/1 targets, one column per label.</param>
    /// <param name="scores">N×K scores; column <paramref name="label"/> is ranked.</param>
    /// <param name="label">The label (column) to score.</param>
    /// <returns>The AUC, or NaN with the reason when the label is never (or always) present.</returns>
    /// <exception cref="ArgumentException">Empty input, shape mismatch, a target other than 0/1, an out-of-range label, or a non-finite score.</exception>
    public static MetricResult ForLabel(int[,] labels, double[,] scores, int label)
        => FromTargets(BinaryTargets.ForLabel(labels, scores, label));

    private static MetricResult FromTargets(BinaryTargets targets)
        => FromRanked(targets.Column, targets.Positive, null, targets.Description);

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
}
