using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Models;


/// <summary>
/// CDSF, the collaborative diagnosis-synthesis framework (Pan et al., "Collaborative Image Synthesis and Disease
/// Diagnosis for Classification of Neurodegenerative Disorders with Incomplete Multi-modal Neuroimages", MICCAI 2021):
/// an image synthesis module <see cref="Ism"/> (<c>ism.*</c>, MRI → PET) and a multi-modal diagnosis module
/// <see cref="Mdm"/> (<c>mdm.*</c>, (MRI, PET) → class), trained together by <see cref="CdsfTrainer"/>. Subjects
/// without PET are diagnosed from (MRI, synthetic PET). The forward pass does exactly that: MRI (N, 1, D, H, W) →
/// logits (N, classes).
/// </summary>
public sealed class Cdsf : Module<Tensor, Tensor>
{
    private readonly CdsfOptions _options;

    /// <summary>Creates both modules with fresh weights.</summary>
    /// <exception cref="ArgumentException">An option cannot work; the message names it.</exception>
    public Cdsf(CdsfOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        Synthesis = RegisterModule("ism", new Ism(_options.SynthesisNormalization, _options.ResidualBlocks));
        try
        {
            Diagnosis = RegisterModule("mdm", new Mdm(_options.VolumeSize!, _options.NumClasses, _options.DiagnosisNormalization));
        }
        catch
        {
            Dispose(); // free the synthesis module already built
            throw;
        }
    }

    /// <summary>The image synthesis module (MRI → PET).</summary>
    public Ism Synthesis { get; }

    /// <summary>The multi-modal diagnosis module ((MRI, PET) → class).</summary>
    public Mdm Diagnosis { get; }

    /// <summary>A copy of the options.</summary>
    public CdsfOptions Options => _options.Clone();

    /// <summary>A fluent builder, e.g. <c>Cdsf.Builder().ForVolume(64, 64, 64).WithClasses(2).Build()</c>.</summary>
    public static CdsfBuilder Builder() => new();

    /// <summary>Stacks MRI and PET (N, 1, D, H, W) into the MDM's input (N, 2, D, H, W).</summary>
    public static Tensor Pair(Tensor mri, Tensor pet)
    {
        ArgumentNullException.ThrowIfNull(mri);
        ArgumentNullException.ThrowIfNull(pet);
        if (!mri.Shape.SequenceEqual(pet.Shape))
            throw new ArgumentException($"MRI [{string.Join(", ", mri.Shape)}] and PET [{string.Join(", ", pet.Shape)}] must have the same shape.", nameof(pet));
        return Tensors.Cat(new[] { mri, pet }, 1);
    }

    /// <summary>Synthetic PET (N, 1, D, H, W) for MRI (N, 1, D, H, W).</summary>
    public Tensor Synthesize(Tensor mri) => Synthesis.Call(mri ?? throw new ArgumentNullException(nameof(mri)));

    /// <summary>Logits (N, classes) from (MRI, synthetic PET): the diagnosis of subjects without PET.</summary>
    public override Tensor Forward(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        var syntheticPet = Synthesis.Call(input);
        var pair = Pair(input, syntheticPet);
        var logits = Diagnosis.Call(pair);
        return scope.MoveToOuter(logits);
    }

    /// <summary>
    /// Class probabilities (N, classes) for MRI (N, 1, D, H, W) and PET when it was acquired; when
    /// <paramref name="pet"/> is null (missing modality) the ISM synthesises it first.
    /// </summary>
    public Tensor Diagnose(Tensor mri, Tensor? pet = null)
    {
        ArgumentNullException.ThrowIfNull(mri);
        using var scope = Tensors.NewDisposeScope();
        var logits = pet is null ? Call(mri) : Diagnosis.Call(Pair(mri, pet));
        var probabilities = logits.Softmax(1);
        return scope.MoveToOuter(probabilities);
    }

    /// <summary>A layer-by-layer summary of the missing-PET path on zeros of an MRI shape, e.g. (1, 1, 64, 64, 64).</summary>
    public ModelSummary Summary(params long[] inputShape) => ModelSummary.Create(this, inputShape);
}
