namespace MedVision.Torch.Optim;

/// <summary>A parameter group of <see cref="RAdam"/>: learning rate, weight decay (L2 added to the gradient), betas and epsilon.</summary>
public sealed class RAdamParameterGroup : AdaptiveMomentParameterGroup
{
    /// <summary>Creates a group; the arguments have torch.optim.RAdam's meaning and defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A beta is outside [0, 1) or another hyper-parameter is negative or not finite.</exception>
    /// <exception cref="ArgumentException">A parameter is invalid.</exception>
    public RAdamParameterGroup(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay)
    {
    }
}
