using System.Globalization;
using MedVision.Nets.Data.Download;
using MedVision.Torch;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Models;

/// <summary>
/// torchvision's ImageNet-1K weights for its ResNets (<c>torchvision.models.ResNet18_Weights.IMAGENET1K_V1</c> and
/// the others), downloaded from download.pytorch.org into a cache, verified by the SHA-256 prefix in their file names
/// as <c>torch.hub</c> verifies them, and read without Python (<see cref="PyTorchFile"/>). They fit
/// <c>ResNet.Builder().WithDepth(d).ForInput(3).WithImageNetStem().WithClasses(1000)</c> key for key; for transfer
/// learning load them non-strictly into a model with your own class count (the classifier keeps its initialisation).
/// </summary>
/// <example><code>
/// using var weights = await PretrainedWeights.ResNet18ImageNet1KV1.LoadStateDictAsync();
/// using var model = ResNet.Builder().WithDepth(18).ForInput(3).WithImageNetStem().WithClasses(5).Build();
/// model.LoadStateDict(weights, strict: false);   // fc.weight and fc.bias differ in shape: reported, not copied
/// </code></example>
/// <remarks>
/// The weights were trained on ImageNet-1K with its normalisation (<see cref="Mean"/>, <see cref="Std"/>) on 224×224
/// crops. Check the terms under which you may use them (torchvision's model documentation) for your application.
/// Downloads resume after an interruption and are renamed into the cache only when verified; a file already in the
/// cache is used without the network.
/// </remarks>
public sealed record PretrainedWeights
{
    /// <summary>The environment variable that moves the cache: <c>$MEDVISION_DATA/weights</c> (as MedMNIST's <c>$MEDVISION_DATA/medmnist</c>).</summary>
    public const string DataEnvironmentVariable = "MEDVISION_DATA";

    /// <summary>torchvision's name, e.g. <c>ResNet18_Weights.IMAGENET1K_V1</c>.</summary>
    public required string Name { get; init => field = value ?? throw new ArgumentNullException(nameof(Name)); }

    /// <summary>The ResNet depth the weights belong to (18, 34, 50, 101 or 152).</summary>
    public required int Depth { get; init; }

    /// <summary>Where the file is downloaded from (an http(s) or file address; a mirror may replace it with <c>with</c>).</summary>
    public required Uri Source { get; init => field = value ?? throw new ArgumentNullException(nameof(Source)); }

    /// <summary>The checksum the file must have: the SHA-256 prefix in torchvision's file name.</summary>
    public required FileChecksum Checksum { get; init => field = value ?? throw new ArgumentNullException(nameof(Checksum)); }

    /// <summary>The number of parameters (torchvision's <c>meta["num_params"]</c>).</summary>
    public required long ParameterCount { get; init; }

    /// <summary>ImageNet-1K validation top-1 accuracy in percent, as torchvision reports it.</summary>
    public required double ImageNetTop1 { get; init; }

    /// <summary>ImageNet-1K validation top-5 accuracy in percent, as torchvision reports it.</summary>
    public required double ImageNetTop5 { get; init; }

    /// <summary>The resize before the 224×224 centre crop in torchvision's evaluation transform (256, or 232 for the V2 weights).</summary>
    public required int ResizeSize { get; init; }

    /// <summary>The centre crop of torchvision's evaluation transform.</summary>
    public int CropSize => 224;

    /// <summary>Classes of the classifier (ImageNet-1K).</summary>
    public int NumClasses => 1000;

    /// <summary>ImageNet's per-channel mean (RGB) the weights expect inputs normalised with.</summary>
    public static IReadOnlyList<float> Mean { get; } = new[] { 0.485f, 0.456f, 0.406f };

    /// <summary>ImageNet's per-channel standard deviation (RGB).</summary>
    public static IReadOnlyList<float> Std { get; } = new[] { 0.229f, 0.224f, 0.225f };

    /// <summary>The file's name (<c>resnet18-f37072fd.pth</c>), also its name in the cache.</summary>
    public string FileName => Path.GetFileName(Source.AbsolutePath);

    private static PretrainedWeights Torchvision(string name, int depth, string file, long parameters, double top1, double top5, int resize) => new()
    {
        Name = name,
        Depth = depth,
        Source = new Uri("https://download.pytorch.org/models/" + file),
        Checksum = FileChecksum.Sha256(file[(file.LastIndexOf('-') + 1)..file.LastIndexOf('.')]),
        ParameterCount = parameters,
        ImageNetTop1 = top1,
        ImageNetTop5 = top5,
        ResizeSize = resize,
    };

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

    /// <summary>Every set of weights above.</summary>
    public static IReadOnlyList<PretrainedWeights> All { get; } = new[]
    {
        ResNet18ImageNet1KV1, ResNet34ImageNet1KV1, ResNet50ImageNet1KV1, ResNet50ImageNet1KV2,
        ResNet101ImageNet1KV1, ResNet101ImageNet1KV2, ResNet152ImageNet1KV1, ResNet152ImageNet1KV2,
    };

    /// <summary>torchvision's <c>DEFAULT</c> weights for a depth: V1 for ResNet-18/34, V2 for ResNet-50/101/152.</summary>
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
    {
        var path = Path.Combine(cacheDirectory ?? GetDefaultCacheDirectory(), FileName);
        return File.Exists(path) ? Task.FromResult(path) : Fetch(path, progress, cancellationToken);
    }

    private async Task<string> Fetch(string path, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        await new VerifiedDownloader().DownloadAndVerifyAsync(Source, path, Checksum, progress, cancellationToken).ConfigureAwait(false);
        return path;
    }

    /// <summary>The weights as a state dict (downloaded first when needed); the caller disposes it.</summary>
    public async Task<SafeTensorDictionary> LoadStateDictAsync(string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var path = await DownloadAsync(cacheDirectory, progress, cancellationToken).ConfigureAwait(false);
        return PyTorchFile.LoadStateDict(path);
    }

    /// <summary>
    /// The ResNet these weights belong to (ImageNet stem, 3 channels, 1000 classes) with the weights loaded strictly,
    /// in evaluation mode; the caller disposes it.
    /// </summary>
    public async Task<ResNet> CreateModelAsync(string? cacheDirectory = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var weights = await LoadStateDictAsync(cacheDirectory, progress, cancellationToken).ConfigureAwait(false);
        var model = ResNet.Builder().WithDepth(Depth).ForInput(3).WithImageNetStem().WithClasses(NumClasses).Build();
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
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({FileName}, top-1 {ImageNetTop1}%)");
}
