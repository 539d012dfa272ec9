namespace MedVision.Torch.Optim;

/// <summary>
/// NAdam (Dozat, "Incorporating Nesterov Momentum into Adam") with PyTorch's momentum schedule, following the
/// single-tensor implementation of torch.optim.NAdam exactly. Per parameter at step t with gradient g:
/// <code>
/// g = g + weight_decay·p                         (when weight_decay ≠ 0)
/// μt = β1·(1 − 0.5·0.96^(t·ψ));  μt+1 likewise   (ψ: momentum_decay)
/// Πt = Πt−1·μt                                   (the product of the μ, kept as state)
/// m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
/// d = √(v / (1 − β2^t)) + eps
/// p = p − lr·(1 − μt)/(1 − Πt) · g/d − lr·μt+1/(1 − Πt·μt+1) · m/d
/// </code>
/// State per parameter: the step count, "exp_avg", "exp_avg_sq" and "mu_product" (a float64 scalar on the CPU; PyTorch
/// keeps it in the default dtype).
/// </summary>
public sealed class NAdam : Optimizer
{
    /// <summary>The name of the running product of the momentum schedule in <see cref="ParameterState"/>.</summary>
    public const string MuProductName = "mu_product";

    /// <summary>Creates an NAdam optimizer with one parameter group; the arguments have torch.optim.NAdam's meaning and defaults.</summary>
    /// <exception cref="ArgumentException">An argument is invalid (see <see cref="NAdamParameterGroup"/>).</exception>
    public NAdam(IEnumerable<Tensor> parameters, double learningRate = 2e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3)
        : this(new[] { new NAdamParameterGroup(parameters, learningRate, beta1, beta2, epsilon, weightDecay, momentumDecay) })
    {
    }

    /// <summary>Creates an NAdam optimizer over several parameter groups, each with its own hyper-parameters.</summary>
    /// <exception cref="ArgumentException">There are no parameters or a parameter is in two groups.</exception>
    public NAdam(IEnumerable<NAdamParameterGroup> groups) : base(groups)
    {
    }

    /// <inheritdoc />
    protected override void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state)
    {
        var g = (NAdamParameterGroup)group;
        var expAvg = state.GetOrAddZeros(Adam.ExpAvgName, parameter);
        var expAvgSq = state.GetOrAddZeros(Adam.ExpAvgSqName, parameter);
        if (!state.TryGetTensor(MuProductName, out var muProductTensor))
        {
            muProductTensor = Tensors.Scalar(1.0, ScalarType.Float64);
            state.SetTensor(MuProductName, muProductTensor);
        }
        state.Step++;
        double step = state.Step;
        var biasCorrection2 = 1 - Math.Pow(g.Beta2, step);
        var grad = g.WeightDecay != 0 ? gradient.Add(parameter, g.WeightDecay) : gradient;

        var mu = g.Beta1 * (1.0 - 0.5 * Math.Pow(0.96, step * g.MomentumDecay));
        var muNext = g.Beta1 * (1.0 - 0.5 * Math.Pow(0.96, (step + 1) * g.MomentumDecay));
        var muProduct = muProductTensor.Item<double>() * mu;
        muProductTensor.FillInPlace(muProduct);
        var muProductNext = muProduct * mu * muNext;

        expAvg.MulInPlace(g.Beta1).AddInPlace(grad, 1 - g.Beta1);
        expAvgSq.MulInPlace(g.Beta2).AddcmulInPlace(grad, grad, 1 - g.Beta2);
        var denom = (expAvgSq / biasCorrection2).SqrtInPlace().AddInPlace(g.Epsilon);
        parameter.AddcdivInPlace(grad, denom, -g.LearningRate * (1.0 - mu) / (1.0 - muProduct));
        parameter.AddcdivInPlace(expAvg, denom, -g.LearningRate * muNext / (1.0 - muProductNext));
    }
}
