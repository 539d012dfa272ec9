using System.Globalization;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// Draws each epoch's samples at random with probabilities proportional to per-sample weights (PyTorch's
/// <c>WeightedRandomSampler</c>): with <see cref="BalanceClasses(IReadOnlyList{int})"/> every class is drawn equally
/// often in expectation, the usual remedy for imbalanced medical datasets (RetinaMNIST's grade 0 is 45% of the
/// training images, grade 4 under 7%). Set it as <see cref="DataLoaderOptions.WeightedSampler"/>; the draw is seeded by
/// the loader's seed and the epoch, so runs reproduce, and in data-parallel training every rank draws the same epoch
/// before taking its shard.
/// </summary>
public sealed class WeightedRandomSampler
{
    private readonly double[] _cumulative;
    private readonly double[] _weights;

    /// <summary>Creates a sampler.</summary>
    /// <param name="weights">One non-negative, finite weight per sample of the data source; not all zero.</param>
    /// <param name="numSamples">Samples drawn per epoch (default: as many as there are weights).</param>
    /// <param name="replacement">Draw with replacement (the default, as in PyTorch); without it, a sample is drawn at most once per epoch.</param>
    /// <exception cref="ArgumentException">A weight is negative or not finite, all are zero, or more samples are asked for without replacement than have a positive weight.</exception>
    public WeightedRandomSampler(IReadOnlyList<double> weights, int? numSamples = null, bool replacement = true)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count == 0) throw new ArgumentException("At least one weight is needed.", nameof(weights));
        _weights = weights.ToArray();
        _cumulative = new double[_weights.Length];
        double total = 0;
        for (int i = 0; i < _weights.Length; i++)
        {
            double w = _weights[i];
            if (!double.IsFinite(w) || w < 0)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Weight {w} of sample {i} is not a finite non-negative number."), nameof(weights));
            total += w;
            _cumulative[i] = total;
        }
        if (total <= 0) throw new ArgumentException("All weights are zero: no sample could be drawn.", nameof(weights));
        if (double.IsInfinity(total)) throw new ArgumentException("The weights sum to more than a double holds; scale them down.", nameof(weights));
        NumSamples = numSamples ?? _weights.Length;
        ArgumentOutOfRangeException.ThrowIfLessThan(NumSamples, 1, nameof(numSamples));
        if (NumSamples > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(numSamples), NumSamples, $"At most {Array.MaxLength} samples per epoch (the epoch's order is an array).");
        Replacement = replacement;
        int positive = _weights.Count(w => w > 0);
        if (!replacement && NumSamples > positive)
            throw new ArgumentException($"{NumSamples} samples cannot be drawn without replacement from {positive} samples with a positive weight.", nameof(numSamples));
    }

    /// <summary>Samples drawn per epoch.</summary>
    public int NumSamples { get; }

    /// <summary>Whether a sample can be drawn more than once per epoch.</summary>
    public bool Replacement { get; }

    /// <summary>The number of samples the weights describe (the data source's size).</summary>
    public int SourceCount => _weights.Length;

    /// <summary>
    /// Weights that make every class equally likely to be drawn: 1 / (count of the sample's class). Classes absent from
    /// <paramref name="labels"/> are simply never drawn.
    /// </summary>
    /// <param name="labels">Each sample's class index (non-negative).</param>
    public static WeightedRandomSampler BalanceClasses(IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0) throw new ArgumentException("At least one label is needed.", nameof(labels));
        for (int i = 0; i < labels.Count; i++)
            if (labels[i] < 0) throw new ArgumentException($"Label {labels[i]} of sample {i} is negative.", nameof(labels));
        var counts = labels.GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        return new WeightedRandomSampler(labels.Select(l => 1.0 / counts[l]).ToArray());
    }

    /// <summary>Class-balancing weights from an N × 1 label matrix (MedMNIST's layout; single-label tasks only).</summary>
    public static WeightedRandomSampler BalanceClasses(int[,] labels) => BalanceClasses(Metrics.PredictionSet.LabelVector(labels, "Class balancing", nameof(labels)));

    /// <summary>The indices drawn for one epoch, from a generator seeded for it.</summary>
    public int[] Draw(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Replacement ? DrawWithReplacement(random) : DrawWithoutReplacement(random);
    }

    private int[] DrawWithReplacement(Random random)
    {
        double total = _cumulative[^1];
        var drawn = new int[NumSamples];
        for (int s = 0; s < drawn.Length; s++)
        {
            double u = random.NextDouble() * total;
            // The first index whose cumulative weight exceeds u (zero-weight samples are never chosen).
            int lo = 0, hi = _cumulative.Length - 1;
            while (lo < hi)
            {
                int mid = (lo + hi) >> 1;
                if (_cumulative[mid] > u) hi = mid; else lo = mid + 1;
            }
            drawn[s] = lo;
        }
        return drawn;
    }

    // Efraimidis–Spirakis: the NumSamples largest keys u^(1/w) are a weighted sample without replacement.
    private int[] DrawWithoutReplacement(Random random)
    {
        var keys = new List<(double Key, int Index)>(_weights.Length);
        for (int i = 0; i < _weights.Length; i++)
        {
            double u = random.NextDouble();
            if (_weights[i] > 0) keys.Add((Math.Log(u) / _weights[i], i));
        }
        return keys.OrderByDescending(k => k.Key).Take(NumSamples).Select(k => k.Index).ToArray();
    }

    /// <inheritdoc />
    public override string ToString() => $"WeightedRandomSampler({NumSamples} of {SourceCount} per epoch{(Replacement ? ", with replacement" : "")})";
}
