namespace MedVision.Torch.Nn;

/// <summary>Softmax along a dimension (torch.nn.Softmax).</summary>
public sealed class Softmax : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public Softmax(long dim) => Dim = dim;

    /// <summary>The dimension normalised.</summary>
    public long Dim { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Tensor.NotNull(input).Softmax(Dim);
}
