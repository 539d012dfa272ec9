using MedVision.Nets.Blocks;
using MedVision.Nets.Heads;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Models;


/// <summary>
/// ResNet (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016), structured as torchvision's
/// models/resnet.py (v1.5: the stride of a bottleneck sits on its 3×3 convolution) for 2-D and 3-D inputs.
/// Parameter names are torchvision's (<c>conv1.weight</c>, <c>bn1.running_mean</c>, <c>layer1.0.conv1.weight</c>,
/// <c>layer2.0.downsample.0.weight</c>, <c>fc.weight</c>), so a torchvision state dict loads with
/// <see cref="Module.LoadStateDict"/>; the parameter counts of the standard depths equal torchvision's.
/// Input (N, C, H, W) or (N, C, D, H, W); output logits (N, classes) — (N, classes − 1) cumulative logits with a CORAL
/// head (<see cref="ClassifierHead.Coral"/>) — or the pooled embedding
/// (N, <see cref="FeatureCount"/>) in features-only (backbone) mode.
/// </summary>
/// <example><code>
/// using var model = ResNet.Builder().WithDepth(18).ForInput(channels: 3, spatialDims: 2).WithSmallInputStem().WithClasses(5).Build();
/// </code></example>
public sealed class ResNet : Module<Tensor, Tensor>
{
    private readonly ResNetOptions _options;
    private readonly Convolution _conv1;
    private readonly BatchNorm _bn1;
    private readonly ReLU _relu;
    private readonly Pooling? _maxPool;
    private readonly List<Sequential> _stages = new();
    private readonly Module<Tensor, Tensor> _avgPool;
    private readonly Dropout? _dropout;
    private readonly Module<Tensor, Tensor>? _fc;   // Linear, or CoralHead

    /// <summary>Creates a ResNet with freshly initialised weights (Kaiming normal, fan-out, for convolutions; BN weight 1, bias 0).</summary>
    /// <exception cref="ArgumentException">An option cannot work; the message names it.</exception>
    public ResNet(ResNetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        // A constructor that throws (out of memory for huge widths) frees what it built: nobody else can dispose it.
        Module<Tensor, Tensor>?[]? pending = null; // blocks of the stage being built, not yet registered
        try
        {
            int dims = _options.SpatialDims;
            long width = _options.Widths[0];
            bool imageNet = _options.Stem == ResNetStem.ImageNet;
            // The ImageNet stem quarters the resolution (7×7 stride-2 conv, then a stride-2 max-pool); the small-input stem
            // keeps it, which is what 28×28 MedMNIST images need.
            // A stem kernel or stride given per axis (anisotropic volumes) replaces the stem's own, padded by half the kernel.
            var stemKernel = (_options.StemKernelSize ?? Enumerable.Repeat(imageNet ? 7 : 3, dims).ToArray()).Select(k => (long)k).ToArray();
            var stemStride = (_options.StemStride ?? Enumerable.Repeat(imageNet ? 2 : 1, dims).ToArray()).Select(v => (long)v).ToArray();
            _conv1 = RegisterModule("conv1", Layers.Conv(dims, _options.InChannels, width, stemKernel, stemStride, stemKernel.Select(k => k / 2).ToArray()));
            _bn1 = RegisterModule("bn1", Layers.BatchNorm(dims, width));
            _relu = RegisterModule("relu", new ReLU(inPlace: true));
            _maxPool = imageNet ? RegisterModule("maxpool", Layers.MaxPool(dims, 3, 2, 1)) : null;

            long inChannels = width;
            long dilation = 1;
            for (int i = 0; i < _options.Layers.Count; i++)
            {
                // The first block of every stage but the first halves the resolution and carries the shortcut; with the
                // stride replaced by dilation (torchvision's _make_layer) the stage keeps the resolution, its first block
                // the dilation before it, the others the doubled one. Explicit stage strides and dilations (MedicalNet's
                // layout) apply the stage's dilation to all its blocks.
                long stride = i == 0 ? 1 : 2;
                long firstDilation;
                if (_options.StageStrides is not null || _options.StageDilations is not null)
                {
                    stride = _options.StageStrides?[i] ?? stride;
                    dilation = firstDilation = _options.StageDilations?[i] ?? 1;
                }
                else
                {
                    firstDilation = dilation;
                    if (i > 0 && _options.ReplaceStrideWithDilation is { } replace && replace[i - 1])
                    {
                        dilation *= stride;
                        stride = 1;
                    }
                }
                var blocks = new Module<Tensor, Tensor>[_options.Layers[i]];
                pending = blocks;
                for (int b = 0; b < blocks.Length; b++)
                {
                    var block = ResidualBlock.Create(_options.Block, dims, inChannels, _options.Widths[i], b == 0 ? stride : 1, b == 0 ? firstDilation : dilation, _options.Shortcut);
                    inChannels = block.OutChannels;
                    blocks[b] = block;
                }
                _stages.Add(RegisterModule($"layer{i + 1}", new Sequential(blocks)));
                pending = null;
            }
            FeatureCount = inChannels;
            _avgPool = RegisterModule("avgpool", Layers.GlobalAvgPool(dims));
            if (!_options.FeaturesOnly)
            {
                _dropout = _options.DropoutRate > 0 ? RegisterModule("dropout", new Dropout(_options.DropoutRate)) : null;
                _fc = _options.Head == ClassifierHead.Coral
                    ? RegisterModule<Module<Tensor, Tensor>>("fc", new CoralHead(FeatureCount, _options.NumClasses))
                    : RegisterModule<Module<Tensor, Tensor>>("fc", new Linear(FeatureCount, _options.NumClasses));
            }
            InitializeWeights();
        }
        catch
        {
            foreach (var block in pending ?? Array.Empty<Module<Tensor, Tensor>?>()) block?.Dispose();
            Dispose();
            throw;
        }
    }

