namespace MedVision.Torch.Optim;

/// <summary>
/// Scales each group's learning rate by a factor computed by a function of the epoch
/// (torch.optim.lr_scheduler.LambdaLR): <c>lr(epoch) = base_lr · factor(epoch)</c>. The function must be pure (the same
/// epoch always gives the same factor), so that a restored state continues the schedule.
/// </summary>
public sealed class LambdaLR : LearningRateScheduler
{
    private readonly Func<int, double> _factor;

    /// <summary>Creates the scheduler and sets the epoch-0 learning rates.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled.</param>
    /// <param name="factor">The factor at each epoch; must return a finite value ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">The factor of epoch 0 is negative or not finite.</exception>
    public LambdaLR(Optimizer optimizer, Func<int, double> factor) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(factor);
        _factor = factor;
        Start();
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The factor function returned a negative or non-finite value.</exception>
    public override double GetLearningRate(double baseLearningRate, int epoch)
    {
        var f = _factor(epoch);
        if (!double.IsFinite(f) || f < 0)
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"The LambdaLR factor function returned {f} for epoch {epoch}; a factor must be a finite value ≥ 0.");
        return baseLearningRate * f;
    }
}
