using MedVision.Nets.Blocks;

namespace MedVision.Nets.Models;

/// <summary>How a <see cref="UNet"/> doubles the resolution on its way up.</summary>
public enum UNetUpsampling
{
    /// <summary>A learned 2×2 (2×2×2) transposed convolution with stride 2, as in Ronneberger et al.'s U-Net.</summary>
    TransposedConvolution,
    /// <summary>A 1×1 convolution, then bilinear (trilinear) interpolation by 2 (align_corners false): no checkerboard artefacts.</summary>
    Interpolation,
}

/// <summary>
/// Everything that defines a <see cref="UNet"/>. The defaults: 2-D, 1 input channel, 2 classes, features
/// [32, 64, 128, 256, 512] (five levels, four poolings), batch normalisation, ReLU, transposed-convolution upsampling,
/// no dropout. Use <see cref="UNet.Builder"/> to set them fluently; <see cref="Validate"/> names the first bad option.
/// </summary>
public sealed class UNetOptions
{
    /// <summary>The most levels a U-Net may have (seven poolings already need inputs of at least 128 per side).</summary>
    public const int MaxLevels = 8;

    /// <summary>2 for images (N, C, H, W), 3 for volumes (N, C, D, H, W). Default 2.</summary>
    public int SpatialDims { get; set; } = 2;

    /// <summary>Input channels (1 for CT/MRI, 3 for RGB, one per modality for multi-contrast scans). Default 1.</summary>
    public int InChannels { get; set; } = 1;

    /// <summary>Output channels: one logit map per class, background included. Default 2.</summary>
    public int NumClasses { get; set; } = 2;

    /// <summary>Feature channels of each level, from full resolution down to the bottleneck (2 to <see cref="MaxLevels"/> levels). Default [32, 64, 128, 256, 512].</summary>
    public IReadOnlyList<int> Features { get; set => field = value ?? throw new ArgumentNullException(nameof(Features)); } = new[] { 32, 64, 128, 256, 512 };

    /// <summary>The normalisation after every convolution (instance normalisation with a learnable affine, as MONAI's BasicUNet). Default batch.</summary>
    public NormalizationKind Normalization { get; set; } = NormalizationKind.Batch;

    /// <summary>Negative slope of a leaky ReLU after every normalisation; null for ReLU. Default null.</summary>
    public double? LeakySlope { get; set; }

    /// <summary>How the decoder upsamples. Default <see cref="UNetUpsampling.TransposedConvolution"/>.</summary>
    public UNetUpsampling Upsampling { get; set; } = UNetUpsampling.TransposedConvolution;

    /// <summary>Dropout probability in [0, 1) on the bottleneck's features (the deepest level). Default 0.</summary>
    public double DropoutRate { get; set; }

    /// <summary>
    /// Auxiliary 1×1 convolution heads on the decoder's outputs below full resolution — at half resolution, a quarter,
    /// and so on — for deep supervision (Lee et al., 2015; nnU-Net): <see cref="UNet.ForwardWithDeepSupervision"/> gives
    /// their logits beside the full-resolution ones, and <see cref="Losses.DeepSupervisionLoss"/> (which
    /// <see cref="Training.SegmentationTrainer"/> uses for such a network) adds their losses against downsampled labels.
    /// <see cref="UNet.Forward"/> ignores them, so inference is unchanged. 0 to levels − 2. Default 0.
    /// </summary>
    public int DeepSupervisionHeads { get; set; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        if (SpatialDims is not (2 or 3)) throw new ArgumentException($"Spatial dimensions must be 2 or 3, got {SpatialDims}.", nameof(SpatialDims));
        if (InChannels is < 1 or > 65536) throw new ArgumentException($"Input channels must lie in [1, 65536], got {InChannels}.", nameof(InChannels));
        if (NumClasses is < 1 or > 65536) throw new ArgumentException($"The number of classes must lie in [1, 65536], got {NumClasses}.", nameof(NumClasses));
        if (Features is null || Features.Count is < 2 or > MaxLevels)
            throw new ArgumentException($"A U-Net needs 2 to {MaxLevels} levels of features, got {Features?.Count ?? 0}.", nameof(Features));
        if (Features.Any(f => f is < 1 or > 65536)) throw new ArgumentException($"Feature counts must lie in [1, 65536], got [{string.Join(", ", Features)}].", nameof(Features));
        if (!Enum.IsDefined(Normalization)) throw new ArgumentException($"Unknown normalisation {Normalization}.", nameof(Normalization));
        if (LeakySlope is { } slope && !(slope >= 0 && slope <= float.MaxValue))
            throw new ArgumentException($"The leaky ReLU's negative slope must be a number in [0, {float.MaxValue}] (it is applied in float32), got {slope}.", nameof(LeakySlope));
        if (!Enum.IsDefined(Upsampling)) throw new ArgumentException($"Unknown upsampling {Upsampling}.", nameof(Upsampling));
        if (DropoutRate is < 0 or >= 1 || double.IsNaN(DropoutRate)) throw new ArgumentException($"The dropout rate must lie in [0, 1), got {DropoutRate}.", nameof(DropoutRate));
        if (DeepSupervisionHeads < 0 || DeepSupervisionHeads > Features.Count - 2)
            throw new ArgumentException(
                $"A U-Net of {Features.Count} levels has {Features.Count - 2} decoder output(s) below full resolution for deep supervision heads, so 0 to {Features.Count - 2}; got {DeepSupervisionHeads}.",
                nameof(DeepSupervisionHeads));
    }

    /// <summary>A deep copy.</summary>
    public UNetOptions Clone() => new()
    {
        SpatialDims = SpatialDims,
        InChannels = InChannels,
        NumClasses = NumClasses,
        Features = Features?.ToArray()!,
        Normalization = Normalization,
        LeakySlope = LeakySlope,
        Upsampling = Upsampling,
        DropoutRate = DropoutRate,
        DeepSupervisionHeads = DeepSupervisionHeads,
    };
}
