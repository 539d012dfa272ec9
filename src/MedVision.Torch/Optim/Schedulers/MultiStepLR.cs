namespace MedVision.Torch.Optim;

/// <summary>
/// Decays each group's learning rate by <see cref="Gamma"/> at each milestone epoch
/// (torch.optim.lr_scheduler.MultiStepLR): <c>lr(epoch) = base_lr · gamma^(number of milestones ≤ epoch)</c>.
/// A milestone given twice counts twice, as in PyTorch.
/// </summary>
public sealed class MultiStepLR : LearningRateScheduler
{
    private readonly int[] _milestones;

    /// <summary>Creates the scheduler and sets the epoch-0 learning rates.</summary>
    /// <exception cref="ArgumentException">There are no milestones or a milestone is below 1.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> is negative or not finite.</exception>
    public MultiStepLR(Optimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        _milestones = milestones.Order().ToArray();
        if (_milestones.Length == 0) throw new ArgumentException("MultiStepLR needs at least one milestone.", nameof(milestones));
        if (_milestones[0] < 1) throw new ArgumentException($"Milestones must be epochs ≥ 1, got {_milestones[0]}.", nameof(milestones));
        Gamma = RequireNonNegative(gamma, nameof(gamma));
        Start();
    }

    /// <summary>The milestone epochs, sorted.</summary>
    public IReadOnlyList<int> Milestones => _milestones;

    /// <summary>Multiplicative decay factor.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override double GetLearningRate(double baseLearningRate, int epoch)
        => baseLearningRate * Math.Pow(Gamma, _milestones.Count(m => m <= epoch));
}
