using MedVision.Nets.Blocks;

namespace MedVision.Nets.Models;

/// <summary>
/// Builds a <see cref="Cdsf"/>: <c>Cdsf.Builder().ForVolume(64, 64, 64).WithClasses(2)
/// .WithSynthesisNormalization(NormalizationKind.Instance).Build()</c>. The volume size is required; the rest default
/// to <see cref="CdsfOptions"/>. A builder cannot be used after <see cref="Build"/>.
/// </summary>
public sealed class CdsfBuilder
{
    private readonly CdsfOptions _options = new();
    private bool _built;

    internal CdsfBuilder() { }

    /// <summary>The (D, H, W) size of the MRI and PET volumes; each divisible by 4 and at least 33 (e.g. 36).</summary>
    public CdsfBuilder ForVolume(long depth, long height, long width)
    {
        EnsureUsable();
        if (new[] { depth, height, width }.Any(s => s < Mdm.MinimumVolumeSize || s % 4 != 0))
            throw new ArgumentException($"Volume sizes must be multiples of 4 and at least {Mdm.MinimumVolumeSize}, got ({depth}, {height}, {width}).", nameof(depth));
        _options.VolumeSize = new[] { depth, height, width };
        return this;
    }

    /// <summary>The number of diagnostic classes.</summary>
    public CdsfBuilder WithClasses(int numClasses)
    {
        EnsureUsable();
        if (numClasses < 2) throw new ArgumentException($"Diagnosis needs at least 2 classes, got {numClasses}.", nameof(numClasses));
        _options.NumClasses = numClasses;
        return this;
    }

    /// <summary>The normalisation of the synthesis module (instance by default).</summary>
    public CdsfBuilder WithSynthesisNormalization(NormalizationKind normalization)
    {
        EnsureUsable();
        if (!Enum.IsDefined(normalization)) throw new ArgumentException($"Unknown normalisation {normalization}.", nameof(normalization));
        _options.SynthesisNormalization = normalization;
        return this;
    }

    /// <summary>The normalisation of the diagnosis module (batch by default).</summary>
    public CdsfBuilder WithDiagnosisNormalization(NormalizationKind normalization)
    {
        EnsureUsable();
        if (!Enum.IsDefined(normalization)) throw new ArgumentException($"Unknown normalisation {normalization}.", nameof(normalization));
        _options.DiagnosisNormalization = normalization;
        return this;
    }

    /// <summary>Residual blocks in the synthesis module's transfer part (6 in the paper).</summary>
    public CdsfBuilder WithResidualBlocks(int count)
    {
        EnsureUsable();
        if (count < 1) throw new ArgumentException($"At least one residual block is needed, got {count}.", nameof(count));
        _options.ResidualBlocks = count;
        return this;
    }

    /// <summary>Creates the framework; the builder cannot be used afterwards.</summary>
    public Cdsf Build()
    {
        EnsureUsable();
        _options.Validate();
        _built = true;
        return new Cdsf(_options);
    }

    private void EnsureUsable()
    {
        if (_built) throw new InvalidOperationException("This builder has already built its model; create a new one with Builder().");
    }
}
