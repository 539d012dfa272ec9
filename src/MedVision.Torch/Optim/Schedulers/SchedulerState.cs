namespace MedVision.Torch.Optim;

/// <summary>
/// A snapshot of a learning-rate scheduler for checkpoints (PyTorch's scheduler state_dict): the scheduler type and
/// its counters and learning rates by name. Constructor settings (milestones, gamma, …) are not included: create the
/// scheduler with the same settings, then load the state.
/// </summary>
public sealed class SchedulerState
{
    /// <summary>Creates a state from its parts.</summary>
    public SchedulerState(string schedulerType, IReadOnlyDictionary<string, double> values)
    {
        ArgumentException.ThrowIfNullOrEmpty(schedulerType);
        ArgumentNullException.ThrowIfNull(values);
        SchedulerType = schedulerType;
        Values = new Dictionary<string, double>(values, StringComparer.Ordinal);
    }

    /// <summary>The scheduler class that exported the state (e.g. "StepLR").</summary>
    public string SchedulerType { get; }

    /// <summary>Counters and learning rates by name ("last_epoch", "base_lr.0", "last_lr.0", …).</summary>
    public IReadOnlyDictionary<string, double> Values { get; }

    internal double Get(string name)
        => Values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"The {SchedulerType} state has no value '{name}'.");
}
