using MedVision.Nets.Data.Download;

namespace MedVision.Nets.Data.MedMnist;

/// <summary>
/// Downloads official MedMNIST <c>.npz</c> files into a cache folder and verifies their MD5. A file that is already
/// cached and verifies is used without any network access.
/// </summary>
/// <remarks>
/// <para>
/// The cache folder is, in order: <see cref="CacheDirectory"/> when set; <c>$MEDVISION_DATA/medmnist</c> when the
/// <c>MEDVISION_DATA</c> environment variable is set; otherwise <c>~/.medvision/medmnist</c>.
/// </para>
/// <para>
/// Files come from the official Zenodo records (v2 record 5208230 for 28 pixels, MedMNIST+ record 10519652 for
/// 64/128/224 pixels) unless <see cref="BaseUri"/> points at a mirror, a local server or a <c>file://</c> folder.
/// </para>
/// <para>
/// Verification: the catalog's MD5 is used by default. Where the catalog does not know the MD5 for a size
/// (MedMNIST+ files other than RetinaMNIST), the caller must pass <c>expectedMd5</c>, or pass
/// <c>allowUnverified: true</c> to accept the file unchecked; otherwise the download is refused.
/// </para>
/// </remarks>
public sealed class MedMnistDownloader
{
    /// <summary>The environment variable that sets the data root (the cache is its <c>medmnist</c> sub-folder).</summary>
    public const string DataEnvironmentVariable = "MEDVISION_DATA";

    private readonly VerifiedDownloader _downloader;

    /// <summary>Creates a downloader.</summary>
    /// <param name="httpClient">The HTTP client; <see langword="null"/> for a shared one.</param>
    public MedMnistDownloader(HttpClient? httpClient = null)
    {
        _downloader = new VerifiedDownloader(httpClient);
        CacheDirectory = GetDefaultCacheDirectory();
    }

    /// <summary>The cache folder. Defaults to <see cref="GetDefaultCacheDirectory"/>.</summary>
    public string CacheDirectory { get; set => field = value ?? throw new ArgumentNullException(nameof(CacheDirectory)); }

    /// <summary>
    /// A base address that replaces the official Zenodo addresses: the file <c>name[_size].npz</c> is fetched from
    /// <c>BaseUri + file name</c>. Use an <c>http(s)://</c> mirror or a <c>file://</c> folder; <see langword="null"/>
    /// (the default) uses Zenodo.
    /// </summary>
    public Uri? BaseUri { get; set; }

    /// <summary>
    /// The default cache folder: <c>$MEDVISION_DATA/medmnist</c> when the environment variable is set, otherwise
    /// <c>~/.medvision/medmnist</c>.
    /// </summary>
    /// <returns>The folder path (not created).</returns>
    public static string GetDefaultCacheDirectory()
    {
        string? root = Environment.GetEnvironmentVariable(DataEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(root))
        {
            root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".medvision");
        }

