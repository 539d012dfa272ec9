using System.Collections.Concurrent;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// Turns an <see cref="ILabeledImageSource"/> into batches of tensors: seeded shuffling per epoch, per-sample
/// augmentation seeded by (seed, epoch, index), drop-last, and background prefetch so that loading overlaps compute.
/// Batch tensors are created on the consumer's thread (they belong to the caller, or its dispose scope).
/// </summary>
public sealed class DataLoader
{
    private readonly ILabeledImageSource _source;

    /// <summary>Creates a loader.</summary>
    public DataLoader(ILabeledImageSource source, DataLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        Options = options ?? new DataLoaderOptions();
        if (source.Count == 0) throw new ArgumentException("The data source is empty.", nameof(source));
        CheckWeightedSampler(nameof(options));
    }

    /// <summary>The options.</summary>
    public DataLoaderOptions Options { get; }

    /// <summary>The data source.</summary>
    public ILabeledImageSource Source => _source;

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => Options.DropLast ? SamplesPerEpoch / Options.BatchSize : (int)(((long)SamplesPerEpoch + Options.BatchSize - 1) / Options.BatchSize); // long: a batch size of int.MaxValue overflowed to 0 batches

    /// <summary>Samples this loader yields per epoch (this rank's shard when <see cref="DataLoaderOptions.Sampler"/> is set).</summary>
    public int SamplesPerEpoch => Options.Sampler?.ShardSize(EpochSize) ?? EpochSize;

    // Samples drawn per epoch before sharding.
    private int EpochSize => Options.WeightedSampler?.NumSamples ?? _source.Count;

    /// <summary>
    /// The sample order of an epoch (the weighted sampler's draw when one is set, a seeded permutation when shuffling,
    /// else 0 … N−1), reduced to this rank's shard when <see cref="DataLoaderOptions.Sampler"/> is set.
    /// </summary>
    public int[] EpochOrder(int epoch)
    {
        if (CheckWeightedSampler(nameof(Options)) is { } weighted)
        {
            var drawn = weighted.Draw(new Random(TransformPipeline.SampleSeed(Options.Seed, epoch, -1)));
            return Options.Sampler is { } shards ? shards.Shard(drawn) : drawn;
        }

        var order = Enumerable.Range(0, _source.Count).ToArray();
        if (Options.Shuffle)
        {
            Shuffle(order, Options.Seed, epoch);
        }
        return Options.Sampler is { } sampler ? sampler.Shard(order) : order;
    }

    // The weighted sampler, checked against the options and the source (the options can change after construction).
    private WeightedRandomSampler? CheckWeightedSampler(string parameter)
    {
        if (Options.WeightedSampler is not { } weighted) return null;
        if (Options.Shuffle)
            throw new ArgumentException("WeightedSampler and Shuffle are mutually exclusive (the weighted draw is already random); set Shuffle to false.", parameter);
        if (weighted.SourceCount != _source.Count)
            throw new ArgumentException($"The weighted sampler has {weighted.SourceCount} weights but the data source has {_source.Count} samples.", parameter);
        return weighted;
    }

    /// <summary>Enumerates the batches of one epoch. Dispose each batch (or create it inside a dispose scope).</summary>
    public IEnumerable<Batch> Epoch(int epoch = 0, CancellationToken cancellationToken = default)
    {
        var order = EpochOrder(epoch);
        int batches = BatchesPerEpoch;
        foreach (var batch in Prefetched(batches, Options.Prefetch, b => Prepare(order, b, epoch), ToBatch, cancellationToken)) yield return batch;
    }

