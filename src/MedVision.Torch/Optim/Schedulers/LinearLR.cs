namespace MedVision.Torch.Optim;

/// <summary>
/// Scales each group's learning rate by a factor that moves linearly from <see cref="StartFactor"/> to
/// <see cref="EndFactor"/> over <see cref="TotalIterations"/> epochs, then stays there
/// (torch.optim.lr_scheduler.LinearLR; a linear warm-up with the defaults):
/// <code>lr(epoch) = base_lr · (start + (end − start) · min(epoch, total) / total)</code>
/// </summary>
public sealed class LinearLR : LearningRateScheduler
{
    /// <summary>Creates the scheduler and sets the epoch-0 learning rates.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled.</param>
    /// <param name="startFactor">The factor at epoch 0, in (0, 1].</param>
    /// <param name="endFactor">The factor from <paramref name="totalIterations"/> on, in [0, 1].</param>
    /// <param name="totalIterations">Number of epochs over which the factor changes, ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIterations = 5) : base(optimizer)
    {
        if (!(startFactor > 0 && startFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "startFactor must be in (0, 1].");
        if (!(endFactor >= 0 && endFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(endFactor), endFactor, "endFactor must be in [0, 1].");
        ArgumentOutOfRangeException.ThrowIfLessThan(totalIterations, 1);
        StartFactor = startFactor;
        EndFactor = endFactor;
        TotalIterations = totalIterations;
        Start();
    }

    /// <summary>The factor at epoch 0.</summary>
    public double StartFactor { get; }

    /// <summary>The factor once <see cref="TotalIterations"/> epochs have passed.</summary>
    public double EndFactor { get; }

    /// <summary>Number of epochs over which the factor changes.</summary>
    public int TotalIterations { get; }

    /// <inheritdoc />
    public override double GetLearningRate(double baseLearningRate, int epoch)
        => baseLearningRate * (StartFactor + (EndFactor - StartFactor) * Math.Min(epoch, TotalIterations) / TotalIterations);
}
