using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// Seeded, stratified splits of a labelled dataset into index sets (use them with <see cref="SubsetSource"/>): a
/// hold-out validation part (stratified, grouped by patient, or both) and k-fold cross-validation (stratified, plain,
/// grouped by patient, or stratified and grouped; run one with
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

    /// <summary>
    /// Stratified grouped k-fold cross-validation (scikit-learn's StratifiedGroupKFold): every group — a patient's
    /// images, a subject's scans, a cluster of near-duplicate images — falls whole in one fold, and among such splits
    /// the class shares of the folds are kept as close as the groups allow. The groups, shuffled, are taken in order of
    /// decreasing spread of their class counts, and each is given to the fold that then minimises the mean over classes
    /// of the standard deviation, across folds, of the fold's share of the class (ties, as numpy's <c>isclose</c>
    /// judges them: the fold with fewer samples; then the lowest fold). Every sample is validated exactly once.
    /// Indices are sorted.
    /// </summary>
    /// <remarks>
    /// With the groups in ordinal order instead of shuffled, the folds are exactly scikit-learn's with
    /// <c>shuffle=False</c>. (scikit-learn 1.2 and earlier, asked to shuffle, shuffle the groups' class counts apart
    /// from the groups; here the groups themselves are shuffled.)
    /// </remarks>
    /// <param name="labels">Each sample's class (non-negative).</param>
    /// <param name="groups">Each sample's group (any strings compared ordinally), one per label.</param>
    /// <param name="folds">Number of folds, at least 2 and at most the number of distinct groups.</param>
    /// <param name="seed">Seed of the shuffle of the groups (which decides between groups of the same spread).</param>
    /// <exception cref="ArgumentException">Labels and groups differ in number, a label is negative, a group is null, or there are fewer distinct groups than folds.</exception>
    public static IReadOnlyList<(int[] Train, int[] Validation)> StratifiedGroupKFold(IReadOnlyList<int> labels, IReadOnlyList<string> groups, int folds, int seed = 0)
        => StratifiedGroupFolds(labels, groups, folds, seed, shuffle: true);

    // shuffle: false keeps the groups in ordinal order (scikit-learn's shuffle=False), for the reference test.
    internal static IReadOnlyList<(int[] Train, int[] Validation)> StratifiedGroupFolds(IReadOnlyList<int> labels, IReadOnlyList<string> groups, int folds, int seed, bool shuffle)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        var table = GroupClassTable.Create(labels, groups, seed, shuffle);
        if (table.Groups.Length < folds)
            throw new ArgumentOutOfRangeException(nameof(folds), folds, $"{folds} folds need at least {folds} distinct groups; there are {table.Groups.Length}.");
        int classes = table.ClassTotals.Length;
        var foldCounts = new double[folds, classes];
        var assigned = new List<int>[folds];
        for (int f = 0; f < folds; f++) assigned[f] = new List<int>();
        foreach (int g in table.BySpread())
        {
            var counts = table.Counts[g];
            int best = -1;
            double bestEval = double.PositiveInfinity, bestSize = double.PositiveInfinity;
            for (int f = 0; f < folds; f++)
            {
                for (int c = 0; c < classes; c++) foldCounts[f, c] += counts[c];
                double eval = 0;
                for (int c = 0; c < classes; c++)
                {
                    double mean = 0, squares = 0;
                    for (int h = 0; h < folds; h++) mean += foldCounts[h, c] / table.ClassTotals[c];
                    mean /= folds;
                    for (int h = 0; h < folds; h++)
                    {
                        double d = foldCounts[h, c] / table.ClassTotals[c] - mean;
                        squares += d * d;
                    }
                    eval += Math.Sqrt(squares / folds);
                }
                eval /= classes;
                for (int c = 0; c < classes; c++) foldCounts[f, c] -= counts[c];
                double size = 0;
                for (int c = 0; c < classes; c++) size += foldCounts[f, c];
                if (eval < bestEval || (IsClose(eval, bestEval) && size < bestSize))
                {
                    (best, bestEval, bestSize) = (f, eval, size);
                }
            }
            for (int c = 0; c < classes; c++) foldCounts[best, c] += counts[c];
            assigned[best].AddRange(table.Members[g]);
        }
        return Enumerable.Range(0, folds)
            .Select(f => (Sorted(Enumerable.Range(0, folds).Where(h => h != f).SelectMany(h => assigned[h])), Sorted(assigned[f])))
            .ToArray();
    }

    /// <summary>
    /// Each name's group read from the name itself: the first capture group of <paramref name="pattern"/> where it has
    /// one, else the whole match — e.g. <c>(sub-[0-9]+)_</c> gives "sub-07" for "sub-07_ses-2_flair.nii.gz", and
    /// <c>^[^_]+</c> gives "P0012" for "P0012_slice041.png" — for <see cref="GroupKFold"/>, <see cref="GroupHoldout"/> or a
    /// cross-validation's <c>GroupBy</c>, so that the images of one patient stay on one side.
    /// </summary>
    /// <param name="names">The samples' names or paths (matched as given, e.g. relative paths with '/').</param>
    /// <param name="pattern">A .NET regular expression (culture-invariant).</param>
    /// <exception cref="ArgumentException">The pattern is not a valid regular expression, does not match a name, or matches an empty group (naming it).</exception>
    public static string[] GroupsFromPattern(IReadOnlyList<string> names, string pattern)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        System.Text.RegularExpressions.Regex regex;
        try
        {
            regex = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The group pattern {pattern} is not a valid regular expression: {e.Message}", nameof(pattern), e);
        }
        var groups = new string[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            var name = names[i] ?? throw new ArgumentException($"Name {i} of {names.Count} is null.", nameof(names));
            var match = regex.Match(name);
            if (!match.Success)
                throw new ArgumentException($"The group pattern {pattern} does not match {name}: every name must contain its group (the patient).", nameof(names));
            groups[i] = match.Groups.Count > 1 && match.Groups[1].Success ? match.Groups[1].Value : match.Value;
            if (groups[i].Length == 0) throw new ArgumentException($"The group pattern {pattern} finds an empty group in {name}.", nameof(names));
        }
        return groups;
    }

    /// <summary>
    /// Splits the samples into training and validation indices by group — a patient's images all on one side — with
    /// about <paramref name="validationFraction"/> of the samples in validation (scikit-learn's GroupShuffleSplit,
    /// but by samples rather than by number of groups). The same as <see cref="StratifiedGroupHoldout"/> with every
    /// sample in one class. Indices are sorted.
    /// </summary>
    /// <param name="groups">Each sample's group (any strings compared ordinally).</param>
    /// <param name="validationFraction">The validation share of the samples, in (0, 1); groups make it approximate.</param>
    /// <param name="seed">Seed of the shuffle of the groups.</param>
    /// <exception cref="ArgumentException">A group is null, or there are fewer than two groups.</exception>
    public static (int[] Train, int[] Validation) GroupHoldout(IReadOnlyList<string> groups, double validationFraction, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(groups);
        return StratifiedGroupHoldout(new int[groups.Count], groups, validationFraction, seed);
    }

    /// <summary>
    /// Splits the samples into training and validation indices by group — a patient's images all on one side — with
    /// about <paramref name="validationFraction"/> of every class in validation as far as the groups allow. The groups,
    /// shuffled, are taken largest first, and each goes to the side that keeps every class's count on both sides
    /// closest to its share of what has been assigned so far (the sum over sides and classes of the squared
    /// difference, relative to the class's size; ties, as numpy's <c>isclose</c> judges them: the side further below
    /// its target size). Should one side end empty (two groups, say), the smallest group of the other moves to it.
    /// Indices are sorted.
    /// </summary>
    /// <param name="labels">Each sample's class (non-negative).</param>
    /// <param name="groups">Each sample's group (any strings compared ordinally), one per label.</param>
    /// <param name="validationFraction">The validation share, in (0, 1); groups make it approximate.</param>
    /// <param name="seed">Seed of the shuffle of the groups (which decides between groups of the same size).</param>
    /// <exception cref="ArgumentException">Labels and groups differ in number, a label is negative, a group is null, or there are fewer than two groups.</exception>
    public static (int[] Train, int[] Validation) StratifiedGroupHoldout(IReadOnlyList<int> labels, IReadOnlyList<string> groups, double validationFraction, int seed = 0)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must lie strictly between 0 and 1.");
        var table = GroupClassTable.Create(labels, groups, seed, shuffle: true);
        if (table.Groups.Length < 2)
            throw new ArgumentException($"A grouped hold-out needs at least two distinct groups; there is {table.Groups.Length}.", nameof(groups));
        int classes = table.ClassTotals.Length;
        double[] share = { 1 - validationFraction, validationFraction };
        var sideCounts = new double[2, classes];
        var assignedCounts = new double[classes];
        var sideOf = new int[table.Groups.Length];
        var sizes = new int[2];
        double total = table.ClassTotals.Sum();
        // Largest first; OrderByDescending is stable, so groups of one size keep their shuffled order.
        foreach (int g in Enumerable.Range(0, table.Groups.Length).OrderByDescending(g => table.Members[g].Count))
        {
            var counts = table.Counts[g];
            int best = -1;
            double bestEval = double.PositiveInfinity, bestRoom = double.NegativeInfinity;
            for (int side = 0; side < 2; side++)
            {
                double eval = 0;
                for (int s = 0; s < 2; s++)
                    for (int c = 0; c < classes; c++)
                    {
                        double d = (sideCounts[s, c] + (s == side ? counts[c] : 0) - share[s] * (assignedCounts[c] + counts[c])) / table.ClassTotals[c];
                        eval += d * d;
                    }
                // Room: how far the side is below its target size before taking the group.
                double room = share[side] * total - sizes[side];
                bool close = IsClose(eval, bestEval);
                if ((!close && eval < bestEval) || (close && room > bestRoom))
                    (best, bestEval, bestRoom) = (side, eval, room);
            }
            for (int c = 0; c < classes; c++)
            {
                sideCounts[best, c] += counts[c];
                assignedCounts[c] += counts[c];
            }
            sideOf[g] = best;
            sizes[best] += table.Members[g].Count;
        }
        for (int empty = 0; empty < 2; empty++)
        {
            if (sizes[empty] > 0) continue;
            // The smallest group of the other side (the first in the table among equals) moves over.
            int smallest = Enumerable.Range(0, table.Groups.Length).OrderBy(g => table.Members[g].Count).First();
            sideOf[smallest] = empty;
            sizes[empty] += table.Members[smallest].Count;
            sizes[1 - empty] -= table.Members[smallest].Count;
        }
        int[] Side(int side) => Sorted(Enumerable.Range(0, table.Groups.Length).Where(g => sideOf[g] == side).SelectMany(g => table.Members[g]));
        return (Side(0), Side(1));
    }

    // numpy's isclose with its default tolerances (rtol 1e-5, atol 1e-8), as scikit-learn compares fold evaluations.
    private static bool IsClose(double a, double b) => !double.IsInfinity(b) && Math.Abs(a - b) <= 1e-8 + 1e-5 * Math.Abs(b);

    // Each group's class counts: groups in ordinal order (or shuffled), classes the distinct labels in ascending order.
    private sealed class GroupClassTable
    {
        public required string[] Groups { get; init; }
        public required List<int>[] Members { get; init; }
        public required double[][] Counts { get; init; }
        public required double[] ClassTotals { get; init; }

        public static GroupClassTable Create(IReadOnlyList<int> labels, IReadOnlyList<string> groups, int seed, bool shuffle)
        {
            ArgumentNullException.ThrowIfNull(labels);
            ArgumentNullException.ThrowIfNull(groups);
            if (labels.Count != groups.Count)
                throw new ArgumentException($"There are {labels.Count} labels but {groups.Count} groups: give one of each per sample.", nameof(groups));
            if (labels.Count == 0) throw new ArgumentException("At least one sample is needed.", nameof(labels));
            var members = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (int i = 0; i < groups.Count; i++)
            {
                if (labels[i] < 0) throw new ArgumentException($"Label {labels[i]} of sample {i} is negative.", nameof(labels));
                var g = groups[i] ?? throw new ArgumentException($"The group of sample {i} is null.", nameof(groups));
                if (!members.TryGetValue(g, out var list)) members[g] = list = new List<int>();
                list.Add(i);
            }
            var names = members.Keys.ToArray();
            Array.Sort(names, StringComparer.Ordinal);
            if (shuffle)
            {
                var rng = new Random(TransformPipeline.SampleSeed(seed, names.Length, -5));
                for (int i = names.Length - 1; i > 0; i--)
                {
                    int j = rng.Next(i + 1);
                    (names[i], names[j]) = (names[j], names[i]);
                }
            }
            var classes = labels.Distinct().Order().ToArray();
            var classIndex = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
            var counts = names.Select(n =>
            {
                var row = new double[classes.Length];
                foreach (var i in members[n]) row[classIndex[labels[i]]]++;
                return row;
            }).ToArray();
            var totals = new double[classes.Length];
            foreach (var l in labels) totals[classIndex[l]]++;
            return new GroupClassTable { Groups = names, Members = names.Select(n => members[n]).ToArray(), Counts = counts, ClassTotals = totals };
        }

        // Group positions by decreasing population standard deviation of their class counts; stable.
        public IEnumerable<int> BySpread()
        {
            var spread = Counts.Select(row =>
            {
                double mean = row.Average();
                return Math.Sqrt(row.Sum(x => (x - mean) * (x - mean)) / row.Length);
            }).ToArray();
            return Enumerable.Range(0, Groups.Length).OrderByDescending(g => spread[g]);
        }
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
