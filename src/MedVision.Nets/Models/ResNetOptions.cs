using MedVision.Nets.Blocks;

namespace MedVision.Nets.Models;

/// <summary>
/// Everything that defines a <see cref="ResNet"/>. The defaults are torchvision's resnet18: basic blocks [2, 2, 2, 2],
/// widths [64, 128, 256, 512], 3 input channels, 2-D, ImageNet stem, 1000 classes. Use <see cref="ResNet.Builder"/>
/// to set them fluently; <see cref="Validate"/> names the first bad option.
/// </summary>
public sealed class ResNetOptions
{
    /// <summary>The residual block of every stage. Default <see cref="ResidualBlockKind.Basic"/>.</summary>
    public ResidualBlockKind Block { get; set; } = ResidualBlockKind.Basic;

    /// <summary>
    /// The most blocks a stage may have: far more than any published ResNet (ResNet-152 has 36 in a stage, the CIFAR
    /// ResNet-1202 200); a larger count is a mistake that would otherwise build for minutes or run out of memory.
    /// </summary>
    public const int MaxBlocksPerStage = 1000;

    /// <summary>Blocks per stage (1 to <see cref="MaxBlocksPerStage"/>); the stages are named layer1, layer2, …. Default [2, 2, 2, 2] (ResNet-18).</summary>
    public IReadOnlyList<int> Layers { get; set => field = value ?? throw new ArgumentNullException(nameof(Layers)); } = new[] { 2, 2, 2, 2 };

    /// <summary>Planes (base width) of each stage, one per entry of <see cref="Layers"/>; the stem has Widths[0] channels. Default [64, 128, 256, 512].</summary>
    public IReadOnlyList<int> Widths { get; set => field = value ?? throw new ArgumentNullException(nameof(Widths)); } = new[] { 64, 128, 256, 512 };

    /// <summary>Input channels (3 for RGB, 1 for grey-scale or CT/MRI). Default 3.</summary>
    public int InChannels { get; set; } = 3;

    /// <summary>2 for images (N, C, H, W), 3 for volumes (N, C, D, H, W). Default 2.</summary>
    public int SpatialDims { get; set; } = 2;

    /// <summary>The stem. Default <see cref="ResNetStem.ImageNet"/>.</summary>
    public ResNetStem Stem { get; set; } = ResNetStem.ImageNet;

    /// <summary>
    /// Kernel size of the stem convolution, one per spatial dimension (MONAI's <c>conv1_t_size</c>), e.g. [7, 7, 3] for
    /// volumes with thick slices; null for the stem's own (7 for <see cref="ResNetStem.ImageNet"/>, 3 for
    /// <see cref="ResNetStem.SmallInput"/>). The padding is half the kernel size along each dimension. Default null.
    /// </summary>
    public IReadOnlyList<int>? StemKernelSize { get; set; }

    /// <summary>
    /// Stride of the stem convolution, one per spatial dimension (MONAI's <c>conv1_t_stride</c>), e.g. [2, 2, 1] to keep
    /// the slice count; null for the stem's own (2 for <see cref="ResNetStem.ImageNet"/>, 1 for
    /// <see cref="ResNetStem.SmallInput"/>). Default null.
    /// </summary>
    public IReadOnlyList<int>? StemStride { get; set; }

    /// <summary>
    /// torchvision's <c>replace_stride_with_dilation</c>: one flag per stage after the first (layer2, layer3, …); a set
    /// flag keeps that stage at the resolution of the one before and dilates its 3×3 convolutions instead (×2 per
    /// replaced stride; the stage's first block keeps the dilation before it, as in torchvision). [false, true, true]
    /// gives a network of output stride 8 (DeepLab's backbone; finer class-activation maps). Bottleneck blocks only.
    /// Null (the default) replaces nothing.
    /// </summary>
    public IReadOnlyList<bool>? ReplaceStrideWithDilation { get; set; }

    /// <summary>
    /// The stride of each stage's first block, one per stage (1 to 4); null for torchvision's [1, 2, 2, …]. MedicalNet's
    /// 3-D ResNets use [1, 2, 1, 1]. Cannot be combined with <see cref="ReplaceStrideWithDilation"/>. Default null.
    /// </summary>
    public IReadOnlyList<int>? StageStrides { get; set; }

