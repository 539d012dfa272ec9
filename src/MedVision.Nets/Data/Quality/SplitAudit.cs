using System.Globalization;
using System.Text;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Metrics;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Data.Quality;

/// <summary>
/// Checks that a dataset's splits are what they claim to be: no image of one split is a near-copy of an image of
/// another (leakage that scores a model on what it trained on), no group — a patient — has images in two splits,
/// and no two near-identical images carry different labels. The near-duplicate search is
/// <see cref="NearDuplicates"/>'s exact search over all the splits at once.
/// </summary>
/// <example>
/// <code>
/// var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
/// var audit = SplitAudit.Create()
///     .AddSplit("train", new MedMnistImageSource(data.Train))
///     .AddSplit("val", new MedMnistImageSource(data.Validation))
///     .AddSplit("test", new MedMnistImageSource(data.Test))
///     .WithMaxDifference(0.01)
///     .Run();
/// Console.WriteLine(audit);                       // pairs within and between splits, label conflicts
/// audit.WriteCsv("runs/audit/near-duplicates.csv");
/// if (!audit.IsClean) Console.WriteLine($"{audit.CrossSplit.Count} pairs cross splits");
/// </code>
/// </example>
public static class SplitAudit
{
    /// <summary>Starts an audit; add the splits with <see cref="SplitAuditBuilder.AddSplit"/>.</summary>
    public static SplitAuditBuilder Create() => new();
}

/// <summary>Configures a <see cref="SplitAudit"/>: the named splits (with their groups, if known) and the threshold.</summary>
public sealed class SplitAuditBuilder
{
    private readonly List<(string Name, ILabeledImageSource Source, string[]? Groups)> _splits = new();
    private double _maxDifference = NearDuplicates.DefaultMaxDifference;

    internal SplitAuditBuilder()
    {
    }

    /// <summary>Adds a split by name, optionally with each sample's group (patient), one per sample in source order.</summary>
    /// <exception cref="ArgumentException">The name is empty or already used, or the groups are not one per sample or include a null.</exception>
    public SplitAuditBuilder AddSplit(string name, ILabeledImageSource source, IReadOnlyList<string>? groups = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(source);
        if (_splits.Any(s => s.Name == name)) throw new ArgumentException($"A split named {name} is already in the audit.", nameof(name));
        if (groups is not null)
        {
            if (groups.Count != source.Count) throw new ArgumentException($"Split {name} has {source.Count} samples but {groups.Count} groups; give one per sample.", nameof(groups));
            for (int i = 0; i < groups.Count; i++)
                if (groups[i] is null) throw new ArgumentException($"The group of sample {i} of split {name} is null.", nameof(groups));
        }
        _splits.Add((name, source, groups?.ToArray()));
        return this;
    }

    /// <summary>The largest mean absolute difference (pixel values in [0, 1]) of a near-duplicate; default <see cref="NearDuplicates.DefaultMaxDifference"/>; 0 finds exact duplicates only.</summary>
    public SplitAuditBuilder WithMaxDifference(double maxDifference)
    {
        NearDuplicates.CheckThreshold(maxDifference);
        _maxDifference = maxDifference;
        return this;
    }

    /// <summary>Loads every image of every split and runs the checks.</summary>
    /// <exception cref="InvalidOperationException">No split was added.</exception>
    /// <exception cref="ArgumentException">The images differ in shape, or hold values that are not finite.</exception>
    public SplitAuditResult Run(CancellationToken cancellationToken = default)
    {
        if (_splits.Count == 0) throw new InvalidOperationException("Add at least one split with AddSplit.");
        var names = _splits.Select(s => s.Name).ToArray();
        var index = ImageIndex.Build(_splits.Select(s => s.Source).ToArray(), names, cancellationToken);
        // Each pair with the earlier (split, index) first, then in that order.
        var pairs = index.Pairs(_maxDifference, (_, _) => true, cancellationToken)
            .Select(p => (p.A.Set, p.A.Index).CompareTo((p.B.Set, p.B.Index)) < 0 ? (First: p.A, Second: p.B, p.Difference) : (First: p.B, Second: p.A, p.Difference))
            .OrderBy(p => (p.First.Set, p.First.Index, p.Second.Set, p.Second.Index))
            .Select(p => new SplitDuplicate(names[p.First.Set], p.First.Index, names[p.Second.Set], p.Second.Index, p.Difference, p.First.Labels, p.Second.Labels))
            .ToArray();
        var overlaps = new List<GroupOverlap>();
        var grouped = _splits.Where(s => s.Groups is not null).ToArray();
        if (grouped.Length > 1)
        {
            var bySplit = grouped.SelectMany(s => s.Groups!.GroupBy(g => g, StringComparer.Ordinal).Select(g => (Group: g.Key, Split: s.Name, Count: g.Count())));
            foreach (var group in bySplit.GroupBy(x => x.Group, StringComparer.Ordinal).Where(g => g.Count() > 1).OrderBy(g => g.Key, StringComparer.Ordinal))
                overlaps.Add(new GroupOverlap(group.Key, group.ToDictionary(x => x.Split, x => x.Count)));
        }
        return new SplitAuditResult(names, index.SetSizes, _maxDifference, pairs, overlaps, grouped.Select(s => s.Name).ToArray());
    }
}

