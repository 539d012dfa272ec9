namespace MedVision.Torch.Optim;

/// <summary>A parameter group of <see cref="NAdam"/>: learning rate, weight decay (L2 added to the gradient), betas, epsilon and momentum decay.</summary>
public sealed class NAdamParameterGroup : AdaptiveMomentParameterGroup
{
    private double _momentumDecay;

    /// <summary>Creates a group; the arguments have torch.optim.NAdam's meaning and defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A beta is outside [0, 1) or another hyper-parameter is negative or not finite.</exception>
    /// <exception cref="ArgumentException">A parameter is invalid.</exception>
    public NAdamParameterGroup(IEnumerable<Tensor> parameters, double learningRate = 2e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay)
    {
        MomentumDecay = momentumDecay;
    }

    /// <summary>How fast the momentum schedule μ_t = β1·(1 − 0.5·0.96^(t·momentum_decay)) approaches β1.</summary>
    public double MomentumDecay
    {
        get => _momentumDecay;
        set => _momentumDecay = RequireNonNegative(value, nameof(MomentumDecay));
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> GetHyperParameters()
        => new Dictionary<string, double>(base.GetHyperParameters()) { ["momentum_decay"] = MomentumDecay };

    /// <inheritdoc />
    public override void ValidateHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        base.ValidateHyperParameters(values);
        RequireNonNegative(Get(values, "momentum_decay"), "momentum_decay");
    }

    /// <inheritdoc />
    public override void SetHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        ValidateHyperParameters(values);
        base.SetHyperParameters(values);
        MomentumDecay = values["momentum_decay"];
    }
}
