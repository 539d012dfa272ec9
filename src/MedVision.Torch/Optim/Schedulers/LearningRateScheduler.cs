using System.Globalization;

namespace MedVision.Torch.Optim;

/// <summary>
/// Base of the epoch-based learning-rate schedulers (torch.optim.lr_scheduler._LRScheduler) whose learning rate is a
/// closed-form function of the epoch and each group's initial learning rate
/// (<see cref="ParameterGroup.InitialLearningRate"/>). Creating a scheduler sets the epoch-0 learning rates (like
/// PyTorch's constructor); call <see cref="Step"/> once per epoch, after the optimizer's steps — or, for schedules
/// counted in optimizer steps such as <see cref="OneCycleLR"/>, after every optimizer step ("epoch" then means step).
/// Closed forms make the learning rate at any epoch independent of how it was reached, so a restored state
/// (<see cref="LoadState"/>) continues exactly.
/// </summary>
public abstract class LearningRateScheduler
{
    private double[] _baseLearningRates;
    private double[] _lastLearningRates;

    /// <summary>Creates a scheduler for every parameter group of <paramref name="optimizer"/>.</summary>
    protected LearningRateScheduler(Optimizer optimizer) : this(optimizer, fromCurrentLearningRates: false)
    {
    }

    /// <summary>
    /// Creates a scheduler whose base learning rates are each group's initial learning rate or, when
    /// <paramref name="fromCurrentLearningRates"/>, its current one (for schedules that take over from another, such as
    /// <see cref="SwaLR"/>).
    /// </summary>
    protected LearningRateScheduler(Optimizer optimizer, bool fromCurrentLearningRates)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        _baseLearningRates = optimizer.ParameterGroups.Select(g => fromCurrentLearningRates ? g.LearningRate : g.InitialLearningRate).ToArray();
        _lastLearningRates = optimizer.ParameterGroups.Select(g => g.LearningRate).ToArray();
    }

    /// <summary>The optimizer whose learning rates are set.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Each group's initial learning rate, the base the schedule scales.</summary>
    public IReadOnlyList<double> BaseLearningRates => _baseLearningRates;

    /// <summary>The learning rates set by the latest step (PyTorch's get_last_lr()).</summary>
    public IReadOnlyList<double> LastLearningRates => _lastLearningRates;

    /// <summary>The number of the current epoch (0 after construction).</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The learning rate of a group with base learning rate <paramref name="baseLearningRate"/> at <paramref name="epoch"/> (≥ 0).</summary>
    public abstract double GetLearningRate(double baseLearningRate, int epoch);

    /// <summary>
    /// The learning rate of group <paramref name="groupIndex"/> at <paramref name="epoch"/>; by default
    /// <see cref="GetLearningRate(double, int)"/> of its base learning rate. Schedules with per-group settings override it.
    /// </summary>
    protected virtual double GetLearningRate(int groupIndex, double baseLearningRate, int epoch) => GetLearningRate(baseLearningRate, epoch);

    /// <summary>Called after the learning rates of <paramref name="epoch"/> were set (schedules that also set momentum override it).</summary>
    protected virtual void OnLearningRatesSet(int epoch)
    {
    }

    // For schedules made of other schedules (SequentialLR), which may not call the protected members of another instance.
    internal double LearningRateOf(int groupIndex, double baseLearningRate, int epoch) => GetLearningRate(groupIndex, baseLearningRate, epoch);

    internal void NotifyLearningRatesSet(int epoch) => OnLearningRatesSet(epoch);

    /// <summary>Sets the epoch-0 learning rates; derived constructors call it once their settings are stored.</summary>
    protected void Start() => Apply(0);

    /// <summary>Advances one epoch and sets every group's learning rate.</summary>
    public void Step() => Apply(checked(LastEpoch + 1));

    /// <summary>Moves to <paramref name="epoch"/> and sets every group's learning rate (for schedules stepped to a given epoch).</summary>
    private protected void StepTo(int epoch) => Apply(epoch);

    /// <summary>Adds a schedule's own counters to the exported state.</summary>
    private protected virtual void WriteState(Dictionary<string, double> values)
    {
    }

    /// <summary>Reads a schedule's own counters from a state being loaded (already checked to be of this type).</summary>
    private protected virtual void ReadState(SchedulerState state)
    {
    }

    private void Apply(int epoch)
    {
        var lrs = new double[_baseLearningRates.Length];
        for (int g = 0; g < lrs.Length; g++) lrs[g] = GetLearningRate(g, _baseLearningRates[g], epoch);
        for (int g = 0; g < lrs.Length; g++) Optimizer.ParameterGroups[g].LearningRate = lrs[g];
        LastEpoch = epoch;
        _lastLearningRates = lrs;
        OnLearningRatesSet(epoch);
    }

    /// <summary>Exports the epoch, base and last learning rates.</summary>
    public SchedulerState GetState()
    {
        var values = new Dictionary<string, double> { ["last_epoch"] = LastEpoch };
        for (int g = 0; g < _baseLearningRates.Length; g++)
        {
            values["base_lr." + g.ToString(CultureInfo.InvariantCulture)] = _baseLearningRates[g];
            values["last_lr." + g.ToString(CultureInfo.InvariantCulture)] = _lastLearningRates[g];
        }
        WriteState(values);
        return new SchedulerState(GetType().Name, values);
    }

    /// <summary>
    /// Restores a state from <see cref="GetState"/>. Like PyTorch, the optimizer's learning rates are not changed:
    /// restore the optimizer's own state too (<see cref="Optimizer.LoadState"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The state belongs to another scheduler type, another number of groups, or is incomplete.</exception>
    public void LoadState(SchedulerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.SchedulerType != GetType().Name)
            throw new ArgumentException($"The state was exported by a {state.SchedulerType} and cannot be loaded into a {GetType().Name}.", nameof(state));
        int groups = _baseLearningRates.Length;
        if (state.Values.ContainsKey("base_lr." + groups.ToString(CultureInfo.InvariantCulture)))
            throw new ArgumentException($"The state has more than the optimizer's {groups} parameter groups.", nameof(state));
        var epoch = state.Get("last_epoch");
        if (epoch < 0 || epoch != Math.Floor(epoch) || epoch > int.MaxValue)
            throw new ArgumentException($"last_epoch must be a non-negative integer, not {epoch}.", nameof(state));
        var bases = new double[groups];
        var lasts = new double[groups];
        for (int g = 0; g < groups; g++)
        {
            bases[g] = state.Get("base_lr." + g.ToString(CultureInfo.InvariantCulture));
            lasts[g] = state.Get("last_lr." + g.ToString(CultureInfo.InvariantCulture));
        }
        ReadState(state);
        LastEpoch = (int)epoch;
        _baseLearningRates = bases;
        _lastLearningRates = lasts;
    }

    /// <summary>Throws when <paramref name="value"/> is negative or not finite.</summary>
    protected static double RequireNonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite value ≥ 0.");
        return value;
    }
}
