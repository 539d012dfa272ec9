namespace MedVision.Nets.Training;

/// <summary>
/// Where a batch stands in gradient accumulation: batches are taken in groups of k (the last group of an epoch may be
/// shorter), gradients are zeroed at a group's first batch, each loss is divided by the group's size, and the optimizer
/// steps after its last batch. Shared by <see cref="Trainer"/> and <see cref="SegmentationTrainer"/>.
/// </summary>
internal readonly record struct AccumulationGroup(int Size, bool IsFirst, bool IsLast)
{
    /// <summary>The group of batch <paramref name="step"/> (0-based) of an epoch of <paramref name="batches"/> batches in groups of <paramref name="k"/>.</summary>
    public static AccumulationGroup Of(int step, int batches, int k)
    {
        int start = step - (step % k), size = Math.Min(k, batches - start);
        return new AccumulationGroup(size, step == start, step + 1 == start + size);
    }
}
