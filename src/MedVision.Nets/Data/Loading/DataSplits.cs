using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// Seeded, stratified splits of a labelled dataset into index sets (use them with <see cref="SubsetSource"/>): a
/// hold-out validation part and k-fold cross-validation (stratified, plain or grouped by patient; run one with
/// <see cref="MedVision.Nets.Training.CrossValidation"/>). Stratified means every class keeps (up to rounding) its share
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

    /// <summary>
    /// Plain k-fold cross-validation of <paramref name="count"/> samples (for multi-label tasks, or when labels are
    /// unknown): the samples, shuffled, are dealt in turn to the folds, so that fold sizes differ by at most one. The
    /// same as <see cref="StratifiedKFold"/> with every sample in one class. Indices are sorted.
    /// </summary>
    /// <param name="count">Number of samples, at least <paramref name="folds"/>.</param>
    /// <param name="folds">Number of folds, at least 2.</param>
    /// <param name="seed">Seed of the shuffle.</param>
    public static IReadOnlyList<(int[] Train, int[] Validation)> KFold(int count, int folds, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return StratifiedKFold(new int[count], folds, seed);
    }

    /// <summary>
    /// Grouped k-fold cross-validation (scikit-learn's GroupKFold): all samples of a group — the images of one
    /// patient, the scans of one subject, the two eyes of one person — fall in the same fold, so that no group is
    /// trained on and validated on at once (which would overstate the validation metrics). The groups, shuffled, are
    /// taken largest first and each is given to the fold with the fewest samples so far (ties: the lowest fold), which
    /// keeps the fold sizes close. Every sample is validated exactly once. Indices are sorted.
    /// </summary>
    /// <param name="groups">Each sample's group (any strings compared ordinally, e.g. patient identifiers).</param>
    /// <param name="folds">Number of folds, at least 2 and at most the number of distinct groups.</param>
    /// <param name="seed">Seed of the shuffle of the groups (which decides between groups of the same size).</param>
    /// <exception cref="ArgumentException">A group is null, or there are fewer distinct groups than folds.</exception>
    public static IReadOnlyList<(int[] Train, int[] Validation)> GroupKFold(IReadOnlyList<string> groups, int folds, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        if (groups.Count == 0) throw new ArgumentException("At least one sample is needed.", nameof(groups));
        var members = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int i = 0; i < groups.Count; i++)
        {
            var g = groups[i] ?? throw new ArgumentException($"The group of sample {i} is null.", nameof(groups));
            if (!members.TryGetValue(g, out var list))
            {
                members[g] = list = new List<int>();
                order.Add(g);
            }
            list.Add(i);
        }
        if (order.Count < folds)
            throw new ArgumentOutOfRangeException(nameof(folds), folds, $"{folds} folds need at least {folds} distinct groups; there are {order.Count}.");
        var rng = new Random(TransformPipeline.SampleSeed(seed, order.Count, -4));
        for (int i = order.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var assigned = new List<int>[folds];
        for (int f = 0; f < folds; f++) assigned[f] = new List<int>();
        // OrderByDescending is stable: groups of the same size keep their shuffled order.
        foreach (var g in order.OrderByDescending(g => members[g].Count))
        {
            int lightest = 0;
            for (int f = 1; f < folds; f++) if (assigned[f].Count < assigned[lightest].Count) lightest = f;
            assigned[lightest].AddRange(members[g]);
        }
        return Enumerable.Range(0, folds)
            .Select(f => (Sorted(Enumerable.Range(0, folds).Where(h => h != f).SelectMany(h => assigned[h])), Sorted(assigned[f])))
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
