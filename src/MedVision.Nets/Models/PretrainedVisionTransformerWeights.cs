using System.Globalization;
using MedVision.Nets.Data.Download;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Models;

/// <summary>
/// torchvision's ImageNet-1K weights for its vision transformers (<c>torchvision.models.ViT_B_16_Weights.IMAGENET1K_V1</c>,
/// <c>ViT_B_32_Weights.IMAGENET1K_V1</c>, <c>ViT_L_16_Weights.IMAGENET1K_V1</c>, <c>ViT_L_32_Weights.IMAGENET1K_V1</c>): downloaded from download.pytorch.org into the cache
/// <see cref="PretrainedWeights"/> uses, verified by the SHA-256 prefix in their file names as <c>torch.hub</c> verifies
/// them, read without Python and renamed to <see cref="VisionTransformer"/>'s parameter names. The weights were trained
/// on 224 × 224 images; for another image size (a multiple of the patch size) their position embeddings are resized to
/// the new patch grid as torchvision's <c>interpolate_embeddings</c> does (<see cref="VisionTransformer.ResizePositionEmbedding"/>).
/// </summary>
/// <example><code>
/// var pretrained = PretrainedVisionTransformerWeights.VitB16ImageNet1KV1;
/// using var weights = await pretrained.LoadStateDictAsync(imageSize: 112);   // a 7 × 7 patch grid
/// using var model = pretrained.CreateBuilder(imageSize: 112).WithClasses(5).Build();
/// model.LoadStateDict(weights, strict: false);   // head.weight and head.bias differ in shape: reported, not copied
/// </code></example>
/// <remarks>
/// Inputs are expected normalised with <see cref="Mean"/> and <see cref="Std"/> (ImageNet's; <see cref="InputMean"/> and
/// <see cref="InputStd"/> for the channels of <see cref="ForInputChannels"/>). Check the terms under
/// which you may use the weights (torchvision's model documentation) for your application.
/// </remarks>
public sealed record PretrainedVisionTransformerWeights
{
    /// <summary>torchvision's name, e.g. <c>ViT_B_16_Weights.IMAGENET1K_V1</c>.</summary>
    public required string Name { get; init => field = value ?? throw new ArgumentNullException(nameof(Name)); }

    /// <summary>The side of the square patches (16 for ViT-B/16).</summary>
    public required int PatchSize { get; init; }

    /// <summary>The image side the weights were trained at (224).</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>Embedding size (768 for ViT-Base).</summary>
    public int HiddenSize { get; init; } = 768;

    /// <summary>Encoder layers (12 for ViT-Base).</summary>
    public int NumLayers { get; init; } = 12;

    /// <summary>Attention heads per layer (12 for ViT-Base).</summary>
    public int NumHeads { get; init; } = 12;

    /// <summary>Hidden size of each layer's MLP (3072 for ViT-Base).</summary>
    public int MlpDim { get; init; } = 3072;

    /// <summary>Classes of the head (1000, ImageNet-1K's).</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>Where the file is downloaded from (an http(s) or file address; a mirror may replace it with <c>with</c>).</summary>
    public required Uri Source { get; init => field = value ?? throw new ArgumentNullException(nameof(Source)); }

    /// <summary>The checksum the file must have: the SHA-256 prefix in torchvision's file name.</summary>
    public required FileChecksum Checksum { get; init => field = value ?? throw new ArgumentNullException(nameof(Checksum)); }

    /// <summary>The number of parameters at <see cref="ImageSize"/> (torchvision's <c>meta["num_params"]</c>).</summary>
    public required long ParameterCount { get; init; }

    /// <summary>Top-1 accuracy in percent on ImageNet-1K's validation split, as torchvision reports it.</summary>
    public required double Top1Accuracy { get; init; }

    /// <summary>Top-5 accuracy in percent, as torchvision reports it.</summary>
    public required double Top5Accuracy { get; init; }

    /// <summary>The resize of the shorter side in torchvision's evaluation transform (256), before the 224 × 224 centre crop.</summary>
    public int ResizeSize { get; init; } = 256;

    /// <summary>The per-channel mean (RGB) inputs are normalised with: ImageNet's.</summary>
    public IReadOnlyList<float> Mean { get; init => field = value ?? throw new ArgumentNullException(nameof(Mean)); } = new[] { 0.485f, 0.456f, 0.406f };

    /// <summary>The per-channel standard deviation (RGB): ImageNet's.</summary>
    public IReadOnlyList<float> Std { get; init => field = value ?? throw new ArgumentNullException(nameof(Std)); } = new[] { 0.229f, 0.224f, 0.225f };

