namespace MedVision.Torch.Nn;

/// <summary>Flattens dimensions startDim … endDim (torch.nn.Flatten; by default all but the batch dimension).</summary>
public sealed class Flatten : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public Flatten(long startDim = 1, long endDim = -1)
    {
        StartDim = startDim;
        EndDim = endDim;
    }

    /// <summary>First flattened dimension.</summary>
    public long StartDim { get; }
    /// <summary>Last flattened dimension.</summary>
    public long EndDim { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Tensor.NotNull(input).Flatten(StartDim, EndDim);
}
