namespace MedVision.Torch.Optim;

/// <summary>
/// Adam (Kingma and Ba) with L2 weight decay added to the gradient and the optional AMSGrad variant, following the
/// single-tensor implementation of torch.optim.Adam exactly. Per parameter at step t with gradient g:
/// <code>
/// g = g + weight_decay·p                       (when weight_decay ≠ 0)
/// m = β1·m + (1 − β1)·g
/// v = β2·v + (1 − β2)·g²
/// v̂max = max(v̂max, v)                          (AMSGrad; then v̂max replaces v below)
/// step_size = lr / (1 − β1^t)
/// denom = √v / √(1 − β2^t) + eps
/// p = p − step_size · m / denom
/// </code>
/// State per parameter: the step count, "exp_avg", "exp_avg_sq" and, with AMSGrad, "max_exp_avg_sq".
/// </summary>
public class Adam : Optimizer
{
    /// <summary>The name of the first-moment estimate in <see cref="ParameterState"/>.</summary>
    public const string ExpAvgName = "exp_avg";

    /// <summary>The name of the second-moment estimate in <see cref="ParameterState"/>.</summary>
    public const string ExpAvgSqName = "exp_avg_sq";

    /// <summary>The name of AMSGrad's running maximum of the second moment in <see cref="ParameterState"/>.</summary>
    public const string MaxExpAvgSqName = "max_exp_avg_sq";

    /// <summary>Creates an Adam optimizer with one parameter group; the arguments have torch.optim.Adam's meaning and defaults.</summary>
    /// <exception cref="ArgumentException">An argument is invalid (see <see cref="AdamParameterGroup"/>).</exception>
    public Adam(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0, bool amsGrad = false)
        : this(new[] { new AdamParameterGroup(parameters, learningRate, beta1, beta2, epsilon, weightDecay, amsGrad) })
    {
    }

    /// <summary>Creates an Adam optimizer over several parameter groups, each with its own hyper-parameters.</summary>
    /// <exception cref="ArgumentException">There are no parameters or a parameter is in two groups.</exception>
    public Adam(IEnumerable<AdamParameterGroup> groups) : base(groups)
    {
    }

    /// <summary>True when weight decay is decoupled from the gradient (AdamW) rather than added to it as an L2 term.</summary>
    protected virtual bool DecoupledWeightDecay => false;

    /// <inheritdoc />
    protected sealed override void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state)
    {
        var g = (AdamParameterGroup)group;
        var expAvg = state.GetOrAddZeros(ExpAvgName, parameter);
        var expAvgSq = state.GetOrAddZeros(ExpAvgSqName, parameter);
        state.Step++;
        var step = state.Step;

        var grad = gradient;
        if (g.WeightDecay != 0)
        {
            if (DecoupledWeightDecay) parameter.MulInPlace(1 - g.LearningRate * g.WeightDecay);
            else grad = grad.Add(parameter, g.WeightDecay);
        }

        expAvg.MulInPlace(g.Beta1).AddInPlace(grad, 1 - g.Beta1);
        expAvgSq.MulInPlace(g.Beta2).AddcmulInPlace(grad, grad, 1 - g.Beta2);

        var biasCorrection1 = 1 - Math.Pow(g.Beta1, step);
        var biasCorrection2 = 1 - Math.Pow(g.Beta2, step);
        var stepSize = g.LearningRate / biasCorrection1;
        var biasCorrection2Sqrt = Math.Sqrt(biasCorrection2);

        var second = expAvgSq;
        if (g.AmsGrad)
        {
            var maxExpAvgSq = state.GetOrAddZeros(MaxExpAvgSqName, parameter);
            maxExpAvgSq.MaximumInPlace(expAvgSq);
            second = maxExpAvgSq;
        }
        var denom = (second.Sqrt() / biasCorrection2Sqrt).AddInPlace(g.Epsilon);
        parameter.AddcdivInPlace(expAvg, denom, -stepSize);
    }
}