    /// <summary>
    /// The dilation of every 3×3 convolution of each stage, one per stage (1 to 16), the stage's first block included;
    /// null for none. MedicalNet's 3-D ResNets use [1, 1, 2, 4] (with <see cref="StageStrides"/> [1, 2, 1, 1]: output
    /// stride 8). Basic blocks and bottlenecks alike. Cannot be combined with <see cref="ReplaceStrideWithDilation"/>,
    /// whose first block of a stage keeps the previous dilation. Default null.
    /// </summary>
    public IReadOnlyList<int>? StageDilations { get; set; }

    /// <summary>
    /// The shortcut of blocks that change stride or width: the 1×1 projection (torchvision's; the default) or the
    /// parameter-free zero padding (MedicalNet's ResNet-18/34).
    /// </summary>
    public ResidualShortcut Shortcut { get; set; } = ResidualShortcut.Projection;

    /// <summary>Classes of the final linear layer <c>fc</c> (ignored when <see cref="FeaturesOnly"/>). Default 1000.</summary>
    public int NumClasses { get; set; } = 1000;

    /// <summary>
    /// The classifier's kind: <see cref="ClassifierHead.Linear"/> (K logits, the default) or
    /// <see cref="ClassifierHead.Coral"/> (K − 1 cumulative logits for K ordered grades; <c>fc.weight</c> (1, features),
    /// <c>fc.bias</c> (K − 1)). Ignored when <see cref="FeaturesOnly"/>.
    /// </summary>
    public ClassifierHead Head { get; set; } = ClassifierHead.Linear;

    /// <summary>Zero the last BN of each residual branch so every block starts as the identity (Goyal et al., 2017). Default false.</summary>
    public bool ZeroInitResidual { get; set; }

    /// <summary>Dropout probability before the classifier; 0 adds no dropout layer. Default 0.</summary>
    public double DropoutRate { get; set; }

