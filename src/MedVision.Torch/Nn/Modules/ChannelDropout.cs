namespace MedVision.Torch.Nn;

/// <summary>
/// Channel dropout (the common code of <see cref="Dropout2d"/> and <see cref="Dropout3d"/>): in training mode, zeroes
/// whole channels with probability p and scales the others by 1 / (1 − p).
/// </summary>
public abstract class ChannelDropout : Module<Tensor, Tensor>
{
    private readonly int _spatialDims;

    private protected ChannelDropout(double p, int spatialDims)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must lie in [0, 1]");
        P = p;
        _spatialDims = spatialDims;
    }

    /// <summary>Probability of zeroing a channel.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Dim != _spatialDims + 2)
            throw new ArgumentException($"{TypeName} expects a {_spatialDims + 2}-D input {(_spatialDims == 2 ? "(N, C, H, W)" : "(N, C, D, H, W)")}, got shape [{string.Join(", ", input.Shape)}].", nameof(input));
        return Functional.FeatureDropout(input, P, Training);
    }

    /// <inheritdoc />
    protected override string ExtraRepr() => FormattableString.Invariant($"p={P}");
}
