namespace MedVision.Nets.Metrics;

/// <summary>
/// Points of a receiver operating characteristic curve, with the semantics of scikit-learn's <c>roc_curve</c>
/// (version 1.3 and later): one point per distinct score threshold in decreasing order, preceded by the point
/// (0, 0) whose threshold is <see cref="double.PositiveInfinity"/>. A point at threshold t counts the samples with
/// score ≥ t as positive.
/// </summary>
public sealed class RocCurve
{
    private RocCurve(double[] fpr, double[] tpr, double[] thresholds, IReadOnlyList<string> warnings)
    {
        FalsePositiveRates = fpr;
        TruePositiveRates = tpr;
        Thresholds = thresholds;
        Warnings = warnings;
    }

    /// <summary>False positive rate of each point (NaN for every point when the labels have no negatives).</summary>
    public IReadOnlyList<double> FalsePositiveRates { get; }

    /// <summary>True positive rate (sensitivity) of each point (NaN for every point when the labels have no positives).</summary>
    public IReadOnlyList<double> TruePositiveRates { get; }

    /// <summary>Decreasing thresholds; the first is <see cref="double.PositiveInfinity"/>.</summary>
    public IReadOnlyList<double> Thresholds { get; }

    /// <summary>Warnings, for example when one class is absent and a rate is undefined.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The number of points.</summary>
    public int Count => Thresholds.Count;

    /// <summary>Computes the ROC curve of binary labels against scores.</summary>
    /// <param name="labels">Binary targets, 0 or 1.</param>
    /// <param name="scores">Finite scores, higher meaning more likely positive.</param>
    /// <param name="dropIntermediate">
    /// When <see langword="true"/>, drops collinear points as scikit-learn's <c>drop_intermediate=True</c> does
    /// (a point is kept when the second difference of the false or the true positive counts is non-zero).
    /// The default, <see langword="false"/>, keeps every distinct threshold (<c>drop_intermediate=False</c>).
    /// </param>
    /// <returns>The curve.</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch, a label other than 0/1, or a non-finite score.</exception>
    public static RocCurve Compute(int[] labels, double[] scores, bool dropIntermediate = false)
        => FromTargets(BinaryTargets.FromBinary(labels, scores), dropIntermediate);

    /// <summary>Computes the one-vs-rest ROC curve of one class of an N×K score matrix.</summary>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="positiveClass">The class treated as positive; its score column is ranked.</param>
    /// <param name="dropIntermediate">See <see cref="Compute(int[], double[], bool)"/>.</param>
    /// <returns>The curve.</returns>
    /// <exception cref="ArgumentException">Empty input, shape mismatch, an out-of-range label or class, or a non-finite score.</exception>
    public static RocCurve OneVsRest(int[] labels, double[,] scores, int positiveClass, bool dropIntermediate = false)
        => FromTargets(BinaryTargets.OneVsRest(labels, scores, positiveClass), dropIntermediate);

    /// <summary>Computes the ROC curve of one label of a multi-label problem (its 0/1 column against its score column).</summary>
    /// <param name="labels">N×K 0/1 targets, one column per label.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="label">The label (column) whose curve is computed.</param>
    /// <param name="dropIntermediate">See <see cref="Compute(int[], double[], bool)"/>.</param>
    /// <returns>The curve.</returns>
    /// <exception cref="ArgumentException">Empty input, shape mismatch, a target other than 0/1, an out-of-range label, or a non-finite score.</exception>
    public static RocCurve ForLabel(int[,] labels, double[,] scores, int label, bool dropIntermediate = false)
        => FromTargets(BinaryTargets.ForLabel(labels, scores, label), dropIntermediate);

    private static RocCurve FromTargets(BinaryTargets targets, bool dropIntermediate)
        => FromRanked(targets.Column, targets.Positive, dropIntermediate);

    internal static RocCurve FromRanked(RankedColumn column, byte[] positive, bool dropIntermediate)
    {
        column.BinaryCurve(positive, out long[] fps, out long[] tps, out double[] thresholds);
        int m = fps.Length;
        var keep = new List<int>(m);
        for (int i = 0; i < m; i++)
        {
            if (!dropIntermediate || m <= 2 || i == 0 || i == m - 1
                || fps[i + 1] - 2 * fps[i] + fps[i - 1] != 0
                || tps[i + 1] - 2 * tps[i] + tps[i - 1] != 0)
            {
                keep.Add(i);
            }
        }

        int count = keep.Count + 1;
        var fpr = new double[count];
        var tpr = new double[count];
        var th = new double[count];
        th[0] = double.PositiveInfinity;
        long totalFp = fps[m - 1];
        long totalTp = tps[m - 1];
        var warnings = new List<string>();
        if (totalFp <= 0)
        {
            warnings.Add("No negative samples in the labels: the false positive rate is undefined (NaN).");
        }

        if (totalTp <= 0)
        {
            warnings.Add("No positive samples in the labels: the true positive rate is undefined (NaN).");
        }

        fpr[0] = totalFp > 0 ? 0.0 : double.NaN;
        tpr[0] = totalTp > 0 ? 0.0 : double.NaN;
        for (int j = 0; j < keep.Count; j++)
        {
            int i = keep[j];
            fpr[j + 1] = totalFp > 0 ? (double)fps[i] / totalFp : double.NaN;
            tpr[j + 1] = totalTp > 0 ? (double)tps[i] / totalTp : double.NaN;
            th[j + 1] = thresholds[i];
        }

        return new RocCurve(fpr, tpr, th, warnings);
    }
}
