using MedVision.Nets.Data.Loading;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Quality;

/// <summary>
/// Finds images that are the same picture, or nearly — a photograph saved twice, re-encoded, or cut from the same
/// scan — by the mean absolute difference of their pixel values (images scaled to [0, 1], as sources load them). The
/// search is exact: every pair within the threshold is found, none is guessed, though pairs are not all compared —
/// images are sorted by mean intensity, and a pair whose means or block means (each channel cut into up to 4 × 4
/// blocks, or 4 × 4 × 4 for volumes) already differ by more than the threshold is skipped, since those differences
/// never exceed the pixels' own. Every image is held in memory while the search runs.
/// </summary>
/// <remarks>
/// Near-duplicates within a training split inflate nothing but the weight of a picture; between a training split and a
/// validation or test split they let a model be scored on what it has seen (data leakage), and a pair with different
/// labels is a labelling conflict. <see cref="SplitAudit"/> checks all of this for named splits at once; the groups of
/// <see cref="Groups"/> keep near-duplicates in one fold of a cross-validation.
/// </remarks>
/// <example>
/// <code>
/// var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
/// var pairs = NearDuplicates.Find(new MedMnistImageSource(data.Train));          // within the training split
/// var leaks = NearDuplicates.Find(new MedMnistImageSource(data.Test), new MedMnistImageSource(data.Train));
/// var nearest = NearDuplicates.Nearest(new MedMnistImageSource(data.Test), new MedMnistImageSource(data.Train));
/// </code>
/// </example>
public static class NearDuplicates
{
    /// <summary>
    /// The default threshold, 0.01: a mean absolute difference of 2.55 grey levels in 8-bit images. In RetinaMNIST the
    /// 26 pairs below it differ by 0.0007–0.0076, and the next closest pairs by 0.0158 and more.
    /// </summary>
    public const double DefaultMaxDifference = 0.01;

