namespace MedVision.Torch.Optim;

/// <summary>
/// The 1cycle policy (Smith and Topin, "Super-Convergence"; torch.optim.lr_scheduler.OneCycleLR), counted in optimizer
/// steps: call <see cref="LearningRateScheduler.Step"/> after every optimizer step, <see cref="TotalSteps"/> times in all.
/// The learning rate rises from max_lr / div_factor to max_lr over the first <see cref="WarmupFraction"/> of the steps,
/// then anneals to max_lr / (div_factor · final_div_factor); momentum (SGD's and RMSprop's momentum, the Adam family's
/// β1) moves the opposite way, between <see cref="MaxMomentum"/> and <see cref="BaseMomentum"/>. With
/// <c>threePhase</c> the rate first returns to its start, symmetrically, and then anneals (fast.ai's variant).
/// Creating the scheduler sets every group's initial learning rate to max_lr / div_factor, as PyTorch does.
/// The values follow PyTorch's for steps 0 … total − 1; the step after the last (which a loop that steps the schedule
/// after each optimizer step reaches, and no optimizer step uses) keeps the final values, where PyTorch extrapolates
/// past the cycle — below zero with the linear strategy. Stepping further is an error.
/// </summary>
public sealed class OneCycleLR : LearningRateScheduler
{
    private readonly double[] _maxLearningRates;
    private readonly (double EndStep, int StartLr, int EndLr, double StartMomentum, double EndMomentum)[] _phases;
    private const int Initial = 0, Max = 1, Min = 2;

    /// <summary>Creates the scheduler with one maximum learning rate for every group and sets the step-0 learning rates.</summary>
    /// <inheritdoc cref="OneCycleLR(Optimizer, IEnumerable{double}, int, double, AnnealStrategy, bool, double, double, double, double, bool)"/>
    public OneCycleLR(Optimizer optimizer, double maxLearningRate, int totalSteps, double warmupFraction = 0.3,
        AnnealStrategy annealStrategy = AnnealStrategy.Cosine, bool cycleMomentum = true, double baseMomentum = 0.85,
        double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4, bool threePhase = false)
        : this(optimizer, Enumerable.Repeat(maxLearningRate, optimizer?.ParameterGroups.Count ?? 0), totalSteps, warmupFraction, annealStrategy,
            cycleMomentum, baseMomentum, maxMomentum, divFactor, finalDivFactor, threePhase)
    {
    }

