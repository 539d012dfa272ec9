namespace MedVision.Torch.Nn;

/// <summary>Returns its input unchanged (as a new handle to the same tensor) (torch.nn.Identity).</summary>
public sealed class Identity : Module<Tensor, Tensor>
{

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Tensor.NotNull(input).Alias();
}
