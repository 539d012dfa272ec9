// The "crossval" mode: DataSplits' k-fold splits and CrossValidation's configuration (folds, stratification, groups,
// given splits), now and then run end to end with a tiny classifier.
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Metrics;
using MedVision.Nets.Training;
using MedVision.Torch;

internal static partial class ApiFuzz
{
    /// <summary>
    /// A source of 1–40 samples with random classes, split by a random choice of plain, stratified, grouped or
    /// stratified grouped k-fold (random fold counts, now and then out of range) or by given splits (valid ones, now
    /// and then damaged: a sample validated twice or never, trained on by its own fold, out of range, an empty side).
    /// Oracles: computed folds validate every sample exactly once, each fold's training set is the complement of its
    /// validation set, plain and stratified fold sizes differ by at most one (stratified: every class's count too),
    /// grouped folds hold whole groups; given splits are accepted exactly when an independent check finds them valid,
    /// and returned unchanged. Grouped cases also take a grouped hold-out half the time (see GroupHoldoutStep).
    /// One case in six runs the cross-validation for one epoch: one fold per split, the out-of-fold labels those of
    /// the source, each sample predicted by the fold that validates it, metrics in [0, 1] or NaN, files written.
    /// </summary>
    public static void CrossValidationStep(Random rng)
    {
        var steps = new List<string>();
        int n = rng.Next(1, 41);
        var source = new MemorySource(n, rng);
        var labels = Enumerable.Range(0, n).Select(i => source.Load(i).Labels[0]).ToArray();
        int folds = rng.Next(8) == 0 ? (int)Value(typeof(int), rng, typeof(int))! : rng.Next(2, Math.Max(3, Math.Min(n, 8) + 2));
        steps.Add($"{n} samples, {folds} folds");
        Last = "CrossValidation.Create";
        var builder = CrossValidation.Create(source, MedMnistTask.MultiClass);
        int kind = rng.Next(5);
        string[]? groups = null;
        (int[] Train, int[] Validation)[]? given = null;
        bool givenValid = true;
        if (kind == 3)
        {
            (given, givenValid) = RandomSplits(rng, n, folds, steps);
            Last = "WithSplits";
            try
            {
                builder.WithSplits(given);
            }
            catch (ArgumentException) when (!givenValid)
            {
                return; // refused, as the independent check says
            }
            if (!givenValid) throw new ArithmeticException($"{string.Join(" → ", steps)}: accepted invalid splits");
        }
        else
        {
            Last = "WithFolds";
            builder.WithFolds(folds);
            if (folds < 2 || folds > n) throw new ArithmeticException($"{string.Join(" → ", steps)}: accepted {folds} folds of {n} samples");
            if (kind == 1)
            {
                Last = "StratifyBy";
                builder.StratifyBy(labels);
            }
            else if (kind is 2 or 4)
            {
                int distinct = rng.Next(1, n + 1);
                groups = Enumerable.Range(0, n).Select(_ => $"p{rng.Next(distinct)}").ToArray();
                steps.Add($"{groups.Distinct().Count()} groups{(kind == 4 ? ", stratified" : "")}");
                if (kind == 4)
                {
                    Last = "StratifyBy";
                    builder.StratifyBy(labels);
                }
                Last = "GroupBy";
                builder.GroupBy(groups);
            }
        }
        Last = "Folds";
        var splits = builder.Folds();
        if (groups is not null && groups.Distinct().Count() < folds) throw new ArithmeticException($"{string.Join(" → ", steps)}: grouped {folds} folds from fewer groups");
        CheckFolds(splits, n, steps);
        if (given is not null)
        {
            for (int f = 0; f < given.Length; f++)
                if (!splits[f].Train.SequenceEqual(given[f].Train) || !splits[f].Validation.SequenceEqual(given[f].Validation))
                    throw new ArithmeticException($"{string.Join(" → ", steps)}: fold {f + 1} differs from the given split");
        }
        else
        {
            var sizes = splits.Select(s => s.Validation.Length).ToArray();
            if (groups is null && sizes.Max() - sizes.Min() > 1) throw new ArithmeticException($"{string.Join(" → ", steps)}: fold sizes {string.Join(", ", sizes)}");
            if (kind == 1)
                foreach (var c in labels.Distinct())
                {
                    var perFold = splits.Select(s => s.Validation.Count(i => labels[i] == c)).ToArray();
                    if (perFold.Max() - perFold.Min() > 1) throw new ArithmeticException($"{string.Join(" → ", steps)}: class {c} spread {string.Join(", ", perFold)} over the folds");
                }
            if (groups is not null)
                foreach (var (train, validation) in splits)
                    if (validation.Select(i => groups[i]).Intersect(train.Select(i => groups[i])).Any())
                        throw new ArithmeticException($"{string.Join(" → ", steps)}: a group on both sides of a fold");
        }

        if (groups is not null && rng.Next(2) == 0) GroupHoldoutStep(rng, labels, groups, steps);
        if (rng.Next(6) != 0) return;
        var folder = Directory.CreateTempSubdirectory("mvfuzz-cv-").FullName;
        try
        {
            Last = "Run";
            var result = builder
                .TrainWith(new DataLoaderOptions { BatchSize = rng.Next(1, 9), Shuffle = true, Seed = rng.Next(100) })
                .EvaluateWith(new DataLoaderOptions { BatchSize = rng.Next(1, 9) })
                .SaveTo(folder)
                .Run(split => Trainer.Create(new ClassificationTask(new MedVision.Torch.Nn.Sequential(new MedVision.Torch.Nn.Flatten(), new MedVision.Torch.Nn.Linear(16, 3)), MedMnistTask.MultiClass))
                    .UseAdam(1e-2).ForEpochs(1).WithSeed(split.Index));
            var (oofLabels, oofScores, oofFolds) = result.GetOutOfFoldPredictions();
            if (result.Folds.Count != splits.Count) throw new ArithmeticException($"{string.Join(" → ", steps)}: {result.Folds.Count} folds run of {splits.Count}");
            for (int f = 0; f < splits.Count; f++)
                foreach (var i in splits[f].Validation)
                {
                    if (oofFolds[i] != f) throw new ArithmeticException($"{string.Join(" → ", steps)}: sample {i} predicted by fold {oofFolds[i] + 1}, validated by fold {f + 1}");
                    if (oofLabels[i, 0] != labels[i]) throw new ArithmeticException($"{string.Join(" → ", steps)}: sample {i}'s out-of-fold label {oofLabels[i, 0]}, its label {labels[i]}");
                    double sum = 0;
                    for (int k = 0; k < 3; k++) sum += oofScores[i, k];
                    if (Math.Abs(sum - 1) > 1e-4) throw new ArithmeticException($"{string.Join(" → ", steps)}: sample {i}'s probabilities add up to {sum}");
                }
            foreach (var m in new[] { result.OutOfFold.Auc, result.OutOfFold.Acc, result.ValidationAuc.Mean, result.ValidationAcc.Mean })
                if (!(double.IsNaN(m) || m is >= 0 and <= 1)) throw new ArithmeticException($"{string.Join(" → ", steps)}: a metric of {m}");
            foreach (var file in new[] { CrossValidationBuilder.FoldsFileName, CrossValidationBuilder.ResultFileName, CrossValidationBuilder.OutOfFoldFileName })
                if (!File.Exists(Path.Combine(folder, file))) throw new ArithmeticException($"{string.Join(" → ", steps)}: {file} not written");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // A grouped hold-out (stratified or not) at a random fraction, now and then out of range. Oracle: refused exactly
    // when the fraction is outside (0, 1) or there are fewer than two groups; otherwise a partition, sorted, both sides
    // non-empty, no group on both sides, and the same split again for the same seed.
    private static void GroupHoldoutStep(Random rng, int[] labels, string[] groups, List<string> steps)
    {
        double fraction = rng.Next(8) == 0 ? new[] { 0, 1, -0.5, 1.5, double.NaN }[rng.Next(5)] : rng.NextDouble();
        bool stratified = rng.Next(2) == 0;
        int holdoutSeed = rng.Next(100);
        steps.Add(string.Create(CultureInfo.InvariantCulture, $"{(stratified ? "stratified " : "")}group hold-out of {fraction:G4}"));
        bool valid = fraction > 0 && fraction < 1 && groups.Distinct().Count() >= 2;
        (int[] Train, int[] Validation) Split() => stratified ? DataSplits.StratifiedGroupHoldout(labels, groups, fraction, holdoutSeed) : DataSplits.GroupHoldout(groups, fraction, holdoutSeed);
        (int[] Train, int[] Validation) split;
        Last = stratified ? "StratifiedGroupHoldout" : "GroupHoldout";
        try
        {
            split = Split();
        }
        catch (ArgumentException e) when (valid)
        {
            throw new ArithmeticException($"{string.Join(" → ", steps)}: refused a valid hold-out: {e.Message}");
        }
        // (A refusal of a bad fraction or too few groups propagates: the harness counts it as accepted.)
        if (!valid) throw new ArithmeticException($"{string.Join(" → ", steps)}: accepted");
        if (split.Train.Length == 0 || split.Validation.Length == 0) throw new ArithmeticException($"{string.Join(" → ", steps)}: an empty side");
        if (!split.Train.Concat(split.Validation).Order().SequenceEqual(Enumerable.Range(0, labels.Length))) throw new ArithmeticException($"{string.Join(" → ", steps)}: the sides are not a partition");
        if (!split.Train.SequenceEqual(split.Train.Order()) || !split.Validation.SequenceEqual(split.Validation.Order())) throw new ArithmeticException($"{string.Join(" → ", steps)}: unsorted");
        if (split.Validation.Select(i => groups[i]).Intersect(split.Train.Select(i => groups[i])).Any()) throw new ArithmeticException($"{string.Join(" → ", steps)}: a group on both sides");
        if (!Split().Validation.SequenceEqual(split.Validation)) throw new ArithmeticException($"{string.Join(" → ", steps)}: another split for the same seed");
    }

    // Every sample validated by exactly one fold; each fold's training set the complement of its validation set, sorted.
    private static void CheckFolds(IReadOnlyList<(int[] Train, int[] Validation)> splits, int n, List<string> steps)
    {
        var seen = new int[n];
        foreach (var (train, validation) in splits)
        {
            if (validation.Length == 0 || train.Length == 0) throw new ArithmeticException($"{string.Join(" → ", steps)}: an empty side of a fold");
            foreach (var i in validation) seen[i]++;
            if (!train.Concat(validation).OrderBy(i => i).SequenceEqual(Enumerable.Range(0, n))) throw new ArithmeticException($"{string.Join(" → ", steps)}: a fold's sides are not a partition");
        }
        if (seen.Any(c => c != 1)) throw new ArithmeticException($"{string.Join(" → ", steps)}: a sample validated {seen.First(c => c != 1)} times");
    }

    // Valid splits (a random assignment of samples to folds), damaged now and then; with whether they are still valid.
    private static ((int[] Train, int[] Validation)[] Splits, bool Valid) RandomSplits(Random rng, int n, int folds, List<string> steps)
    {
        int k = Math.Clamp(folds, 1, Math.Max(1, n));
        var fold = Enumerable.Range(0, n).Select(i => i < k ? i : rng.Next(k)).ToArray();
        var validation = Enumerable.Range(0, k).Select(f => Enumerable.Range(0, n).Where(i => fold[i] == f).ToList()).ToArray();
        var train = Enumerable.Range(0, k).Select(f => Enumerable.Range(0, n).Where(i => fold[i] != f).ToList()).ToArray();
        int damage = rng.Next(3) == 0 ? rng.Next(1, 6) : 0;
        int a = rng.Next(k), b = rng.Next(k), s = rng.Next(n);
        switch (damage)
        {
            case 1: validation[a].Add(s); break;                                // validated twice (or by its own fold twice)
            case 2: validation[fold[s]].Remove(s); break;                       // validated by no fold
            case 3: train[fold[s]].Add(s); break;                               // trained on by its own fold
            case 4: validation[a].Add(rng.Next(2) == 0 ? -1 : n + rng.Next(3)); break; // outside the source
            case 5: (rng.Next(2) == 0 ? train : validation)[b].Clear(); break;  // an empty side
        }
        steps.Add($"given splits of {k} folds{(damage > 0 ? $", damage {damage}" : "")}");
        var splits = Enumerable.Range(0, k).Select(f => (train[f].ToArray(), validation[f].ToArray())).ToArray();
        return (splits, IsValid(splits, n));
    }

    // The independent check of given splits: at least 2 folds, no empty side, indices inside, sides disjoint, every sample validated once.
    private static bool IsValid((int[] Train, int[] Validation)[] splits, int n)
    {
        if (splits.Length < 2) return false;
        var count = new int[n];
        foreach (var (train, validation) in splits)
        {
            if (train.Length == 0 || validation.Length == 0) return false;
            if (train.Concat(validation).Any(i => i < 0 || i >= n)) return false;
            if (train.Intersect(validation).Any()) return false;
            foreach (var i in validation) count[i]++;
        }
        return count.All(c => c == 1);
    }
}
