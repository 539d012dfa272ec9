namespace MedVision.Nets.Data.Pairs;

/// <summary>
/// Draws pairs of sample indices with a controlled mix of same-label and different-label pairs (for Siamese and
/// contrastive training on graded data). Deterministic under its seed.
/// </summary>
public sealed class PairSampler
{
    private readonly int[][] _byLabel;
    private readonly int[] _labels;
    private readonly Random _random;

    /// <summary>Creates the sampler over per-sample labels.</summary>
    /// <param name="labels">The label (grade) of each sample.</param>
    /// <param name="sameLabelFraction">Fraction of pairs whose two samples share a label, in [0, 1].</param>
    /// <param name="seed">Seed of the generator.</param>
    public PairSampler(IReadOnlyList<int> labels, double sameLabelFraction = 0.5, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count < 2) throw new ArgumentException("Pair sampling needs at least two samples.", nameof(labels));
        if (sameLabelFraction is < 0 or > 1 || double.IsNaN(sameLabelFraction)) throw new ArgumentOutOfRangeException(nameof(sameLabelFraction), sameLabelFraction, "the fraction must lie in [0, 1]");
        _labels = labels.ToArray();
        _byLabel = _labels.Select((l, i) => (l, i)).GroupBy(x => x.l).OrderBy(g => g.Key).Select(g => g.Select(x => x.i).ToArray()).ToArray();
        if (sameLabelFraction > 0 && _byLabel.All(g => g.Length < 2)) throw new ArgumentException("No label has two samples, so same-label pairs cannot be drawn.", nameof(labels));
        if (sameLabelFraction < 1 && _byLabel.Length < 2) throw new ArgumentException("All samples share one label, so different-label pairs cannot be drawn.", nameof(labels));
        SameLabelFraction = sameLabelFraction;
        _random = new Random(seed);
    }

    /// <summary>Fraction of same-label pairs.</summary>
    public double SameLabelFraction { get; }

    /// <summary>Draws <paramref name="count"/> pairs: exactly round(count · fraction) same-label ones, the rest different-label, in random order.</summary>
    public (int First, int Second)[] Sample(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int same = (int)Math.Round(count * SameLabelFraction);
        var pairs = new List<(int, int)>(count);
        var eligible = _byLabel.Where(g => g.Length >= 2).ToArray();
        for (int i = 0; i < same; i++)
        {
            var group = eligible[_random.Next(eligible.Length)];
            int a = _random.Next(group.Length), b = _random.Next(group.Length - 1);
            if (b >= a) b++;
            pairs.Add((group[a], group[b]));
        }
        for (int i = same; i < count; i++)
        {
            int ga = _random.Next(_byLabel.Length), gb = _random.Next(_byLabel.Length - 1);
            if (gb >= ga) gb++;
            pairs.Add((_byLabel[ga][_random.Next(_byLabel[ga].Length)], _byLabel[gb][_random.Next(_byLabel[gb].Length)]));
        }
        for (int i = pairs.Count - 1; i > 0; i--)
        {
            int j = _random.Next(i + 1);
            (pairs[i], pairs[j]) = (pairs[j], pairs[i]);
        }
        return pairs.ToArray();
    }
}
