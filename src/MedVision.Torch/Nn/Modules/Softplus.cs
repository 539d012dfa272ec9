using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>Softplus: log(1 + e^(β·x)) / β, linear where β·x exceeds the threshold (torch.nn.Softplus).</summary>
public sealed class Softplus : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> is zero, NaN or infinite, or <paramref name="threshold"/> is NaN.</exception>
    public Softplus(double beta = 1, double threshold = 20)
    {
        if (!double.IsFinite(beta) || beta == 0) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be finite and non-zero");
        if (double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be a number");
        Beta = beta;
        Threshold = threshold;
    }

    /// <summary>Sharpness β.</summary>
    public double Beta { get; }

    /// <summary>Above β·x = threshold the layer is linear.</summary>
    public double Threshold { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.Softplus(input, Beta, Threshold);

    /// <inheritdoc />
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"beta={Beta}, threshold={Threshold}");
}
