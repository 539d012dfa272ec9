namespace MedVision.Nets.Data.Synthetic;

/// <summary>
/// One synthetic subject of <see cref="PhantomGenerator"/>: an MRI-like and a PET-like volume (D, H, W) in C order,
/// both with intensities in [0, 1], and the diagnostic label (0 = healthy, 1 = lesion).
/// </summary>
/// <param name="Index">The subject's index in its generator.</param>
/// <param name="Mri">The structural volume, D·H·W values.</param>
/// <param name="Pet">The functional volume, D·H·W values.</param>
/// <param name="Size">The edge length of the cubic volumes (D = H = W).</param>
/// <param name="Label">0 (healthy) or 1 (lesion).</param>
public sealed record PhantomSubject(int Index, float[] Mri, float[] Pet, int Size, int Label);