/// <summary>Two near-identical images of an audit, with their splits, indices, difference and labels.</summary>
/// <param name="FirstSplit">The split of the first image (the earlier split in the audit's order).</param>
/// <param name="FirstIndex">Its index in its split.</param>
/// <param name="SecondSplit">The split of the second image.</param>
/// <param name="SecondIndex">Its index in its split.</param>
/// <param name="Difference">Their mean absolute difference (0 for exact duplicates).</param>
/// <param name="FirstLabels">The first image's labels.</param>
/// <param name="SecondLabels">The second image's labels.</param>
public sealed record SplitDuplicate(string FirstSplit, int FirstIndex, string SecondSplit, int SecondIndex, double Difference, IReadOnlyList<int> FirstLabels, IReadOnlyList<int> SecondLabels)
{
    /// <summary>The split of the first image (the earlier split in the audit's order).</summary>
    public string FirstSplit { get; init; } = FirstSplit ?? throw new ArgumentNullException(nameof(FirstSplit));

    /// <summary>The split of the second image.</summary>
    public string SecondSplit { get; init; } = SecondSplit ?? throw new ArgumentNullException(nameof(SecondSplit));

    /// <summary>The first image's labels.</summary>
    public IReadOnlyList<int> FirstLabels { get; init; } = FirstLabels ?? throw new ArgumentNullException(nameof(FirstLabels));

    /// <summary>The second image's labels.</summary>
    public IReadOnlyList<int> SecondLabels { get; init; } = SecondLabels ?? throw new ArgumentNullException(nameof(SecondLabels));

    /// <summary>Whether the two images are in different splits (leakage between them).</summary>
    public bool IsCrossSplit => FirstSplit != SecondSplit;

    /// <summary>Whether the two images carry the same labels.</summary>
    public bool LabelsAgree => FirstLabels.SequenceEqual(SecondLabels);
}

/// <summary>A group (patient) with samples in more than one split.</summary>
/// <param name="Group">The group's name.</param>
/// <param name="CountBySplit">How many of its samples each split holds.</param>
public sealed record GroupOverlap(string Group, IReadOnlyDictionary<string, int> CountBySplit)
{
    /// <summary>The group's name.</summary>
    public string Group { get; init; } = Group ?? throw new ArgumentNullException(nameof(Group));

    /// <summary>How many of its samples each split holds.</summary>
    public IReadOnlyDictionary<string, int> CountBySplit { get; init; } = CountBySplit ?? throw new ArgumentNullException(nameof(CountBySplit));
}

/// <summary>What a <see cref="SplitAudit"/> found.</summary>
public sealed class SplitAuditResult
{
    private readonly string[] _grouped;

    internal SplitAuditResult(string[] splits, int[] sizes, double maxDifference, SplitDuplicate[] duplicates, List<GroupOverlap> overlaps, string[] grouped)
    {
        Splits = splits;
        SplitSizes = sizes;
        MaxDifference = maxDifference;
        Duplicates = duplicates;
        CrossSplit = duplicates.Where(d => d.IsCrossSplit).ToArray();
        LabelConflicts = duplicates.Where(d => !d.LabelsAgree).ToArray();
        GroupOverlaps = overlaps;
        _grouped = grouped;
    }

    /// <summary>The splits' names, in the order they were added.</summary>
    public IReadOnlyList<string> Splits { get; }

