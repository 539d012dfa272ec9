namespace MedVision.Torch.Optim;

/// <summary>
/// Adagrad (Duchi, Hazan and Singer), following the single-tensor, dense-gradient implementation of
/// torch.optim.Adagrad exactly. Per parameter at step t with gradient g:
/// <code>
/// g = g + weight_decay·p                  (when weight_decay ≠ 0)
/// clr = lr / (1 + (t − 1)·lr_decay)
/// s = s + g²                              (s starts at initial_accumulator_value)
/// p = p − clr · g / (√s + eps)
/// </code>
/// State per parameter: the step count and "sum".
/// </summary>
public sealed class Adagrad : Optimizer
{
    /// <summary>The name of the sum of squared gradients in <see cref="ParameterState"/>.</summary>
    public const string SumName = "sum";

    /// <summary>Creates an Adagrad optimizer with one parameter group; the arguments have torch.optim.Adagrad's meaning and defaults.</summary>
    /// <exception cref="ArgumentException">An argument is invalid (see <see cref="AdagradParameterGroup"/>).</exception>
    public Adagrad(IEnumerable<Tensor> parameters, double learningRate = 1e-2, double learningRateDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double epsilon = 1e-10)
        : this(new[] { new AdagradParameterGroup(parameters, learningRate, learningRateDecay, weightDecay, initialAccumulatorValue, epsilon) })
    {
    }

    /// <summary>Creates an Adagrad optimizer over several parameter groups, each with its own hyper-parameters.</summary>
    /// <exception cref="ArgumentException">There are no parameters or a parameter is in two groups.</exception>
    public Adagrad(IEnumerable<AdagradParameterGroup> groups) : base(groups)
    {
    }

    /// <inheritdoc />
    protected override void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state)
    {
        var g = (AdagradParameterGroup)group;
        if (!state.TryGetTensor(SumName, out var sum))
        {
            sum = Tensors.FullLike(parameter, g.InitialAccumulatorValue);
            state.SetTensor(SumName, sum);
        }
        state.Step++;
        var grad = g.WeightDecay != 0 ? gradient.Add(parameter, g.WeightDecay) : gradient;
        var clr = g.LearningRate / (1 + (state.Step - 1) * g.LearningRateDecay);
        sum.AddcmulInPlace(grad, grad, 1);
        var std = sum.Sqrt().AddInPlace(g.Epsilon);
        parameter.AddcdivInPlace(grad, std, -clr);
    }
}
