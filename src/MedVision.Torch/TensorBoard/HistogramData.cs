namespace MedVision.Torch.TensorBoard;

/// <summary>
/// A histogram as TensorBoard stores it (tensorflow's <c>HistogramProto</c>): the values' minimum, maximum, count, sum
/// and sum of squares, and buckets given by their right edges. The first bucket is empty and only carries the left edge
/// of the second (TensorBoard keeps right edges only); buckets beyond the first and last non-empty ones are left out.
/// </summary>
/// <param name="Min">Smallest value.</param>
/// <param name="Max">Largest value.</param>
/// <param name="Count">Number of values.</param>
/// <param name="Sum">Sum of the values.</param>
/// <param name="SumSquares">Sum of the squared values.</param>
/// <param name="BucketLimits">Right edge of each bucket.</param>
/// <param name="BucketCounts">Number of values in each bucket.</param>
public sealed record HistogramData(double Min, double Max, double Count, double Sum, double SumSquares, IReadOnlyList<double> BucketLimits, IReadOnlyList<double> BucketCounts)
{
    /// <summary>Right edge of each bucket.</summary>
    public IReadOnlyList<double> BucketLimits { get; init; } = BucketLimits ?? throw new ArgumentNullException(nameof(BucketLimits));

    /// <summary>Number of values in each bucket.</summary>
    public IReadOnlyList<double> BucketCounts { get; init; } = BucketCounts ?? throw new ArgumentNullException(nameof(BucketCounts));

    private static readonly Lazy<double[]> TensorFlowEdgesLazy = new(() =>
    {
        // TensorFlow's default buckets (as PyTorch's SummaryWriter builds them): ±1e-12·1.1^k below 1e20, and 0.
        var positive = new List<double>();
        for (double v = 1e-12; v < 1e20; v *= 1.1) positive.Add(v);
        var edges = new double[positive.Count * 2 + 1];
        for (int i = 0; i < positive.Count; i++)
        {
            edges[positive.Count - 1 - i] = -positive[i];
            edges[positive.Count + 1 + i] = positive[i];
        }
        return edges;
    });

    /// <summary>
    /// The bucket edges TensorFlow and PyTorch's <c>SummaryWriter.add_histogram</c> use by default ("tensorflow"):
    /// 0 and ±10⁻¹²·1.1ᵏ up to 10²⁰, so buckets are about 10% wide at every scale.
    /// </summary>
    public static IReadOnlyList<double> TensorFlowEdges => TensorFlowEdgesLazy.Value;

    /// <summary>
    /// The histogram of <paramref name="values"/> as PyTorch's <c>add_histogram</c> makes it: counted as
    /// <c>numpy.histogram</c> counts (each bucket holds its left edge; the last also its right edge; values outside the
    /// edges are not counted), in <paramref name="bins"/> equal buckets from the smallest to the largest value, or in
    /// <see cref="TensorFlowEdges"/> when <paramref name="bins"/> is null; then trimmed to the non-empty range.
    /// </summary>
    /// <exception cref="ArgumentException">No values, a value that is NaN or infinite, or no value within the edges.</exception>
    public static HistogramData Of(ReadOnlySpan<double> values, int? bins = null) => Tally(values, bins);

    /// <summary>
    /// The histogram of float32 <paramref name="values"/>, counted and summed in float64 exactly as
    /// <see cref="Of(ReadOnlySpan{double}, int?)"/> counts the same values widened (the same result, from half the
    /// memory: what <see cref="SummaryWriter.AddHistogram(string, Tensor, long?, int?, double?)"/> reads out of a float32 tensor).
    /// </summary>
    /// <exception cref="ArgumentException">No values, a value that is NaN or infinite, or no value within the edges.</exception>
    public static HistogramData Of(ReadOnlySpan<float> values, int? bins = null) => Tally(values, bins);

