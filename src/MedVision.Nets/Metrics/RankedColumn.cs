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

    private const int RadixThreshold = 2048;
    private const int DigitBits = 11;
    private const int Buckets = 1 << DigitBits;
    private const ulong DigitMask = Buckets - 1;
    private const int Passes = 6; // 6 × 11 bits cover the 64-bit key
    private const ulong SignBit = 0x8000_0000_0000_0000UL;

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

    private static RankedColumn FromOwnedArray(double[] values)
    {
        int n = values.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        if (n < RadixThreshold)
        {
            Array.Sort(values, order);
            Array.Reverse(values);
            Array.Reverse(order);
            return new RankedColumn(order, values);
        }

        // Stable LSD radix sort of order-preserving 64-bit keys, complemented so ascending keys are descending scores.
        var keys = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            ulong u = BitConverter.DoubleToUInt64Bits(values[i]);
            u = (u & SignBit) != 0 ? ~u : u | SignBit;
            keys[i] = ~u;
        }

        var counts = new int[Passes * Buckets];
        for (int i = 0; i < n; i++)
        {
            ulong key = keys[i];
            for (int p = 0; p < Passes; p++)
            {
                counts[(p * Buckets) + (int)((key >> (p * DigitBits)) & DigitMask)]++;
            }
        }

        var keysOut = new ulong[n];
        var orderOut = new int[n];
        for (int p = 0; p < Passes; p++)
        {
            Span<int> bucket = counts.AsSpan(p * Buckets, Buckets);
            int digitOfFirst = (int)((keys[0] >> (p * DigitBits)) & DigitMask);
            if (bucket[digitOfFirst] == n)
            {
                continue; // every key has the same digit: this pass would not move anything
            }

            int start = 0;
            for (int d = 0; d < Buckets; d++)
            {
                int c = bucket[d];
                bucket[d] = start;
                start += c;
            }

            int shift = p * DigitBits;
            for (int i = 0; i < n; i++)
            {
                ulong key = keys[i];
                int position = bucket[(int)((key >> shift) & DigitMask)]++;
                keysOut[position] = key;
                orderOut[position] = order[i];
            }

            (keys, keysOut) = (keysOut, keys);
            (order, orderOut) = (orderOut, order);
        }

        var sorted = new double[n];
        for (int p = 0; p < n; p++)
        {
            sorted[p] = values[order[p]];
        }

        return new RankedColumn(order, sorted);
    }

    /// <summary>Whether sorted position <paramref name="p"/> is the last one of its group of equal scores.</summary>
    public bool IsGroupEnd(int p) => p == SortedScores.Length - 1 || SortedScores[p + 1] != SortedScores[p];

    /// <summary>
    /// ROC AUC by the trapezoidal rule over the distinct thresholds (ties form a single step, as in scikit-learn).
    /// The doubled area is accumulated exactly in integers and divided once.
    /// </summary>
    /// <param name="positive">Per original sample: 1 if positive, 0 if negative.</param>
    /// <param name="weights">Optional per-sample multiplicities (bootstrap); <see langword="null"/> means all 1.</param>
    /// <param name="positives">Total positive weight.</param>
    /// <param name="negatives">Total negative weight.</param>
    /// <returns>The AUC, or NaN when positives or negatives are absent.</returns>
    public double Auc(byte[] positive, int[]? weights, out long positives, out long negatives)
    {
        long tp = 0, fp = 0, tpPrev = 0, fpPrev = 0;
        // area2 ≤ 2·P·N ≤ W²/2 for total weight W, so a long cannot overflow for any int-indexed input.
        long area2 = 0;
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
                area2 += (fp - fpPrev) * (tp + tpPrev);
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
