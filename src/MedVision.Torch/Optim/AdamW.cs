namespace MedVision.Torch.Optim;

/// <summary>
/// AdamW (Loshchilov and Hutter): Adam with decoupled weight decay, following torch.optim.AdamW exactly. Each step
/// first shrinks the parameter, <c>p = p·(1 − lr·weight_decay)</c>, then applies the <see cref="Adam"/> update
/// without any L2 term. The default weight decay is 1e-2.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates an AdamW optimizer with one parameter group; the arguments have torch.optim.AdamW's meaning and defaults.</summary>
    /// <exception cref="ArgumentException">An argument is invalid (see <see cref="AdamParameterGroup"/>).</exception>
    public AdamW(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 1e-2, bool amsGrad = false)
        : base(new[] { new AdamParameterGroup(parameters, learningRate, beta1, beta2, epsilon, weightDecay, amsGrad) })
    {
    }

    /// <summary>Creates an AdamW optimizer over several parameter groups (give each group its weight decay, e.g. 1e-2).</summary>
    /// <exception cref="ArgumentException">There are no parameters or a parameter is in two groups.</exception>
    public AdamW(IEnumerable<AdamParameterGroup> groups) : base(groups)
    {
    }

    /// <inheritdoc />
    protected override bool DecoupledWeightDecay => true;
}
