namespace MedVision.Torch.Nn;

/// <summary>
/// The state shared by batch and instance normalisation (PyTorch's <c>_NormBase</c>): the channel count, ε, a learnable
/// per-channel scale and shift (parameters <c>weight</c>, ones, and <c>bias</c>, zeros) when <see cref="Affine"/>, and
/// running statistics (buffers <c>running_mean</c>, zeros, <c>running_var</c>, ones, and <c>num_batches_tracked</c>)
/// when <see cref="TrackRunningStats"/> — the names and initial values of PyTorch's state dicts.
/// </summary>
public abstract class NormBase : Module<Tensor, Tensor>, IResettable
{
    /// <summary>Validates the options and registers the parameters and buffers.</summary>
    /// <param name="numFeatures">Channels (C of (N, C, ...)); at least 1.</param>
    /// <param name="eps">Added to the variance; positive.</param>
    /// <param name="affine">Whether to learn a per-channel scale and shift.</param>
    /// <param name="trackRunningStats">Whether to keep running statistics (used in evaluation mode).</param>
    protected NormBase(long numFeatures, double eps, bool affine, bool trackRunningStats)
        : this(numFeatures, eps, momentum: null, affine, trackRunningStats)
    {
    }

    /// <summary>
    /// Validates the options, <paramref name="momentum"/> included, before anything is allocated (a layer whose
    /// constructor throws is never disposed), then registers the parameters and buffers.
    /// </summary>
    /// <param name="numFeatures">Channels (C of (N, C, ...)); at least 1.</param>
    /// <param name="eps">Added to the variance; positive and finite.</param>
    /// <param name="momentum">Running-statistics update factor in [0, 1], or null (a cumulative average).</param>
    /// <param name="affine">Whether to learn a per-channel scale and shift.</param>
    /// <param name="trackRunningStats">Whether to keep running statistics (used in evaluation mode).</param>
    protected NormBase(long numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numFeatures, 1);
        Guard.PositiveFinite(eps);
        if (momentum is { } m && !(m is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must lie in [0, 1] (or be null for a cumulative average)");
        NumFeatures = numFeatures;
        Eps = eps;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        DisposeIfThrows(() =>
        {
            RegisterParameter("weight", affine ? Tensors.Ones(new[] { numFeatures }) : null);
            RegisterParameter("bias", affine ? Tensors.Zeros(new[] { numFeatures }) : null);
            if (trackRunningStats)
            {
                RegisterBuffer("running_mean", Tensors.Zeros(new[] { numFeatures }));
                RegisterBuffer("running_var", Tensors.Ones(new[] { numFeatures }));
                RegisterBuffer("num_batches_tracked", Tensors.Zeros(Array.Empty<long>(), ScalarType.Int64));
            }
        });
    }

    /// <summary>Channels.</summary>
    public long NumFeatures { get; }
    /// <summary>Added to the variance for stability.</summary>
    public double Eps { get; }
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

    /// <summary>
    /// Running statistics back to their initial values (mean zeros, variance ones, no batches tracked), as PyTorch's
    /// <c>reset_running_stats()</c>; nothing when <see cref="TrackRunningStats"/> is false.
    /// </summary>
    public void ResetRunningStats()
    {
        if (!TrackRunningStats) return;
        using var noGrad = Tensors.NoGrad();
        Init.Zeros(RunningMean!);
        Init.Ones(RunningVar!);
        Init.Zeros(NumBatchesTracked!);
    }

    /// <inheritdoc />
    /// <remarks>Resets the running statistics, then the scale to ones and the shift to zeros (PyTorch's order).</remarks>
    public void ResetParameters()
    {
        ResetRunningStats();
        if (!Affine) return;
        using var noGrad = Tensors.NoGrad();
        Init.Ones(Weight!);
        Init.Zeros(Bias!);
    }

    /// <summary>Throws unless <paramref name="input"/> has a rank in <paramref name="ranks"/> and <see cref="NumFeatures"/> channels.</summary>
    protected void CheckInput(Tensor input, params int[] ranks)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Array.IndexOf(ranks, input.Dim) < 0)
            throw new ArgumentException($"{TypeName} expects a {string.Join(" or ", ranks)}-D input, got shape [{string.Join(", ", input.CachedShape)}].", nameof(input));
        if (input.Size(1) != NumFeatures)
            throw new ArgumentException($"{TypeName}({NumFeatures}) got an input with {input.Size(1)} channels (shape [{string.Join(", ", input.CachedShape)}]).", nameof(input));
    }
}
