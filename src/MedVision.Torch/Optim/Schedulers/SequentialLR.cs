namespace MedVision.Torch.Optim;

/// <summary>
/// Runs several schedules one after another (torch.optim.lr_scheduler.SequentialLR): schedule 0 until the first
/// milestone, schedule i from milestone i − 1 on, each counting its epochs from the start of its own phase. For example
/// a linear warm-up followed by a polynomial decay:
/// <code>new SequentialLR(optimizer, [new LinearLR(optimizer, 0.1, totalIterations: 5), new PolynomialLR(optimizer, 95, 0.9)], [5])</code>
/// The schedules must belong to the same optimizer; this scheduler sets the learning rates from then on (the
/// schedules' own <see cref="LearningRateScheduler.Step"/> is not called).
/// </summary>
public sealed class SequentialLR : LearningRateScheduler
{
    private readonly LearningRateScheduler[] _schedulers;
    private readonly int[] _milestones;

    /// <summary>Creates the scheduler and sets the epoch-0 learning rates.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled.</param>
    /// <param name="schedulers">The schedules, in order (at least one).</param>
    /// <param name="milestones">The epochs at which the next schedule takes over: one fewer than the schedules, increasing, ≥ 1.</param>
    /// <exception cref="ArgumentException">A schedule belongs to another optimizer, or the milestones do not fit the schedules.</exception>
    public SequentialLR(Optimizer optimizer, IEnumerable<LearningRateScheduler> schedulers, IEnumerable<int> milestones) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        ArgumentNullException.ThrowIfNull(milestones);
        _schedulers = schedulers.ToArray();
        _milestones = milestones.ToArray();
        if (_schedulers.Length == 0) throw new ArgumentException("SequentialLR needs at least one schedule.", nameof(schedulers));
        for (int i = 0; i < _schedulers.Length; i++)
        {
            if (_schedulers[i] is null) throw new ArgumentException($"Schedule {i} is null.", nameof(schedulers));
            if (!ReferenceEquals(_schedulers[i].Optimizer, optimizer))
                throw new ArgumentException($"Schedule {i} ({_schedulers[i].GetType().Name}) belongs to another optimizer than the SequentialLR's.", nameof(schedulers));
        }
        if (_milestones.Length != _schedulers.Length - 1)
            throw new ArgumentException($"{_schedulers.Length} schedules need {_schedulers.Length - 1} milestones, not {_milestones.Length}.", nameof(milestones));
        for (int i = 0; i < _milestones.Length; i++)
        {
            if (_milestones[i] < 1 || (i > 0 && _milestones[i] <= _milestones[i - 1]))
                throw new ArgumentException($"The milestones must be increasing epochs ≥ 1; got [{string.Join(", ", _milestones)}].", nameof(milestones));
        }
        Start();
    }

    /// <summary>The schedules, in order.</summary>
    public IReadOnlyList<LearningRateScheduler> Schedulers => _schedulers;

    /// <summary>The epochs at which the next schedule takes over.</summary>
    public IReadOnlyList<int> Milestones => _milestones;

    /// <summary>The schedule in charge at <paramref name="epoch"/> and the epoch within its phase.</summary>
    public (LearningRateScheduler Scheduler, int LocalEpoch) PhaseAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        int i = 0;
        while (i < _milestones.Length && epoch >= _milestones[i]) i++;
        return (_schedulers[i], i == 0 ? epoch : epoch - _milestones[i - 1]);
    }

    /// <inheritdoc />
    /// <remarks>The rule of the schedule in charge at <paramref name="epoch"/>, applied to <paramref name="baseLearningRate"/>.</remarks>
    public override double GetLearningRate(double baseLearningRate, int epoch)
    {
        var (scheduler, local) = PhaseAt(epoch);
        return scheduler.GetLearningRate(baseLearningRate, local);
    }

    /// <inheritdoc />
    protected override double GetLearningRate(int groupIndex, double baseLearningRate, int epoch)
    {
        var (scheduler, local) = PhaseAt(epoch);
        return scheduler.LearningRateOf(groupIndex, scheduler.BaseLearningRates[groupIndex], local);
    }

    /// <inheritdoc />
    protected override void OnLearningRatesSet(int epoch)
    {
        var (scheduler, local) = PhaseAt(epoch);
        scheduler.NotifyLearningRatesSet(local);
    }
}