    /// <summary>A copy of the options this network was built from.</summary>
    public ResNetOptions Options => _options.Clone();

    /// <summary>2 for images, 3 for volumes.</summary>
    public int SpatialDims => _options.SpatialDims;

    /// <summary>Input channels.</summary>
    public int InChannels => _options.InChannels;

    /// <summary>Classes of the classifier, or 0 in features-only mode.</summary>
    public int NumClasses => _options.FeaturesOnly ? 0 : _options.NumClasses;

    /// <summary>True when the forward pass returns the pooled embedding instead of logits.</summary>
    public bool FeaturesOnly => _options.FeaturesOnly;

    /// <summary>Size of the pooled embedding: the last stage's width × the block expansion (512 for ResNet-18/34, 2048 for ResNet-50+).</summary>
    public long FeatureCount { get; }

    /// <summary>The linear classifier <c>fc</c>; null in features-only mode and for a CORAL head (see <see cref="Head"/>).</summary>
    public Linear? Classifier => _fc as Linear;

    /// <summary>The last layer <c>fc</c>, whichever its kind (<see cref="ClassifierKind"/>): a <see cref="Linear"/> or a <see cref="CoralHead"/>; null in features-only mode.</summary>
    public Module<Tensor, Tensor>? Head => _fc;

    /// <summary>The classifier's kind: K logits, or K − 1 cumulative CORAL logits.</summary>
    public ClassifierHead ClassifierKind => _options.Head;

    /// <summary>The residual stages layer1, layer2, … in order.</summary>
    public IReadOnlyList<Sequential> Stages => _stages;

    /// <summary>A fluent builder, e.g. <c>ResNet.Builder().WithDepth(50).ForInput(1, spatialDims: 3).WithClasses(2).Build()</c>.</summary>
    public static ResNetBuilder Builder() => new();

    /// <summary>ResNet-18: basic blocks [2, 2, 2, 2] (11,689,512 parameters with the defaults).</summary>
    public static ResNet ResNet18(int numClasses = 1000, int inChannels = 3, int spatialDims = 2, ResNetStem stem = ResNetStem.ImageNet)
        => Standard(18, numClasses, inChannels, spatialDims, stem);

