using MedVision.Torch;

namespace MedVision.Nets.Explainability;

/// <summary>The maps <see cref="GradCam"/> or <see cref="OcclusionSensitivity"/> made for a batch, and the classes they explain.</summary>
/// <param name="Maps">
/// (N, 1, H, W) or (N, 1, D, H, W) float32 on the input's device, registered in the current dispose scope. From
/// <see cref="GradCam"/>: at the input's size unless resizing was turned off, each sample scaled to [0, 1] unless
/// normalisation was turned off. From <see cref="OcclusionSensitivity"/>: the mean drop in the class's probability.
/// </param>
/// <param name="TargetClasses">The class each sample's map explains (the predicted class unless chosen).</param>
/// <param name="Scores">Each sample's score for its target class: the logit (Grad-CAM) or the probability (occlusion).</param>
public sealed record ClassActivationMaps(Tensor Maps, IReadOnlyList<long> TargetClasses, IReadOnlyList<float> Scores) : IDisposable
{
    /// <summary>(N, 1, H, W) or (N, 1, D, H, W) float32 on the input's device, registered in the current dispose scope. From <see cref="GradCam"/>: at the input's size unless resizing was turned off, each sample scaled to [0, 1] unless normalisation was turned off. From <see cref="OcclusionSensitivity"/>: the mean drop in the class's probability.</summary>
    public Tensor Maps { get; init; } = Maps ?? throw new ArgumentNullException(nameof(Maps));

    /// <summary>The class each sample's map explains (the predicted class unless chosen).</summary>
    public IReadOnlyList<long> TargetClasses { get; init; } = TargetClasses ?? throw new ArgumentNullException(nameof(TargetClasses));

    /// <summary>Each sample's score for its target class: the logit (Grad-CAM) or the probability (occlusion).</summary>
    public IReadOnlyList<float> Scores { get; init; } = Scores ?? throw new ArgumentNullException(nameof(Scores));

    /// <summary>Number of samples.</summary>
    public int Count => TargetClasses.Count;

    /// <summary>The map of one sample copied to the CPU, row-major over (H, W) or (D, H, W).</summary>
    public float[] ToArray(int sample)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sample);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sample, Count);
        using var scope = Tensors.NewDisposeScope();
        return Maps.Select(0, sample).To(ScalarType.Float32, Device.Cpu).Contiguous().ToArray<float>();
    }

    /// <summary>Frees <see cref="Maps"/>.</summary>
    public void Dispose() => Maps.Dispose();
}
