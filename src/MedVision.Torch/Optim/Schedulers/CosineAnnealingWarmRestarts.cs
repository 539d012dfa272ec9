namespace MedVision.Torch.Optim;

/// <summary>
/// Cosine annealing with warm restarts, SGDR (Loshchilov and Hutter; torch.optim.lr_scheduler.CosineAnnealingWarmRestarts):
/// the learning rate anneals from the base to <see cref="EtaMin"/> over a cycle of T_i epochs, then restarts; the first
/// cycle lasts T_0 epochs and each next one T_mult times longer.
/// <code>lr(epoch) = eta_min + (base_lr − eta_min)·(1 + cos(π·T_cur / T_i)) / 2</code>
/// with T_cur the epochs since the latest restart. Stepped once per epoch as here, it gives PyTorch's values for
/// integer epochs (PyTorch's fractional <c>step(epoch + i / iters)</c> is not offered).
/// </summary>
public sealed class CosineAnnealingWarmRestarts : LearningRateScheduler
{
    /// <summary>Creates the scheduler and sets the epoch-0 learning rates.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled.</param>
    /// <param name="t0">Length of the first cycle in epochs (PyTorch's T_0), ≥ 1.</param>
    /// <param name="tMult">Growth factor of the cycle length after each restart (PyTorch's T_mult), ≥ 1.</param>
    /// <param name="etaMin">Minimum learning rate (PyTorch's eta_min), ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public CosineAnnealingWarmRestarts(Optimizer optimizer, int t0, int tMult = 1, double etaMin = 0) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(t0, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tMult, 1);
        T0 = t0;
        TMult = tMult;
        EtaMin = RequireNonNegative(etaMin, nameof(etaMin));
        Start();
    }

    /// <summary>Length of the first cycle in epochs.</summary>
    public int T0 { get; }

    /// <summary>Growth factor of the cycle length after each restart.</summary>
    public int TMult { get; }

    /// <summary>Minimum learning rate.</summary>
    public double EtaMin { get; }

    /// <summary>The epochs since the latest restart (T_cur) and the length of the current cycle (T_i) at <paramref name="epoch"/>.</summary>
    public (long SinceRestart, long CycleLength) CycleAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        long current = epoch, length = T0;
        if (TMult == 1) return (current % length, length);
        while (current >= length)
        {
            current -= length;
            length *= TMult;
        }
        return (current, length);
    }

    /// <inheritdoc />
    public override double GetLearningRate(double baseLearningRate, int epoch)
    {
        var (current, length) = CycleAt(epoch);
        return EtaMin + (baseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * current / length)) / 2;
    }
}
