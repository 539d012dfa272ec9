namespace MedVision.Torch.Optim;

/// <summary>A parameter group of <see cref="Sgd"/>: learning rate, weight decay (L2 added to the gradient), momentum, dampening and Nesterov.</summary>
public sealed class SgdParameterGroup : ParameterGroup
{
    private double _momentum;
    private double _dampening;
    private bool _nesterov;

    /// <summary>Creates a group; the arguments have torch.optim.SGD's meaning and defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is negative or not finite.</exception>
    /// <exception cref="ArgumentException">Nesterov momentum is requested with zero momentum or non-zero dampening, or a parameter is invalid.</exception>
    public SgdParameterGroup(IEnumerable<Tensor> parameters, double learningRate, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false)
        : base(parameters, learningRate, weightDecay)
    {
        _momentum = RequireNonNegative(momentum, nameof(momentum));
        _dampening = RequireFiniteValue(dampening, nameof(dampening));
        CheckNesterov(nesterov, momentum, dampening);
        _nesterov = nesterov;
    }

    /// <summary>Momentum factor (0 disables momentum).</summary>
    public double Momentum
    {
        get => _momentum;
        set
        {
            RequireNonNegative(value, nameof(Momentum));
            CheckNesterov(Nesterov, value, Dampening);
            _momentum = value;
        }
    }

    /// <summary>Dampening for momentum: the gradient enters the buffer with weight 1 − dampening (after the first step).</summary>
    public double Dampening
    {
        get => _dampening;
        set
        {
            RequireFiniteValue(value, nameof(Dampening));
            CheckNesterov(Nesterov, Momentum, value);
            _dampening = value;
        }
    }

    /// <summary>Whether Nesterov momentum is used (needs momentum &gt; 0 and dampening 0).</summary>
    /// <exception cref="ArgumentException">Set to true while momentum is 0 or dampening is not 0.</exception>
    public bool Nesterov
    {
        get => _nesterov;
        set
        {
            CheckNesterov(value, Momentum, Dampening);
            _nesterov = value;
        }
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> GetHyperParameters()
    {
        var d = new Dictionary<string, double>(base.GetHyperParameters())
        {
            ["momentum"] = Momentum,
            ["dampening"] = Dampening,
            ["nesterov"] = Nesterov ? 1 : 0,
        };
        return d;
    }

    /// <inheritdoc />
    public override void ValidateHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        base.ValidateHyperParameters(values);
        var momentum = RequireNonNegative(Get(values, "momentum"), "momentum");
        var dampening = RequireFiniteValue(Get(values, "dampening"), "dampening");
        CheckNesterov(GetFlag(values, "nesterov"), momentum, dampening);
    }

    /// <inheritdoc />
    public override void SetHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        ValidateHyperParameters(values);
        base.SetHyperParameters(values);
        _momentum = values["momentum"];
        _dampening = values["dampening"];
        _nesterov = GetFlag(values, "nesterov");
    }

    private static double RequireFiniteValue(double value, string name)
    {
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite.");
        return value;
    }

    private static void CheckNesterov(bool nesterov, double momentum, double dampening)
    {
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"Nesterov momentum requires a momentum > 0 and zero dampening (momentum = {momentum}, dampening = {dampening}).");
    }
}
