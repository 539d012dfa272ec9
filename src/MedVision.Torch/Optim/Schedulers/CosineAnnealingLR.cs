namespace MedVision.Torch.Optim;

/// <summary>
/// Cosine annealing (torch.optim.lr_scheduler.CosineAnnealingLR) with an optional linear warm-up before it.
/// Without warm-up (<see cref="WarmupEpochs"/> = 0) this is PyTorch's closed form:
/// <code>lr(e) = eta_min + (base_lr − eta_min)·(1 + cos(π·e / T_max)) / 2</code>
/// With W warm-up epochs, the learning rate first rises linearly (as torch's LinearLR with start_factor s and
/// total_iters W), then anneals over the next T_max epochs (as SequentialLR of LinearLR and CosineAnnealingLR):
/// <code>
/// lr(e) = base_lr·(s + (1 − s)·e / W)                                        for e &lt; W
/// lr(e) = eta_min + (base_lr − eta_min)·(1 + cos(π·(e − W) / T_max)) / 2      for e ≥ W
/// </code>
/// Past the end of the schedule the cosine continues periodically, as in PyTorch.
/// </summary>
public sealed class CosineAnnealingLR : LearningRateScheduler
{
    /// <summary>Creates the scheduler and sets the epoch-0 learning rates.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled.</param>
    /// <param name="tMax">Length of the cosine phase in epochs (PyTorch's T_max), ≥ 1.</param>
    /// <param name="etaMin">Minimum learning rate (PyTorch's eta_min), ≥ 0.</param>
    /// <param name="warmupEpochs">Number of linear warm-up epochs before the cosine phase, ≥ 0.</param>
    /// <param name="warmupStartFactor">Fraction of the base learning rate at epoch 0 of the warm-up, in (0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0, int warmupEpochs = 0, double warmupStartFactor = 1.0 / 3)
        : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tMax, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupEpochs);
        if (!(warmupStartFactor > 0 && warmupStartFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(warmupStartFactor), warmupStartFactor, "warmupStartFactor must be in (0, 1].");
        TMax = tMax;
        EtaMin = RequireNonNegative(etaMin, nameof(etaMin));
        WarmupEpochs = warmupEpochs;
        WarmupStartFactor = warmupStartFactor;
        Start();
    }

    /// <summary>Length of the cosine phase in epochs.</summary>
    public int TMax { get; }

    /// <summary>Minimum learning rate.</summary>
    public double EtaMin { get; }

    /// <summary>Number of linear warm-up epochs.</summary>
    public int WarmupEpochs { get; }

    /// <summary>Fraction of the base learning rate at the first warm-up epoch.</summary>
    public double WarmupStartFactor { get; }

    /// <inheritdoc />
    public override double GetLearningRate(double baseLearningRate, int epoch)
    {
        if (epoch < WarmupEpochs)
            return baseLearningRate * (WarmupStartFactor + (1 - WarmupStartFactor) * epoch / WarmupEpochs);
        var t = epoch - WarmupEpochs;
        return EtaMin + (baseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * t / TMax)) / 2;
    }
}