    /// <summary>Creates the scheduler with a maximum learning rate per group and sets the step-0 learning rates.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled.</param>
    /// <param name="maxLearningRates">The peak learning rate of each group (PyTorch's max_lr).</param>
    /// <param name="totalSteps">Number of optimizer steps of the whole run (epochs × steps per epoch), ≥ 1.</param>
    /// <param name="warmupFraction">Fraction of the steps spent raising the learning rate (PyTorch's pct_start), in [0, 1].</param>
    /// <param name="annealStrategy">Cosine or linear movement within each phase.</param>
    /// <param name="cycleMomentum">Whether momentum is cycled inversely to the learning rate (needs SGD, RMSprop or an Adam-family optimizer).</param>
    /// <param name="baseMomentum">The momentum at the peak learning rate.</param>
    /// <param name="maxMomentum">The momentum at the start and the end.</param>
    /// <param name="divFactor">The initial learning rate is max_lr / divFactor (&gt; 0).</param>
    /// <param name="finalDivFactor">The final learning rate is the initial one / finalDivFactor (&gt; 0).</param>
    /// <param name="threePhase">Whether the rate returns to its initial value before the final annealing.</param>
    /// <exception cref="ArgumentException">The number of maximum learning rates differs from the number of groups, or momentum cycling is asked of an optimizer without momentum.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public OneCycleLR(Optimizer optimizer, IEnumerable<double> maxLearningRates, int totalSteps, double warmupFraction = 0.3,
        AnnealStrategy annealStrategy = AnnealStrategy.Cosine, bool cycleMomentum = true, double baseMomentum = 0.85,
        double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4, bool threePhase = false)
        : base(Prepare(optimizer, maxLearningRates, totalSteps, warmupFraction, annealStrategy, cycleMomentum, baseMomentum, maxMomentum, divFactor, finalDivFactor, out var maxima))
    {
        _maxLearningRates = maxima;
        TotalSteps = totalSteps;
        WarmupFraction = warmupFraction;
        AnnealStrategy = annealStrategy;
        DivFactor = divFactor;
        FinalDivFactor = finalDivFactor;
        ThreePhase = threePhase;
        CycleMomentum = cycleMomentum;
        BaseMomentum = baseMomentum;
        MaxMomentum = maxMomentum;
        // PyTorch's phases: the step each ends at (fractional), the learning rates and momenta it moves between.
        double warmupEnd = warmupFraction * totalSteps - 1;
        _phases = threePhase
            ? [(warmupEnd, Initial, Max, maxMomentum, baseMomentum), (2 * warmupFraction * totalSteps - 2, Max, Initial, baseMomentum, maxMomentum), (totalSteps - 1, Initial, Min, maxMomentum, maxMomentum)]
            : [(warmupEnd, Initial, Max, maxMomentum, baseMomentum), (totalSteps - 1, Max, Min, baseMomentum, maxMomentum)];
        Start();
    }

    /// <summary>Number of optimizer steps of the whole run.</summary>
    public int TotalSteps { get; }

    /// <summary>Fraction of the steps spent raising the learning rate (PyTorch's pct_start).</summary>
    public double WarmupFraction { get; }

    /// <summary>Cosine or linear movement within each phase.</summary>
    public AnnealStrategy AnnealStrategy { get; }

    /// <summary>The initial learning rate is max_lr / DivFactor.</summary>
    public double DivFactor { get; }

    /// <summary>The final learning rate is the initial one / FinalDivFactor.</summary>
    public double FinalDivFactor { get; }

    /// <summary>Whether the rate returns to its initial value before the final annealing.</summary>
    public bool ThreePhase { get; }

    /// <summary>Whether momentum is cycled inversely to the learning rate.</summary>
    public bool CycleMomentum { get; }

    /// <summary>The momentum at the peak learning rate.</summary>
    public double BaseMomentum { get; }

    /// <summary>The momentum at the start and the end of the cycle.</summary>
    public double MaxMomentum { get; }

    /// <summary>Each group's peak learning rate.</summary>
    public IReadOnlyList<double> MaxLearningRates => _maxLearningRates;

    // Validates every argument, then sets each group's initial learning rate to max_lr / div_factor (before the base
    // constructor reads them), so that invalid arguments leave the optimizer as it was.
    private static Optimizer Prepare(Optimizer optimizer, IEnumerable<double> maxLearningRates, int totalSteps, double warmupFraction,
        AnnealStrategy annealStrategy, bool cycleMomentum, double baseMomentum, double maxMomentum, double divFactor, double finalDivFactor, out double[] maxima)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(maxLearningRates);
        maxima = maxLearningRates.ToArray();
        if (maxima.Length != optimizer.ParameterGroups.Count)
            throw new ArgumentException($"The optimizer has {optimizer.ParameterGroups.Count} parameter groups but {maxima.Length} maximum learning rates were given.", nameof(maxLearningRates));
        foreach (var m in maxima) RequireNonNegative(m, nameof(maxLearningRates));
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        if (!(warmupFraction >= 0 && warmupFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(warmupFraction), warmupFraction, "warmupFraction must be in [0, 1].");
        if (!Enum.IsDefined(annealStrategy)) throw new ArgumentOutOfRangeException(nameof(annealStrategy), annealStrategy, "Unknown anneal strategy.");
        if (!(divFactor > 0) || !double.IsFinite(divFactor))
            throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "divFactor must be a finite value > 0.");
        if (!(finalDivFactor > 0) || !double.IsFinite(finalDivFactor))
            throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "finalDivFactor must be a finite value > 0.");
        RequireNonNegative(baseMomentum, nameof(baseMomentum));
        RequireNonNegative(maxMomentum, nameof(maxMomentum));
        if (cycleMomentum)
        {
            for (int g = 0; g < optimizer.ParameterGroups.Count; g++)
            {
                var group = optimizer.ParameterGroups[g];
                if (!SetMomentum(group, null))
                    throw new ArgumentException($"Group {g} ({group.GetType().Name}) has no momentum to cycle; create the OneCycleLR with cycleMomentum: false.", nameof(cycleMomentum));
                if (group is AdaptiveMomentParameterGroup && (baseMomentum >= 1 || maxMomentum >= 1))
                    throw new ArgumentOutOfRangeException(nameof(maxMomentum), $"Group {g} cycles β1, which must stay below 1; got base momentum {baseMomentum} and max momentum {maxMomentum}.");
                if (group is SgdParameterGroup { Nesterov: true } && (baseMomentum <= 0 || maxMomentum <= 0))
                    throw new ArgumentOutOfRangeException(nameof(baseMomentum), $"Group {g} uses Nesterov momentum, which needs a momentum > 0; got base momentum {baseMomentum} and max momentum {maxMomentum}.");
            }
        }
        for (int g = 0; g < maxima.Length; g++) optimizer.ParameterGroups[g].InitialLearningRate = maxima[g] / divFactor;
        return optimizer;
    }

    /// <inheritdoc />
    /// <remarks>For a group whose initial learning rate is <paramref name="baseLearningRate"/> (max_lr = base · div_factor).</remarks>
    public override double GetLearningRate(double baseLearningRate, int epoch) => LearningRateAt(epoch, baseLearningRate, baseLearningRate * DivFactor);

    /// <inheritdoc />
    protected override double GetLearningRate(int groupIndex, double baseLearningRate, int epoch) => LearningRateAt(epoch, baseLearningRate, _maxLearningRates[groupIndex]);

    /// <summary>The momentum at step <paramref name="step"/>: from max to base momentum while the rate rises, back while it falls.</summary>
    public double MomentumAt(int step)
    {
        var p = PhaseAt(step, out double pct);
        return Anneal(p.StartMomentum, p.EndMomentum, pct);
    }

    private double LearningRateAt(int step, double initial, double max)
    {
        var p = PhaseAt(step, out double pct);
        return Anneal(Level(p.StartLr, initial, max), Level(p.EndLr, initial, max), pct);
    }

    /// <inheritdoc />
    protected override void OnLearningRatesSet(int epoch)
    {
        if (!CycleMomentum) return;
        var momentum = MomentumAt(epoch);
        foreach (var group in Optimizer.ParameterGroups) SetMomentum(group, momentum);
    }

    /// <summary>
    /// Sets the momentum OneCycleLR cycles (SGD's and RMSprop's momentum, the Adam family's β1) to <paramref name="momentum"/>
    /// when it is given; returns whether the group has one.
    /// </summary>
    private static bool SetMomentum(ParameterGroup group, double? momentum)
    {
        switch (group)
        {
            case SgdParameterGroup sgd: if (momentum is { } m) sgd.Momentum = m; return true;
            case RmsPropParameterGroup rms: if (momentum is { } r) rms.Momentum = r; return true;
            case AdaptiveMomentParameterGroup adam: if (momentum is { } b) adam.Beta1 = b; return true;
            default: return false;
        }
    }

    private (double EndStep, int StartLr, int EndLr, double StartMomentum, double EndMomentum) PhaseAt(int step, out double pct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (step > TotalSteps)
            throw new InvalidOperationException($"OneCycleLR was stepped {step} times but was created for {TotalSteps} steps (one per optimizer step of the whole run).");
        // A training loop steps the schedule after its last optimizer step too; PyTorch then extrapolates one step past the
        // cycle (the linear strategy below zero). That rate is never used: keep the final values instead.
        if (step == TotalSteps) step = TotalSteps - 1;
        double startStep = 0;
        for (int phase = 0; phase < _phases.Length; phase++)
        {
            var p = _phases[phase];
            if (step <= p.EndStep || phase == _phases.Length - 1)
            {
                // A phase of no length (PyTorch divides by zero there) is at its end value.
                pct = p.EndStep == startStep ? 1 : (step - startStep) / (p.EndStep - startStep);
                return p;
            }
            startStep = p.EndStep;
        }
        throw new InvalidOperationException("unreachable");
    }

    private double Level(int which, double initial, double max) => which switch
    {
        Initial => initial,
        Max => max,
        _ => initial / FinalDivFactor,
    };

    private double Anneal(double start, double end, double pct)
        => AnnealStrategy == AnnealStrategy.Cosine ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;
}
