using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// Batch normalisation over the channel dimension (common code of BatchNorm1d/2d/3d). Parameters weight (ones) and bias
/// (zeros); buffers running_mean, running_var and num_batches_tracked, as in PyTorch (see <see cref="NormBase"/>).
/// </summary>
public class BatchNorm : NormBase
{
    private readonly int[] _ranks;

    /// <summary>Creates the layer for inputs of the given ranks (e.g. 4 for (N, C, H, W)).</summary>
    protected BatchNorm(string typeName, int[] acceptedRanks, long numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats)
        : base(numFeatures, eps, momentum, affine, trackRunningStats)
    {
        _ranks = acceptedRanks;
        TypeNameValue = typeName;
        Momentum = momentum;
    }

    private string TypeNameValue { get; }

    /// <summary>
    /// Running-statistics update factor in [0, 1], or null for a cumulative moving average (PyTorch's
    /// <c>momentum=None</c>). Settable, as in PyTorch (e.g. <see cref="Optim.StochasticWeightAverage.UpdateBatchNorm(Module{Tensor, Tensor}, IEnumerable{Tensor})"/>
    /// sets it to null while it recomputes the statistics).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside [0, 1] or NaN.</exception>
    public double? Momentum
    {
        get => _momentum;
        set
        {
            if (value is { } m && !(m is >= 0 and <= 1))
                throw new ArgumentOutOfRangeException(nameof(value), value, "momentum must lie in [0, 1] (or be null for a cumulative average)");
            _momentum = value;
        }
    }

    private double? _momentum;

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
        CheckInput(input, _ranks);
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
