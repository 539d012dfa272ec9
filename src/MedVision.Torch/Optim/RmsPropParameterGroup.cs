namespace MedVision.Torch.Optim;

/// <summary>A parameter group of <see cref="RmsProp"/>: learning rate, weight decay (L2 added to the gradient), smoothing constant alpha, epsilon, momentum and the centred variant.</summary>
public sealed class RmsPropParameterGroup : ParameterGroup
{
    private double _alpha;
    private double _epsilon;
    private double _momentum;

    /// <summary>Creates a group; the arguments have torch.optim.RMSprop's meaning and defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Alpha is outside [0, 1] or another hyper-parameter is negative or not finite.</exception>
    /// <exception cref="ArgumentException">A parameter is invalid.</exception>
    public RmsPropParameterGroup(IEnumerable<Tensor> parameters, double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false)
        : base(parameters, learningRate, weightDecay)
    {
        Alpha = alpha;
        Epsilon = epsilon;
        Momentum = momentum;
        Centered = centered;
    }

    /// <summary>Smoothing constant of the running average of squared gradients, in [0, 1].</summary>
    public double Alpha
    {
        get => _alpha;
        set => _alpha = RequireAlpha(value, nameof(Alpha));
    }

    /// <summary>Term added to the denominator for numerical stability.</summary>
    public double Epsilon
    {
        get => _epsilon;
        set => _epsilon = RequireNonNegative(value, nameof(Epsilon));
    }

    /// <summary>Momentum factor (0 disables the momentum buffer).</summary>
    public double Momentum
    {
        get => _momentum;
        set => _momentum = RequireNonNegative(value, nameof(Momentum));
    }

    /// <summary>Whether the gradient is normalised by an estimate of its variance (running mean subtracted) rather than of its second moment.</summary>
    public bool Centered { get; set; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> GetHyperParameters()
        => new Dictionary<string, double>(base.GetHyperParameters())
        {
            ["alpha"] = Alpha,
            ["eps"] = Epsilon,
            ["momentum"] = Momentum,
            ["centered"] = Centered ? 1 : 0,
        };

    /// <inheritdoc />
    public override void ValidateHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        base.ValidateHyperParameters(values);
        RequireAlpha(Get(values, "alpha"), "alpha");
        RequireNonNegative(Get(values, "eps"), "eps");
        RequireNonNegative(Get(values, "momentum"), "momentum");
        GetFlag(values, "centered");
    }

    /// <inheritdoc />
    public override void SetHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        ValidateHyperParameters(values);
        base.SetHyperParameters(values);
        Alpha = values["alpha"];
        Epsilon = values["eps"];
        Momentum = values["momentum"];
        Centered = GetFlag(values, "centered");
    }

    private static double RequireAlpha(double value, string name)
    {
        if (!(value >= 0 && value <= 1)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1].");
        return value;
    }
}
