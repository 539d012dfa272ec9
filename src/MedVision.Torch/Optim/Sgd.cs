namespace MedVision.Torch.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay, following
/// torch.optim.SGD exactly. Per parameter with gradient g:
/// <code>
/// g = g + weight_decay·p                                (when weight_decay ≠ 0)
/// buf = g (first step) | momentum·buf + (1 − dampening)·g  (when momentum ≠ 0)
/// g = g + momentum·buf (Nesterov) | buf
/// p = p − lr·g
/// </code>
/// State per parameter: "momentum_buffer" (when momentum ≠ 0).
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>The name of the momentum buffer in <see cref="ParameterState"/>.</summary>
    public const string MomentumBufferName = "momentum_buffer";

    /// <summary>Creates an SGD optimizer with one parameter group; the arguments have torch.optim.SGD's meaning.</summary>
    /// <exception cref="ArgumentException">An argument is invalid (see <see cref="SgdParameterGroup"/>).</exception>
    public Sgd(IEnumerable<Tensor> parameters, double learningRate, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false)
        : this(new[] { new SgdParameterGroup(parameters, learningRate, momentum, dampening, weightDecay, nesterov) })
    {
    }

    /// <summary>Creates an SGD optimizer over several parameter groups, each with its own hyper-parameters.</summary>
    /// <exception cref="ArgumentException">There are no parameters or a parameter is in two groups.</exception>
    public Sgd(IEnumerable<SgdParameterGroup> groups) : base(groups)
    {
    }

    /// <inheritdoc />
    protected override void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state)
    {
        var g = (SgdParameterGroup)group;
        var d = gradient;
        if (g.WeightDecay != 0) d = d.Add(parameter, g.WeightDecay);
        if (g.Momentum != 0)
        {
            if (!state.TryGetTensor(MomentumBufferName, out var buffer))
            {
                buffer = d.Clone();
                state.SetTensor(MomentumBufferName, buffer);
            }
            else
            {
                buffer.MulInPlace(g.Momentum).AddInPlace(d, 1 - g.Dampening);
            }
            d = g.Nesterov ? d.Add(buffer, g.Momentum) : buffer;
        }
        parameter.AddInPlace(d, -g.LearningRate);
        state.Step++;
    }
}