    /// <summary>The mean absolute difference of two images of one shape (values as loaded, [0, 1] for sources).</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static double Difference(FloatImage first, FloatImage second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (!first.Shape.SequenceEqual(second.Shape))
            throw new ArgumentException($"The images' shapes differ: ({string.Join(", ", first.Shape)}) and ({string.Join(", ", second.Shape)}).", nameof(second));
        return ImageIndex.Difference(first.Data, second.Data, double.PositiveInfinity);
    }

    /// <summary>
    /// Every pair of images of <paramref name="source"/> whose mean absolute difference is at most
    /// <paramref name="maxDifference"/> (exact duplicates included, at 0), sorted by <see cref="NearDuplicatePair.First"/>
    /// then <see cref="NearDuplicatePair.Second"/>, with First &lt; Second.
    /// </summary>
    /// <param name="source">The images (all of one shape).</param>
    /// <param name="maxDifference">The threshold, at least 0 (0: exact duplicates only).</param>
    /// <param name="cancellationToken">Stops the search.</param>
    /// <exception cref="ArgumentException">The images differ in shape, or hold values that are not finite.</exception>
    public static IReadOnlyList<NearDuplicatePair> Find(ILabeledImageSource source, double maxDifference = DefaultMaxDifference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckThreshold(maxDifference);
        var index = ImageIndex.Build(new[] { source }, new[] { "source" }, cancellationToken);
        return index.Pairs(maxDifference, (_, _) => true, cancellationToken)
            .Select(p => p.A.Index < p.B.Index ? new NearDuplicatePair(p.A.Index, p.B.Index, p.Difference) : new NearDuplicatePair(p.B.Index, p.A.Index, p.Difference))
            .OrderBy(p => p.First).ThenBy(p => p.Second).ToArray();
    }

    /// <summary>
    /// Every pair of an image of <paramref name="source"/> (<see cref="NearDuplicatePair.First"/>) and one of
    /// <paramref name="other"/> (<see cref="NearDuplicatePair.Second"/>) whose mean absolute difference is at most
    /// <paramref name="maxDifference"/>, sorted by First then Second: e.g. test images that are near-copies of
    /// training images.
    /// </summary>
    /// <exception cref="ArgumentException">The images differ in shape, or hold values that are not finite.</exception>
    public static IReadOnlyList<NearDuplicatePair> Find(ILabeledImageSource source, ILabeledImageSource other, double maxDifference = DefaultMaxDifference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(other);
        CheckThreshold(maxDifference);
        var index = ImageIndex.Build(new[] { source, other }, new[] { "source", "other" }, cancellationToken);
        return index.Pairs(maxDifference, (a, b) => a.Set != b.Set, cancellationToken)
            .Select(p => p.A.Set == 0 ? new NearDuplicatePair(p.A.Index, p.B.Index, p.Difference) : new NearDuplicatePair(p.B.Index, p.A.Index, p.Difference))
            .OrderBy(p => p.First).ThenBy(p => p.Second).ToArray();
    }

    /// <summary>
    /// For every image of <paramref name="source"/>, the nearest image of <paramref name="reference"/> by mean absolute
    /// difference (exact; ties: the lower index) — how close, say, each test image comes to the training split, whose
    /// distribution helps choose a threshold and shows whether a split is closer to the training data than another.
    /// </summary>
    /// <exception cref="ArgumentException">The reference is empty, the images differ in shape, or hold values that are not finite.</exception>
    public static IReadOnlyList<NearestImage> Nearest(ILabeledImageSource source, ILabeledImageSource reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.Count == 0) throw new ArgumentException("The reference has no images.", nameof(reference));
        var index = ImageIndex.Build(new[] { source, reference }, new[] { "source", "reference" }, cancellationToken);
        return index.Nearest(0, 1, cancellationToken).Select(n => new NearestImage(n.Index, n.Difference)).ToArray();
    }

    /// <summary>
    /// Each image's group of near-duplicates (connected: if a is near b and b near c, all three share one group even
    /// when a and c are further apart): "near-duplicates-K" for the K-th such group (K from 1, by first member), and
    /// "image-I" for an image with none. Give them to <c>CrossValidationBuilder.GroupBy</c> or
    /// <see cref="DataSplits.StratifiedGroupKFold"/> so that no near-duplicate is trained on by the model that
    /// validates its copy.
    /// </summary>
    /// <exception cref="ArgumentException">The images differ in shape, or hold values that are not finite.</exception>
    public static string[] Groups(ILabeledImageSource source, double maxDifference = DefaultMaxDifference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var pairs = Find(source, maxDifference, cancellationToken);
        var roots = Components(source.Count, pairs.Select(p => (p.First, p.Second)));
        var names = new Dictionary<int, string>();
        var sizes = roots.GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        return Enumerable.Range(0, source.Count).Select(i =>
        {
            if (sizes[roots[i]] == 1) return $"image-{i}";
            if (!names.TryGetValue(roots[i], out var name)) names[roots[i]] = name = $"near-duplicates-{names.Count + 1}";
            return name;
        }).ToArray();
    }

    // Union–find: each node's component, named by its lowest member.
    internal static int[] Components(int count, IEnumerable<(int A, int B)> edges)
    {
        var parent = Enumerable.Range(0, count).ToArray();
        int Find(int x)
        {
            while (parent[x] != x) x = parent[x] = parent[parent[x]];
            return x;
        }
        foreach (var (a, b) in edges)
        {
            int ra = Find(a), rb = Find(b);
            if (ra != rb) parent[Math.Max(ra, rb)] = Math.Min(ra, rb);
        }
        return Enumerable.Range(0, count).Select(Find).ToArray();
    }

    internal static void CheckThreshold(double maxDifference)
    {
        if (!(maxDifference >= 0) || double.IsInfinity(maxDifference))
            throw new ArgumentOutOfRangeException(nameof(maxDifference), maxDifference, "The largest mean absolute difference of a near-duplicate must be finite and at least 0.");
    }
}

/// <summary>Two images whose mean absolute difference is at most the search's threshold.</summary>
/// <param name="First">The index of one image (in the first source, or the lower index within one source).</param>
/// <param name="Second">The index of the other (in the second source, or the higher index within one source).</param>
/// <param name="Difference">Their mean absolute difference (0 for exact duplicates).</param>
public readonly record struct NearDuplicatePair(int First, int Second, double Difference);

/// <summary>The image of a reference nearest to a query image.</summary>
/// <param name="Index">Its index in the reference.</param>
/// <param name="Difference">The mean absolute difference of the two.</param>
public readonly record struct NearestImage(int Index, double Difference);
