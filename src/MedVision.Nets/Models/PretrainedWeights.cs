using System.Globalization;
using MedVision.Nets.Data.Download;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Models;

/// <summary>
/// torchvision's pretrained weights for the ResNets this library builds: the ImageNet-1K weights of its 2-D ResNets
/// (<c>torchvision.models.ResNet18_Weights.IMAGENET1K_V1</c> and the others) and the Kinetics-400 weights of its 3-D
/// R3D-18 (<c>torchvision.models.video.R3D_18_Weights.KINETICS400_V1</c>, a 3-D ResNet-18 for clips or volumes),
/// downloaded from download.pytorch.org into a cache, verified by the SHA-256 prefix in their file names as
/// <c>torch.hub</c> verifies them, and read without Python (<see cref="PyTorchFile"/>), under this library's parameter
/// names. <see cref="CreateBuilder"/> gives the matching network; change its class count for transfer learning and load
/// the weights non-strictly (the classifier keeps its initialisation). For grey images (most MedMNIST datasets, CT and
/// MRI slices), <see cref="ForInputChannels"/> adapts the stem's RGB kernels as timm's <c>adapt_input_conv</c> does
/// instead of leaving the first convolution untrained.
/// </summary>
/// <example><code>
/// using var weights = await PretrainedWeights.ResNet18ImageNet1KV1.LoadStateDictAsync();
/// using var model = PretrainedWeights.ResNet18ImageNet1KV1.CreateBuilder().WithClasses(5).Build();
/// model.LoadStateDict(weights, strict: false);   // fc.weight and fc.bias differ in shape: reported, not copied
///
/// var grey = PretrainedWeights.ResNet18ImageNet1KV1.ForInputChannels(1);   // conv1's kernels summed over R, G and B
/// using var greyWeights = await grey.LoadStateDictAsync();
/// using var greyModel = grey.CreateBuilder().WithClasses(2).Build();
/// greyModel.LoadStateDict(greyWeights, strict: false);   // only the classifier is left out
/// </code></example>
/// <remarks>
/// Inputs are expected normalised with <see cref="Mean"/> and <see cref="Std"/> of the data the weights were trained
/// on (<see cref="InputMean"/> and <see cref="InputStd"/> for the channels of <see cref="ForInputChannels"/>). Check the terms under which you may use them (torchvision's model documentation) for your application.
/// Downloads resume after an interruption and are renamed into the cache only when verified; a file already in the
/// cache is used without the network.
/// </remarks>
public sealed record PretrainedWeights
{
    /// <summary>The environment variable that moves the cache: <c>$MEDVISION_DATA/weights</c> (as MedMNIST's <c>$MEDVISION_DATA/medmnist</c>).</summary>
    public const string DataEnvironmentVariable = "MEDVISION_DATA";

    private static readonly float[] ImageNetMean = { 0.485f, 0.456f, 0.406f };
    private static readonly float[] ImageNetStd = { 0.229f, 0.224f, 0.225f };

    /// <summary>torchvision's name, e.g. <c>ResNet18_Weights.IMAGENET1K_V1</c>.</summary>
    public required string Name { get; init => field = value ?? throw new ArgumentNullException(nameof(Name)); }

    /// <summary>The ResNet depth the weights belong to (18, 34, 50, 101 or 152).</summary>
    public required int Depth { get; init; }

    /// <summary>2 for images (the ImageNet weights), 3 for clips and volumes (R3D-18).</summary>
    public int SpatialDims { get; init; } = 2;

    /// <summary>Where the file is downloaded from (an http(s) or file address; a mirror may replace it with <c>with</c>).</summary>
    public required Uri Source { get; init => field = value ?? throw new ArgumentNullException(nameof(Source)); }

    /// <summary>The checksum the file must have: the SHA-256 prefix in torchvision's file name.</summary>
    public required FileChecksum Checksum { get; init => field = value ?? throw new ArgumentNullException(nameof(Checksum)); }

    /// <summary>The number of parameters (torchvision's <c>meta["num_params"]</c>).</summary>
    public required long ParameterCount { get; init; }

    /// <summary>The data set the weights were trained on: "ImageNet-1K" or "Kinetics-400".</summary>
    public string Dataset { get; init => field = value ?? throw new ArgumentNullException(nameof(Dataset)); } = "ImageNet-1K";

