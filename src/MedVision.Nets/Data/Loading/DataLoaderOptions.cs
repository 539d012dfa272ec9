using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Nets.Data.Loading;

/// <summary>Options of a <see cref="DataLoader"/>; defaults are documented on each property.</summary>
public sealed class DataLoaderOptions
{
    private int _batchSize = 32;
    private int _prefetch = 2;

    /// <summary>Samples per batch (default 32).</summary>
    public int BatchSize
    {
        get => _batchSize;
        set => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "batch size must be at least 1");
    }

    /// <summary>Reshuffle the order every epoch (default false).</summary>
    public bool Shuffle { get; set; }

    /// <summary>Seed of the shuffle and of the augmentation (default 0). Epoch e of a run with seed s is always the same.</summary>
    public int Seed { get; set; }

    /// <summary>Drop the last incomplete batch (default false).</summary>
    public bool DropLast { get; set; }

    /// <summary>
    /// Draws each epoch's samples by weight instead of taking every sample once (default null), e.g.
    /// <see cref="WeightedRandomSampler.BalanceClasses(IReadOnlyList{int})"/>. Like PyTorch, it cannot be combined with
    /// <see cref="Shuffle"/>: the draw is already random.
    /// </summary>
    public WeightedRandomSampler? WeightedSampler { get; set; }

    /// <summary>The shard of each epoch this process loads in data-parallel training (default null: the whole dataset).</summary>
    public DistributedSampler? Sampler { get; set; }

    /// <summary>A copy of these options (the transform is shared).</summary>
    public DataLoaderOptions Clone() => (DataLoaderOptions)MemberwiseClone();

    /// <summary>Per-sample transforms (default: none).</summary>
    public ITransform Transform { get; set => field = value ?? throw new ArgumentNullException(nameof(Transform)); } = TransformPipeline.Identity;

    /// <summary>How labels are encoded (default class indices).</summary>
    public LabelKind LabelKind { get; set; } = LabelKind.ClassIndex;

    /// <summary>Device the batch tensors are created on (default CPU). CUDA batches are staged through pinned memory.</summary>
    public Device Device { get; set; } = Device.Cpu;

    /// <summary>Batches prepared ahead on a background thread (default 2; 0 loads on the caller's thread).</summary>
    public int Prefetch
    {
        get => _prefetch;
        set => _prefetch = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Prefetch), value, "prefetch must be non-negative");
    }
}
