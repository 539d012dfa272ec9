using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// Seeded, stratified splits of a labelled dataset into index sets (use them with <see cref="SubsetSource"/>): a
/// hold-out validation part and k-fold cross-validation. Stratified means every class keeps (up to rounding) its share
/// in every part, which matters for the small, imbalanced datasets of medical imaging.
/// </summary>
public static class DataSplits
{
    /// <summary>
    /// Splits the samples into training and validation indices, each class contributing
    /// round(<paramref name="validationFraction"/> × its count) samples to validation. Indices are sorted.
    /// </summary>
    /// <param name="labels">Each sample's class (non-negative).</param>
    /// <param name="validationFraction">The validation share, in (0, 1).</param>
    /// <param name="seed">Seed of the shuffle within each class.</param>
    public static (int[] Train, int[] Validation) StratifiedHoldout(IReadOnlyList<int> labels, double validationFraction, int seed = 0)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must lie strictly between 0 and 1.");
        var train = new List<int>();
        var validation = new List<int>();
        foreach (var members in ShuffledClasses(labels, seed))
        {
            int take = (int)Math.Round(validationFraction * members.Length, MidpointRounding.AwayFromZero);
            validation.AddRange(members.Take(take));
            train.AddRange(members.Skip(take));
        }
        if (train.Count == 0 || validation.Count == 0)
            throw new ArgumentException($"A validation fraction of {validationFraction} leaves {(train.Count == 0 ? "no training" : "no validation")} sample among {labels.Count}.", nameof(validationFraction));
        return (Sorted(train), Sorted(validation));
    }

    /// <summary>
    /// Stratified k-fold cross-validation: each class's samples, shuffled, are dealt in turn to the folds (continuing
    /// where the previous class stopped, so that fold sizes differ by at most one); fold f validates on its samples
    /// and trains on all others. Every sample is validated exactly once. Indices are sorted.
    /// </summary>
    /// <param name="labels">Each sample's class (non-negative).</param>
    /// <param name="folds">Number of folds, at least 2 and at most the number of samples.</param>
    /// <param name="seed">Seed of the shuffle within each class.</param>
    public static IReadOnlyList<(int[] Train, int[] Validation)> StratifiedKFold(IReadOnlyList<int> labels, int folds, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        if (folds > labels.Count) throw new ArgumentOutOfRangeException(nameof(folds), folds, $"{folds} folds need at least {folds} samples; there are {labels.Count}.");
        var assigned = new List<int>[folds];
        for (int f = 0; f < folds; f++) assigned[f] = new List<int>();
        int next = 0;
        foreach (var members in ShuffledClasses(labels, seed))
            foreach (var index in members)
            {
                assigned[next].Add(index);
                next = (next + 1) % folds;
            }
        return Enumerable.Range(0, folds)
            .Select(f => (Sorted(Enumerable.Range(0, folds).Where(g => g != f).SelectMany(g => assigned[g])), Sorted(assigned[f])))
            .ToArray();
    }

    // The indices of each class (in class order), shuffled with one generator per (seed, class).
    private static IEnumerable<int[]> ShuffledClasses(IReadOnlyList<int> labels, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0) throw new ArgumentException("At least one label is needed.", nameof(labels));
        for (int i = 0; i < labels.Count; i++)
            if (labels[i] < 0) throw new ArgumentException($"Label {labels[i]} of sample {i} is negative.", nameof(labels));
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            var members = group.ToArray();
            // A process-independent seed per (seed, class) and an explicit Fisher–Yates, as DataLoader shuffles.
            var rng = new Random(TransformPipeline.SampleSeed(seed, group.Key, -3));
            for (int i = members.Length - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (members[i], members[j]) = (members[j], members[i]);
            }
            yield return members;
        }
    }

    private static int[] Sorted(IEnumerable<int> indices)
    {
        var array = indices.ToArray();
        Array.Sort(array);
        return array;
    }
}