    /// <summary>Classes of the classifier (1000 for ImageNet-1K, 400 for Kinetics-400).</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>Top-1 accuracy in percent on <see cref="Dataset"/>'s validation split, as torchvision reports it.</summary>
    public required double Top1Accuracy { get; init; }

    /// <summary>Top-5 accuracy in percent, as torchvision reports it.</summary>
    public required double Top5Accuracy { get; init; }

    /// <summary>
    /// The resize of torchvision's evaluation transform: one number resizes the shorter side (256, or 232 for the V2
    /// weights), two give height and width (128 × 171 for video frames).
    /// </summary>
    public required IReadOnlyList<int> ResizeSize { get; init => field = value ?? throw new ArgumentNullException(nameof(ResizeSize)); }

    /// <summary>The centre crop (height, width) of torchvision's evaluation transform: 224 × 224, or 112 × 112 for video.</summary>
    public IReadOnlyList<int> CropSize { get; init => field = value ?? throw new ArgumentNullException(nameof(CropSize)); } = new[] { 224, 224 };

    /// <summary>The per-channel mean (RGB) inputs are normalised with (ImageNet's, or Kinetics-400's for R3D-18).</summary>
    public IReadOnlyList<float> Mean { get; init => field = value ?? throw new ArgumentNullException(nameof(Mean)); } = ImageNetMean;

    /// <summary>The per-channel standard deviation (RGB).</summary>
    public IReadOnlyList<float> Std { get; init => field = value ?? throw new ArgumentNullException(nameof(Std)); } = ImageNetStd;

    /// <summary>
    /// The per-channel mean for a network of <see cref="InputChannels"/> channels: <see cref="Mean"/> for RGB; for one
    /// channel the mean of the three (ImageNet's 0.449, the usual normalisation of grey images for ImageNet weights); for
    /// C channels channel i takes RGB channel i mod 3's, as the adapted stem's kernels do.
    /// </summary>
    /// <remarks>For one channel this is an approximation: a grey image normalised by the averaged statistics gets exactly
    /// what its three-channel copy, normalised per channel, gave the RGB network only when the three means (and the three
    /// standard deviations) are equal; ImageNet's differ by at most 0.079 (means) and 0.005 (standard deviations).</remarks>
    public IReadOnlyList<float> InputMean => ForChannels(Mean, InputChannels);

    /// <summary>The per-channel standard deviation for <see cref="InputChannels"/> channels (see <see cref="InputMean"/>; ImageNet's 0.226 for one channel).</summary>
    public IReadOnlyList<float> InputStd => ForChannels(Std, InputChannels);

    // RGB statistics for `channels` channels: their mean for one, cycled for several; statistics of another count as they are.
    internal static IReadOnlyList<float> ForChannels(IReadOnlyList<float> rgb, int channels) =>
        rgb.Count != 3 || channels == 3 ? rgb
        : channels == 1 ? new[] { (float)rgb.Average(v => (double)v) }
        : Enumerable.Range(0, channels).Select(c => rgb[c % 3]).ToArray();

    /// <summary>The file's name (<c>resnet18-f37072fd.pth</c>), also its name in the cache.</summary>
    public string FileName => Path.GetFileName(Source.AbsolutePath);

    /// <summary>
    /// The input channels of the network the weights are loaded into: 3 (RGB, as they were trained) unless
    /// <see cref="ForInputChannels"/> chose another count, for which <see cref="LoadStateDictAsync"/> adapts the stem
    /// (<see cref="AdaptInputChannels"/>) and <see cref="CreateBuilder"/> builds that many input channels.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one channel.</exception>
    public int InputChannels
    {
        get;
        init => field = PretrainedWeights.CheckInputChannels(value);
    } = 3;

    /// <summary>
    /// These weights for a network of <paramref name="channels"/> input channels, e.g. 1 for grey images: when loaded,
    /// the stem's kernels (<c>conv1.weight</c>) are adapted from RGB by <see cref="AdaptInputChannels"/>, so the first
    /// convolution starts pretrained too (left at RGB, its shape would not fit and it would keep a random initialisation).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is below 1.</exception>
    public PretrainedWeights ForInputChannels(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        return this with { InputChannels = channels };
    }

