using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>Instance normalisation (common code of InstanceNorm2d/3d): per-sample, per-channel statistics.</summary>
public class InstanceNorm : Module<Tensor, Tensor>
{
    private readonly int _spatialDims;

    /// <summary>Creates the layer.</summary>
    public InstanceNorm(int spatialDims, long numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false)
    {
        if (spatialDims is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(spatialDims));
        ArgumentOutOfRangeException.ThrowIfLessThan(numFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eps);
        if (momentum is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must lie in [0, 1]");
        _spatialDims = spatialDims;
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        RegisterParameter("weight", affine ? Tensors.Ones(new[] { numFeatures }) : null);
        RegisterParameter("bias", affine ? Tensors.Zeros(new[] { numFeatures }) : null);
        if (trackRunningStats)
        {
            RegisterBuffer("running_mean", Tensors.Zeros(new[] { numFeatures }));
            RegisterBuffer("running_var", Tensors.Ones(new[] { numFeatures }));
            RegisterBuffer("num_batches_tracked", Tensors.Zeros(Array.Empty<long>(), ScalarType.Int64));
        }
    }

    /// <summary>Channels.</summary>
    public long NumFeatures { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Running-statistics momentum.</summary>
    public double Momentum { get; }
    /// <summary>Learnable scale and shift.</summary>
    public bool Affine { get; }
    /// <summary>Whether running statistics are kept.</summary>
    public bool TrackRunningStats { get; }

    /// <inheritdoc />
    public override string TypeName => $"InstanceNorm{_spatialDims}d";

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Dim != _spatialDims + 2)
            throw new ArgumentException($"{TypeName} expects a {_spatialDims + 2}-D input, got shape [{string.Join(", ", input.CachedShape)}].", nameof(input));
        if (input.Size(1) != NumFeatures)
            throw new ArgumentException($"{TypeName}({NumFeatures}) got an input with {input.Size(1)} channels.", nameof(input));
        Tensor? rm = TrackRunningStats ? GetBuffer("running_mean") : null;
        Tensor? rv = TrackRunningStats ? GetBuffer("running_var") : null;
        return Functional.InstanceNorm(input, rm, rv, GetParameter("weight"), GetParameter("bias"), Training || !TrackRunningStats, Momentum, Eps);
    }

    /// <inheritdoc />
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"{NumFeatures}, eps={Eps}, affine={Affine}, track_running_stats={TrackRunningStats}");
}
