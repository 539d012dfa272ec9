namespace MedVision.Nets.Metrics;

/// <summary>
/// One score column sorted once by descending score, so that AUCs and curves (including weighted bootstrap
/// resamples) are sweeps in O(n) after a single O(n log n) sort.
/// </summary>
internal sealed class RankedColumn
{
    private RankedColumn(int[] order, double[] sortedScores)
    {
        Order = order;
        SortedScores = sortedScores;
    }

    /// <summary>Original sample indices in order of descending score (ties in arbitrary order).</summary>
    public int[] Order { get; }

    /// <summary>The scores in descending order.</summary>
    public double[] SortedScores { get; }

    public int Count => Order.Length;

    public static RankedColumn FromColumn(double[,] scores, int column)
    {
        int n = scores.GetLength(0);
        var keys = new double[n];
        for (int i = 0; i < n; i++)
        {
            keys[i] = scores[i, column];
        }

        return FromOwnedArray(keys);
    }

    public static RankedColumn FromSpan(ReadOnlySpan<double> scores) => FromOwnedArray(scores.ToArray());

    private static RankedColumn FromOwnedArray(double[] keys)
    {
        int n = keys.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        Array.Sort(keys, order);
        Array.Reverse(keys);
        Array.Reverse(order);
        return new RankedColumn(order, keys);
    }

    /// <summary>Whether sorted position <paramref name="p"/> is the last one of its group of equal scores.</summary>
    public bool IsGroupEnd(int p) => p == SortedScores.Length - 1 || SortedScores[p + 1] != SortedScores[p];

    /// <summary>
    /// ROC AUC by the trapezoidal rule over the distinct thresholds (ties form a single step, as in scikit-learn).
    /// The area is accumulated exactly in integers and divided once.
    /// </summary>
    /// <param name="positive">Per original sample: 1 if positive, 0 if negative.</param>
    /// <param name="weights">Optional per-sample multiplicities (bootstrap); <see langword="null"/> means all 1.</param>
    /// <param name="positives">Total positive weight.</param>
    /// <param name="negatives">Total negative weight.</param>
    /// <returns>The AUC, or NaN when positives or negatives are absent.</returns>
    public double Auc(byte[] positive, int[]? weights, out long positives, out long negatives)
    {
        long tp = 0, fp = 0, tpPrev = 0, fpPrev = 0;
        Int128 area2 = 0;
        int[] order = Order;
        double[] sorted = SortedScores;
        int n = order.Length;
        for (int p = 0; p < n; p++)
        {
            int i = order[p];
            long w = weights is null ? 1 : weights[i];
            if (positive[i] != 0)
            {
                tp += w;
            }
            else
            {
                fp += w;
            }

            if (p == n - 1 || sorted[p + 1] != sorted[p])
            {
                area2 += (Int128)(fp - fpPrev) * (tp + tpPrev);
                fpPrev = fp;
                tpPrev = tp;
            }
        }

        positives = tp;
        negatives = fp;
        if (tp == 0 || fp == 0)
        {
            return double.NaN;
        }

        return (double)area2 / (2.0 * tp * fp);
    }

    /// <summary>
    /// scikit-learn's <c>_binary_clf_curve</c>: cumulative false and true positives at each distinct threshold,
    /// thresholds in decreasing order.
    /// </summary>
    public void BinaryCurve(byte[] positive, out long[] fps, out long[] tps, out double[] thresholds)
    {
        var fpList = new List<long>();
        var tpList = new List<long>();
        var thresholdList = new List<double>();
        long tp = 0, fp = 0;
        for (int p = 0; p < Order.Length; p++)
        {
            if (positive[Order[p]] != 0)
            {
                tp++;
            }
            else
            {
                fp++;
            }

            if (IsGroupEnd(p))
            {
                fpList.Add(fp);
                tpList.Add(tp);
                thresholdList.Add(SortedScores[p]);
            }
        }

        fps = fpList.ToArray();
        tps = tpList.ToArray();
        thresholds = thresholdList.ToArray();
    }
}
