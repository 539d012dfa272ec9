namespace MedVision.Torch.Optim;

/// <summary>A parameter group of <see cref="Adam"/> and <see cref="AdamW"/>: learning rate, weight decay, betas, epsilon and AMSGrad.</summary>
public sealed class AdamParameterGroup : AdaptiveMomentParameterGroup
{
    /// <summary>Creates a group; the arguments have torch.optim.Adam's meaning and defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A beta is outside [0, 1) or another hyper-parameter is negative or not finite.</exception>
    /// <exception cref="ArgumentException">A parameter is invalid.</exception>
    public AdamParameterGroup(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0, bool amsGrad = false)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay)
    {
        AmsGrad = amsGrad;
    }

    /// <summary>Whether the AMSGrad variant (running maximum of the second moment) is used.</summary>
    public bool AmsGrad { get; set; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> GetHyperParameters()
        => new Dictionary<string, double>(base.GetHyperParameters()) { ["amsgrad"] = AmsGrad ? 1 : 0 };

    /// <inheritdoc />
    public override void ValidateHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        base.ValidateHyperParameters(values);
        GetFlag(values, "amsgrad");
    }

    /// <inheritdoc />
    public override void SetHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        ValidateHyperParameters(values);
        base.SetHyperParameters(values);
        AmsGrad = GetFlag(values, "amsgrad");
    }
}
