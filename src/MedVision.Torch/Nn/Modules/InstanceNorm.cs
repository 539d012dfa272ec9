using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// Instance normalisation (common code of InstanceNorm2d/3d): per-sample, per-channel statistics. As in PyTorch, no
/// learnable scale and shift and no running statistics unless asked for (see <see cref="NormBase"/>).
/// </summary>
public class InstanceNorm : NormBase
{
    private readonly int _spatialDims;

    /// <summary>Creates the layer.</summary>
    public InstanceNorm(int spatialDims, long numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false)
        : base(numFeatures, eps, momentum, affine, trackRunningStats)
    {
        if (spatialDims is < 1 or > 3)
        {
            Dispose(); // the base constructor registered the tensors
            throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "spatialDims must be 1, 2 or 3");
        }
        _spatialDims = spatialDims;
        Momentum = momentum;
    }

    /// <summary>Running-statistics momentum.</summary>
    public double Momentum { get; }

    /// <inheritdoc />
    public override string TypeName => $"InstanceNorm{_spatialDims}d";

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        CheckInput(input, _spatialDims + 2);
        return Functional.InstanceNorm(input, RunningMean, RunningVar, Weight, Bias, Training || !TrackRunningStats, Momentum, Eps);
    }

    /// <inheritdoc />
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"{NumFeatures}, eps={Eps}, affine={Affine}, track_running_stats={TrackRunningStats}");
}
