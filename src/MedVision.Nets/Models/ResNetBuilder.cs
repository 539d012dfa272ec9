using MedVision.Nets.Blocks;

namespace MedVision.Nets.Models;

/// <summary>
/// Builds a <see cref="ResNet"/> in sentences: <c>ResNet.Builder().WithDepth(18).ForInput(channels: 1, spatialDims: 3)
/// .WithSmallInputStem().WithClasses(2).Build()</c>. Every option is checked when it is set and again in
/// <see cref="Build"/>; a builder cannot be used after <see cref="Build"/>. Defaults are those of
/// <see cref="ResNetOptions"/> (torchvision's resnet18).
/// </summary>
public sealed class ResNetBuilder
{
    private readonly ResNetOptions _options = new();
    private int? _baseWidth;
    private bool _explicitWidths;
    private bool _built;

    internal ResNetBuilder() { }

    /// <summary>A standard depth: 10, 18 or 34 (basic blocks), 50, 101, 152 or 200 (bottlenecks).</summary>
    public ResNetBuilder WithDepth(int depth)
    {
        var (block, layers) = ResNetOptions.StandardDepth(depth);
        return WithBlocks(block, layers);
    }

    /// <summary>A custom depth: the block kind and the number of blocks of each stage, e.g. (Basic, 1, 1, 1, 1).</summary>
    public ResNetBuilder WithBlocks(ResidualBlockKind block, params int[] blocksPerStage)
    {
        EnsureUsable();
        if (!Enum.IsDefined(block)) throw new ArgumentException($"Unknown block kind {block}.", nameof(block));
        ArgumentNullException.ThrowIfNull(blocksPerStage);
        if (blocksPerStage.Length == 0 || blocksPerStage.Any(n => n < 1))
            throw new ArgumentException($"Every stage needs at least one block, got [{string.Join(", ", blocksPerStage)}].", nameof(blocksPerStage));
        _options.Block = block;
        _options.Layers = blocksPerStage.ToArray();
        return this;
    }

