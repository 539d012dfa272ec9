namespace MedVision.Torch.Distributed;

/// <summary>Communication counters of a <see cref="DistributedDataParallel{TInput, TOutput}"/> since it was created.</summary>
/// <param name="Steps">Backward passes whose gradients were averaged.</param>
/// <param name="BytesReduced">Gradient bytes all-reduced by this rank (sum over steps).</param>
/// <param name="WaitTime">Time spent at the end of backward waiting for all-reduces still in flight (communication not hidden behind backward).</param>
/// <param name="BucketsLaunchedDuringBackward">Bucket all-reduces started while backward was still running (overlapped with computation).</param>
/// <param name="Buckets">Number of gradient buckets.</param>
public sealed record DataParallelStatistics(long Steps, long BytesReduced, TimeSpan WaitTime, long BucketsLaunchedDuringBackward, int Buckets);
