namespace MedVision.Torch.Optim;

/// <summary>
/// Decays each group's learning rate by <see cref="Gamma"/> every epoch (torch.optim.lr_scheduler.ExponentialLR):
/// <c>lr(epoch) = base_lr · gamma^epoch</c>.
/// </summary>
public sealed class ExponentialLR : LearningRateScheduler
{
    /// <summary>Creates the scheduler and sets the epoch-0 learning rates.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> is negative or not finite.</exception>
    public ExponentialLR(Optimizer optimizer, double gamma) : base(optimizer)
    {
        Gamma = RequireNonNegative(gamma, nameof(gamma));
        Start();
    }

    /// <summary>Multiplicative decay factor per epoch.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override double GetLearningRate(double baseLearningRate, int epoch) => baseLearningRate * Math.Pow(Gamma, epoch);
}
