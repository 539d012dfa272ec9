namespace MedVision.Torch.Nn;

/// <summary>Log-softmax along a dimension (torch.nn.LogSoftmax).</summary>
public sealed class LogSoftmax : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public LogSoftmax(long dim) => Dim = dim;

    /// <summary>The dimension normalised.</summary>
    public long Dim { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Tensor.NotNull(input).LogSoftmax(Dim);

    /// <inheritdoc />
    protected override string ExtraRepr() => $"dim={Dim}";
}
