namespace MedVision.Torch.Nn;

/// <summary>Hyperbolic tangent (torch.nn.Tanh).</summary>
public sealed class Tanh : Module<Tensor, Tensor>
{

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Tensor.NotNull(input).Tanh();
}