    /// <summary>ResNet-34: basic blocks [3, 4, 6, 3] (21,797,672 parameters with the defaults).</summary>
    public static ResNet ResNet34(int numClasses = 1000, int inChannels = 3, int spatialDims = 2, ResNetStem stem = ResNetStem.ImageNet)
        => Standard(34, numClasses, inChannels, spatialDims, stem);

    /// <summary>ResNet-50: bottlenecks [3, 4, 6, 3] (25,557,032 parameters with the defaults).</summary>
    public static ResNet ResNet50(int numClasses = 1000, int inChannels = 3, int spatialDims = 2, ResNetStem stem = ResNetStem.ImageNet)
        => Standard(50, numClasses, inChannels, spatialDims, stem);

    /// <summary>ResNet-101: bottlenecks [3, 4, 23, 3] (44,549,160 parameters with the defaults).</summary>
    public static ResNet ResNet101(int numClasses = 1000, int inChannels = 3, int spatialDims = 2, ResNetStem stem = ResNetStem.ImageNet)
        => Standard(101, numClasses, inChannels, spatialDims, stem);

    /// <summary>ResNet-152: bottlenecks [3, 8, 36, 3] (60,192,808 parameters with the defaults).</summary>
    public static ResNet ResNet152(int numClasses = 1000, int inChannels = 3, int spatialDims = 2, ResNetStem stem = ResNetStem.ImageNet)
        => Standard(152, numClasses, inChannels, spatialDims, stem);

    private static ResNet Standard(int depth, int numClasses, int inChannels, int spatialDims, ResNetStem stem)
        => Builder().WithDepth(depth).ForInput(inChannels, spatialDims).WithStem(stem).WithClasses(numClasses).Build();

    /// <summary>The pooled embedding (N, <see cref="FeatureCount"/>) of a batch (N, C, H, W) or (N, C, D, H, W).</summary>
    public Tensor ExtractFeatures(Tensor input)
    {
        CheckInput(input);
        using var scope = Tensors.NewDisposeScope();
        var conv1 = _conv1.Call(input);
        var bn1 = _bn1.Call(conv1);
        var stem = _relu.Call(bn1);
        var x = _maxPool is null ? stem : _maxPool.Call(stem);
        foreach (var stage in _stages) x = stage.Call(x);
        var pooled = _avgPool.Call(x);
        var features = pooled.Flatten(1);
        return scope.MoveToOuter(features);
    }

    /// <summary>Logits (N, classes) — for a CORAL head the cumulative logits (N, classes − 1) — or the pooled embedding (N, <see cref="FeatureCount"/>) in features-only mode.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (_fc is null) return ExtractFeatures(input);
        using var scope = Tensors.NewDisposeScope();
        var features = ExtractFeatures(input);
        var dropped = _dropout is null ? features : _dropout.Call(features);
        var logits = _fc.Call(dropped);
        return scope.MoveToOuter(logits);
    }

    /// <summary>A layer-by-layer summary from one forward pass on zeros of <paramref name="inputShape"/>, e.g. (1, 3, 224, 224).</summary>
    public ModelSummary Summary(params long[] inputShape) => ModelSummary.Create(this, inputShape);

    private void CheckInput(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Dim != SpatialDims + 2 || input.Size(1) != InChannels)
        {
            var expected = SpatialDims == 2 ? $"(N, {InChannels}, H, W)" : $"(N, {InChannels}, D, H, W)";
            throw new ArgumentException($"ResNet expects input {expected}, got [{string.Join(", ", input.Shape)}].", nameof(input));
        }
    }

    private void InitializeWeights()
    {
        foreach (var (_, module) in NamedModules())
        {
            if (module is Convolution conv) Init.KaimingNormal(conv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
            else if (module is BatchNorm { Weight: { } weight, Bias: { } bias })
            {
                Init.Ones(weight);
                Init.Zeros(bias);
            }
        }
        if (!_options.ZeroInitResidual) return;
        foreach (var (_, module) in NamedModules())
            if (module is ResidualBlock block) Init.Zeros(block.LastNorm.Weight!);
    }
}
