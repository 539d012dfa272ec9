namespace MedVision.Nets.Metrics;

/// <summary>
/// Points of a precision–recall curve with the semantics of scikit-learn's <c>precision_recall_curve</c>
/// (<c>drop_intermediate=False</c>): one point per distinct score threshold in increasing threshold order (so recall
/// is decreasing), followed by the point precision = 1, recall = 0, which has no threshold.
/// </summary>
/// <remarks>
/// When the labels hold no positive sample, recall is set to 1 at every threshold (as scikit-learn does) and a
/// warning is recorded. Precision is tp / (tp + fp) at each threshold.
/// </remarks>
public sealed class PrecisionRecallCurve
{
    private PrecisionRecallCurve(double[] precision, double[] recall, double[] thresholds, IReadOnlyList<string> warnings)
    {
        Precision = precision;
        Recall = recall;
        Thresholds = thresholds;
        Warnings = warnings;
    }

    /// <summary>Precision of each point; one more entry than <see cref="Thresholds"/> (the last is 1).</summary>
    public IReadOnlyList<double> Precision { get; }

    /// <summary>Recall (sensitivity) of each point, decreasing; one more entry than <see cref="Thresholds"/> (the last is 0).</summary>
    public IReadOnlyList<double> Recall { get; }

    /// <summary>The distinct scores in increasing order.</summary>
    public IReadOnlyList<double> Thresholds { get; }

    /// <summary>Warnings, for example when the labels have no positive sample.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Computes the precision–recall curve of binary labels against scores.</summary>
    /// <param name="labels">Binary targets, 0 or 1.</param>
    /// <param name="scores">Finite scores, higher meaning more likely positive.</param>
    /// <returns>The curve.</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch, a label other than 0/1, or a non-finite score.</exception>
    public static PrecisionRecallCurve Compute(int[] labels, double[] scores)
        => FromTargets(BinaryTargets.FromBinary(labels, scores));

    /// <summary>Computes the one-vs-rest precision–recall curve of one class of an N×K score matrix.</summary>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="positiveClass">The class treated as positive; its score column is ranked.</param>
    /// <returns>The curve.</returns>
    /// <exception cref="ArgumentException">Empty input, shape mismatch, an out-of-range label or class, or a non-finite score.</exception>
    public static PrecisionRecallCurve OneVsRest(int[] labels, double[,] scores, int positiveClass)
        => FromTargets(BinaryTargets.OneVsRest(labels, scores, positiveClass));

    /// <summary>Computes the precision–recall curve of one label of a multi-label problem.</summary>
    /// <param name="labels">N×K 0/1 targets, one column per label.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="label">The label (column) whose curve is computed.</param>
    /// <returns>The curve.</returns>
    /// <exception cref="ArgumentException">Empty input, shape mismatch, a target other than 0/1, an out-of-range label, or a non-finite score.</exception>
    public static PrecisionRecallCurve ForLabel(int[,] labels, double[,] scores, int label)
        => FromTargets(BinaryTargets.ForLabel(labels, scores, label));

    private static PrecisionRecallCurve FromTargets(BinaryTargets targets) => FromRanked(targets.Column, targets.Positive);

    private static PrecisionRecallCurve FromRanked(RankedColumn column, byte[] positive)
    {
        column.BinaryCurve(positive, out long[] fps, out long[] tps, out double[] thresholds);
        int m = fps.Length;
        long totalTp = tps[m - 1];
        var warnings = new List<string>();
        if (totalTp == 0)
        {
            warnings.Add("No positive samples in the labels: recall is set to 1 for all thresholds.");
        }

        var precision = new double[m + 1];
        var recall = new double[m + 1];
        var th = new double[m];
        for (int j = 0; j < m; j++)
        {
            int i = m - 1 - j;
            long predictedPositive = tps[i] + fps[i];
            precision[j] = predictedPositive != 0 ? (double)tps[i] / predictedPositive : 0.0;
            recall[j] = totalTp == 0 ? 1.0 : (double)tps[i] / totalTp;
            th[j] = thresholds[i];
        }

        precision[m] = 1.0;
        recall[m] = 0.0;
        return new PrecisionRecallCurve(precision, recall, th, warnings);
    }
}
