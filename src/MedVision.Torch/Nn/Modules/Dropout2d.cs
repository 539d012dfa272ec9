namespace MedVision.Torch.Nn;

/// <summary>
/// Channel dropout for (N, C, H, W) inputs: in training mode, zeroes whole channels with probability p
/// and scales the others by 1 / (1 − p) (torch.nn.Dropout2d).
/// </summary>
public sealed class Dropout2d : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public Dropout2d(double p = 0.5)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must lie in [0, 1]");
        P = p;
    }

    /// <summary>Probability of zeroing a channel.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Dim != 4)
            throw new ArgumentException($"Dropout2d expects a 4-D input (N, C, H, W), got shape [{string.Join(", ", input.Shape)}].", nameof(input));
        return Functional.FeatureDropout(input, P, Training);
    }

    /// <inheritdoc />
    protected override string ExtraRepr() => System.FormattableString.Invariant($"p={P}");
}