    /// <summary>The planes of each stage (one per stage); the stem has the first width.</summary>
    public ResNetBuilder WithWidths(params int[] widths)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(widths);
        if (widths.Length == 0 || widths.Any(w => w < 1)) throw new ArgumentException($"Widths must be positive, got [{string.Join(", ", widths)}].", nameof(widths));
        _options.Widths = widths.ToArray();
        _explicitWidths = true;
        _baseWidth = null;
        return this;
    }

    /// <summary>Doubling widths from a base: stage i has base × 2^i planes (64 gives torchvision's 64, 128, 256, 512).</summary>
    public ResNetBuilder WithBaseWidth(int baseWidth)
    {
        EnsureUsable();
        if (baseWidth < 1) throw new ArgumentException($"The base width must be positive, got {baseWidth}.", nameof(baseWidth));
        _baseWidth = baseWidth;
        _explicitWidths = false;
        return this;
    }

    /// <summary>The input: channels (3 for RGB, 1 for grey-scale) and spatial dimensions (2 for (N, C, H, W), 3 for (N, C, D, H, W)).</summary>
    public ResNetBuilder ForInput(int channels, int spatialDims = 2)
    {
        EnsureUsable();
        if (channels < 1) throw new ArgumentException($"Input channels must be positive, got {channels}.", nameof(channels));
        if (spatialDims is not (2 or 3)) throw new ArgumentException($"Spatial dimensions must be 2 or 3, got {spatialDims}.", nameof(spatialDims));
        _options.InChannels = channels;
        _options.SpatialDims = spatialDims;
        return this;
    }

    /// <summary>The stem.</summary>
    public ResNetBuilder WithStem(ResNetStem stem)
    {
        EnsureUsable();
        if (!Enum.IsDefined(stem)) throw new ArgumentException($"Unknown stem {stem}.", nameof(stem));
        _options.Stem = stem;
        return this;
    }

    /// <summary>The ImageNet stem: 7×7 stride-2 convolution, BN, ReLU, 3×3 stride-2 max-pool (the default).</summary>
    public ResNetBuilder WithImageNetStem() => WithStem(ResNetStem.ImageNet);

    /// <summary>The small-input stem: 3×3 stride-1 convolution, BN, ReLU, no max-pool (for 28×28 MedMNIST images).</summary>
    public ResNetBuilder WithSmallInputStem() => WithStem(ResNetStem.SmallInput);

    /// <summary>
    /// The stem convolution's kernel size per spatial dimension, for anisotropic volumes (MONAI's <c>conv1_t_size</c>):
    /// <c>.ForInput(1, spatialDims: 3).WithStemKernel(7, 7, 3)</c>. Padded by half the kernel along each dimension.
    /// </summary>
    public ResNetBuilder WithStemKernel(params int[] kernelSize)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(kernelSize);
        if (kernelSize.Length is < 2 or > 3 || kernelSize.Any(k => k is < 1 or > 15))
            throw new ArgumentException($"Give 2 or 3 kernel sizes from 1 to 15, one per spatial dimension, got [{string.Join(", ", kernelSize)}].", nameof(kernelSize));
        _options.StemKernelSize = kernelSize.ToArray();
        return this;
    }

    /// <summary>
    /// torchvision's <c>replace_stride_with_dilation</c>, one flag per stage after the first (layer2, layer3, layer4 for
    /// the standard depths): <c>.ReplaceStrideWithDilation(false, true, true)</c> keeps layer3 and layer4 at layer2's
    /// resolution with dilated 3×3 convolutions (output stride 8). Bottleneck blocks (ResNet-50 and deeper) only.
    /// </summary>
    public ResNetBuilder ReplaceStrideWithDilation(params bool[] perStage)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(perStage);
        _options.ReplaceStrideWithDilation = perStage.ToArray();
        return this;
    }

    /// <summary>
    /// The stride of each stage's first block, one per stage (1 to 4; torchvision's are 1, 2, 2, 2), e.g.
    /// <c>.WithStageStrides(1, 2, 1, 1)</c> for MedicalNet's output stride 8. Checked against the stages in <see cref="Build"/>.
    /// </summary>
    public ResNetBuilder WithStageStrides(params int[] strides)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(strides);
        if (strides.Length == 0 || strides.Any(v => v is < 1 or > 4))
            throw new ArgumentException($"Give one stride from 1 to 4 per stage, got [{string.Join(", ", strides)}].", nameof(strides));
        _options.StageStrides = strides.ToArray();
        return this;
    }

    /// <summary>
    /// The dilation of every 3×3 convolution of each stage, one per stage (1 to 16), e.g. <c>.WithStageDilations(1, 1, 2, 4)</c>
    /// (MedicalNet's); unlike <see cref="ReplaceStrideWithDilation"/>, a stage's first block is dilated too.
    /// </summary>
    public ResNetBuilder WithStageDilations(params int[] dilations)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(dilations);
        if (dilations.Length == 0 || dilations.Any(v => v is < 1 or > 16))
            throw new ArgumentException($"Give one dilation from 1 to 16 per stage, got [{string.Join(", ", dilations)}].", nameof(dilations));
        _options.StageDilations = dilations.ToArray();
        return this;
    }

    /// <summary>
    /// The shortcut of blocks that change stride or width: <see cref="ResidualShortcut.Projection"/> (1×1 convolution and
    /// batch norm; the default) or the parameter-free <see cref="ResidualShortcut.ZeroPadding"/>.
    /// </summary>
    public ResNetBuilder WithShortcut(ResidualShortcut shortcut)
    {
        EnsureUsable();
        if (!Enum.IsDefined(shortcut)) throw new ArgumentException($"Unknown shortcut {shortcut}.", nameof(shortcut));
        _options.Shortcut = shortcut;
        return this;
    }

    /// <summary>
    /// MedicalNet's 3-D ResNet of a depth (10, 18, 34, 50, 101, 152 or 200; <see cref="MedicalNet"/>): one input channel,
    /// 3-D, the 7×7×7 stride-2 stem with max pool, stage strides [1, 2, 1, 1] and dilations [1, 1, 2, 4], the
    /// zero-padding shortcut for depths 18 and 34 and the projection for the others. Its <c>state_dict</c> keys are
    /// MedicalNet's without <c>module.</c> and <c>conv_seg</c>; set the classes (or <see cref="AsBackbone"/>) next.
    /// </summary>
    public ResNetBuilder LikeMedicalNet(int depth) => WithDepth(MedicalNet.RequireDepth(depth))
        .WithMedicalNetLayout()
        .WithShortcut(MedicalNet.ShortcutOf(depth));

    /// <summary>MedicalNet's input, stem, stage strides and dilations, for any blocks per stage.</summary>
    internal ResNetBuilder WithMedicalNetLayout() => ForInput(1, spatialDims: 3)
        .WithImageNetStem()
        .WithStageStrides(1, 2, 1, 1)
        .WithStageDilations(1, 1, 2, 4);

    /// <summary>
    /// The stem convolution's stride per spatial dimension (MONAI's <c>conv1_t_stride</c>), e.g. <c>.WithStemStride(2, 2, 1)</c>
    /// to keep the number of slices of a thick-slice volume.
    /// </summary>
    public ResNetBuilder WithStemStride(params int[] stride)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(stride);
        if (stride.Length is < 2 or > 3 || stride.Any(v => v is < 1 or > 8))
            throw new ArgumentException($"Give 2 or 3 strides from 1 to 8, one per spatial dimension, got [{string.Join(", ", stride)}].", nameof(stride));
        _options.StemStride = stride.ToArray();
        return this;
    }

    /// <summary>The number of classes of the classifier.</summary>
    public ResNetBuilder WithClasses(int numClasses)
    {
        EnsureUsable();
        if (numClasses < 1) throw new ArgumentException($"The number of classes must be positive, got {numClasses}.", nameof(numClasses));
        _options.NumClasses = numClasses;
        return this;
    }

    /// <summary>
    /// The classifier's kind: <see cref="ClassifierHead.Linear"/> (the default) or <see cref="ClassifierHead.Coral"/>
    /// (K − 1 cumulative logits for the K ordered grades of <see cref="WithClasses"/>).
    /// </summary>
    public ResNetBuilder WithHead(ClassifierHead head)
    {
        EnsureUsable();
        if (!Enum.IsDefined(head)) throw new ArgumentException($"Unknown classifier head {head}.", nameof(head));
        _options.Head = head;
        return this;
    }

    /// <summary>
    /// A CORAL ordinal head for disease grades (Cao et al. 2020): the network gives K − 1 cumulative logits for the K
    /// grades of <see cref="WithClasses"/>; train it with <see cref="Training.CoralTask"/>.
    /// </summary>
    public ResNetBuilder WithCoralHead() => WithHead(ClassifierHead.Coral);

    /// <summary>Zero-initialises the last BN of every residual branch so each block starts as the identity.</summary>
    public ResNetBuilder WithZeroInitResidual(bool enabled = true)
    {
        EnsureUsable();
        _options.ZeroInitResidual = enabled;
        return this;
    }

    /// <summary>Dropout with probability <paramref name="rate"/> in [0, 1) before the classifier.</summary>
    public ResNetBuilder WithDropout(double rate)
    {
        EnsureUsable();
        if (rate is < 0 or >= 1 || double.IsNaN(rate)) throw new ArgumentException($"The dropout rate must lie in [0, 1), got {rate}.", nameof(rate));
        _options.DropoutRate = rate;
        return this;
    }

    /// <summary>Backbone mode: no classifier; the network returns the pooled embedding (N, FeatureCount).</summary>
    public ResNetBuilder AsBackbone()
    {
        EnsureUsable();
        _options.FeaturesOnly = true;
        return this;
    }

    /// <summary>Creates the network; the builder cannot be used afterwards.</summary>
    /// <exception cref="ArgumentException">The options do not fit together (e.g. widths for 3 stages, blocks for 4).</exception>
    public ResNet Build()
    {
        var options = BuildOptions();
        return new ResNet(options);
    }

    /// <summary>Validates and returns the options, marking the builder as used.</summary>
    internal ResNetOptions BuildOptions()
    {
        EnsureUsable();
        if (!_explicitWidths)
        {
            int baseWidth = _baseWidth ?? 64;
            _options.Widths = Enumerable.Range(0, _options.Layers.Count).Select(i => checked(baseWidth << i)).ToArray();
        }
        _options.Validate();
        _built = true;
        return _options.Clone();
    }

    private void EnsureUsable()
    {
        if (_built) throw new InvalidOperationException("This builder has already built its model; create a new one with Builder().");
    }
}