    /// <summary>
    /// A first layer's kernels of a pretrained network adapted to <paramref name="channels"/> input channels. RGB kernels,
    /// (out, 3, k…), are adapted as timm's <c>adapt_input_conv</c> adapts pretrained stems: for one channel the kernels
    /// summed over R, G and B (the layer then gives a grey image exactly what the RGB layer gave the grey image repeated
    /// in three channels); for another count the R, G, B kernels repeated cyclically over the channels and scaled by
    /// 3 / <paramref name="channels"/> (a grey image in every channel then gets the same response when the count is a
    /// multiple of 3). One-channel kernels, (out, 1, k…) such as MedicalNet's for CT and MRI, are repeated over the
    /// channels and scaled by 1 / <paramref name="channels"/>, so the layer responds to the channels' mean as the
    /// one-channel layer responded to one volume (co-registered modalities of a subject, one per channel, then start
    /// from the pretrained response). The same count gives a copy. Returns a new tensor.
    /// </summary>
    /// <param name="weight">The kernels: at least 3-D, 3 (RGB) or 1 input channel(s) in dimension 1.</param>
    /// <param name="channels">The input channels wanted, at least 1.</param>
    /// <exception cref="ArgumentException">The weight does not have 3 or 1 input channel(s) in dimension 1.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is below 1.</exception>
    public static Tensor AdaptInputChannels(Tensor weight, int channels)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        var shape = weight.Shape;
        if (shape.Length < 3 || shape[1] is not (3 or 1))
            throw new ArgumentException($"A pretrained stem's kernels are (out, 3, k…) with the RGB channels in dimension 1, or (out, 1, k…) for one channel; got [{string.Join(", ", shape)}].", nameof(weight));
        int from = (int)shape[1];
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var source = weight.Detach();
        Tensor adapted;
        if (channels == from) adapted = source.Clone();
        else if (channels == 1) adapted = source.Sum([1L], keepDim: true);
        else
        {
            var cycle = Enumerable.Range(0, channels).Select(c => (long)(c % from)).ToArray();
            using var index = Tensors.FromArray(cycle);
            adapted = source.IndexSelect(1, index) * ((double)from / channels);
        }
        return scope.MoveToOuter(adapted.Contiguous());
    }

    private static PretrainedWeights Torchvision(string name, int depth, string file, long parameters, double top1, double top5, int resize) => new()
    {
        Name = name,
        Depth = depth,
        Source = TorchvisionSource(file),
        Checksum = TorchvisionChecksum(file),
        ParameterCount = parameters,
        Top1Accuracy = top1,
        Top5Accuracy = top5,
        ResizeSize = new[] { resize },
    };

    // torchvision's address of one of its files, and the SHA-256 prefix its name carries (resnet18-f37072fd.pth).
    internal static Uri TorchvisionSource(string file) => new("https://download.pytorch.org/models/" + file);

    internal static FileChecksum TorchvisionChecksum(string file) => FileChecksum.Sha256(file[(file.LastIndexOf('-') + 1)..file.LastIndexOf('.')]);

    /// <summary>ResNet-18, <c>IMAGENET1K_V1</c> (top-1 69.758%).</summary>
    public static PretrainedWeights ResNet18ImageNet1KV1 { get; } = Torchvision("ResNet18_Weights.IMAGENET1K_V1", 18, "resnet18-f37072fd.pth", 11_689_512, 69.758, 89.078, 256);

    /// <summary>ResNet-34, <c>IMAGENET1K_V1</c> (top-1 73.314%).</summary>
    public static PretrainedWeights ResNet34ImageNet1KV1 { get; } = Torchvision("ResNet34_Weights.IMAGENET1K_V1", 34, "resnet34-b627a593.pth", 21_797_672, 73.314, 91.42, 256);

    /// <summary>ResNet-50, <c>IMAGENET1K_V1</c> (top-1 76.13%).</summary>
    public static PretrainedWeights ResNet50ImageNet1KV1 { get; } = Torchvision("ResNet50_Weights.IMAGENET1K_V1", 50, "resnet50-0676ba61.pth", 25_557_032, 76.13, 92.862, 256);

    /// <summary>ResNet-50, <c>IMAGENET1K_V2</c> (top-1 80.858%; torchvision's default).</summary>
    public static PretrainedWeights ResNet50ImageNet1KV2 { get; } = Torchvision("ResNet50_Weights.IMAGENET1K_V2", 50, "resnet50-11ad3fa6.pth", 25_557_032, 80.858, 95.434, 232);

    /// <summary>ResNet-101, <c>IMAGENET1K_V1</c> (top-1 77.374%).</summary>
    public static PretrainedWeights ResNet101ImageNet1KV1 { get; } = Torchvision("ResNet101_Weights.IMAGENET1K_V1", 101, "resnet101-63fe2227.pth", 44_549_160, 77.374, 93.546, 256);

    /// <summary>ResNet-101, <c>IMAGENET1K_V2</c> (top-1 81.886%; torchvision's default).</summary>
    public static PretrainedWeights ResNet101ImageNet1KV2 { get; } = Torchvision("ResNet101_Weights.IMAGENET1K_V2", 101, "resnet101-cd907fc2.pth", 44_549_160, 81.886, 95.78, 232);

    /// <summary>ResNet-152, <c>IMAGENET1K_V1</c> (top-1 78.312%).</summary>
    public static PretrainedWeights ResNet152ImageNet1KV1 { get; } = Torchvision("ResNet152_Weights.IMAGENET1K_V1", 152, "resnet152-394f9c45.pth", 60_192_808, 78.312, 94.046, 256);

    /// <summary>ResNet-152, <c>IMAGENET1K_V2</c> (top-1 82.284%; torchvision's default).</summary>
    public static PretrainedWeights ResNet152ImageNet1KV2 { get; } = Torchvision("ResNet152_Weights.IMAGENET1K_V2", 152, "resnet152-f82ba261.pth", 60_192_808, 82.284, 96.002, 232);

    /// <summary>
    /// R3D-18, <c>KINETICS400_V1</c> (top-1 63.2% on Kinetics-400 clips): a 3-D ResNet-18 with a 3×7×7 stride-(1, 2, 2)
    /// stem and no max pool, whose inputs are (N, 3, T, H, W) RGB clips — a common start for 3-D medical volumes.
    /// </summary>
    public static PretrainedWeights R3D18Kinetics400V1 { get; } = Torchvision("R3D_18_Weights.KINETICS400_V1", 18, "r3d_18-b3b3357e.pth", 33_371_472, 63.2, 83.479, 0) with
    {
        SpatialDims = 3,
        Dataset = "Kinetics-400",
        NumClasses = 400,
        ResizeSize = new[] { 128, 171 },
        CropSize = new[] { 112, 112 },
        Mean = new[] { 0.43216f, 0.394666f, 0.37645f },
        Std = new[] { 0.22803f, 0.22145f, 0.216989f },
    };

    /// <summary>Every set of weights above.</summary>
    public static IReadOnlyList<PretrainedWeights> All { get; } = new[]
    {
        ResNet18ImageNet1KV1, ResNet34ImageNet1KV1, ResNet50ImageNet1KV1, ResNet50ImageNet1KV2,
        ResNet101ImageNet1KV1, ResNet101ImageNet1KV2, ResNet152ImageNet1KV1, ResNet152ImageNet1KV2, R3D18Kinetics400V1,
    };

    /// <summary>torchvision's <c>DEFAULT</c> ImageNet weights for a depth: V1 for ResNet-18/34, V2 for ResNet-50/101/152.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The depth is not 18, 34, 50, 101 or 152.</exception>
    public static PretrainedWeights Default(int depth) => depth switch
    {
        18 => ResNet18ImageNet1KV1,
        34 => ResNet34ImageNet1KV1,
        50 => ResNet50ImageNet1KV2,
        101 => ResNet101ImageNet1KV2,
        152 => ResNet152ImageNet1KV2,
        _ => throw new ArgumentOutOfRangeException(nameof(depth), depth, "torchvision has ImageNet weights for ResNet-18, 34, 50, 101 and 152."),
    };

    /// <summary>
    /// A builder of the network the weights belong to (<see cref="InputChannels"/> input channels, <see cref="NumClasses"/> classes): the
    /// ImageNet stem for the 2-D ResNets; for R3D-18 a 3-D ResNet-18 with a 3×7×7, stride (1, 2, 2) stem and no max pool.
    /// Change what you need (classes, backbone mode) before <c>Build()</c>.
    /// </summary>
    public ResNetBuilder CreateBuilder()
    {
        var builder = ResNet.Builder().WithDepth(Depth).ForInput(InputChannels, SpatialDims).WithClasses(NumClasses);
        return SpatialDims == 3
            ? builder.WithSmallInputStem().WithStemKernel(3, 7, 7).WithStemStride(1, 2, 2)
            : builder.WithImageNetStem();
    }

    /// <summary>
    /// torchvision's video ResNets name the stem <c>stem.0</c>/<c>stem.1</c> and wrap each block's convolution and batch
    /// norm in a Sequential (<c>layer1.0.conv1.0</c>, <c>layer1.0.conv1.1</c>); this library's names are torchvision's
    /// 2-D ones (<c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, <c>layer1.0.bn1</c>).
    /// </summary>
    private static string VideoKey(string key)
    {
        if (key.StartsWith("stem.0.", StringComparison.Ordinal)) return "conv1." + key["stem.0.".Length..];
        if (key.StartsWith("stem.1.", StringComparison.Ordinal)) return "bn1." + key["stem.1.".Length..];
        foreach (var (from, to) in new[] { (".conv1.0.", ".conv1."), (".conv1.1.", ".bn1."), (".conv2.0.", ".conv2."), (".conv2.1.", ".bn2.") })
        {
            int at = key.IndexOf(from, StringComparison.Ordinal);
            if (at >= 0 && key.StartsWith("layer", StringComparison.Ordinal)) return key[..at] + to + key[(at + from.Length)..];
        }
        return key;
    }

    /// <summary>The default cache folder: <c>$MEDVISION_DATA/weights</c> when the variable is set, otherwise <c>~/.medvision/weights</c>.</summary>
    public static string GetDefaultCacheDirectory()
    {
        string? root = Environment.GetEnvironmentVariable(DataEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".medvision");
        return Path.Combine(root, "weights");
    }

    /// <summary>
    /// The file in the cache, downloaded and verified first when it is not there. Returns its path.
    /// </summary>
    /// <param name="cacheDirectory">The cache folder; null for <see cref="GetDefaultCacheDirectory"/>.</param>
    /// <param name="progress">Receives bytes received and the total.</param>
    /// <param name="cancellationToken">Cancels the transfer (the partial file is kept for resuming).</param>
    /// <exception cref="Data.ChecksumMismatchException">The downloaded file is not the expected one; nothing is left in the cache.</exception>
    /// <exception cref="HttpRequestException">The server refused the request.</exception>
    public Task<string> DownloadAsync(string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
        => DownloadAsync(Source, Checksum, cacheDirectory, progress, cancellationToken);

    // A torchvision file in the cache (named as at its source), downloaded and verified first when it is not there.
    internal static Task<string> DownloadAsync(Uri source, FileChecksum checksum, string? cacheDirectory, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var path = Path.Combine(cacheDirectory ?? GetDefaultCacheDirectory(), Path.GetFileName(source.AbsolutePath));
        return File.Exists(path) ? Task.FromResult(path) : Fetch(source, checksum, path, progress, cancellationToken);
    }

    private static async Task<string> Fetch(Uri source, FileChecksum checksum, string path, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        await new VerifiedDownloader().DownloadAndVerifyAsync(source, path, checksum, progress, cancellationToken).ConfigureAwait(false);
        return path;
    }

    /// <summary>
    /// The weights as a state dict under this library's parameter names (downloaded first when needed), the stem's
    /// kernels adapted to <see cref="InputChannels"/> when that is not 3; the caller disposes it.
    /// </summary>
    /// <exception cref="PyTorchFormatException">The file has no RGB stem (<c>conv1.weight</c>) to adapt.</exception>
    public async Task<SafeTensorDictionary> LoadStateDictAsync(string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var path = await DownloadAsync(cacheDirectory, progress, cancellationToken).ConfigureAwait(false);
        var weights = PyTorchFile.LoadStateDict(path);
        try
        {
            if (SpatialDims == 3) weights.RenameKeys(VideoKey);
            AdaptStem(weights, "conv1.weight", InputChannels, Name, path);
            return weights;
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    // The InputChannels of both weight records: at least one.
    internal static int CheckInputChannels(int value) =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(InputChannels), value, "A network has at least one input channel.");

    // The stem's kernels under `key` adapted to `channels` (nothing to do for 3).
    internal static void AdaptStem(SafeTensorDictionary weights, string key, int channels, string name, string path)
    {
        if (channels == 3) return;
        if (!weights.TryGetValue(key, out var stem) || stem.Dim < 3 || stem.Size(1) != 3)
            throw new PyTorchFormatException($"{path} has no RGB stem '{key}' (out, 3, k…) to adapt to {channels} input channel(s), as {name} has.");
        weights.Replace(key, AdaptInputChannels(stem, channels));
    }

    /// <summary>
    /// The ResNet these weights belong to (<see cref="CreateBuilder"/>) with the weights loaded strictly, in evaluation
    /// mode; the caller disposes it.
    /// </summary>
    public async Task<ResNet> CreateModelAsync(string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var weights = await LoadStateDictAsync(cacheDirectory, progress, cancellationToken).ConfigureAwait(false);
        return WithWeights(CreateBuilder().Build(), weights);
    }

    /// <summary>
    /// The ResNet these weights belong to with a new classifier of <paramref name="numClasses"/> classes, ready to
    /// fine-tune (training mode; torchvision's <c>model.fc = nn.Linear(512, n)</c> after loading): every tensor of the
    /// file but <c>fc</c>'s is loaded, the stem adapted to <see cref="InputChannels"/>. The caller disposes it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> is below 1.</exception>
    /// <exception cref="StateDictMismatchException">A tensor of the file other than the classifier's does not fit the network.</exception>
    public async Task<ResNet> CreateModelAsync(int numClasses, string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        using var weights = await LoadStateDictAsync(cacheDirectory, progress, cancellationToken).ConfigureAwait(false);
        return WithPretrainedBody(CreateBuilder().WithClasses(numClasses).Build(), weights, "fc.");
    }

    /// <summary>
    /// <see cref="CreateModelAsync(int, string?, IProgress{DownloadProgress}?, CancellationToken)"/> ending in
    /// <paramref name="head"/>: a new linear classifier, or a CORAL head for <paramref name="numClasses"/> ordered grades
    /// (<see cref="ResNetBuilder.WithCoralHead"/>); either keeps its own initialisation, every other tensor is the file's.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> is below 1.</exception>
    /// <exception cref="ArgumentException">An unknown head, or a CORAL head for fewer than 2 grades.</exception>
    /// <exception cref="StateDictMismatchException">A tensor of the file other than the classifier's does not fit the network.</exception>
    public async Task<ResNet> CreateModelAsync(int numClasses, ClassifierHead head, string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        var builder = CreateBuilder().WithClasses(numClasses).WithHead(head);   // refuses a bad head before any download
        using var weights = await LoadStateDictAsync(cacheDirectory, progress, cancellationToken).ConfigureAwait(false);
        return WithPretrainedBody(builder.Build(), weights, "fc.");
    }

    // `model` with every tensor of `weights` loaded but those under `headPrefix`: its new head keeps the initialisation it
    // was built with (whatever the file's class count), and nothing else of the model may be left out. A model to
    // fine-tune, in training mode; disposed when the weights do not fit.
    internal static TModel WithPretrainedBody<TModel>(TModel model, IReadOnlyDictionary<string, Tensor> weights, string headPrefix) where TModel : Module
    {
        try
        {
            var body = weights.Where(kv => !kv.Key.StartsWith(headPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
            var result = model.LoadStateDict(body, strict: false);
            if (result.UnexpectedKeys.Count > 0 || result.ShapeMismatches.Count > 0 || result.MissingKeys.Any(k => !k.StartsWith(headPrefix, StringComparison.Ordinal)))
                throw new StateDictMismatchException(result);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    // `model` with `weights` loaded strictly, in evaluation mode; disposed when they do not fit.
    internal static TModel WithWeights<TModel>(TModel model, IReadOnlyDictionary<string, Tensor> weights) where TModel : MedVision.Torch.Nn.Module
    {
        try
        {
            model.LoadStateDict(weights, strict: true);
            model.Eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({FileName}, {Dataset} top-1 {Top1Accuracy}%{(InputChannels != 3 ? $", for {InputChannels} input channel(s)" : "")})");
}
