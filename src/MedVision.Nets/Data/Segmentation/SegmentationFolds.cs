namespace MedVision.Nets.Data.Segmentation;

/// <summary>Some samples of another source, by index (a split or a fold).</summary>
public sealed class SegmentationSubset : ISegmentationSource
{
    private readonly ISegmentationSource _source;
    private readonly int[] _indices;

    /// <summary>The samples of <paramref name="source"/> at <paramref name="indices"/>, in that order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the source.</exception>
    public SegmentationSubset(ISegmentationSource source, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(indices);
        foreach (var i in indices)
            if ((uint)i >= (uint)source.Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"The source holds {source.Count} samples.");
        _source = source;
        _indices = indices.ToArray();
    }

    /// <summary>The indices in the underlying source.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <inheritdoc />
    public int Count => _indices.Length;

    /// <inheritdoc />
    public SegmentationSample Load(int index)
    {
        if ((uint)index >= (uint)_indices.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"The subset holds {_indices.Length} samples.");
        return _source.Load(_indices[index]);
    }
}

/// <summary>One fold of a segmentation cross-validation: the samples it trains on and the ones it validates on.</summary>
public sealed class SegmentationFold
{
    internal SegmentationFold(int index, int count, int[] train, int[] validation, ISegmentationSource source)
    {
        Index = index;
        FoldCount = count;
        Train = new SegmentationSubset(source, train);
        Validation = new SegmentationSubset(source, validation);
    }

    /// <summary>The fold's index, from 0 (nnU-Net and the sample name its folder <c>fold-{Index + 1}</c>).</summary>
    public int Index { get; }

    /// <summary>The number of folds.</summary>
    public int FoldCount { get; }

    /// <summary>The training samples (source indices in <see cref="SegmentationSubset.Indices"/>, sorted).</summary>
    public SegmentationSubset Train { get; }

    /// <summary>The validation samples: every sample validates in exactly one fold (source indices sorted).</summary>
    public SegmentationSubset Validation { get; }

    /// <inheritdoc />
    public override string ToString() => $"fold {Index + 1} of {FoldCount}: {Train.Count} training, {Validation.Count} validation samples";
}

/// <summary>
/// k-fold splits of a segmentation source, as nnU-Net cross-validates (five folds; each fold's model validated on the
/// samples it did not see, and the folds' models ensembled for prediction, see
/// <see cref="Inference.SegmentationPredictor.LoadEnsemble"/>): a seeded shuffle cut into k parts whose sizes differ by
/// at most one; with groups (a patient's scans), whole groups go to one fold.
/// </summary>
public static class SegmentationFolds
{
    /// <summary>Splits <paramref name="source"/> into <paramref name="folds"/> folds.</summary>
    /// <param name="source">The samples.</param>
    /// <param name="folds">At least 2, at most the number of samples (or groups).</param>
    /// <param name="seed">The seed of the shuffle.</param>
    /// <param name="groups">Optionally one key per sample (e.g. the patient): samples of one key stay in one fold, so that no patient is in a fold's training and validation samples at once.</param>
    /// <exception cref="ArgumentException">Too few samples or groups for the folds, or a group key per sample missing.</exception>
    public static IReadOnlyList<SegmentationFold> Split(ISegmentationSource source, int folds, int seed = 0, IReadOnlyList<string>? groups = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "A cross-validation needs at least two folds.");
        if (groups is not null && groups.Count != source.Count) throw new ArgumentException($"Give one group key per sample: {groups.Count} keys for {source.Count} samples.", nameof(groups));
        if (groups is not null && groups.Any(g => g is null)) throw new ArgumentException("A group key is null.", nameof(groups));
        // The units shuffled and dealt out: samples, or groups of them (in order of first appearance, then shuffled).
        var units = groups is null
            ? Enumerable.Range(0, source.Count).Select(i => new[] { i }).ToArray()
            : Enumerable.Range(0, source.Count).GroupBy(i => groups[i], StringComparer.Ordinal).Select(g => g.ToArray()).ToArray();
        if (units.Length < folds)
            throw new ArgumentException($"{folds} folds need at least {folds} {(groups is null ? "samples" : "groups")}; the source has {units.Length}.", nameof(folds));
        new Random(seed).Shuffle(units);
        var result = new SegmentationFold[folds];
        int start = 0;
        for (int f = 0; f < folds; f++)
        {
            int size = (units.Length / folds) + (f < units.Length % folds ? 1 : 0);
            var validation = units[start..(start + size)].SelectMany(u => u).Order().ToArray();
            var train = units[..start].Concat(units[(start + size)..]).SelectMany(u => u).Order().ToArray();
            result[f] = new SegmentationFold(f, folds, train, validation, source);
            start += size;
        }
        return result;
    }
}
