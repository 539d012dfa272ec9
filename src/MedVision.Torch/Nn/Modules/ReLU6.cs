namespace MedVision.Torch.Nn;

/// <summary>ReLU6: min(max(0, x), 6) (torch.nn.ReLU6).</summary>
public sealed class ReLU6 : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.Relu6(input);
}
