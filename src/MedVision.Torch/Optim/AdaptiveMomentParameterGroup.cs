namespace MedVision.Torch.Optim;

/// <summary>
/// Base of the parameter groups of the Adam family (<see cref="AdamParameterGroup"/>, <see cref="NAdamParameterGroup"/>,
/// <see cref="RAdamParameterGroup"/>): the decay rates of the first- and second-moment estimates and epsilon, besides
/// the learning rate and weight decay. Schedules that cycle momentum (<see cref="OneCycleLR"/>) set <see cref="Beta1"/>.
/// </summary>
public abstract class AdaptiveMomentParameterGroup : ParameterGroup
{
    private double _beta1;
    private double _beta2;
    private double _epsilon;

    /// <summary>Creates a group over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A beta is outside [0, 1) or another hyper-parameter is negative or not finite.</exception>
    /// <exception cref="ArgumentException">A parameter is invalid.</exception>
    protected AdaptiveMomentParameterGroup(IEnumerable<Tensor> parameters, double learningRate, double beta1, double beta2, double epsilon, double weightDecay)
        : base(parameters, learningRate, weightDecay)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>Decay rate of the first-moment (mean) estimate, in [0, 1).</summary>
    public double Beta1
    {
        get => _beta1;
        set => _beta1 = RequireBeta(value, nameof(Beta1));
    }

    /// <summary>Decay rate of the second-moment (uncentred variance) estimate, in [0, 1).</summary>
    public double Beta2
    {
        get => _beta2;
        set => _beta2 = RequireBeta(value, nameof(Beta2));
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
            ["beta1"] = Beta1,
            ["beta2"] = Beta2,
            ["eps"] = Epsilon,
        };

    /// <inheritdoc />
    public override void ValidateHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        base.ValidateHyperParameters(values);
        RequireBeta(Get(values, "beta1"), "beta1");
        RequireBeta(Get(values, "beta2"), "beta2");
        RequireNonNegative(Get(values, "eps"), "eps");
    }

    /// <inheritdoc />
    public override void SetHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        ValidateHyperParameters(values);
        base.SetHyperParameters(values);
        Beta1 = values["beta1"];
        Beta2 = values["beta2"];
        Epsilon = values["eps"];
    }
}
