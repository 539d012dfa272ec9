namespace MedVision.Torch.Nn;

/// <summary>Rectified linear unit, max(x, 0) (torch.nn.ReLU).</summary>
public sealed class ReLU : Module<Tensor, Tensor>
{

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => input.Relu();
}
