namespace MedVision.Torch.Nn;

/// <summary>SiLU (swish) activation, x·σ(x) (torch.nn.SiLU).</summary>
public sealed class SiLU : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.Silu(input);
}
