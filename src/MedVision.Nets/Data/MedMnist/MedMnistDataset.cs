using MedVision.Nets.Metrics;
using MedVision.Nets.Data.Npy;

namespace MedVision.Nets.Data.MedMnist;

/// <summary>
/// A MedMNIST dataset read from an official <c>.npz</c> file (or the embedded RetinaMNIST): the train, validation
/// and test splits as byte images and integer labels, checked for consistency on load.
/// </summary>
public sealed class MedMnistDataset
{
    /// <summary>The MD5 of the embedded RetinaMNIST file (the official 28-pixel <c>retinamnist.npz</c>).</summary>
    public const string EmbeddedRetinaMnistMd5 = "bd4c0672f1bba3e3a89f0e4e876791e4";

    /// <summary>The manifest-resource name of the embedded RetinaMNIST file.</summary>
    public const string EmbeddedRetinaMnistResourceName = "MedVision.Nets.Data.MedMnist.Resources.retinamnist.npz";

    private MedMnistDataset(string source, MedMnistInfo? info, MedMnistSplitData train, MedMnistSplitData validation, MedMnistSplitData test)
    {
        Source = source;
        Info = info;
        Train = train;
        Validation = validation;
        Test = test;
    }

    /// <summary>The file or resource the data was read from.</summary>
    public string Source { get; }

    /// <summary>The dataset's metadata, when known (given in the options or inferred from the file name).</summary>
    public MedMnistInfo? Info { get; }

    /// <summary>The training split.</summary>
    public MedMnistSplitData Train { get; }

    /// <summary>The validation split.</summary>
    public MedMnistSplitData Validation { get; }

    /// <summary>The test split.</summary>
    public MedMnistSplitData Test { get; }