    /// <summary>Backbone mode: no classifier; the forward pass returns the pooled embedding (N, <see cref="ResNet.FeatureCount"/>). Default false.</summary>
    public bool FeaturesOnly { get; set; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Block)) throw new ArgumentException($"Unknown block kind {Block}.", nameof(Block));
        if (Layers is null || Layers.Count == 0) throw new ArgumentException("At least one stage is needed.", nameof(Layers));
        if (Layers.Any(n => n < 1)) throw new ArgumentException($"Every stage needs at least one block, got [{string.Join(", ", Layers)}].", nameof(Layers));
        if (Layers.Any(n => n > MaxBlocksPerStage)) throw new ArgumentException($"At most {MaxBlocksPerStage} blocks per stage, got [{string.Join(", ", Layers)}].", nameof(Layers));
        if (Widths is null || Widths.Count != Layers.Count) throw new ArgumentException($"One width per stage is needed: {Layers.Count} stages, {Widths?.Count ?? 0} widths.", nameof(Widths));
        if (Widths.Any(w => w < 1)) throw new ArgumentException($"Widths must be positive, got [{string.Join(", ", Widths)}].", nameof(Widths));
        if (InChannels < 1) throw new ArgumentException($"Input channels must be positive, got {InChannels}.", nameof(InChannels));
        if (SpatialDims is not (2 or 3)) throw new ArgumentException($"Spatial dimensions must be 2 or 3, got {SpatialDims}.", nameof(SpatialDims));
        if (!Enum.IsDefined(Stem)) throw new ArgumentException($"Unknown stem {Stem}.", nameof(Stem));
        if (StemKernelSize is { } k && (k.Count != SpatialDims || k.Any(v => v is < 1 or > 15)))
            throw new ArgumentException($"The stem kernel size needs {SpatialDims} sizes from 1 to 15, one per spatial dimension, got [{string.Join(", ", k)}].", nameof(StemKernelSize));
        if (StemStride is { } st && (st.Count != SpatialDims || st.Any(v => v is < 1 or > 8)))
            throw new ArgumentException($"The stem stride needs {SpatialDims} strides from 1 to 8, one per spatial dimension, got [{string.Join(", ", st)}].", nameof(StemStride));
        if (ReplaceStrideWithDilation is { } replace)
        {
            if (replace.Count != Layers.Count - 1)
                throw new ArgumentException($"replace_stride_with_dilation needs one flag per stage after the first: {Layers.Count - 1}, got {replace.Count}.", nameof(ReplaceStrideWithDilation));
            if (replace.Any(r => r) && Block != ResidualBlockKind.Bottleneck)
                throw new ArgumentException("Replacing strides with dilation needs bottleneck blocks: as in torchvision, a basic block has no dilated form.", nameof(ReplaceStrideWithDilation));
        }
        if (StageStrides is { } strides && (strides.Count != Layers.Count || strides.Any(v => v is < 1 or > 4)))
            throw new ArgumentException($"The stage strides need {Layers.Count} strides from 1 to 4, one per stage, got [{string.Join(", ", strides)}].", nameof(StageStrides));
        if (StageDilations is { } dilations && (dilations.Count != Layers.Count || dilations.Any(v => v is < 1 or > 16)))
            throw new ArgumentException($"The stage dilations need {Layers.Count} dilations from 1 to 16, one per stage, got [{string.Join(", ", dilations)}].", nameof(StageDilations));
        if ((StageStrides is not null || StageDilations is not null) && ReplaceStrideWithDilation?.Any(r => r) == true)
            throw new ArgumentException("Give either replace_stride_with_dilation or stage strides and dilations, not both.", nameof(ReplaceStrideWithDilation));
        if (!Enum.IsDefined(Shortcut)) throw new ArgumentException($"Unknown shortcut {Shortcut}.", nameof(Shortcut));
        if (Shortcut == ResidualShortcut.ZeroPadding)
        {
            // Every stage's first block receives the channels of the block before (the stem's Widths[0] for the first).
            long channels = Widths[0];
            int expansion = ResidualBlock.ExpansionOf(Block);
            for (int i = 0; i < Widths.Count; i++)
            {
                long output = (long)Widths[i] * expansion;
                if (output < channels)
                    throw new ArgumentException($"A zero-padding shortcut can only add channels, but layer{i + 1} goes from {channels} to {output} channels.", nameof(Shortcut));
                channels = output;
            }
        }
        if (!FeaturesOnly && NumClasses < 1) throw new ArgumentException($"The number of classes must be positive, got {NumClasses}.", nameof(NumClasses));
        if (!Enum.IsDefined(Head)) throw new ArgumentException($"Unknown classifier head {Head}.", nameof(Head));
        if (!FeaturesOnly && Head == ClassifierHead.Coral && NumClasses < 2)
            throw new ArgumentException($"A CORAL head ranks at least 2 grades, got {NumClasses} class(es).", nameof(Head));
        if (DropoutRate is < 0 or >= 1 || double.IsNaN(DropoutRate)) throw new ArgumentException($"The dropout rate must lie in [0, 1), got {DropoutRate}.", nameof(DropoutRate));
    }

    /// <summary>A copy, so that a built model never shares mutable options with its builder.</summary>
    public ResNetOptions Clone() => new()
    {
        Block = Block,
        Layers = Layers?.ToArray()!,
        Widths = Widths?.ToArray()!,
        InChannels = InChannels,
        SpatialDims = SpatialDims,
        Stem = Stem,
        StemKernelSize = StemKernelSize?.ToArray(),
        StemStride = StemStride?.ToArray(),
        ReplaceStrideWithDilation = ReplaceStrideWithDilation?.ToArray(),
        StageStrides = StageStrides?.ToArray(),
        StageDilations = StageDilations?.ToArray(),
        Shortcut = Shortcut,
        NumClasses = NumClasses,
        Head = Head,
        ZeroInitResidual = ZeroInitResidual,
        DropoutRate = DropoutRate,
        FeaturesOnly = FeaturesOnly,
    };

    /// <summary>
    /// The block kind and stage depths of a standard depth: 18, 34, 50, 101 or 152 (torchvision's), 10 or 200 (MONAI's
    /// and MedicalNet's additions).
    /// </summary>
    public static (ResidualBlockKind Block, int[] Layers) StandardDepth(int depth) => depth switch
    {
        10 => (ResidualBlockKind.Basic, new[] { 1, 1, 1, 1 }),
        18 => (ResidualBlockKind.Basic, new[] { 2, 2, 2, 2 }),
        34 => (ResidualBlockKind.Basic, new[] { 3, 4, 6, 3 }),
        50 => (ResidualBlockKind.Bottleneck, new[] { 3, 4, 6, 3 }),
        101 => (ResidualBlockKind.Bottleneck, new[] { 3, 4, 23, 3 }),
        152 => (ResidualBlockKind.Bottleneck, new[] { 3, 8, 36, 3 }),
        200 => (ResidualBlockKind.Bottleneck, new[] { 3, 24, 36, 3 }),
        _ => throw new ArgumentException($"ResNet depth must be 10, 18, 34, 50, 101, 152 or 200, got {depth}.", nameof(depth)),
    };
}