    /// <summary>Each split's number of images.</summary>
    public IReadOnlyList<int> SplitSizes { get; }

    /// <summary>The threshold of the search.</summary>
    public double MaxDifference { get; }

    /// <summary>Every near-duplicate pair, within and between splits, by first split, first index, second split, second index.</summary>
    public IReadOnlyList<SplitDuplicate> Duplicates { get; }

    /// <summary>The pairs whose images lie in different splits.</summary>
    public IReadOnlyList<SplitDuplicate> CrossSplit { get; }

    /// <summary>The pairs whose images carry different labels.</summary>
    public IReadOnlyList<SplitDuplicate> LabelConflicts { get; }

    /// <summary>The groups with samples in more than one split (only splits added with groups are compared).</summary>
    public IReadOnlyList<GroupOverlap> GroupOverlaps { get; }

    /// <summary>True when no pair crosses splits and no group spans splits.</summary>
    public bool IsClean => CrossSplit.Count == 0 && GroupOverlaps.Count == 0;

    /// <summary>The pairs between two splits (the same name twice: within that split).</summary>
    /// <exception cref="ArgumentException">A name is not a split of the audit.</exception>
    public IReadOnlyList<SplitDuplicate> Between(string first, string second)
    {
        foreach (var name in new[] { first, second })
            if (!Splits.Contains(name)) throw new ArgumentException($"{name} is not a split of this audit ({string.Join(", ", Splits)}).", nameof(first));
        return Duplicates.Where(d => (d.FirstSplit == first && d.SecondSplit == second) || (d.FirstSplit == second && d.SecondSplit == first)).ToArray();
    }

    /// <summary>
    /// The number of distinct images of <paramref name="split"/> in a pair with an image of
    /// <paramref name="other"/> (the same split: with another image of its own).
    /// </summary>
    public int ImagesWithDuplicates(string split, string other) =>
        Between(split, other).SelectMany(d => new[] { (d.FirstSplit, d.FirstIndex), (d.SecondSplit, d.SecondIndex) })
            .Where(x => x.Item1 == split).Distinct().Count();

    /// <summary>
    /// Writes every pair as CSV (<c>first_split,first_index,second_split,second_index,difference,first_labels,second_labels,labels_agree</c>;
    /// labels joined by ';'): to a temporary file, then renamed, so no half-written file is left.
    /// </summary>
    public void WriteCsv(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var text = new StringBuilder("first_split,first_index,second_split,second_index,difference,first_labels,second_labels,labels_agree\n");
        foreach (var d in Duplicates)
            text.Append(CultureInfo.InvariantCulture, $"{EvaluationResult.CsvField(d.FirstSplit)},{d.FirstIndex},{EvaluationResult.CsvField(d.SecondSplit)},{d.SecondIndex},{d.Difference:R},{string.Join(';', d.FirstLabels)},{string.Join(';', d.SecondLabels)},{(d.LabelsAgree ? "true" : "false")}\n");
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>A summary: pairs within each split and between each two, label conflicts and group overlaps.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"Near-duplicates (mean absolute difference ≤ {MaxDifference:G4}) among {string.Join(", ", Splits.Select((s, i) => $"{s} ({SplitSizes[i]})"))}:"));
        for (int i = 0; i < Splits.Count; i++)
            for (int j = i; j < Splits.Count; j++)
            {
                var pairs = Between(Splits[i], Splits[j]);
                text.Append(CultureInfo.InvariantCulture, $"\n  {(i == j ? $"within {Splits[i]}" : $"{Splits[i]}–{Splits[j]}")}: {pairs.Count} pair(s), {pairs.Count(p => !p.LabelsAgree)} with different labels");
            }
        if (_grouped.Length > 1)
            text.Append(CultureInfo.InvariantCulture, $"\n  groups in more than one of {string.Join(", ", _grouped)}: {GroupOverlaps.Count}{(GroupOverlaps.Count == 0 ? "" : " (" + string.Join(", ", GroupOverlaps.Take(5).Select(g => g.Group)) + (GroupOverlaps.Count > 5 ? ", …" : "") + ")")}");
        text.Append(IsClean ? "\n  No image or group crosses splits." : $"\n  Leakage: {CrossSplit.Count} pair(s) and {GroupOverlaps.Count} group(s) cross splits.");
        return text.ToString();
    }

}
