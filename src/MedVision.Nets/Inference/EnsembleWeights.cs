namespace MedVision.Nets.Inference;

/// <summary>
/// The weights of an ensemble's members (<see cref="EnsemblePredictor"/>, <see cref="SegmentationProbabilities"/>):
/// one per member, finite and non-negative, not all 0; the mean uses them normalised to sum to 1, or equal weights.
/// </summary>
internal static class EnsembleWeights
{
    /// <summary>Refuses weights that break the rule; <paramref name="members"/> names what is weighted ("members", "predictions").</summary>
    public static void Check(IReadOnlyList<double>? weights, int count, string members)
    {
        if (weights is null) return;
        if (weights.Count != count) throw new ArgumentException($"{weights.Count} weights were given for {count} {members}.", nameof(weights));
        for (int i = 0; i < weights.Count; i++)
        {
            if (!double.IsFinite(weights[i]) || weights[i] < 0)
                throw new ArgumentOutOfRangeException(nameof(weights), weights[i], $"Weight {i} must be finite and non-negative.");
        }
        double total = weights.Sum();
        if (total <= 0) throw new ArgumentException($"The weights are all 0; at least one of the {members} must count.", nameof(weights));
        // (Each finite, but 1e308 twice sums to infinity: every normalised weight would be 0.)
        if (!double.IsFinite(total)) throw new ArgumentException("The weights are too large to add up (their sum overflows); scale them down (only their ratios count).", nameof(weights));
    }

    /// <summary>
    /// Whether two lists of weights average <paramref name="count"/> members alike: both valid and equal once normalised
    /// (null counts as equal weights); weights that break the rule are never the same as others.
    /// </summary>
    public static bool Same(IReadOnlyList<double>? a, IReadOnlyList<double>? b, int count)
    {
        try
        {
            Check(a, count, "members");
            Check(b, count, "members");
        }
        catch (ArgumentException)
        {
            return false;
        }
        return Normalised(a, count).SequenceEqual(Normalised(b, count));
    }

    /// <summary>The weights divided by their sum, or equal weights for <paramref name="count"/> members when null (checked weights).</summary>
    public static double[] Normalised(IReadOnlyList<double>? weights, int count)
    {
        if (weights is null) return Enumerable.Repeat(1.0 / count, count).ToArray();
        double total = weights.Sum();
        return weights.Select(w => w / total).ToArray();
    }
}