        return Path.Combine(root, "medmnist");
    }

    /// <summary>The path a dataset file has in the cache (whether or not it is there).</summary>
    /// <param name="dataset">The dataset flag, e.g. <c>retinamnist</c>.</param>
    /// <param name="size">The image size, e.g. 28 or 64.</param>
    /// <returns>The cache path.</returns>
    public string GetCachePath(string dataset, int size = 28) =>
        Path.Combine(CacheDirectory, Info(dataset).GetFileName(size));

    // The catalogue entry, or ArgumentNullException / ArgumentException naming the dataset argument.
    private static MedMnistInfo Info(string dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        try
        {
            return MedMnistCatalog.Get(dataset);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(e.Message.Replace(" (Parameter 'name')", "", StringComparison.Ordinal), nameof(dataset));
        }
    }

    /// <summary>The address a dataset file is downloaded from.</summary>
    /// <param name="dataset">The dataset flag.</param>
    /// <param name="size">The image size.</param>
    /// <returns>The address.</returns>
    public Uri GetSourceUri(string dataset, int size = 28)
    {
        MedMnistInfo info = Info(dataset);
        if (BaseUri is null)
        {
            return info.GetDownloadUri(size);
        }

        Uri baseUri = BaseUri.AbsoluteUri.EndsWith('/') ? BaseUri : new Uri(BaseUri.AbsoluteUri + "/");
        return new Uri(baseUri, info.GetFileName(size));
    }

    /// <summary>
    /// Makes sure the verified file for <paramref name="dataset"/> at <paramref name="size"/> is in the cache,
    /// downloading it when it is missing or fails verification, and returns its path.
    /// </summary>
    /// <param name="dataset">The dataset flag, e.g. <c>pathmnist</c>.</param>
    /// <param name="size">The image size; one of the dataset's <see cref="MedMnistInfo.Sizes"/>.</param>
    /// <param name="expectedMd5">An MD5 to verify against instead of the catalog's; required where the catalog has none, unless <paramref name="allowUnverified"/>.</param>
    /// <param name="allowUnverified">Accept the file without verification when no MD5 is known (explicit opt-out).</param>
    /// <param name="progress">Receives download progress; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the download; partial data is kept for resuming.</param>
    /// <returns>The path of the verified file in the cache.</returns>
    /// <exception cref="InvalidOperationException">No MD5 is known or given and <paramref name="allowUnverified"/> is false.</exception>
    /// <exception cref="ChecksumMismatchException">The downloaded data does not match the MD5; nothing is left in the cache.</exception>
    public Task<string> DownloadAsync(
        string dataset,
        int size = 28,
        string? expectedMd5 = null,
        bool allowUnverified = false,
        IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        // Bad arguments throw here, when the call is made, not from the returned task.
        MedMnistInfo info = Info(dataset);
        string fileName = info.GetFileName(size);
        string? md5 = expectedMd5 is not null ? Md5.Normalize(expectedMd5, nameof(expectedMd5)) : info.GetMd5(size);
        if (md5 is null && !allowUnverified)
        {
            throw new InvalidOperationException(
                $"No official MD5 is known for {fileName}; pass expectedMd5 to verify it, or allowUnverified: true to accept it without verification.");
        }
        return DownloadCoreAsync(dataset, size, fileName, md5, progress, cancellationToken);
    }

    private async Task<string> DownloadCoreAsync(string dataset, int size, string fileName, string? md5, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string path = Path.Combine(CacheDirectory, fileName);
        if (File.Exists(path))
        {
            if (md5 is null)
            {
                return path;
            }

            if (await Md5.OfFileAsync(path, cancellationToken).ConfigureAwait(false) == md5)
            {
                return path;
            }

            File.Delete(path); // A stale or damaged cached copy: replace it.
        }

        await _downloader.DownloadAsync(GetSourceUri(dataset, size), path, md5, progress, cancellationToken).ConfigureAwait(false);
        return path;
    }

    /// <summary>Downloads (or finds in the cache) and loads a dataset.</summary>
    /// <param name="dataset">The dataset flag.</param>
    /// <param name="size">The image size.</param>
    /// <param name="options">Load options; <see langword="null"/> for defaults (the dataset's metadata is filled in).</param>
    /// <param name="progress">Receives download progress; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The dataset.</returns>
    public Task<MedMnistDataset> LoadAsync(string dataset, int size = 28, MedMnistLoadOptions? options = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        _ = Info(dataset); // bad names throw here, not from the returned task
        return LoadCoreAsync(dataset, size, options, progress, cancellationToken);
    }

    private async Task<MedMnistDataset> LoadCoreAsync(string dataset, int size, MedMnistLoadOptions? options, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string path = await DownloadAsync(dataset, size, progress: progress, cancellationToken: cancellationToken).ConfigureAwait(false);
        var effective = new MedMnistLoadOptions
        {
            Info = options?.Info ?? MedMnistCatalog.Get(dataset),
            GrayscaleToRgb = options?.GrayscaleToRgb ?? false,
            RequireOfficialSplitSizes = options?.RequireOfficialSplitSizes ?? false,
        };
        return MedMnistDataset.Load(path, effective);
    }
}
