namespace MedVision.Torch.Optim;

/// <summary>
/// Decays each group's learning rate by <see cref="Gamma"/> every <see cref="StepSize"/> epochs
/// (torch.optim.lr_scheduler.StepLR): <c>lr(epoch) = base_lr · gamma^⌊epoch / step_size⌋</c>.
/// </summary>
public sealed class StepLR : LearningRateScheduler
{
    /// <summary>Creates the scheduler and sets the epoch-0 learning rates.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stepSize"/> is below 1 or <paramref name="gamma"/> is negative or not finite.</exception>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        StepSize = stepSize;
        Gamma = RequireNonNegative(gamma, nameof(gamma));
        Start();
    }

    /// <summary>Period of the decay, in epochs.</summary>
    public int StepSize { get; }

    /// <summary>Multiplicative decay factor.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override double GetLearningRate(double baseLearningRate, int epoch) => baseLearningRate * Math.Pow(Gamma, epoch / StepSize);
}
