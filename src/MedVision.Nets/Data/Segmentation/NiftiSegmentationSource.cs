using System.Text.Json;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Segmentation;

/// <summary>How scans and label maps are brought onto a common grid before training and prediction.</summary>
public sealed class NiftiSegmentationOptions
{
    /// <summary>The axis codes every volume is reoriented to (e.g. "RAS"); null keeps the stored order. Default "RAS".</summary>
    public string? Orientation { get; init; } = "RAS";

    /// <summary>The voxel size (i, j, k) in millimetres every volume is resampled to (images trilinearly, labels by nearest neighbour); null keeps each scan's. Default null.</summary>
    public IReadOnlyList<float>? Spacing { get; init; }

    /// <summary>A deterministic intensity normalisation applied to every image after resampling (e.g. <see cref="NormalizeIntensity"/>), at training and at prediction alike; null for none.</summary>
    public ITransform? Normalization { get; init; }

    internal PreparedScan PrepareChannels(IReadOnlyList<NiftiImage> channels, string name)
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count == 0) throw new ArgumentException("A scan needs at least one channel.", nameof(channels));
        if (channels.Any(c => c is null)) throw new ArgumentException("A channel is null.", nameof(channels));
        if (channels.Any(c => !c.IsOnGridOf(channels[0])))
            throw new ArgumentException($"The channels of {name} lie on different grids; resample them onto one (NiftiImage.ResampleTo) first.", nameof(channels));
        var oriented = channels.Select(c => Orient(c, ResizeMode.Linear)).ToList();
        var shape = oriented[0].Shape;
        int plane = shape[0] * shape[1] * shape[2];
        var data = FloatImage.Allocate("NiftiSegmentationSource", oriented.Count, shape[2], shape[1], shape[0]);
        for (int c = 0; c < oriented.Count; c++) oriented[c].Voxels.CopyTo(data, (long)c * plane);
        var image = new FloatImage(data, oriented.Count, shape[2], shape[1], shape[0]);
        if (Normalization is { } normalization) image = normalization.Apply(image, new Random(0));
        var grid = new NiftiImage(new float[plane], shape, oriented[0].Spacing, NiftiDataType.Float32, oriented[0].Affine, oriented[0].AffineCode);
        return new PreparedScan(image, grid);
    }

    internal NiftiImage Orient(NiftiImage volume, ResizeMode interpolation)
    {
        var v = Orientation is null ? volume : volume.Reorient(Orientation);
        return Spacing is null ? v : v.Resample(Spacing, interpolation);
    }

    internal void Validate(string parameterName)
    {
        if (Orientation is not null && !NiftiAffine.IsValidAxisCodes(Orientation))
            throw new ArgumentException($"'{Orientation}' is not a set of axis codes such as RAS or LPS.", parameterName);
        if (Spacing is not null && (Spacing.Count != 3 || Spacing.Any(s => !(s > 0) || float.IsInfinity(s))))
            throw new ArgumentException($"The spacing must be three positive finite voxel sizes, got [{string.Join(", ", Spacing)}].", parameterName);
    }
}

/// <summary>A scan as the network sees it, with the grid it lies on (for mapping predictions back onto the scan).</summary>
/// <param name="Image">The channels, (C, D, H, W) with D = k, H = j, W = i of the prepared grid.</param>
/// <param name="Grid">The prepared grid (shape and affine), as a one-channel volume of zeros.</param>
public sealed record PreparedScan(FloatImage Image, NiftiImage Grid)
{
    /// <summary>The channels, (C, D, H, W).</summary>
    public FloatImage Image { get; init; } = Image ?? throw new ArgumentNullException(nameof(Image));

    /// <summary>The prepared grid.</summary>
    public NiftiImage Grid { get; init; } = Grid ?? throw new ArgumentNullException(nameof(Grid));
}

