namespace MedVision.Torch.Optim;

/// <summary>
/// Decays each group's learning rate polynomially to zero over <see cref="TotalIterations"/> epochs
/// (torch.optim.lr_scheduler.PolynomialLR; the "poly" schedule of segmentation networks):
/// <code>lr(epoch) = base_lr · (1 − min(epoch, total) / total)^power</code>
/// </summary>
public sealed class PolynomialLR : LearningRateScheduler
{
    /// <summary>Creates the scheduler and sets the epoch-0 learning rates.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled.</param>
    /// <param name="totalIterations">Number of epochs until the learning rate reaches zero, ≥ 1.</param>
    /// <param name="power">The polynomial's power, ≥ 0 (1: linear decay; 0.9 is common for segmentation).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public PolynomialLR(Optimizer optimizer, int totalIterations = 5, double power = 1.0) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalIterations, 1);
        TotalIterations = totalIterations;
        Power = RequireNonNegative(power, nameof(power));
        Start();
    }

    /// <summary>Number of epochs until the learning rate reaches zero.</summary>
    public int TotalIterations { get; }

    /// <summary>The polynomial's power.</summary>
    public double Power { get; }

    /// <inheritdoc />
    public override double GetLearningRate(double baseLearningRate, int epoch)
        => baseLearningRate * Math.Pow(1.0 - (double)Math.Min(epoch, TotalIterations) / TotalIterations, Power);
}
