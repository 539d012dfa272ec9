namespace MedVision.Torch.Nn;

/// <summary>GELU activation, x·Φ(x) with the exact normal CDF (torch.nn.GELU).</summary>
public sealed class GELU : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.Gelu(input);
}