/// <summary>
/// Scans and label maps stored as NIfTI files: the Medical Segmentation Decathlon's layout
/// (<see cref="FromDecathlon"/>: a <c>dataset.json</c> listing image and label files, 4-D images for several
/// modalities) or any list of pairs (<see cref="FromPairs"/>). Each sample is reoriented and resampled as the options
/// say (labels by nearest neighbour), checked to lie on its image's grid and to hold class indices in range, and
/// normalised; <see cref="Prepare"/> prepares a new scan in the same way for prediction.
/// </summary>
public sealed class NiftiSegmentationSource : ISegmentationSource
{
    private readonly NiftiSegmentationOptions _options;

    private readonly bool _modalitiesListed;

    private NiftiSegmentationSource(IReadOnlyList<(string Image, string Labels)> pairs, IReadOnlyList<string> classNames, IReadOnlyList<string> modalities, NiftiSegmentationOptions options,
        bool modalitiesListed)
    {
        _modalitiesListed = modalitiesListed;
        Pairs = pairs;
        ClassNames = classNames;
        Modalities = modalities;
        _options = options;
    }

    /// <summary>The image and label files of each sample.</summary>
    public IReadOnlyList<(string Image, string Labels)> Pairs { get; }

    /// <summary>The class names, background first.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The modality of each image channel (from dataset.json; "image" when unknown).</summary>
    public IReadOnlyList<string> Modalities { get; }

    /// <summary>The preparation of every volume.</summary>
    public NiftiSegmentationOptions Options => _options;

    /// <inheritdoc />
    public int Count => Pairs.Count;

