using MedVision.Nets.Blocks;

namespace MedVision.Nets.Models;

/// <summary>
/// Everything that defines a <see cref="Cdsf"/>. The volume size has no default and must be set; the rest default to
/// the paper: 2 classes, instance normalisation in the ISM, batch normalisation in the MDM, six residual blocks.
/// </summary>
public sealed class CdsfOptions
{
    /// <summary>(D, H, W) of the volumes, each divisible by 4 (the ISM downsamples twice) and at least 33 (the MDM pools five times), e.g. 36. Required.</summary>
    public IReadOnlyList<long>? VolumeSize { get; set; }

    /// <summary>Diagnostic classes. Default 2.</summary>
    public int NumClasses { get; set; } = 2;

    /// <summary>Normalisation in the synthesis module. Default <see cref="NormalizationKind.Instance"/>.</summary>
    public NormalizationKind SynthesisNormalization { get; set; } = NormalizationKind.Instance;

    /// <summary>Normalisation in the diagnosis module. Default <see cref="NormalizationKind.Batch"/>.</summary>
    public NormalizationKind DiagnosisNormalization { get; set; } = NormalizationKind.Batch;

    /// <summary>Residual blocks in the ISM's transfer part. Default 6.</summary>
    public int ResidualBlocks { get; set; } = 6;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        if (VolumeSize is null) throw new ArgumentException("The volume size (D, H, W) must be set.", nameof(VolumeSize));
        if (VolumeSize.Count != 3 || VolumeSize.Any(s => s < Mdm.MinimumVolumeSize || s % 4 != 0))
            throw new ArgumentException($"The volume size must be three sizes divisible by 4 and at least {Mdm.MinimumVolumeSize}, got [{string.Join(", ", VolumeSize)}].", nameof(VolumeSize));
        if (NumClasses < 2) throw new ArgumentException($"Diagnosis needs at least 2 classes, got {NumClasses}.", nameof(NumClasses));
        if (!Enum.IsDefined(SynthesisNormalization)) throw new ArgumentException($"Unknown normalisation {SynthesisNormalization}.", nameof(SynthesisNormalization));
        if (!Enum.IsDefined(DiagnosisNormalization)) throw new ArgumentException($"Unknown normalisation {DiagnosisNormalization}.", nameof(DiagnosisNormalization));
        if (ResidualBlocks < 1) throw new ArgumentException($"At least one residual block is needed, got {ResidualBlocks}.", nameof(ResidualBlocks));
    }

    /// <summary>A copy.</summary>
    public CdsfOptions Clone() => new()
    {
        VolumeSize = VolumeSize?.ToArray(),
        NumClasses = NumClasses,
        SynthesisNormalization = SynthesisNormalization,
        DiagnosisNormalization = DiagnosisNormalization,
        ResidualBlocks = ResidualBlocks,
    };
}
