namespace MedVision.Nets.Models;

/// <summary>
/// Builds a <see cref="VisionTransformer"/>:
/// <c>VisionTransformer.Builder().ForInput(channels: 3).WithImageSize(28).WithPatchSize(4).Tiny().WithClasses(5).Build()</c>.
/// The size presets are the paper's and DeiT's: <see cref="Tiny"/> (E 192, 3 heads), <see cref="Small"/> (384, 6),
/// <see cref="Base"/> (768, 12), each 12 layers with an MLP 4 × E wide; every size can also be set alone.
/// </summary>
public sealed class VisionTransformerBuilder
{
    private readonly VisionTransformerOptions _options = new();
    private bool _sizeGiven, _patchGiven, _built;

    internal VisionTransformerBuilder() { }

    /// <summary>Input channels and spatial dimensions (2 for images, 3 for volumes).</summary>
    public VisionTransformerBuilder ForInput(int channels, int spatialDims = 2)
    {
        EnsureUsable();
        if (channels < 1) throw new ArgumentException($"Input channels must be positive, got {channels}.", nameof(channels));
        if (spatialDims is not (2 or 3)) throw new ArgumentException($"Spatial dimensions must be 2 or 3, got {spatialDims}.", nameof(spatialDims));
        _options.InChannels = channels;
        _options.SpatialDims = spatialDims;
        return this;
    }

    /// <summary>The input size: one for every axis, or one per axis.</summary>
    public VisionTransformerBuilder WithImageSize(params int[] size)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(size);
        if (size.Length == 0 || size.Any(s => s < 1)) throw new ArgumentException($"The image size must be positive, got [{string.Join(", ", size)}].", nameof(size));
        _options.ImageSize = size.ToArray();
        _sizeGiven = true;
        return this;
    }

    /// <summary>The patch size: one for every axis, or one per axis.</summary>
    public VisionTransformerBuilder WithPatchSize(params int[] size)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(size);
        if (size.Length == 0 || size.Any(s => s < 1)) throw new ArgumentException($"The patch size must be positive, got [{string.Join(", ", size)}].", nameof(size));
        _options.PatchSize = size.ToArray();
        _patchGiven = true;
        return this;
    }

    /// <summary>ViT-Ti (DeiT-Tiny): E 192, 12 layers, 3 heads, MLP 768.</summary>
    public VisionTransformerBuilder Tiny() => WithSize(192, 12, 3, 768);

    /// <summary>ViT-S (DeiT-Small): E 384, 12 layers, 6 heads, MLP 1536.</summary>
    public VisionTransformerBuilder Small() => WithSize(384, 12, 6, 1536);

    /// <summary>ViT-B: E 768, 12 layers, 12 heads, MLP 3072 (the default).</summary>
    public VisionTransformerBuilder Base() => WithSize(768, 12, 12, 3072);

    /// <summary>ViT-L: E 1024, 24 layers, 16 heads, MLP 4096 (torchvision's <c>vit_l_16</c>, <c>vit_l_32</c>).</summary>
    public VisionTransformerBuilder Large() => WithSize(1024, 24, 16, 4096);

    /// <summary>The token dimension E.</summary>
    public VisionTransformerBuilder WithHiddenSize(int hiddenSize) => Set(() => _options.HiddenSize = hiddenSize);

    /// <summary>Encoder layers.</summary>
    public VisionTransformerBuilder WithLayers(int layers) => Set(() => _options.NumLayers = layers);

    /// <summary>Attention heads (dividing the hidden size).</summary>
    public VisionTransformerBuilder WithHeads(int heads) => Set(() => _options.NumHeads = heads);

    /// <summary>The feed-forward blocks' hidden width.</summary>
    public VisionTransformerBuilder WithMlpDim(int mlpDim) => Set(() => _options.MlpDim = mlpDim);

    /// <summary>Dropout after the position embedding and in every encoder layer while training.</summary>
    public VisionTransformerBuilder WithDropout(double rate) => Set(() => _options.Dropout = rate);

    /// <summary>Classes of the head.</summary>
    public VisionTransformerBuilder WithClasses(int numClasses) => Set(() => _options.NumClasses = numClasses);

    /// <summary>Builds the network (every option checked, naming the first that does not hold). A builder builds once.</summary>
    /// <exception cref="ArgumentException">Options that do not fit together (a size not a multiple of the patch, heads not dividing E, …).</exception>
    public VisionTransformer Build()
    {
        EnsureUsable();
        var o = _options.Clone();
        // one size or patch for every axis
        if (!_sizeGiven) o.ImageSize = Enumerable.Repeat(o.SpatialDims == 3 ? 96 : 224, o.SpatialDims).ToArray();
        if (!_patchGiven) o.PatchSize = Enumerable.Repeat(16, o.SpatialDims).ToArray();
        if (o.ImageSize.Count == 1) o.ImageSize = Enumerable.Repeat(o.ImageSize[0], o.SpatialDims).ToArray();
        if (o.PatchSize.Count == 1) o.PatchSize = Enumerable.Repeat(o.PatchSize[0], o.SpatialDims).ToArray();
        var model = new VisionTransformer(o);
        _built = true;
        return model;
    }

    private VisionTransformerBuilder WithSize(int hidden, int layers, int heads, int mlp) =>
        Set(() => (_options.HiddenSize, _options.NumLayers, _options.NumHeads, _options.MlpDim) = (hidden, layers, heads, mlp));

    private VisionTransformerBuilder Set(Action set)
    {
        EnsureUsable();
        set();
        return this;
    }

    private void EnsureUsable()
    {
        if (_built) throw new InvalidOperationException("This builder has built its model; start a new one with VisionTransformer.Builder().");
    }
}
