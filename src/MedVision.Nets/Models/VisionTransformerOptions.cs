namespace MedVision.Nets.Models;

/// <summary>
/// The options of a <see cref="VisionTransformer"/> (torchvision's <c>VisionTransformer</c>, MONAI's <c>ViT</c> for
/// 3-D): the input, its patches, the encoder's size and the classes. Set them through <see cref="VisionTransformer.Builder"/>.
/// </summary>
public sealed class VisionTransformerOptions
{
    /// <summary>The largest model this library builds from options (layers, hidden size, heads), against corrupt cards.</summary>
    public const int MaxLayers = 100, MaxHiddenSize = 8192;

    /// <summary>Input channels.</summary>
    public int InChannels { get; set; } = 3;

    /// <summary>2 for images, 3 for volumes.</summary>
    public int SpatialDims { get; set; } = 2;

    /// <summary>The input size per spatial axis, (H, W) or (D, H, W); each a multiple of the patch size.</summary>
    public IReadOnlyList<int> ImageSize { get; set => field = value ?? throw new ArgumentNullException(nameof(ImageSize)); } = new[] { 224, 224 };

    /// <summary>The patch size per spatial axis: the patch embedding is a convolution with this kernel and stride.</summary>
    public IReadOnlyList<int> PatchSize { get; set => field = value ?? throw new ArgumentNullException(nameof(PatchSize)); } = new[] { 16, 16 };

    /// <summary>The token dimension E (ViT-Base: 768).</summary>
    public int HiddenSize { get; set; } = 768;

    /// <summary>Encoder layers (ViT-Base: 12).</summary>
    public int NumLayers { get; set; } = 12;

    /// <summary>Attention heads, dividing <see cref="HiddenSize"/> (ViT-Base: 12).</summary>
    public int NumHeads { get; set; } = 12;

    /// <summary>The feed-forward blocks' hidden width (ViT-Base: 3072).</summary>
    public int MlpDim { get; set; } = 3072;

    /// <summary>Dropout after the position embedding and in every encoder layer while training, in [0, 1).</summary>
    public double Dropout { get; set; }

    /// <summary>Classes of the linear head on the class token.</summary>
    public int NumClasses { get; set; } = 1000;

    /// <summary>The layer norms' epsilon (torchvision's 1e-6).</summary>
    public double LayerNormEps { get; set; } = 1e-6;

    /// <summary>Patches per input: the product over the axes of size / patch.</summary>
    public int PatchCount => PatchGrid.Aggregate(1, (a, b) => a * b);

    /// <summary>Patches along each spatial axis (<see cref="ImageSize"/> / <see cref="PatchSize"/>): the grid the patch tokens come in, row-major.</summary>
    public IReadOnlyList<int> PatchGrid => ImageSize.Zip(PatchSize, (s, p) => s / p).ToArray();

    /// <summary>A copy.</summary>
    public VisionTransformerOptions Clone() => new()
    {
        InChannels = InChannels, SpatialDims = SpatialDims, ImageSize = ImageSize.ToArray(), PatchSize = PatchSize.ToArray(), HiddenSize = HiddenSize,
        NumLayers = NumLayers, NumHeads = NumHeads, MlpDim = MlpDim, Dropout = Dropout, NumClasses = NumClasses, LayerNormEps = LayerNormEps,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that does not hold.</summary>
    public void Validate()
    {
        if (InChannels < 1) throw new ArgumentException($"Input channels must be positive, got {InChannels}.", nameof(InChannels));
        if (SpatialDims is not (2 or 3)) throw new ArgumentException($"Spatial dimensions must be 2 or 3, got {SpatialDims}.", nameof(SpatialDims));
        if (ImageSize.Count != SpatialDims || ImageSize.Any(s => s < 1))
            throw new ArgumentException($"The image size needs {SpatialDims} positive sizes, got [{string.Join(", ", ImageSize)}].", nameof(ImageSize));
        if (PatchSize.Count != SpatialDims || PatchSize.Any(s => s < 1))
            throw new ArgumentException($"The patch size needs {SpatialDims} positive sizes, got [{string.Join(", ", PatchSize)}].", nameof(PatchSize));
        for (int i = 0; i < SpatialDims; i++)
            if (ImageSize[i] % PatchSize[i] != 0)
                throw new ArgumentException($"The image size [{string.Join(", ", ImageSize)}] must be a multiple of the patch size [{string.Join(", ", PatchSize)}] on every axis.", nameof(PatchSize));
        if (NumLayers is < 1 or > MaxLayers) throw new ArgumentException($"The encoder needs 1 to {MaxLayers} layers, got {NumLayers}.", nameof(NumLayers));
        if (HiddenSize is < 1 or > MaxHiddenSize) throw new ArgumentException($"The hidden size must lie in 1 to {MaxHiddenSize}, got {HiddenSize}.", nameof(HiddenSize));
        if (NumHeads < 1 || HiddenSize % NumHeads != 0) throw new ArgumentException($"The hidden size {HiddenSize} must divide into the {NumHeads} heads.", nameof(NumHeads));
        if (MlpDim is < 1 or > 8 * MaxHiddenSize) throw new ArgumentException($"The MLP width must lie in 1 to {8 * MaxHiddenSize}, got {MlpDim}.", nameof(MlpDim));
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"The dropout rate lies in [0, 1), got {Dropout}.", nameof(Dropout));
        if (NumClasses < 1) throw new ArgumentException($"The head needs at least one class, got {NumClasses}.", nameof(NumClasses));
        if (!(LayerNormEps > 0) || !double.IsFinite(LayerNormEps)) throw new ArgumentException($"The layer norms' epsilon must be positive and finite, got {LayerNormEps}.", nameof(LayerNormEps));
    }
}
