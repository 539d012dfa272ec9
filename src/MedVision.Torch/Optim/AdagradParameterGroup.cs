namespace MedVision.Torch.Optim;

/// <summary>A parameter group of <see cref="Adagrad"/>: learning rate, weight decay (L2 added to the gradient), learning-rate decay, the accumulator's initial value and epsilon.</summary>
public sealed class AdagradParameterGroup : ParameterGroup
{
    private double _learningRateDecay;
    private double _initialAccumulatorValue;
    private double _epsilon;

    /// <summary>Creates a group; the arguments have torch.optim.Adagrad's meaning and defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is negative or not finite.</exception>
    /// <exception cref="ArgumentException">A parameter is invalid.</exception>
    public AdagradParameterGroup(IEnumerable<Tensor> parameters, double learningRate = 1e-2, double learningRateDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double epsilon = 1e-10)
        : base(parameters, learningRate, weightDecay)
    {
        LearningRateDecay = learningRateDecay;
        InitialAccumulatorValue = initialAccumulatorValue;
        Epsilon = epsilon;
    }

    /// <summary>Decay of the step size with the step count t: the step uses lr / (1 + (t − 1)·lr_decay).</summary>
    public double LearningRateDecay
    {
        get => _learningRateDecay;
        set => _learningRateDecay = RequireNonNegative(value, nameof(LearningRateDecay));
    }

    /// <summary>The value the sum of squared gradients starts from (used when a parameter's state is created).</summary>
    public double InitialAccumulatorValue
    {
        get => _initialAccumulatorValue;
        set => _initialAccumulatorValue = RequireNonNegative(value, nameof(InitialAccumulatorValue));
    }

    /// <summary>Term added to the denominator for numerical stability.</summary>
    public double Epsilon
    {
        get => _epsilon;
        set => _epsilon = RequireNonNegative(value, nameof(Epsilon));
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> GetHyperParameters()
        => new Dictionary<string, double>(base.GetHyperParameters())
        {
            ["lr_decay"] = LearningRateDecay,
            ["initial_accumulator_value"] = InitialAccumulatorValue,
            ["eps"] = Epsilon,
        };

    /// <inheritdoc />
    public override void ValidateHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        base.ValidateHyperParameters(values);
        RequireNonNegative(Get(values, "lr_decay"), "lr_decay");
        RequireNonNegative(Get(values, "initial_accumulator_value"), "initial_accumulator_value");
        RequireNonNegative(Get(values, "eps"), "eps");
    }

    /// <inheritdoc />
    public override void SetHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        ValidateHyperParameters(values);
        base.SetHyperParameters(values);
        LearningRateDecay = values["lr_decay"];
        InitialAccumulatorValue = values["initial_accumulator_value"];
        Epsilon = values["eps"];
    }
}