    /// <summary>
    /// The training pairs of a Medical Segmentation Decathlon task folder (e.g. <c>Task04_Hippocampus</c>): its
    /// <c>dataset.json</c> gives the files ("training": image and label paths relative to the folder), the class names
    /// ("labels") and the modalities ("modality").
    /// </summary>
    /// <exception cref="DataFormatException">dataset.json is missing, malformed, or names a file that does not exist.</exception>
    public static NiftiSegmentationSource FromDecathlon(string folder, NiftiSegmentationOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        options ??= new NiftiSegmentationOptions();
        options.Validate(nameof(options));
        var path = Path.Combine(folder, "dataset.json");
        if (!File.Exists(path)) throw new DataFormatException(path, "the Decathlon task folder has no dataset.json.");
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new DataFormatException(path, $"it is not valid JSON ({e.Message})."); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("training", out var training) || training.ValueKind != JsonValueKind.Array)
                throw new DataFormatException(path, "it has no \"training\" list.");
            var classNames = IndexedNames(root, "labels", path) ?? throw new DataFormatException(path, "it has no \"labels\" (class index → name).");
            if (classNames.Count < 2) throw new DataFormatException(path, "\"labels\" must name the background (0) and at least one structure.");
            var listed = IndexedNames(root, "modality", path);
            var modalities = listed ?? ["image"];
            var pairs = new List<(string, string)>();
            foreach (var entry in training.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("image", out var image) || !entry.TryGetProperty("label", out var label)
                    || image.ValueKind != JsonValueKind.String || label.ValueKind != JsonValueKind.String)
                    throw new DataFormatException(path, "every \"training\" entry needs an \"image\" and a \"label\" path.");
                pairs.Add((Resolve(folder, image.GetString()!, path), Resolve(folder, label.GetString()!, path)));
            }
            if (pairs.Count == 0) throw new DataFormatException(path, "its \"training\" list is empty.");
            return new NiftiSegmentationSource(pairs, classNames, modalities, options, listed is not null);
        }
    }

    /// <summary>Pairs of image and label files, with the class names (background first).</summary>
    /// <exception cref="ArgumentException">No pairs, fewer than two class names, or bad options.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public static NiftiSegmentationSource FromPairs(IEnumerable<(string Image, string Labels)> pairs, IReadOnlyList<string> classNames, NiftiSegmentationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(classNames);
        options ??= new NiftiSegmentationOptions();
        options.Validate(nameof(options));
        var list = pairs.ToList();
        if (list.Count == 0) throw new ArgumentException("Give at least one pair of image and label files.", nameof(pairs));
        if (classNames.Count < 2) throw new ArgumentException("Name the background (0) and at least one structure.", nameof(classNames));
        foreach (var (image, labels) in list)
        {
            if (!File.Exists(image)) throw new FileNotFoundException($"The image file '{image}' does not exist.", image);
            if (!File.Exists(labels)) throw new FileNotFoundException($"The label file '{labels}' does not exist.", labels);
        }
        return new NiftiSegmentationSource(list, classNames.ToArray(), ["image"], options, modalitiesListed: false);
    }

    /// <inheritdoc />
    /// <exception cref="DataFormatException">The label map does not lie on its image's grid, or holds a value that is not a class index.</exception>
    public SegmentationSample Load(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The source holds {Count} samples.");
        var (imagePath, labelPath) = Pairs[index];
        var channels = NiftiReader.ReadVolumes(imagePath);
        if (_modalitiesListed && channels.Count != Modalities.Count)
            throw new DataFormatException(imagePath, $"it holds {channels.Count} volume(s), but dataset.json lists {Modalities.Count} modalities ({string.Join(", ", Modalities)}).");
        var labels = NiftiReader.ReadVolumes(labelPath);
        if (labels.Count != 1) throw new DataFormatException(labelPath, $"a label map must be one 3-D volume, not {labels.Count}.");
        if (!labels[0].Shape.SequenceEqual(channels[0].Shape))
            throw new DataFormatException(labelPath, $"its shape {string.Join("×", labels[0].Shape)} differs from the image's {string.Join("×", channels[0].Shape)} ({imagePath}).");
        var prepared = _options.PrepareChannels(channels, imagePath);
        var map = _options.Orient(labels[0], ResizeMode.Nearest);
        if (!map.Shape.SequenceEqual(prepared.Grid.Shape) || !map.Affine.IsCloseTo(prepared.Grid.Affine))
            throw new DataFormatException(labelPath, $"it does not lie on the grid of its image {imagePath} (different affine); resample one onto the other first.");
        foreach (var v in map.Voxels)
            if (!(v >= 0) || v != MathF.Floor(v) || v >= ClassNames.Count)
                throw new DataFormatException(labelPath, $"it holds {v}, which is not a class index in [0, {ClassNames.Count}) ({string.Join(", ", ClassNames)}).");
        return new SegmentationSample(prepared.Image, new FloatImage(map.Voxels, 1, map.Shape[2], map.Shape[1], map.Shape[0]));
    }

    /// <summary>Prepares a scan's channels (one volume each, on one grid) as the samples were prepared, for prediction.</summary>
    /// <exception cref="ArgumentException">No channels, or channels on different grids.</exception>
    public PreparedScan Prepare(IReadOnlyList<NiftiImage> channels) => _options.PrepareChannels(channels, "the scan");

    private static List<string>? IndexedNames(JsonElement root, string property, string path)
    {
        if (!root.TryGetProperty(property, out var map)) return null;
        if (map.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, $"\"{property}\" must map indices to names.");
        var entries = new SortedDictionary<int, string>();
        foreach (var p in map.EnumerateObject())
        {
            if (!int.TryParse(p.Name, out int index) || index < 0 || index > 65535 || p.Value.ValueKind != JsonValueKind.String)
                throw new DataFormatException(path, $"\"{property}\" has the entry \"{p.Name}\", which is not an index (0, 1, …) with a name.");
            entries[index] = p.Value.GetString()!;
        }
        if (entries.Count == 0 || entries.Keys.Last() != entries.Count - 1)
            throw new DataFormatException(path, $"\"{property}\" must number its entries 0, 1, … without gaps.");
        return entries.Values.ToList();
    }

    private static string Resolve(string folder, string relative, string datasetPath)
    {
        var full = Path.GetFullPath(Path.Combine(folder, relative));
        if (!File.Exists(full)) throw new DataFormatException(datasetPath, $"it lists '{relative}', which does not exist in {folder}.");
        return full;
    }
}
