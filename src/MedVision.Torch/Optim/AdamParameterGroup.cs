namespace MedVision.Torch.Optim;

/// <summary>A parameter group of <see cref="Adam"/> and <see cref="AdamW"/>: learning rate, weight decay, betas, epsilon and AMSGrad.</summary>
public sealed class AdamParameterGroup : ParameterGroup
{
    private double _beta1;
    private double _beta2;
    private double _epsilon;

    /// <summary>Creates a group; the arguments have torch.optim.Adam's meaning and defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A beta is outside [0, 1) or another hyper-parameter is negative or not finite.</exception>
    /// <exception cref="ArgumentException">A parameter is invalid.</exception>
    public AdamParameterGroup(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0, bool amsGrad = false)
        : base(parameters, learningRate, weightDecay)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        AmsGrad = amsGrad;
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

    /// <summary>Whether the AMSGrad variant (running maximum of the second moment) is used.</summary>
    public bool AmsGrad { get; set; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> GetHyperParameters()
    {
        var d = new Dictionary<string, double>(base.GetHyperParameters())
        {
            ["beta1"] = Beta1,
            ["beta2"] = Beta2,
            ["eps"] = Epsilon,
            ["amsgrad"] = AmsGrad ? 1 : 0,
        };
        return d;
    }

    /// <inheritdoc />
    public override void ValidateHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        base.ValidateHyperParameters(values);
        RequireBeta(Get(values, "beta1"), "beta1");
        RequireBeta(Get(values, "beta2"), "beta2");
        RequireNonNegative(Get(values, "eps"), "eps");
        GetFlag(values, "amsgrad");
    }

    /// <inheritdoc />
    public override void SetHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        ValidateHyperParameters(values);
        base.SetHyperParameters(values);
        Beta1 = values["beta1"];
        Beta2 = values["beta2"];
        Epsilon = values["eps"];
        AmsGrad = GetFlag(values, "amsgrad");
    }

    private static double RequireBeta(double value, string name)
    {
        if (!(value >= 0 && value < 1)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1).");
        return value;
    }
}
