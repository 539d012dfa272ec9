namespace MedVision.Torch.Nn;

/// <summary>Leaky ReLU (torch.nn.LeakyReLU).</summary>
public sealed class LeakyReLU : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public LeakyReLU(double negativeSlope = 0.01) => NegativeSlope = negativeSlope;

    /// <summary>Slope for negative inputs.</summary>
    public double NegativeSlope { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Tensor.NotNull(input).LeakyRelu(NegativeSlope);
}
