using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// Batch normalisation over the channel dimension (common code of BatchNorm1d/2d/3d). Parameters weight (ones) and bias
/// (zeros); buffers running_mean, running_var and num_batches_tracked, as in PyTorch.
/// </summary>
public class BatchNorm : Module<Tensor, Tensor>
{
    private readonly int[] _ranks;

    /// <summary>Creates the layer for inputs of the given ranks (e.g. 4 for (N, C, H, W)).</summary>
    protected BatchNorm(string typeName, int[] acceptedRanks, long numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eps);
        if (momentum is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must lie in [0, 1] (or be null for a cumulative average)");
        _ranks = acceptedRanks;
        TypeNameValue = typeName;
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        RegisterParameter("weight", affine ? Tensors.Ones(new[] { numFeatures }) : null);
        RegisterParameter("bias", affine ? Tensors.Zeros(new[] { numFeatures }) : null);
        if (trackRunningStats)
        {
            RegisterBuffer("running_mean", Tensors.Zeros(new[] { numFeatures }));
            RegisterBuffer("running_var", Tensors.Ones(new[] { numFeatures }));
            RegisterBuffer("num_batches_tracked", Tensors.Zeros(Array.Empty<long>(), ScalarType.Int64));
        }
    }

    private string TypeNameValue { get; }
    /// <summary>Channels.</summary>
    public long NumFeatures { get; }
    /// <summary>Added to the variance for stability.</summary>
    public double Eps { get; }
    /// <summary>Running-statistics update factor, or null for a cumulative moving average.</summary>
    public double? Momentum { get; }
    /// <summary>True when the layer has a learnable scale and shift.</summary>
    public bool Affine { get; }
    /// <summary>True when running statistics are kept (and used in evaluation mode).</summary>
    public bool TrackRunningStats { get; }
    /// <summary>Scale (γ), or null.</summary>
    public Tensor? Weight => GetParameter("weight");
    /// <summary>Shift (β), or null.</summary>
    public Tensor? Bias => GetParameter("bias");
    /// <summary>Running mean, or null.</summary>
    public Tensor? RunningMean => TrackRunningStats ? GetBuffer("running_mean") : null;
    /// <summary>Running (unbiased) variance, or null.</summary>
    public Tensor? RunningVar => TrackRunningStats ? GetBuffer("running_var") : null;
    /// <summary>Number of training batches seen, or null.</summary>
    public Tensor? NumBatchesTracked => TrackRunningStats ? GetBuffer("num_batches_tracked") : null;

    /// <inheritdoc />
    public override string TypeName => SyncGroup is null ? TypeNameValue : "Sync" + TypeNameValue;

    /// <summary>
    /// When set (see <see cref="Distributed.SyncBatchNorm.Convert"/>), training-mode batch statistics are computed over
    /// the batches of every rank of this group, as PyTorch's SyncBatchNorm does; null (the default) keeps them local to
    /// each process, as plain DistributedDataParallel does. Evaluation mode is unaffected.
    /// </summary>
    public Distributed.ProcessGroup? SyncGroup { get; set; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var rank = input.Dim;
        if (Array.IndexOf(_ranks, rank) < 0)
            throw new ArgumentException($"{TypeName} expects a {string.Join(" or ", _ranks)}-D input, got shape [{string.Join(", ", input.CachedShape)}].", nameof(input));
        if (input.Size(1) != NumFeatures)
            throw new ArgumentException($"{TypeName}({NumFeatures}) got an input with {input.Size(1)} channels (shape [{string.Join(", ", input.CachedShape)}]).", nameof(input));
        double factor = Momentum ?? 0.0;
        if (Training && SyncGroup is { WorldSize: > 1 } group) return SynchronisedForward(input, group);
        if (Training && TrackRunningStats)
        {
            var tracked = NumBatchesTracked!;
            using (Tensors.NoGrad()) tracked.AddInPlace(1);
            if (Momentum is null) factor = 1.0 / tracked.Item();
        }
        bool useBatchStats = Training || !TrackRunningStats;
        return Functional.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, useBatchStats, factor, Eps);
    }

    // Global statistics over all ranks, differentiable: the sums go through an all-reduce whose backward all-reduces
    // the gradient, so the input gradient is that of the batch-norm of the concatenated batch. Two passes (mean, then
    // centred squares) for accuracy.
    private Tensor SynchronisedForward(Tensor input, Distributed.ProcessGroup group)
    {
        using var scope = Tensors.NewDisposeScope();
        var rank = input.Dim;
        var dims = Enumerable.Range(0, rank).Where(d => d != 1).Select(d => (long)d).ToArray();
        var statShape = Enumerable.Range(0, rank).Select(d => d == 1 ? NumFeatures : 1L).ToArray();
        long localCount = input.NumElements / NumFeatures;
        var localSum = input.Sum(dims);
        using (var countTensor = Tensors.Full(new long[] { 1 }, localCount, localSum.ScalarType, localSum.Device))
        {
            var packed = Tensors.Cat(new[] { localSum, countTensor }, 0);
            var total = group.AllReduceWithGradient(packed);
            var count = total.Narrow(0, NumFeatures, 1).Detach();
            double n = count.Item();
            if (n <= 1) throw new ArgumentException($"{TypeName} needs more than one value per channel over all ranks in training mode, got input shape [{string.Join(", ", input.CachedShape)}].", nameof(input));
            var mean = total.Narrow(0, 0, NumFeatures) / n;
            var centred = input - mean.Reshape(statShape);
            var sumSquares = group.AllReduceWithGradient((centred * centred).Sum(dims));
            var variance = sumSquares / n;
            var output = centred * (variance + Eps).Rsqrt().Reshape(statShape);
            if (Weight is { } w) output = output * w.Reshape(statShape);
            if (Bias is { } b) output = output + b.Reshape(statShape);
            if (TrackRunningStats)
            {
                using var noGrad = Tensors.NoGrad();
                var tracked = NumBatchesTracked!;
                tracked.AddInPlace(1);
                double factor = Momentum ?? 1.0 / tracked.Item();
                RunningMean!.LerpInPlace(mean.Detach(), factor);
                RunningVar!.LerpInPlace((variance * (n / (n - 1))).Detach(), factor);
            }
            return scope.MoveToOuter(output);
        }
    }

    /// <inheritdoc />
    protected override string ExtraRepr()
        => string.Create(CultureInfo.InvariantCulture, $"{NumFeatures}, eps={Eps}, momentum={(Momentum?.ToString(CultureInfo.InvariantCulture) ?? "None")}, affine={Affine}, track_running_stats={TrackRunningStats}");
}
