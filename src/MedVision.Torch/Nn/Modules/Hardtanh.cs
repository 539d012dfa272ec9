using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>Hardtanh: the input clamped to [min, max] (torch.nn.Hardtanh).</summary>
public sealed class Hardtanh : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException"><paramref name="minValue"/> exceeds <paramref name="maxValue"/> or either is NaN.</exception>
    public Hardtanh(double minValue = -1, double maxValue = 1)
    {
        if (!(minValue <= maxValue)) throw new ArgumentException($"minValue ({minValue}) must not exceed maxValue ({maxValue}).", nameof(minValue));
        MinValue = minValue;
        MaxValue = maxValue;
    }

    /// <summary>Lower bound.</summary>
    public double MinValue { get; }

    /// <summary>Upper bound.</summary>
    public double MaxValue { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.Hardtanh(input, MinValue, MaxValue);

    /// <inheritdoc />
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"min_val={MinValue}, max_val={MaxValue}");
}
