namespace MedVision.Torch.Optim;

/// <summary>
/// The learning-rate schedule of stochastic weight averaging (torch.optim.swa_utils.SWALR): takes each group's
/// learning rate as it is when created and anneals it to that group's SWA learning rate over
/// <see cref="AnnealEpochs"/> epochs (cosine or linear), then holds it. Create it when averaging starts and step it
/// once per epoch instead of the schedule before it (see <see cref="StochasticWeightAverage"/>). In closed form, with
/// <c>lr₀</c> the rate at creation:
/// <code>lr(epoch) = swa_lr · a + lr₀ · (1 − a),  a = anneal(min(1, epoch / anneal_epochs))</code>
/// (with no annealing epochs the SWA rate applies at once). PyTorch reaches the same values by a recurrence.
/// </summary>
public sealed class SwaLR : LearningRateScheduler
{
    private readonly double[] _swaLearningRates;

    /// <summary>Creates the scheduler with one SWA learning rate for every group.</summary>
    /// <inheritdoc cref="SwaLR(Optimizer, IEnumerable{double}, int, AnnealStrategy)"/>
    public SwaLR(Optimizer optimizer, double swaLearningRate, int annealEpochs = 10, AnnealStrategy annealStrategy = AnnealStrategy.Cosine)
        : this(optimizer, Enumerable.Repeat(swaLearningRate, optimizer?.ParameterGroups.Count ?? 0), annealEpochs, annealStrategy)
    {
    }

    /// <summary>Creates the scheduler with an SWA learning rate per group and sets the epoch-0 learning rates.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled; their current learning rates are the starting points.</param>
    /// <param name="swaLearningRates">The learning rate each group is annealed to (one per group, finite, ≥ 0).</param>
    /// <param name="annealEpochs">Epochs over which the rates move to the SWA rates, ≥ 0 (0: at once).</param>
    /// <param name="annealStrategy">Cosine (PyTorch's default) or linear movement.</param>
    /// <exception cref="ArgumentException">The number of SWA learning rates differs from the number of groups.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public SwaLR(Optimizer optimizer, IEnumerable<double> swaLearningRates, int annealEpochs = 10, AnnealStrategy annealStrategy = AnnealStrategy.Cosine)
        : base(optimizer, fromCurrentLearningRates: true)
    {
        ArgumentNullException.ThrowIfNull(swaLearningRates);
        var rates = swaLearningRates.ToArray();
        if (rates.Length != optimizer.ParameterGroups.Count)
            throw new ArgumentException($"Expected {optimizer.ParameterGroups.Count} SWA learning rates (one per parameter group), got {rates.Length}.", nameof(swaLearningRates));
        foreach (var r in rates) RequireNonNegative(r, nameof(swaLearningRates));
        ArgumentOutOfRangeException.ThrowIfNegative(annealEpochs);
        if (!Enum.IsDefined(annealStrategy)) throw new ArgumentOutOfRangeException(nameof(annealStrategy), annealStrategy, "unknown anneal strategy");
        _swaLearningRates = rates;
        AnnealEpochs = annealEpochs;
        AnnealStrategy = annealStrategy;
        Start();
    }

    /// <summary>The learning rate each group is annealed to (PyTorch's swa_lr).</summary>
    public IReadOnlyList<double> SwaLearningRates => _swaLearningRates;

    /// <summary>Epochs over which the rates move to the SWA rates.</summary>
    public int AnnealEpochs { get; }

    /// <summary>Cosine or linear movement.</summary>
    public AnnealStrategy AnnealStrategy { get; }

    /// <summary>The learning rate of the first group's schedule (see <see cref="GetLearningRate(int, double, int)"/> for the others).</summary>
    public override double GetLearningRate(double baseLearningRate, int epoch) => GetLearningRate(0, baseLearningRate, epoch);

    /// <inheritdoc />
    protected override double GetLearningRate(int groupIndex, double baseLearningRate, int epoch)
    {
        int step = AnnealEpochs == 0 ? Math.Max(1, epoch) : epoch;
        double t = Math.Clamp((double)step / Math.Max(1, AnnealEpochs), 0, 1);
        double a = AnnealStrategy == AnnealStrategy.Cosine ? (1 - Math.Cos(Math.PI * t)) / 2 : t;
        return _swaLearningRates[groupIndex] * a + baseLearningRate * (1 - a);
    }
}