    private static HistogramData Tally<T>(ReadOnlySpan<T> values, int? bins)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (values.IsEmpty) throw new ArgumentException("A histogram needs at least one value; none was given.", nameof(values));
        if (bins is int b && b < 1) throw new ArgumentOutOfRangeException(nameof(bins), b, "A histogram needs at least 1 bin.");
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0, sumSquares = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double v = double.CreateTruncating(values[i]);
            if (!double.IsFinite(v)) throw new ArgumentException($"A histogram needs finite values; value {i} is {v}.", nameof(values));
            if (v < min) min = v;
            if (v > max) max = v;
            sum += v;
            sumSquares += v * v;
        }

        double[] edges;
        if (bins is int n)
        {
            double first = min, last = max;
            if (first == last) { first -= 0.5; last += 0.5; }
            double step = (last - first) / n;
            edges = new double[n + 1];
            for (int i = 0; i < n; i++) edges[i] = i * step + first;
            edges[n] = last;
        }
        else edges = TensorFlowEdgesLazy.Value;

        // Each value's bucket by numpy's rule ([edge i, edge i+1), the last bucket closed): a first guess from the edges'
        // formula (equal widths, or TensorFlow's powers of 1.1), then moved to the bucket whose edges hold the value,
        // so rounding in the guess never decides. O(n), without sorting a copy of the values.
        int buckets = edges.Length - 1;
        var counts = new long[buckets];
        double lowest = edges[0], highest = edges[^1];
        double width = (highest - lowest) / buckets;
        int positives = buckets / 2; // TensorFlow's edges: P negative, 0, P positive
        Func<double, int> guess = bins is int
            ? v => (int)Math.Clamp(Math.Floor((v - lowest) / width), 0, buckets - 1)
            : v => TensorFlowBucketGuess(v, positives);
        foreach (var value in values)
        {
            double v = double.CreateTruncating(value);
            if (v < lowest || v > highest) continue;
            int i = guess(v);
            while (i > 0 && edges[i] > v) i--;
            while (i < buckets - 1 && edges[i + 1] <= v) i++;
            counts[i]++;
        }

        int start = Array.FindIndex(counts, c => c > 0);
        if (start < 0)
            throw new ArgumentException($"None of the {values.Length} values lies within the histogram's edges [{edges[0]:G4}, {edges[^1]:G4}].", nameof(values));
        int end = Array.FindLastIndex(counts, c => c > 0) + 1;
        // TensorBoard keeps right edges only: an empty bucket on the left carries the first non-empty bucket's left edge.
        var bucketCounts = new List<double>(end - start + 1);
        if (start > 0) for (int i = start - 1; i < end; i++) bucketCounts.Add(counts[i]);
        else
        {
            bucketCounts.Add(0);
            for (int i = 0; i < end; i++) bucketCounts.Add(counts[i]);
        }
        var limits = new List<double>(end + 1 - start);
        for (int i = start; i <= end; i++) limits.Add(edges[i]);
        return new HistogramData(min, max, values.Length, sum, sumSquares, limits, bucketCounts);
    }

    // TensorFlow's buckets: [−v(P−1), …, −v0, 0, v0, …, v(P−1)] with v(k) = 1e-12·1.1^k; for |x| ≥ v0, x lies
    // near v(k) with k = ⌊log(|x| / 1e-12) / log 1.1⌋.
    private static readonly double LogOfRatio = Math.Log(1.1);

    private static int TensorFlowBucketGuess(double x, int positives)
    {
        double magnitude = Math.Abs(x);
        int k = magnitude < 1e-12 ? -1 : (int)Math.Min(Math.Floor(Math.Log(magnitude / 1e-12) / LogOfRatio), positives - 1);
        // Bucket P is [0, v0); bucket P + 1 + k is [v(k), v(k+1)); bucket P − 2 − k is [−v(k+1), −v(k)).
        int bucket = x >= 0 ? positives + 1 + k : positives - 2 - k;
        return Math.Clamp(bucket, 0, 2 * positives - 1);
    }
}
