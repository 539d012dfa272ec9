namespace MedVision.Torch.Optim;

/// <summary>
/// RMSprop (Hinton's lecture notes; the centred variant of Graves), following the single-tensor implementation of
/// torch.optim.RMSprop exactly. Per parameter with gradient g:
/// <code>
/// g = g + weight_decay·p                     (when weight_decay ≠ 0)
/// v = α·v + (1 − α)·g²
/// ḡ = α·ḡ + (1 − α)·g;  avg = √max(v − ḡ², 0) + eps   (centred; PyTorch omits the max and gives NaN when rounding makes v − ḡ² negative)
/// avg = √v + eps                              (otherwise)
/// b = momentum·b + g / avg;  p = p − lr·b      (momentum &gt; 0)
/// p = p − lr·g / avg                          (otherwise)
/// </code>
/// State per parameter: the step count, "square_avg" and, when used, "momentum_buffer" and "grad_avg".
/// </summary>
public sealed class RmsProp : Optimizer
{
    /// <summary>The name of the running average of squared gradients in <see cref="ParameterState"/>.</summary>
    public const string SquareAvgName = "square_avg";

    /// <summary>The name of the momentum buffer in <see cref="ParameterState"/>.</summary>
    public const string MomentumBufferName = "momentum_buffer";

    /// <summary>The name of the centred variant's running average of gradients in <see cref="ParameterState"/>.</summary>
    public const string GradAvgName = "grad_avg";

    /// <summary>Creates an RMSprop optimizer with one parameter group; the arguments have torch.optim.RMSprop's meaning and defaults.</summary>
    /// <exception cref="ArgumentException">An argument is invalid (see <see cref="RmsPropParameterGroup"/>).</exception>
    public RmsProp(IEnumerable<Tensor> parameters, double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false)
        : this(new[] { new RmsPropParameterGroup(parameters, learningRate, alpha, epsilon, weightDecay, momentum, centered) })
    {
    }

    /// <summary>Creates an RMSprop optimizer over several parameter groups, each with its own hyper-parameters.</summary>
    /// <exception cref="ArgumentException">There are no parameters or a parameter is in two groups.</exception>
    public RmsProp(IEnumerable<RmsPropParameterGroup> groups) : base(groups)
    {
    }

    /// <inheritdoc />
    protected override void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state)
    {
        var g = (RmsPropParameterGroup)group;
        var squareAvg = state.GetOrAddZeros(SquareAvgName, parameter);
        state.Step++;

        var grad = g.WeightDecay != 0 ? gradient.Add(parameter, g.WeightDecay) : gradient;
        squareAvg.MulInPlace(g.Alpha).AddcmulInPlace(grad, grad, 1 - g.Alpha);

        Tensor avg;
        if (g.Centered)
        {
            var gradAvg = state.GetOrAddZeros(GradAvgName, parameter);
            gradAvg.MulInPlace(g.Alpha).AddInPlace(grad, 1 - g.Alpha);
            // v − ḡ² ≥ 0 in exact arithmetic, but rounding can take it just below zero when the gradient barely varies
            // (with α = 0 it is g² − g², computed with a fused multiply-add); PyTorch's square root then gives NaN and
            // spoils the parameter. Clamping at zero changes nothing else.
            avg = squareAvg.Clone().AddcmulInPlace(gradAvg, gradAvg, -1).ClampInPlace(min: 0).SqrtInPlace();
        }
        else
        {
            avg = squareAvg.Sqrt();
        }
        avg.AddInPlace(g.Epsilon);

        if (g.Momentum > 0)
        {
            var buffer = state.GetOrAddZeros(MomentumBufferName, parameter);
            buffer.MulInPlace(g.Momentum).AddcdivInPlace(grad, avg, 1);
            parameter.AddInPlace(buffer, -g.LearningRate);
        }
        else
        {
            parameter.AddcdivInPlace(grad, avg, -g.LearningRate);
        }
    }
}