    /// <summary>The per-channel mean for a network of <see cref="InputChannels"/> channels (as <see cref="PretrainedWeights.InputMean"/>: ImageNet's 0.449 for one channel).</summary>
    public IReadOnlyList<float> InputMean => PretrainedWeights.ForChannels(Mean, InputChannels);

    /// <summary>The per-channel standard deviation for <see cref="InputChannels"/> channels (ImageNet's 0.226 for one channel).</summary>
    public IReadOnlyList<float> InputStd => PretrainedWeights.ForChannels(Std, InputChannels);

    /// <summary>The file's name (<c>vit_b_16-c867db91.pth</c>), also its name in the cache.</summary>
    public string FileName => Path.GetFileName(Source.AbsolutePath);

    /// <summary>
    /// The input channels of the network the weights are loaded into: 3 (RGB, as they were trained) unless
    /// <see cref="ForInputChannels"/> chose another count, for which <see cref="LoadStateDictAsync"/> adapts the patch
    /// projection (<see cref="PretrainedWeights.AdaptInputChannels"/>) and <see cref="CreateBuilder"/> builds that many.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one channel.</exception>
    public int InputChannels
    {
        get;
        init => field = PretrainedWeights.CheckInputChannels(value);
    } = 3;

    /// <summary>
    /// These weights for a network of <paramref name="channels"/> input channels, e.g. 1 for grey images: when loaded,
    /// the patch projection's kernels (<c>conv_proj.weight</c>) are adapted from RGB by
    /// <see cref="PretrainedWeights.AdaptInputChannels"/> (for one channel, summed over R, G and B).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is below 1.</exception>
    public PretrainedVisionTransformerWeights ForInputChannels(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        return this with { InputChannels = channels };
    }

    private static PretrainedVisionTransformerWeights Torchvision(string name, int patch, string file, long parameters, double top1, double top5) => new()
    {
        Name = name,
        PatchSize = patch,
        Source = PretrainedWeights.TorchvisionSource(file),
        Checksum = PretrainedWeights.TorchvisionChecksum(file),
        ParameterCount = parameters,
        Top1Accuracy = top1,
        Top5Accuracy = top5,
    };

    /// <summary>ViT-B/16, <c>IMAGENET1K_V1</c> (top-1 81.072%; torchvision's <c>DEFAULT</c>).</summary>
    public static PretrainedVisionTransformerWeights VitB16ImageNet1KV1 { get; } = Torchvision("ViT_B_16_Weights.IMAGENET1K_V1", 16, "vit_b_16-c867db91.pth", 86_567_656, 81.072, 95.318);

    /// <summary>ViT-B/32, <c>IMAGENET1K_V1</c> (top-1 75.912%).</summary>
    public static PretrainedVisionTransformerWeights VitB32ImageNet1KV1 { get; } = Torchvision("ViT_B_32_Weights.IMAGENET1K_V1", 32, "vit_b_32-d86f8d99.pth", 88_224_232, 75.912, 92.466);

    /// <summary>ViT-L/16, <c>IMAGENET1K_V1</c> (top-1 79.662%; E 1024, 24 layers, 16 heads, MLP 4096; evaluated after resizing to 242).</summary>
    public static PretrainedVisionTransformerWeights VitL16ImageNet1KV1 { get; } = Torchvision("ViT_L_16_Weights.IMAGENET1K_V1", 16, "vit_l_16-852ce7e3.pth", 304_326_632, 79.662, 94.638) with
    {
        HiddenSize = 1024, NumLayers = 24, NumHeads = 16, MlpDim = 4096, ResizeSize = 242,
    };

    /// <summary>ViT-L/32, <c>IMAGENET1K_V1</c> (top-1 76.972%; ViT-L's size in 32 × 32 patches).</summary>
    public static PretrainedVisionTransformerWeights VitL32ImageNet1KV1 { get; } = Torchvision("ViT_L_32_Weights.IMAGENET1K_V1", 32, "vit_l_32-c7638314.pth", 306_535_400, 76.972, 93.07) with
    {
        HiddenSize = 1024, NumLayers = 24, NumHeads = 16, MlpDim = 4096,
    };

    /// <summary>Every set of weights above.</summary>
    public static IReadOnlyList<PretrainedVisionTransformerWeights> All { get; } = new[] { VitB16ImageNet1KV1, VitB32ImageNet1KV1, VitL16ImageNet1KV1, VitL32ImageNet1KV1 };

    /// <summary>
    /// A builder of the network the weights belong to (<see cref="InputChannels"/> input channels, <see cref="NumClasses"/> classes, this size and
    /// patch) for <paramref name="imageSize"/> × <paramref name="imageSize"/> images; change the classes before <c>Build()</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An image size that is not a positive multiple of <see cref="PatchSize"/>.</exception>
    public VisionTransformerBuilder CreateBuilder(int? imageSize = null)
    {
        int size = CheckImageSize(imageSize);
        return VisionTransformer.Builder().ForInput(channels: InputChannels).WithImageSize(size).WithPatchSize(PatchSize)
            .WithHiddenSize(HiddenSize).WithLayers(NumLayers).WithHeads(NumHeads).WithMlpDim(MlpDim).WithClasses(NumClasses);
    }