    /// <summary>The data of <paramref name="split"/>.</summary>
    /// <param name="split">The split.</param>
    /// <returns>Images and labels of the split.</returns>
    public MedMnistSplitData GetSplit(MedMnistSplit split) => split switch
    {
        MedMnistSplit.Train => Train,
        MedMnistSplit.Validation => Validation,
        MedMnistSplit.Test => Test,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, null),
    };

    /// <summary>Loads a MedMNIST <c>.npz</c> file.</summary>
    /// <param name="path">The file, e.g. <c>pathmnist.npz</c> or <c>pathmnist_64.npz</c>.</param>
    /// <param name="options">Load options; <see langword="null"/> for defaults.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="DataFormatException">The file is corrupt, lacks an array, or its images and labels disagree.</exception>
    public static MedMnistDataset Load(string path, MedMnistLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = File.OpenRead(path);
        return Load(stream, path, options);
    }

    /// <summary>Loads a MedMNIST <c>.npz</c> archive from a seekable stream.</summary>
    /// <param name="stream">The stream; left open.</param>
    /// <param name="sourceName">The file or resource name, used in error messages and to infer the dataset.</param>
    /// <param name="options">Load options; <see langword="null"/> for defaults.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="DataFormatException">The data is corrupt, lacks an array, or its images and labels disagree.</exception>
    public static MedMnistDataset Load(Stream stream, string sourceName, MedMnistLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        options ??= new MedMnistLoadOptions();
        MedMnistInfo? info = options.Info;
        if (info is null && MedMnistCatalog.TryParseFileName(sourceName, out MedMnistInfo? inferred, out _))
        {
            info = inferred;
        }

        using NpzArchive npz = NpzArchive.Open(stream, sourceName, leaveOpen: true);
        MedMnistSplitData train = ReadSplit(npz, MedMnistSplit.Train, "train", info, options);
        MedMnistSplitData validation = ReadSplit(npz, MedMnistSplit.Validation, "val", info, options);
        MedMnistSplitData test = ReadSplit(npz, MedMnistSplit.Test, "test", info, options);
        if (train.SampleShape.Count != validation.SampleShape.Count || !train.SampleShape.SequenceEqual(validation.SampleShape) || !train.SampleShape.SequenceEqual(test.SampleShape))
        {
            throw new DataFormatException(sourceName, "the splits have different image shapes.");
        }

        return new MedMnistDataset(sourceName, info, train, validation, test);
    }

    /// <summary>Opens the embedded RetinaMNIST file (28×28 RGB, MedMNIST v2, CC BY 4.0) as a stream.</summary>
    /// <returns>A read-only, seekable stream; dispose it when done.</returns>
    public static Stream OpenEmbeddedRetinaMnistStream() =>
        typeof(MedMnistDataset).Assembly.GetManifestResourceStream(EmbeddedRetinaMnistResourceName)
        ?? throw new InvalidOperationException($"The embedded resource '{EmbeddedRetinaMnistResourceName}' is missing from {typeof(MedMnistDataset).Assembly.GetName().Name}.");

    /// <summary>
    /// Loads the embedded RetinaMNIST (28×28 RGB fundus images, 5 ordinal diabetic-retinopathy grades;
    /// 1080/120/400 samples) without any file path or download.
    /// </summary>
    /// <param name="options">Load options (e.g. <see cref="MedMnistLoadOptions.RequireOfficialSplitSizes"/>); the dataset metadata is always RetinaMNIST's.</param>
    /// <returns>The dataset.</returns>
    public static MedMnistDataset LoadEmbeddedRetinaMnist(MedMnistLoadOptions? options = null)
    {
        using Stream stream = OpenEmbeddedRetinaMnistStream();
        var effective = new MedMnistLoadOptions
        {
            Info = MedMnistCatalog.RetinaMnist,
            GrayscaleToRgb = options?.GrayscaleToRgb ?? false,
            RequireOfficialSplitSizes = options?.RequireOfficialSplitSizes ?? false,
        };
        return Load(stream, "embedded:" + EmbeddedRetinaMnistResourceName, effective);
    }

    private static MedMnistSplitData ReadSplit(NpzArchive npz, MedMnistSplit split, string prefix, MedMnistInfo? info, MedMnistLoadOptions options)
    {
        string source = npz.SourceName;
        NpyArray imagesArray = npz.Read(prefix + "_images");
        NpyArray labelsArray = npz.Read(prefix + "_labels");
        int[] shape = imagesArray.Shape.ToArray();
        if (shape.Length is not (3 or 4))
        {
            throw new DataFormatException(source, $"'{prefix}_images' has shape ({string.Join(", ", shape)}); expected (N, H, W), (N, H, W, C) or (N, D, H, W).");
        }

        if (info is not null)
        {
            bool rgb = shape.Length == 4 && !info.Is3D;
            if (info.Is3D && shape.Length != 4)
            {
                throw new DataFormatException(source, $"'{prefix}_images' has shape ({string.Join(", ", shape)}) but {info.PythonClass} is 3D (N, D, H, W).");
            }

            if (!info.Is3D && (info.Channels == 3) != (rgb && shape[3] == 3))
            {
                throw new DataFormatException(source, $"'{prefix}_images' has shape ({string.Join(", ", shape)}) but {info.PythonClass} has {info.Channels} channel(s).");
            }
        }

        byte[] images;
        try
        {
            images = imagesArray.ToByteArray();
        }
        catch (InvalidOperationException ex)
        {
            throw new DataFormatException(source, $"'{prefix}_images' cannot be read as 8-bit pixels: {ex.Message}", ex);
        }

        int n = shape[0];
        int[,] labels = ReadLabels(source, prefix, labelsArray, n, info);
        if (options.RequireOfficialSplitSizes && info is not null && info.GetSplitCount(split) != n)
        {
            throw new DataFormatException(source, $"the {split} split has {n} samples but the official {info.PythonClass} {split} split has {info.GetSplitCount(split)}.");
        }

        if (options.GrayscaleToRgb)
        {
            (images, shape) = GreyToRgb(source, images, shape, info);
        }

        return new MedMnistSplitData(split, images, shape, labels);
    }

    private static int[,] ReadLabels(string source, string prefix, NpyArray labelsArray, int n, MedMnistInfo? info)
    {
        IReadOnlyList<int> shape = labelsArray.Shape;
        if (shape.Count is not (1 or 2))
        {
            throw new DataFormatException(source, $"'{prefix}_labels' has shape ({string.Join(", ", shape)}); expected (N,) or (N, L).");
        }

        if (shape[0] != n)
        {
            throw new DataFormatException(source, $"image and label counts disagree: '{prefix}_images' has {n} samples but '{prefix}_labels' has {shape[0]}.");
        }

        int columns = shape.Count == 2 ? shape[1] : 1;
        if (info is not null && columns != info.LabelColumns)
        {
            throw new DataFormatException(source, $"'{prefix}_labels' has {columns} label column(s) but {info.PythonClass} ({info.Task}) has {info.LabelColumns}.");
        }

        int[] flat;
        try
        {
            flat = labelsArray.ToInt32Array();
        }
        catch (InvalidOperationException ex)
        {
            throw new DataFormatException(source, $"'{prefix}_labels' are not integer labels: {ex.Message}", ex);
        }

        int max = info is null ? int.MaxValue : info.Task == MedMnistTask.MultiLabel ? 1 : info.ClassCount - 1;
        var labels = new int[n, columns];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                int value = flat[(i * columns) + j];
                if (value < 0 || value > max)
                {
                    string range = info is null ? "must be non-negative" : $"valid range is 0..{max} for {info.PythonClass}";
                    throw new DataFormatException(source, $"'{prefix}_labels' sample {i} has label {value} outside the class range ({range}).");
                }

                labels[i, j] = value;
            }
        }

        return labels;
    }

    private static (byte[] Images, int[] Shape) GreyToRgb(string source, byte[] images, int[] shape, MedMnistInfo? info)
    {
        bool is3D = info?.Is3D ?? (shape.Length == 4 && shape[3] is not (1 or 3));
        if (is3D)
        {
            throw new ArgumentException($"{source}: GrayscaleToRgb applies to 2D images only; this dataset holds 3D volumes of shape ({string.Join(", ", shape)}).");
        }

        if (shape.Length == 4 && shape[3] == 3)
        {
            return (images, shape);
        }

        int pixels = images.Length;
        var rgb = new byte[checked(pixels * 3)];
        for (int p = 0; p < pixels; p++)
        {
            byte v = images[p];
            rgb[3 * p] = v;
            rgb[(3 * p) + 1] = v;
            rgb[(3 * p) + 2] = v;
        }

        return (rgb, [shape[0], shape[1], shape[2], 3]);
    }
}
