namespace MedVision.Torch.Optim;

/// <summary>
/// Cosine annealing with warm restarts, SGDR (Loshchilov and Hutter; torch.optim.lr_scheduler.CosineAnnealingWarmRestarts):
/// the learning rate anneals from the base to <see cref="EtaMin"/> over a cycle of T_i epochs, then restarts; the first
/// cycle lasts T_0 epochs and each next one T_mult times longer.
/// <code>lr(epoch) = eta_min + (base_lr − eta_min)·(1 + cos(π·T_cur / T_i)) / 2</code>
/// with T_cur the epochs since the latest restart. Step it once per epoch with <see cref="LearningRateScheduler.Step()"/>,
/// or after every batch with <see cref="Step(double)"/> and a fractional epoch (PyTorch's
/// <c>scheduler.step(epoch + i / iters)</c>); a plain <see cref="LearningRateScheduler.Step()"/> after a fractional step
/// moves one epoch on from there, as PyTorch's <c>step()</c> does.
/// </summary>
/// <remarks>
/// PyTorch finds the cycle of a fractional epoch with a logarithm when T_mult &gt; 1, which can round below a restart
/// (T_0 = 1, T_mult = 3, epoch 121: PyTorch gives eta_min, the end of the previous cycle); this class counts the cycles
/// exactly and gives the restart's base learning rate there. Elsewhere the two agree to rounding.
/// </remarks>
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

    // The fractional part of the current epoch (PyTorch's T_cur carries it); LastEpoch is its integer part.
    private double _fraction;

    /// <summary>Length of the first cycle in epochs.</summary>
    public int T0 { get; }

    /// <summary>Growth factor of the cycle length after each restart.</summary>
    public int TMult { get; }

    /// <summary>Minimum learning rate.</summary>
    public double EtaMin { get; }

    /// <summary>The epochs since the latest restart (T_cur) and the length of the current cycle (T_i) at <paramref name="epoch"/>.</summary>
    public (long SinceRestart, long CycleLength) CycleAt(int epoch)
    {
        var (current, length) = CycleAt((double)epoch); // exact: whole epochs stay whole in double arithmetic
        return ((long)current, length);
    }

    /// <summary>
    /// The epochs since the latest restart (T_cur, fractional) and the length of the current cycle (T_i) at a
    /// fractional <paramref name="epoch"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative, not finite, or beyond <see cref="int.MaxValue"/>.</exception>
    public (double SinceRestart, long CycleLength) CycleAt(double epoch)
    {
        RequireEpoch(epoch);
        if (TMult == 1) return (epoch % T0, T0);
        double current = epoch;
        long length = T0;
        while (current >= length)
        {
            current -= length;
            length *= TMult;
        }
        return (current, length);
    }

    /// <inheritdoc />
    public override double GetLearningRate(double baseLearningRate, int epoch) => GetLearningRate(baseLearningRate, (double)epoch);

    /// <summary>The learning rate of a group with base learning rate <paramref name="baseLearningRate"/> at a fractional <paramref name="epoch"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative, not finite, or beyond <see cref="int.MaxValue"/>.</exception>
    public double GetLearningRate(double baseLearningRate, double epoch)
    {
        var (current, length) = CycleAt(epoch);
        return EtaMin + (baseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * current / length)) / 2;
    }

    /// <summary>
    /// Moves to a fractional <paramref name="epoch"/> and sets every group's learning rate — PyTorch's
    /// <c>scheduler.step(epoch)</c>, called after every batch as <c>Step(epoch + batch / (double)batchesPerEpoch)</c>.
    /// <see cref="LearningRateScheduler.LastEpoch"/> becomes its integer part. Epochs may go back (PyTorch allows it).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative, not finite, or beyond <see cref="int.MaxValue"/>.</exception>
    public void Step(double epoch)
    {
        RequireEpoch(epoch);
        double whole = Math.Floor(epoch);
        _fraction = epoch - whole;
        StepTo((int)whole);
    }

    /// <inheritdoc />
    protected override double GetLearningRate(int groupIndex, double baseLearningRate, int epoch)
        => GetLearningRate(baseLearningRate, epoch + _fraction);

    private protected override void WriteState(Dictionary<string, double> values) => values["epoch_fraction"] = _fraction;

    private protected override void ReadState(SchedulerState state)
    {
        // States written before fractional epochs were offered have no fraction: the epoch was whole.
        double fraction = state.Values.TryGetValue("epoch_fraction", out var f) ? f : 0;
        if (!(fraction >= 0 && fraction < 1))
            throw new ArgumentException($"epoch_fraction must be in [0, 1), not {fraction}.", nameof(state));
        _fraction = fraction;
    }

    private static void RequireEpoch(double epoch)
    {
        if (!double.IsFinite(epoch) || epoch < 0 || epoch >= (double)int.MaxValue + 1)
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "The epoch must be a finite value in [0, int.MaxValue].");
    }
}
