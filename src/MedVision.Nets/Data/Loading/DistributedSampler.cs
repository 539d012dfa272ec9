namespace MedVision.Nets.Data.Loading;

/// <summary>
/// Gives each rank of a data-parallel run its own disjoint shard of every epoch (PyTorch's
/// <c>DistributedSampler</c>). All ranks draw the same seeded permutation for the epoch (the loader's seed and the
/// epoch number), so the shards change every epoch and never overlap: rank r takes positions r, r + W, r + 2W, … of it.
/// </summary>
/// <remarks>
/// For training (<see cref="PadToEqualShards"/> true, the default), the permutation is padded by repeating its first
/// samples so that every rank gets the same number of samples and therefore the same number of optimizer steps, as
/// PyTorch does. For evaluation, set it to false: shards then differ by at most one sample, no sample is counted twice,
/// and the trainer gathers the predictions of all ranks before computing metrics.
/// </remarks>
public sealed class DistributedSampler
{
    /// <summary>Creates the sampler of one rank.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The world size is below 1 or the rank outside 0..world size − 1.</exception>
    public DistributedSampler(int rank, int worldSize, bool padToEqualShards = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must lie in 0..{worldSize - 1}");
        Rank = rank;
        WorldSize = worldSize;
        PadToEqualShards = padToEqualShards;
    }

    /// <summary>This process's rank.</summary>
    public int Rank { get; }

    /// <summary>Number of ranks.</summary>
    public int WorldSize { get; }

    /// <summary>Pad the epoch so that every shard has the same size (training); false gives exact, uneven shards (evaluation).</summary>
    public bool PadToEqualShards { get; }

    /// <summary>Samples in this rank's shard of a dataset of <paramref name="datasetSize"/> samples.</summary>
    public int ShardSize(int datasetSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(datasetSize);
        if (PadToEqualShards) return (int)(((long)datasetSize + WorldSize - 1) / WorldSize); // long: int.MaxValue replicas overflowed
        return datasetSize / WorldSize + (Rank < datasetSize % WorldSize ? 1 : 0);
    }

    /// <summary>This rank's shard of an epoch's order (the same <paramref name="order"/> on every rank).</summary>
    public int[] Shard(IReadOnlyList<int> order)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (order.Count == 0) return Array.Empty<int>();
        int size = ShardSize(order.Count);
        var shard = new int[size];
        for (int i = 0; i < size; i++) shard[i] = order[(Rank + i * WorldSize) % order.Count];
        return shard;
    }

    /// <inheritdoc />
    public override string ToString() => $"DistributedSampler(rank {Rank} of {WorldSize}{(PadToEqualShards ? "" : ", exact")})";
}
