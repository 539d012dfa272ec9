using System.Numerics;
using MedVision.Nets.Data.Loading;

namespace MedVision.Nets.Data.Quality;

/// <summary>
/// The images of one or more sources, in memory, sorted by mean intensity with block means beside each, for an exact
/// search by mean absolute difference: the difference of two images' means, and the mean over blocks of their block
/// means' differences weighted by block size, are lower bounds of it, so pairs are skipped without ever missing one.
/// </summary>
internal sealed class ImageIndex
{
    // Lower bounds may round above the exact difference by a few ulps; a pair is skipped only beyond this slack.
    private const double Slack = 1e-9;

    private readonly double[] _blockWeights;

    private ImageIndex(Entry[] entries, int[] shape, double[] blockWeights, int[] setSizes)
    {
        Entries = entries;
        Shape = shape;
        _blockWeights = blockWeights;
        SetSizes = setSizes;
    }

    /// <summary>The images sorted by mean intensity.</summary>
    public Entry[] Entries { get; }

    /// <summary>The one shape of every image.</summary>
    public int[] Shape { get; }

    /// <summary>The number of images of each set.</summary>
    public int[] SetSizes { get; }

    /// <summary>One image: its set and index there, its values, labels, mean and block means.</summary>
    internal sealed record Entry(int Set, int Index, float[] Data, int[] Labels, double Mean, double[] Blocks);

