using MedVision.Nets.Blocks;

namespace MedVision.Nets.Models;

/// <summary>
/// Builds a <see cref="UNet"/> in sentences: <c>UNet.Builder().ForInput(channels: 1, spatialDims: 3)
/// .WithFeatures(16, 32, 64, 128).WithInstanceNorm().WithClasses(3).Build()</c>. Every option is checked when it is
/// set and again in <see cref="Build"/>; a builder cannot be used after <see cref="Build"/>. Defaults are those of
/// <see cref="UNetOptions"/>.
/// </summary>
public sealed class UNetBuilder
{
    private readonly UNetOptions _options = new();
    private bool _built;
    private int? _deepSupervisionHeads; // -1: nnU-Net's choice, made in Build when the levels are known

    internal UNetBuilder() { }

    /// <summary>The input: channels (1 for CT/MRI, one per modality) and spatial dimensions (2 for (N, C, H, W), 3 for (N, C, D, H, W)).</summary>
    public UNetBuilder ForInput(int channels, int spatialDims = 2)
    {
        EnsureUsable();
        if (channels < 1) throw new ArgumentException($"Input channels must be positive, got {channels}.", nameof(channels));
        if (spatialDims is not (2 or 3)) throw new ArgumentException($"Spatial dimensions must be 2 or 3, got {spatialDims}.", nameof(spatialDims));
        _options.InChannels = channels;
        _options.SpatialDims = spatialDims;
        return this;
    }

    /// <summary>The number of classes, background included: the network outputs one logit map per class.</summary>
    public UNetBuilder WithClasses(int numClasses)
    {
        EnsureUsable();
        if (numClasses < 1) throw new ArgumentException($"The number of classes must be positive, got {numClasses}.", nameof(numClasses));
        _options.NumClasses = numClasses;
        return this;
    }

    /// <summary>Feature channels of each level, full resolution first; n levels pool n − 1 times, so inputs must be multiples of 2^(n − 1).</summary>
    public UNetBuilder WithFeatures(params int[] features)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(features);
        if (features.Length is < 2 or > UNetOptions.MaxLevels)
            throw new ArgumentException($"A U-Net needs 2 to {UNetOptions.MaxLevels} levels of features, got {features.Length}.", nameof(features));
        if (features.Any(f => f is < 1 or > 65536)) throw new ArgumentException($"Feature counts must lie in [1, 65536], got [{string.Join(", ", features)}].", nameof(features));
        _options.Features = features.ToArray();
        return this;
    }

    /// <summary>Doubling features from a base over <paramref name="levels"/> levels: 32 and 5 give 32, 64, 128, 256, 512.</summary>
    public UNetBuilder WithBaseFeatures(int baseFeatures, int levels = 5)
    {
        EnsureUsable();
        if (baseFeatures < 1) throw new ArgumentException($"The base feature count must be positive, got {baseFeatures}.", nameof(baseFeatures));
        if (levels is < 2 or > UNetOptions.MaxLevels) throw new ArgumentException($"A U-Net needs 2 to {UNetOptions.MaxLevels} levels, got {levels}.", nameof(levels));
        if ((long)baseFeatures << (levels - 1) > 65536)
            throw new ArgumentException($"{baseFeatures} features doubled over {levels} levels exceed 65536.", nameof(baseFeatures));
        return WithFeatures(Enumerable.Range(0, levels).Select(i => baseFeatures << i).ToArray());
    }

    /// <summary>Batch normalisation after every convolution (the default).</summary>
    public UNetBuilder WithBatchNorm() => WithNormalization(NormalizationKind.Batch);

    /// <summary>Instance normalisation with a learnable affine after every convolution (for small batches of volumes).</summary>
    public UNetBuilder WithInstanceNorm() => WithNormalization(NormalizationKind.Instance);

    /// <summary>The normalisation after every convolution.</summary>
    public UNetBuilder WithNormalization(NormalizationKind kind)
    {
        EnsureUsable();
        if (!Enum.IsDefined(kind)) throw new ArgumentException($"Unknown normalisation {kind}.", nameof(kind));
        _options.Normalization = kind;
        return this;
    }

    /// <summary>Leaky ReLU activations with the given negative slope (MONAI's BasicUNet uses 0.1) instead of ReLU.</summary>
    public UNetBuilder WithLeakyReLU(double negativeSlope = 0.01)
    {
        EnsureUsable();
        if (double.IsNaN(negativeSlope) || double.IsInfinity(negativeSlope) || negativeSlope < 0)
            throw new ArgumentException($"The negative slope must be a finite number ≥ 0, got {negativeSlope}.", nameof(negativeSlope));
        _options.LeakySlope = negativeSlope;
        return this;
    }

    /// <summary>How the decoder upsamples (learned transposed convolutions by default).</summary>
    public UNetBuilder WithUpsampling(UNetUpsampling upsampling)
    {
        EnsureUsable();
        if (!Enum.IsDefined(upsampling)) throw new ArgumentException($"Unknown upsampling {upsampling}.", nameof(upsampling));
        _options.Upsampling = upsampling;
        return this;
    }

    /// <summary>Dropout with probability <paramref name="rate"/> in [0, 1) on the bottleneck's features.</summary>
    public UNetBuilder WithDropout(double rate)
    {
        EnsureUsable();
        if (rate is < 0 or >= 1 || double.IsNaN(rate)) throw new ArgumentException($"The dropout rate must lie in [0, 1), got {rate}.", nameof(rate));
        _options.DropoutRate = rate;
        return this;
    }

    /// <summary>
    /// Deep supervision heads (<see cref="UNetOptions.DeepSupervisionHeads"/>) on the decoder's outputs at half, quarter…
    /// resolution. Without <paramref name="heads"/>, nnU-Net's choice: every decoder output below full resolution but the
    /// coarsest (which nnU-Net computes and weights 0), and at least one — 2 heads for five levels, 3 for six.
    /// </summary>
    /// <param name="heads">The number of heads, 1 to levels − 2; null for nnU-Net's choice.</param>
    public UNetBuilder WithDeepSupervision(int? heads = null)
    {
        EnsureUsable();
        if (heads is < 1) throw new ArgumentException($"Deep supervision needs at least one head, got {heads}.", nameof(heads));
        _deepSupervisionHeads = heads ?? -1;
        return this;
    }

    /// <summary>Creates the network; the builder cannot be used afterwards.</summary>
    /// <exception cref="ArgumentException">An option does not fit the others (e.g. deep supervision on a U-Net of two levels); the message names it.</exception>
    public UNet Build()
    {
        EnsureUsable();
        if (_deepSupervisionHeads is int heads)
        {
            int levels = _options.Features.Count;
            if (levels < 3) throw new ArgumentException($"Deep supervision needs a decoder output below full resolution, so at least three levels; this U-Net has {levels}.");
            _options.DeepSupervisionHeads = heads == -1 ? Math.Max(1, levels - 3) : heads;
        }
        _options.Validate();
        _built = true;
        return new UNet(_options);
    }

    private void EnsureUsable()
    {
        if (_built) throw new InvalidOperationException("This builder has already built its U-Net; start a new one with UNet.Builder().");
    }
}
