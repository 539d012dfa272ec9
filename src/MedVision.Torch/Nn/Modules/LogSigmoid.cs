namespace MedVision.Torch.Nn;

/// <summary>log σ(x), computed stably (torch.nn.LogSigmoid).</summary>
public sealed class LogSigmoid : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.LogSigmoid(input);
}
