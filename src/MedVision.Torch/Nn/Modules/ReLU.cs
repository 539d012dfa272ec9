namespace MedVision.Torch.Nn;

/// <summary>Rectified linear unit, max(x, 0) (torch.nn.ReLU).</summary>
public sealed class ReLU : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inPlace">
    /// Overwrite the input and return it (torch.nn.ReLU(inplace=True)), saving an allocation and a pass over memory.
    /// Use it only where nothing else needs the input afterwards, e.g. right after batch norm.
    /// </param>
    public ReLU(bool inPlace = false) => InPlace = inPlace;

    /// <summary>True when the input is overwritten.</summary>
    public bool InPlace { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return InPlace ? input.ReluInPlace() : input.Relu();
    }

    /// <inheritdoc />
    protected override string ExtraRepr() => InPlace ? "inplace=True" : "";
}
