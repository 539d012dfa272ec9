using MedVision.Nets.Data.Loading;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Nets.Data.Segmentation;

/// <summary>How a <see cref="SegmentationLoader"/> batches its source.</summary>
public sealed class SegmentationLoaderOptions
{
    /// <summary>Samples per batch (≥ 1). Default 2.</summary>
    public int BatchSize
    {
        get;
        set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "The batch size must be at least 1.");
    } = 2;

    /// <summary>Whether each epoch visits the samples in a seeded random order. Default false.</summary>
    public bool Shuffle { get; set; }

    /// <summary>The seed of the order and of every sample's augmentation (seeded by seed, epoch and sample index). Default 0.</summary>
    public int Seed { get; set; }

    /// <summary>Whether a last, smaller batch is dropped. Default false.</summary>
    public bool DropLast { get; set; }

    /// <summary>The augmentation of each sample. Default none.</summary>
    public SegmentationPipeline Pipeline { get; set => field = value ?? throw new ArgumentNullException(nameof(Pipeline)); } = SegmentationPipeline.Identity;

    /// <summary>The device the batches are moved to. Default CPU.</summary>
    public Device Device { get; set; } = Device.Cpu;

    /// <summary>Batches prepared ahead on a background task (0: none). Default 2.</summary>
    public int Prefetch
    {
        get;
        set => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Prefetch), value, "Prefetch must be non-negative.");
    } = 2;
}

/// <summary>A batch of images (N, C, spatial…) as float32 and label maps (N, spatial…) as int64 class indices.</summary>
public sealed class SegmentationBatch : IDisposable
{
    internal SegmentationBatch(Tensor images, Tensor labels, int[] indices)
    {
        Images = images;
        Labels = labels;
        Indices = indices;
    }

    /// <summary>The images, (N, C, H, W) or (N, C, D, H, W).</summary>
    public Tensor Images { get; }

    /// <summary>The class of each voxel, (N, H, W) or (N, D, H, W), int64.</summary>
    public Tensor Labels { get; }

    /// <summary>The source index of each sample.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>The number of samples.</summary>
    public int Count => Indices.Count;

    /// <summary>Frees both tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>
/// Turns an <see cref="ISegmentationSource"/> into batches: seeded shuffling per epoch, per-sample augmentation
/// seeded by (seed, epoch, index) so that runs repeat exactly, drop-last, and background preparation so that
/// loading overlaps compute. Samples of one batch must have the same shape after augmentation (crop them with
/// <see cref="SegmentationPipelineBuilder.CropAroundLabels"/> or give same-sized scans).
/// </summary>
public sealed class SegmentationLoader
{
    private readonly ISegmentationSource _source;

    /// <summary>Creates a loader over a source (options copied at construction are read at each epoch).</summary>
    public SegmentationLoader(ISegmentationSource source, SegmentationLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Count < 1) throw new ArgumentException("The source holds no samples.", nameof(source));
        _source = source;
        Options = options ?? new SegmentationLoaderOptions();
    }

    /// <summary>The options.</summary>
    public SegmentationLoaderOptions Options { get; }

    /// <summary>The source.</summary>
    public ISegmentationSource Source => _source;

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => Options.DropLast ? _source.Count / Options.BatchSize : (int)(((long)_source.Count + Options.BatchSize - 1) / Options.BatchSize);

    /// <summary>Enumerates the batches of one epoch. Dispose each batch (or create it inside a dispose scope).</summary>
    public IEnumerable<SegmentationBatch> Epoch(int epoch = 0, CancellationToken cancellationToken = default)
    {
        var order = Enumerable.Range(0, _source.Count).ToArray();
        if (Options.Shuffle) DataLoader.Shuffle(order, Options.Seed, epoch);
        int batchSize = Options.BatchSize, seed = Options.Seed;
        var pipeline = Options.Pipeline;
        var device = Options.Device;
        foreach (var batch in DataLoader.Prefetched(BatchesPerEpoch, Options.Prefetch, b => Prepare(order, b, batchSize, seed, epoch, pipeline), p => ToBatch(p, device), cancellationToken))
            yield return batch;
    }

    private sealed record Prepared(float[] Images, long[] ImageShape, long[] Labels, long[] LabelShape, int[] Indices);

    private Prepared Prepare(int[] order, int batchIndex, int batchSize, int seed, int epoch, SegmentationPipeline pipeline)
    {
        int start = batchIndex * batchSize, n = Math.Min(batchSize, order.Length - start);
        var indices = order.AsSpan(start, n).ToArray();
        var samples = new SegmentationSample[n];
        for (int i = 0; i < n; i++)
        {
            var sample = _source.Load(indices[i]) ?? throw new InvalidOperationException($"The source returned no sample for index {indices[i]}.");
            samples[i] = pipeline.Apply(sample, new Random(TransformPipeline.SampleSeed(seed, epoch, indices[i])));
            if (!samples[i].Image.Shape.SequenceEqual(samples[0].Image.Shape))
                throw new InvalidOperationException(
                    $"Sample {indices[i]} has shape [{string.Join(", ", samples[i].Image.Shape)}] but the batch started with [{string.Join(", ", samples[0].Image.Shape)}]; crop the samples to one size (CropAroundLabels) or use a batch size of 1.");
        }
        int imageSize = samples[0].Image.Data.Length, plane = samples[0].Labels.Data.Length;
        var images = new float[(long)n * imageSize];
        var labels = new long[(long)n * plane];
        for (int i = 0; i < n; i++)
        {
            Array.Copy(samples[i].Image.Data, 0, images, (long)i * imageSize, imageSize);
            var source = samples[i].Labels.Data;
            for (int v = 0; v < plane; v++) labels[((long)i * plane) + v] = (long)source[v];
        }
        var spatial = samples[0].Image.Shape.Skip(1).Select(s => (long)s);
        return new Prepared(images, new long[] { n, samples[0].Image.Channels }.Concat(spatial).ToArray(), labels, new long[] { n }.Concat(spatial).ToArray(), indices);
    }

    private static SegmentationBatch ToBatch(Prepared p, Device device)
    {
        Tensor images, labels;
        using (var scope = Tensors.NewDisposeScope())
        {
            images = Tensors.FromArray(p.Images, p.ImageShape);
            labels = Tensors.FromArray(p.Labels, p.LabelShape);
            if (device.IsCuda)
            {
                images = images.PinMemory().To(ScalarType.Float32, device, nonBlocking: true);
                labels = labels.PinMemory().To(ScalarType.Int64, device, nonBlocking: true);
            }
            scope.MoveToOuter(images, labels);
        }
        return new SegmentationBatch(images, labels, p.Indices);
    }
}
