using MedVision.Torch;

namespace MedVision.Nets.Data.Pairs;

/// <summary>
/// MTCSNN's pairing: a (shuffled) batch of N samples is split into halves and sample i is paired with sample i + N/2.
/// With an odd N the last sample takes part in no pair (it still counts for per-image losses).
/// </summary>
public static class SiamesePairing
{
    /// <summary>Number of pairs in a batch of <paramref name="batchSize"/> samples.</summary>
    public static int PairCount(long batchSize) => (int)(batchSize / 2);

    /// <summary>The first and second members of each pair along dimension 0: (x[0 … P−1], x[P … 2P−1]).</summary>
    public static (Tensor First, Tensor Second) SplitHalves(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var pairs = PairCount(batch.Size(0));
        if (pairs == 0) throw new ArgumentException("Pairing needs a batch of at least two samples.", nameof(batch));
        return (batch.Narrow(0, 0, pairs), batch.Narrow(0, pairs, pairs));
    }
}