    /// <summary>Loads every image of every set (sources must share one image shape; <paramref name="names"/> name them in messages).</summary>
    public static ImageIndex Build(IReadOnlyList<ILabeledImageSource> sets, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var loaded = new (float[] Data, int[] Shape, int[] Labels)[sets.Count][];
        for (int s = 0; s < sets.Count; s++)
        {
            var source = sets[s];
            var images = loaded[s] = new (float[], int[], int[])[source.Count];
            Parallel.For(0, source.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                var (image, labels) = source.Load(i);
                images[i] = (image.Data, image.Shape, labels);
            });
        }
        int[]? shape = null;
        string? first = null;
        for (int s = 0; s < sets.Count; s++)
            for (int i = 0; i < loaded[s].Length; i++)
            {
                var current = loaded[s][i].Shape;
                if (shape is null)
                {
                    (shape, first) = (current, $"{names[s]} image {i}");
                    continue;
                }
                if (!current.SequenceEqual(shape))
                    throw new ArgumentException($"{names[s]} image {i} has shape ({string.Join(", ", current)}) but {first} has ({string.Join(", ", shape)}): images are compared pixel by pixel, so give sources of one size (e.g. an ImageFolderSource resizes its images).");
            }
        shape ??= new[] { 1, 1, 1 };
        var (blockOf, weights) = Blocks(shape);
        var entries = new List<Entry>();
        for (int s = 0; s < sets.Count; s++)
            for (int i = 0; i < loaded[s].Length; i++)
            {
                var (data, _, labels) = loaded[s][i];
                var sums = new double[weights.Length];
                double total = 0;
                for (int k = 0; k < data.Length; k++)
                {
                    if (!float.IsFinite(data[k])) throw new ArgumentException($"{names[s]} image {i} holds a value that is not finite at element {k}.");
                    sums[blockOf[k]] += data[k];
                    total += data[k];
                }
                for (int b = 0; b < sums.Length; b++) sums[b] /= weights[b] * data.Length;
                entries.Add(new Entry(s, i, data, labels, total / Math.Max(1, data.Length), sums));
            }
        // Ties keep the sets' order (a stable sort), so that the search is deterministic.
        var sorted = entries.OrderBy(e => e.Mean).ToArray();
        return new ImageIndex(sorted, shape, weights, loaded.Select(l => l.Length).ToArray());
    }

    /// <summary>
    /// Every pair (in entry order: the first of a pair has the lower position) whose mean absolute difference is at
    /// most <paramref name="maxDifference"/> and that <paramref name="include"/> accepts.
    /// </summary>
    public List<(Entry A, Entry B, double Difference)> Pairs(double maxDifference, Func<Entry, Entry, bool> include, CancellationToken cancellationToken)
    {
        var found = new List<(Entry, Entry, double)>[Entries.Length];
        Parallel.For(0, Entries.Length, new ParallelOptions { CancellationToken = cancellationToken }, k =>
        {
            var a = Entries[k];
            for (int j = k + 1; j < Entries.Length; j++)
            {
                var b = Entries[j];
                if (b.Mean - a.Mean > maxDifference + Slack) break;
                if (!include(a, b) || LowerBound(a, b) > maxDifference + Slack) continue;
                double d = Difference(a.Data, b.Data, maxDifference);
                if (d <= maxDifference) (found[k] ??= new()).Add((a, b, d));
            }
        });
        return found.Where(f => f is not null).SelectMany(f => f).ToList();
    }

    /// <summary>For every entry of set <paramref name="query"/>, the nearest entry of set <paramref name="reference"/> (exact; ties: the lower index).</summary>
    public (int Index, double Difference)[] Nearest(int query, int reference, CancellationToken cancellationToken)
    {
        var candidates = Entries.Where(e => e.Set == reference).ToArray();
        if (candidates.Length == 0) throw new ArgumentException("The reference has no images.");
        var means = candidates.Select(e => e.Mean).ToArray();
        var result = new (int, double)[SetSizes[query]];
        var queries = Entries.Where(e => e.Set == query).ToArray();
        Parallel.For(0, queries.Length, new ParallelOptions { CancellationToken = cancellationToken }, q =>
        {
            var a = queries[q];
            int start = Array.BinarySearch(means, a.Mean);
            if (start < 0) start = ~start;
            int bestIndex = int.MaxValue;
            double best = double.PositiveInfinity;
            void Consider(Entry b)
            {
                if (LowerBound(a, b) > best + Slack) return;
                double d = Difference(a.Data, b.Data, best);
                if (d < best || (d == best && b.Index < bestIndex)) (best, bestIndex) = (d, b.Index);
            }
            // Outwards from the query's mean in both directions, until the means alone are further than the best.
            for (int lo = start - 1, hi = start; lo >= 0 || hi < candidates.Length;)
            {
                bool goHigh = lo < 0 || (hi < candidates.Length && candidates[hi].Mean - a.Mean <= a.Mean - candidates[lo].Mean);
                var b = goHigh ? candidates[hi++] : candidates[lo--];
                if (Math.Abs(b.Mean - a.Mean) > best + Slack) break;
                Consider(b);
            }
            result[a.Index] = (bestIndex, best);
        });
        return result;
    }

    /// <summary>The mean absolute difference of two equal-length images; once it exceeds <paramref name="limit"/>, any value above the limit.</summary>
    public static double Difference(float[] a, float[] b, double limit)
    {
        double bound = limit * a.Length, sum = 0;
        const int Chunk = 1024;
        int width = Vector<float>.Count;
        for (int start = 0; start < a.Length; start += Chunk)
        {
            int end = Math.Min(a.Length, start + Chunk), i = start;
            var lanes = Vector<float>.Zero;
            for (; i + width <= end; i += width)
                lanes += Vector.Abs(new Vector<float>(a, i) - new Vector<float>(b, i));
            double partial = Vector.Sum(lanes);
            for (; i < end; i++) partial += Math.Abs(a[i] - b[i]);
            sum += partial;
            if (sum > bound) break;
        }
        return a.Length == 0 ? 0 : sum / a.Length;
    }

    private double LowerBound(Entry a, Entry b)
    {
        double bound = 0;
        for (int k = 0; k < _blockWeights.Length; k++) bound += _blockWeights[k] * Math.Abs(a.Blocks[k] - b.Blocks[k]);
        return bound;
    }

    // Each element's block (per channel, every spatial axis cut into up to four parts) and each block's share of the elements.
    private static (int[] BlockOf, double[] Weights) Blocks(int[] shape)
    {
        int channels = shape[0];
        var spatial = shape[1..];
        var parts = spatial.Select(n => Math.Min(4, Math.Max(1, n))).ToArray();
        int perChannel = parts.Aggregate(1, (x, y) => x * y);
        int elements = shape.Aggregate(1, (x, y) => x * y);
        var blockOf = new int[elements];
        var counts = new double[channels * perChannel];
        var coordinate = new int[spatial.Length];
        int planeSize = spatial.Aggregate(1, (x, y) => x * y);
        for (int e = 0; e < elements; e++)
        {
            int channel = e / Math.Max(1, planeSize), rest = e % Math.Max(1, planeSize);
            for (int axis = spatial.Length - 1; axis >= 0; axis--)
            {
                coordinate[axis] = rest % spatial[axis];
                rest /= spatial[axis];
            }
            int block = 0;
            for (int axis = 0; axis < spatial.Length; axis++) block = block * parts[axis] + coordinate[axis] * parts[axis] / spatial[axis];
            blockOf[e] = channel * perChannel + block;
            counts[blockOf[e]]++;
        }
        return (blockOf, counts.Select(c => c / Math.Max(1, elements)).ToArray());
    }
}
