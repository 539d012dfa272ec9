namespace MedVision.Torch.Nn;

/// <summary>Logistic sigmoid (torch.nn.Sigmoid).</summary>
public sealed class Sigmoid : Module<Tensor, Tensor>
{

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Tensor.NotNull(input).Sigmoid();
}
