using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>ELU activation: x for x &gt; 0, α·(eˣ − 1) otherwise (torch.nn.ELU).</summary>
public sealed class ELU : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is NaN or infinite.</exception>
    public ELU(double alpha = 1.0)
    {
        if (!double.IsFinite(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be finite");
        Alpha = alpha;
    }

    /// <summary>Scale of the negative part.</summary>
    public double Alpha { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.Elu(input, Alpha);

    /// <inheritdoc />
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"alpha={Alpha}");
}
