namespace MedVision.Torch.Distributed;

/// <summary>Options of <see cref="DistributedDataParallel{TInput, TOutput}"/> (the arguments of PyTorch's DDP constructor).</summary>
public sealed record DataParallelOptions
{
    /// <summary>Gradient bucket size in bytes (PyTorch's <c>bucket_cap_mb</c>, default 25 MiB): smaller buckets start communicating earlier in backward.</summary>
    public long BucketCapBytes { get; init; } = 25L * 1024 * 1024;

    /// <summary>Copy rank 0's buffers (batch-norm running statistics) to every rank before each training forward (PyTorch's default: true).</summary>
    public bool BroadcastBuffers { get; init; } = true;

    /// <summary>Switch the model's batch-norm layers to statistics over the global batch (see <see cref="SyncBatchNorm"/>).</summary>
    public bool SyncBatchNorm { get; init; }
}
