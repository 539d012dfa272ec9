using MedVision.Nets.Metrics;
namespace MedVision.Nets.Data.MedMnist;

/// <summary>
/// Metadata of one MedMNIST dataset: task, class names, channels, official split sizes, licence, available image
/// sizes, download addresses and known MD5 checksums. Instances come from <see cref="MedMnistCatalog"/>.
/// </summary>
public sealed class MedMnistInfo
{
    /// <summary>Zenodo record of MedMNIST v2, which holds the 28-pixel files.</summary>
    public static readonly Uri V2BaseUri = new("https://zenodo.org/records/5208230/files/");

    /// <summary>Zenodo record of MedMNIST+, which holds the 64-, 128- and 224-pixel files.</summary>
    public static readonly Uri PlusBaseUri = new("https://zenodo.org/records/10519652/files/");

    private readonly IReadOnlyDictionary<int, string> _md5BySize;

    internal MedMnistInfo(
        string name,
        string pythonClass,
        MedMnistTask task,
        string[] classNames,
        int channels,
        bool is3D,
        int train,
        int validation,
        int test,
        string license,
        IReadOnlyDictionary<int, string> md5BySize)
    {
        Name = name;
        PythonClass = pythonClass;
        Task = task;
        ClassNames = Array.AsReadOnly(classNames);
        Channels = channels;
        Is3D = is3D;
        TrainCount = train;
        ValidationCount = validation;
        TestCount = test;
        License = license;
        Sizes = Array.AsReadOnly(is3D ? new[] { 28, 64 } : new[] { 28, 64, 128, 224 });
        _md5BySize = md5BySize;
    }

    /// <summary>The dataset flag, e.g. <c>retinamnist</c>; also the stem of its file names.</summary>
    public string Name { get; }

    /// <summary>The class name in the <c>medmnist</c> Python package, e.g. <c>RetinaMNIST</c>.</summary>
    public string PythonClass { get; }

    /// <summary>The prediction task.</summary>
    public MedMnistTask Task { get; }

    /// <summary>Class names by label index (for multi-label datasets, one name per label column).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The number of classes (or label columns for multi-label datasets).</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>The number of label columns in the <c>*_labels</c> arrays: the class count for multi-label, else 1.</summary>
    public int LabelColumns => Task == MedMnistTask.MultiLabel ? ClassNames.Count : 1;

    /// <summary>Image channels: 1 (grey) or 3 (RGB).</summary>
    public int Channels { get; }

    /// <summary>Whether the samples are 3D volumes (shape D×H×W) rather than 2D images.</summary>
    public bool Is3D { get; }

    /// <summary>Official training-split sample count (MedMNIST v2).</summary>
    public int TrainCount { get; }

    /// <summary>Official validation-split sample count (MedMNIST v2).</summary>
    public int ValidationCount { get; }

    /// <summary>Official test-split sample count (MedMNIST v2).</summary>
    public int TestCount { get; }

    /// <summary>The licence of the data, <c>CC BY 4.0</c> or <c>CC BY-NC 4.0</c>.</summary>
    public string License { get; }

    /// <summary>The image edge lengths published: 28, 64, 128, 224 for 2D; 28, 64 for 3D.</summary>
    public IReadOnlyList<int> Sizes { get; }

    /// <summary>The official sample count of <paramref name="split"/>.</summary>
    /// <param name="split">The split.</param>
    /// <returns>The number of samples.</returns>
    public int GetSplitCount(MedMnistSplit split) => split switch
    {
        MedMnistSplit.Train => TrainCount,
        MedMnistSplit.Validation => ValidationCount,
        MedMnistSplit.Test => TestCount,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, null),
    };

    /// <summary>The file name for <paramref name="size"/>: <c>name.npz</c> for 28, else <c>name_size.npz</c>.</summary>
    /// <param name="size">The image edge length; one of <see cref="Sizes"/>.</param>
    /// <returns>The file name.</returns>
    public string GetFileName(int size = 28)
    {
        CheckSize(size);
        return size == 28 ? $"{Name}.npz" : $"{Name}_{size}.npz";
    }

    /// <summary>
    /// The official download address for <paramref name="size"/>: Zenodo record 5208230 (MedMNIST v2) for 28 pixels,
    /// record 10519652 (MedMNIST+) for larger sizes.
    /// </summary>
    /// <param name="size">The image edge length; one of <see cref="Sizes"/>.</param>
    /// <returns>The address, with <c>?download=1</c>.</returns>
    public Uri GetDownloadUri(int size = 28) => new(size == 28 ? V2BaseUri : PlusBaseUri, GetFileName(size) + "?download=1");

    /// <summary>
    /// The known official MD5 of the file for <paramref name="size"/>, or <see langword="null"/> where the catalog
    /// does not know it (then a download must be given a checksum or be explicitly allowed unverified).
    /// </summary>
    /// <param name="size">The image edge length; one of <see cref="Sizes"/>.</param>
    /// <returns>Lower-case hexadecimal MD5, or <see langword="null"/>.</returns>
    public string? GetMd5(int size = 28)
    {
        CheckSize(size);
        return _md5BySize.TryGetValue(size, out string? md5) ? md5 : null;
    }

    /// <inheritdoc />
    public override string ToString() => $"{PythonClass} ({Task}, {ClassCount} classes, {Channels} channel(s){(Is3D ? ", 3D" : string.Empty)})";

    private void CheckSize(int size)
    {
        if (!Sizes.Contains(size))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"{Name} is published in sizes {string.Join(", ", Sizes)} only.");
        }
    }
}