    // Shuffles an epoch's order in place, seeded by (seed, epoch): the same permutation every run.
    internal static void Shuffle(int[] order, int seed, int epoch)
    {
        var rng = new Random(TransformPipeline.SampleSeed(seed, epoch, -1));
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    // Batches prepared (managed arrays) on a background task up to `prefetch` ahead (0: in the consumer's loop), turned
    // into tensors on the consumer's thread.
    internal static IEnumerable<TBatch> Prefetched<TPrepared, TBatch>(int batches, int prefetch, Func<int, TPrepared> prepare, Func<TPrepared, TBatch> toBatch,
        CancellationToken cancellationToken)
    {
        if (prefetch == 0)
        {
            for (int b = 0; b < batches; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return toBatch(prepare(b));
            }
            yield break;
        }
        using var queue = new BlockingCollection<TPrepared>(prefetch);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? failure = null;
        var producer = Task.Run(() =>
        {
            try
            {
                for (int b = 0; b < batches && !cts.IsCancellationRequested; b++) queue.Add(prepare(b), cts.Token);
            }
            catch (OperationCanceledException) { }
            catch (Exception e) { failure = e; }
            finally { queue.CompleteAdding(); }
        }, CancellationToken.None);
        try
        {
            foreach (var prepared in queue.GetConsumingEnumerable(cancellationToken))
                yield return toBatch(prepared);
            if (failure is not null) throw new InvalidOperationException($"Loading a batch failed: {failure.Message}", failure);
        }
        finally
        {
            cts.Cancel();
            try { producer.Wait(TimeSpan.FromSeconds(30)); } catch (AggregateException) { }
        }
    }

    private sealed record PreparedBatch(float[] Images, int[] ImageShape, int[,] Labels, int[] Indices);

    private PreparedBatch Prepare(int[] order, int batchIndex, int epoch)
    {
        int start = batchIndex * Options.BatchSize;
        int n = Math.Min(Options.BatchSize, order.Length - start);
        var indices = new int[n];
        Array.Copy(order, start, indices, 0, n);
        float[]? data = null;
        int[]? sampleShape = null;
        var labels = new int[n, _source.LabelColumns];
        for (int i = 0; i < n; i++)
        {
            var (image, sampleLabels) = _source.Load(indices[i]);
            image = Options.Transform.Apply(image, new Random(TransformPipeline.SampleSeed(Options.Seed, epoch, indices[i])));
            if (sampleShape is null)
            {
                sampleShape = image.Shape;
                data = new float[(long)n * image.Data.Length];
            }
            else if (!sampleShape.SequenceEqual(image.Shape))
                throw new InvalidOperationException($"Sample {indices[i]} has shape [{string.Join(", ", image.Shape)}] but the batch started with [{string.Join(", ", sampleShape)}]; add a Resize transform.");
            Array.Copy(image.Data, 0, data!, (long)i * image.Data.Length, image.Data.Length);
            if (sampleLabels.Length != _source.LabelColumns)
                throw new InvalidOperationException($"Sample {indices[i]} has {sampleLabels.Length} labels; the source declares {_source.LabelColumns}.");
            for (int l = 0; l < sampleLabels.Length; l++) labels[i, l] = sampleLabels[l];
        }
        return new PreparedBatch(data!, new[] { n }.Concat(sampleShape!).ToArray(), labels, indices);
    }

    private Batch ToBatch(PreparedBatch p)
    {
        var shape = p.ImageShape.Select(s => (long)s).ToArray();
        int n = p.Indices.Length, columns = p.Labels.GetLength(1);
        Tensor images, labels;
        using (var scope = Tensors.NewDisposeScope())
        {
            var hostImages = Tensors.FromSpan<float>(p.Images, shape);
            Tensor hostLabels;
            if (Options.LabelKind == LabelKind.ClassIndex)
            {
                if (columns != 1) throw new InvalidOperationException($"Class-index labels need one label per sample; this source has {columns}. Use LabelKind.MultiLabel.");
                var values = new long[n];
                for (int i = 0; i < n; i++) values[i] = p.Labels[i, 0];
                hostLabels = Tensors.FromArray(values);
            }
            else
            {
                var values = new float[n * columns];
                for (int i = 0; i < n; i++) for (int l = 0; l < columns; l++) values[i * columns + l] = p.Labels[i, l];
                hostLabels = Tensors.FromArray(values, n, columns);
            }
            if (Options.Device.IsCuda)
            {
                images = hostImages.PinMemory().To(ScalarType.Float32, Options.Device, nonBlocking: true);
                labels = hostLabels.PinMemory().To(hostLabels.ScalarType, Options.Device, nonBlocking: true);
            }
            else
            {
                images = hostImages;
                labels = hostLabels;
            }
            scope.MoveToOuter(images, labels);
        }
        return new Batch(images, labels, p.Labels, p.Indices);
    }
}
