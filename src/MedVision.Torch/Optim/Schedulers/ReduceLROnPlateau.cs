using System.Globalization;

namespace MedVision.Torch.Optim;

/// <summary>
/// Reduces every group's learning rate when a metric stops improving (torch.optim.lr_scheduler.ReduceLROnPlateau,
/// same semantics). After each epoch call <see cref="Step(double)"/> with the metric: an epoch that is not
/// significantly better than the best so far counts as bad; after more than <see cref="Patience"/> bad epochs in a
/// row each learning rate becomes max(lr·factor, min_lr) (changes smaller than <see cref="Eps"/> are ignored) and a
/// cooldown of <see cref="Cooldown"/> epochs starts, during which bad epochs are not counted.
/// </summary>
public sealed class ReduceLROnPlateau
{
    private readonly double[] _minLearningRates;

    /// <summary>Creates the scheduler; the arguments have PyTorch's meaning and defaults.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled.</param>
    /// <param name="mode">Whether lower (<see cref="PlateauMode.Min"/>) or higher values of the metric are better.</param>
    /// <param name="factor">Factor applied to the learning rates on a plateau, in [0, 1).</param>
    /// <param name="patience">Number of bad epochs tolerated before reducing, ≥ 0.</param>
    /// <param name="threshold">Minimum significant improvement, ≥ 0.</param>
    /// <param name="thresholdMode">Whether <paramref name="threshold"/> is relative or absolute.</param>
    /// <param name="cooldown">Epochs to wait after a reduction before counting bad epochs again, ≥ 0.</param>
    /// <param name="minLearningRate">Lower bound on every group's learning rate, ≥ 0.</param>
    /// <param name="eps">Reductions smaller than this are skipped, ≥ 0.</param>
    /// <param name="minLearningRatesPerGroup">Per-group lower bounds (one per group), overriding <paramref name="minLearningRate"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    /// <exception cref="ArgumentException"><paramref name="minLearningRatesPerGroup"/> does not have one value per group.</exception>
    public ReduceLROnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10,
        double threshold = 1e-4, PlateauThresholdMode thresholdMode = PlateauThresholdMode.Relative, int cooldown = 0,
        double minLearningRate = 0, double eps = 1e-8, IReadOnlyList<double>? minLearningRatesPerGroup = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown mode");
        if (!Enum.IsDefined(thresholdMode)) throw new ArgumentOutOfRangeException(nameof(thresholdMode), thresholdMode, "unknown threshold mode");
        if (!(factor >= 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "factor must be in [0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        RequireNonNegative(threshold, nameof(threshold));
        RequireNonNegative(eps, nameof(eps));
        var groups = optimizer.ParameterGroups.Count;
        if (minLearningRatesPerGroup is not null)
        {
            if (minLearningRatesPerGroup.Count != groups)
                throw new ArgumentException($"Expected {groups} minimum learning rates (one per parameter group), got {minLearningRatesPerGroup.Count}.", nameof(minLearningRatesPerGroup));
            _minLearningRates = minLearningRatesPerGroup.Select(v => RequireNonNegative(v, nameof(minLearningRatesPerGroup))).ToArray();
        }
        else
        {
            _minLearningRates = Enumerable.Repeat(RequireNonNegative(minLearningRate, nameof(minLearningRate)), groups).ToArray();
        }
        Optimizer = optimizer;
        Mode = mode;
        Factor = factor;
        Patience = patience;
        Threshold = threshold;
        ThresholdMode = thresholdMode;
        Cooldown = cooldown;
        Eps = eps;
        LastLearningRates = optimizer.ParameterGroups.Select(g => g.LearningRate).ToArray();
        Reset();
    }

    /// <summary>The optimizer whose learning rates are reduced.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Whether lower or higher values of the metric are better.</summary>
    public PlateauMode Mode { get; }

    /// <summary>Factor applied to the learning rates on a plateau.</summary>
    public double Factor { get; }

    /// <summary>Number of bad epochs tolerated before reducing.</summary>
    public int Patience { get; }

    /// <summary>Minimum significant improvement.</summary>
    public double Threshold { get; }

    /// <summary>Whether <see cref="Threshold"/> is relative or absolute.</summary>
    public PlateauThresholdMode ThresholdMode { get; }

    /// <summary>Epochs to wait after a reduction before counting bad epochs again.</summary>
    public int Cooldown { get; }

    /// <summary>Reductions smaller than this are skipped.</summary>
    public double Eps { get; }

    /// <summary>Lower bound on each group's learning rate.</summary>
    public IReadOnlyList<double> MinLearningRates => _minLearningRates;

    /// <summary>The best metric so far (+∞ in Min mode, −∞ in Max mode before the first step).</summary>
    public double Best { get; private set; }

    /// <summary>Number of consecutive bad epochs counted so far.</summary>
    public int NumBadEpochs { get; private set; }

    /// <summary>Remaining cooldown epochs.</summary>
    public int CooldownCounter { get; private set; }

    /// <summary>Number of <see cref="Step(double)"/> calls.</summary>
    public int LastEpoch { get; private set; }

    /// <summary>True while in cooldown after a reduction.</summary>
    public bool InCooldown => CooldownCounter > 0;

    /// <summary>The learning rates after the latest step (PyTorch's _last_lr).</summary>
    public IReadOnlyList<double> LastLearningRates { get; private set; }

    private void Reset()
    {
        Best = Mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;
        CooldownCounter = 0;
        NumBadEpochs = 0;
    }

    /// <summary>True when <paramref name="current"/> is significantly better than <paramref name="best"/>.</summary>
    public bool IsBetter(double current, double best) => (Mode, ThresholdMode) switch
    {
        (PlateauMode.Min, PlateauThresholdMode.Relative) => current < best * (1 - Threshold),
        (PlateauMode.Min, PlateauThresholdMode.Absolute) => current < best - Threshold,
        (PlateauMode.Max, PlateauThresholdMode.Relative) => current > best * (Threshold + 1),
        _ => current > best + Threshold,
    };

    /// <summary>Records the metric of the epoch that just ended and reduces the learning rates on a plateau.</summary>
    public void Step(double metric)
    {
        LastEpoch = checked(LastEpoch + 1);
        if (IsBetter(metric, Best))
        {
            Best = metric;
            NumBadEpochs = 0;
        }
        else
        {
            NumBadEpochs++;
        }
        if (InCooldown)
        {
            CooldownCounter--;
            NumBadEpochs = 0;
        }
        if (NumBadEpochs > Patience)
        {
            ReduceLearningRates();
            CooldownCounter = Cooldown;
            NumBadEpochs = 0;
        }
        LastLearningRates = Optimizer.ParameterGroups.Select(g => g.LearningRate).ToArray();
    }

    private void ReduceLearningRates()
    {
        for (int g = 0; g < Optimizer.ParameterGroups.Count; g++)
        {
            var group = Optimizer.ParameterGroups[g];
            var old = group.LearningRate;
            var reduced = Math.Max(old * Factor, _minLearningRates[g]);
            if (old - reduced > Eps) group.LearningRate = reduced;
        }
    }

    /// <summary>Exports the best metric, counters and last learning rates.</summary>
    public SchedulerState GetState()
    {
        var values = new Dictionary<string, double>
        {
            ["best"] = Best,
            ["num_bad_epochs"] = NumBadEpochs,
            ["cooldown_counter"] = CooldownCounter,
            ["last_epoch"] = LastEpoch,
        };
        for (int g = 0; g < LastLearningRates.Count; g++) values["last_lr." + g.ToString(CultureInfo.InvariantCulture)] = LastLearningRates[g];
        return new SchedulerState(nameof(ReduceLROnPlateau), values);
    }

    /// <summary>Restores a state from <see cref="GetState"/>; the optimizer's learning rates are not changed (restore its state too).</summary>
    /// <exception cref="ArgumentException">The state belongs to another scheduler type or is incomplete or invalid.</exception>
    public void LoadState(SchedulerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.SchedulerType != nameof(ReduceLROnPlateau))
            throw new ArgumentException($"The state was exported by a {state.SchedulerType} and cannot be loaded into a {nameof(ReduceLROnPlateau)}.", nameof(state));
        var best = state.Get("best");
        var bad = Counter(state, "num_bad_epochs");
        var cooldown = Counter(state, "cooldown_counter");
        var epoch = Counter(state, "last_epoch");
        var lrs = new double[Optimizer.ParameterGroups.Count];
        for (int g = 0; g < lrs.Length; g++) lrs[g] = state.Get("last_lr." + g.ToString(CultureInfo.InvariantCulture));
        Best = best;
        NumBadEpochs = bad;
        CooldownCounter = cooldown;
        LastEpoch = epoch;
        LastLearningRates = lrs;
    }

    private static int Counter(SchedulerState state, string name)
    {
        var v = state.Get(name);
        if (v < 0 || v != Math.Floor(v) || v > int.MaxValue)
            throw new ArgumentException($"{name} must be a non-negative integer, not {v}.", nameof(state));
        return (int)v;
    }

    private static double RequireNonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite value ≥ 0.");
        return value;
    }
}