    /// <summary>The file in the cache (<see cref="PretrainedWeights.GetDefaultCacheDirectory"/> unless given), downloaded and verified first when it is not there. Returns its path.</summary>
    /// <exception cref="Data.ChecksumMismatchException">The downloaded file is not the expected one; nothing is left in the cache.</exception>
    /// <exception cref="HttpRequestException">The server refused the request.</exception>
    public Task<string> DownloadAsync(string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
        => PretrainedWeights.DownloadAsync(Source, Checksum, cacheDirectory, progress, cancellationToken);

    /// <summary>
    /// The weights as a state dict under <see cref="VisionTransformer"/>'s names (downloaded first when needed), with
    /// the position embeddings resized for <paramref name="imageSize"/> × <paramref name="imageSize"/> images when that
    /// is not <see cref="ImageSize"/>, and the patch projection adapted to <see cref="InputChannels"/> when that is not 3;
    /// the caller disposes it.
    /// </summary>
    /// <exception cref="ArgumentException">An image size that is not a positive multiple of <see cref="PatchSize"/>.</exception>
    /// <exception cref="PyTorchFormatException">The file is not torchvision's state dict of this network.</exception>
    public async Task<SafeTensorDictionary> LoadStateDictAsync(int? imageSize = null, string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        int size = CheckImageSize(imageSize);
        var path = await DownloadAsync(cacheDirectory, progress, cancellationToken).ConfigureAwait(false);
        var weights = PyTorchFile.LoadStateDict(path);
        try
        {
            weights.RenameKeys(key => VisionTransformer.TorchvisionKey(key, "path"));
            if (size != ImageSize)
            {
                int from = ImageSize / PatchSize, to = size / PatchSize;
                weights.Replace("pos_embedding", VisionTransformer.ResizePositionEmbedding(weights["pos_embedding"], [from, from], [to, to]));
            }
            PretrainedWeights.AdaptStem(weights, "conv_proj.weight", InputChannels, Name, path);
            return weights;
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException)
        {
            weights.Dispose();
            throw new PyTorchFormatException($"{path} is not torchvision's {Name} state dict: {e.Message}", e);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The vision transformer these weights belong to (<see cref="CreateBuilder"/>) for <paramref name="imageSize"/>
    /// images with the weights loaded strictly, in evaluation mode; the caller disposes it.
    /// </summary>
    public async Task<VisionTransformer> CreateModelAsync(int? imageSize = null, string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var builder = CreateBuilder(imageSize);
        using var weights = await LoadStateDictAsync(imageSize, cacheDirectory, progress, cancellationToken).ConfigureAwait(false);
        return PretrainedWeights.WithWeights(builder.Build(), weights);
    }

    /// <summary>
    /// The vision transformer of these weights for <paramref name="imageSize"/> × <paramref name="imageSize"/> images with a
    /// new head of <paramref name="numClasses"/> classes, ready to fine-tune (training mode; torchvision's
    /// <c>model.heads.head = nn.Linear(768, n)</c> after loading): every tensor of the file but the head's is loaded, the
    /// position embeddings resized to the patch grid and the patch projection adapted to <see cref="InputChannels"/>; the
    /// head starts at zero, as torchvision initialises it. The caller disposes it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> is below 1.</exception>
    /// <exception cref="ArgumentException">An image size that is not a positive multiple of <see cref="PatchSize"/>.</exception>
    /// <exception cref="StateDictMismatchException">A tensor of the file other than the head's does not fit the network.</exception>
    public async Task<VisionTransformer> CreateModelAsync(int numClasses, int imageSize, string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        var builder = CreateBuilder(imageSize).WithClasses(numClasses);
        using var weights = await LoadStateDictAsync(imageSize, cacheDirectory, progress, cancellationToken).ConfigureAwait(false);
        return PretrainedWeights.WithPretrainedBody(builder.Build(), weights, "head.");
    }

    private int CheckImageSize(int? imageSize)
    {
        int size = imageSize ?? ImageSize;
        if (size < PatchSize || size % PatchSize != 0)
            throw new ArgumentException($"{Name} cuts images into {PatchSize} × {PatchSize} patches: the image size must be a positive multiple of {PatchSize}, not {size}.", nameof(imageSize));
        return size;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({FileName}, ImageNet-1K top-1 {Top1Accuracy}%{(InputChannels != 3 ? $", for {InputChannels} input channel(s)" : "")})");
}
