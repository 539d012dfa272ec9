using MedVision.Nets.Data.Dicom;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// Labelled 3-D volumes for classification from a folder of class sub-folders (<c>root/AD/…</c>, <c>root/CN/…</c>; the
/// sorted folder names are the classes): every NIfTI file (<c>.nii</c>, <c>.nii.gz</c>) and every folder that holds
/// <c>.dcm</c> files (one DICOM series) below a class folder is one sample. Each volume is reoriented (by default to
/// RAS, so that NIfTI files and DICOM series stored in different orientations agree), optionally cropped to its
/// foreground (<see cref="CropForeground"/>, on the stored values), resampled (trilinear) to the
/// requested (D, H, W) and its intensities mapped to [0, 1] — by its own minimum and maximum, or through a fixed
/// window (a CT window in Hounsfield units) — giving (1, D, H, W) images for 3-D networks and the <see cref="DataLoader"/>.
/// </summary>
public sealed class VolumeFolderSource : ILabeledImageSource
{
    private readonly (int Depth, int Height, int Width) _size;
    private readonly ScaleIntensity _scale;

    private VolumeFolderSource(IReadOnlyList<string> classes, IReadOnlyList<(string Path, int Label)> samples, (int, int, int) size, (double, double)? window, string? orientation,
        CropForeground? cropForeground)
    {
        ForegroundCrop = cropForeground;
        Orientation = orientation;
        ClassNames = classes;
        Samples = samples;
        _size = size;
        _scale = window is { } w ? new ScaleIntensity(w.Item1, w.Item2) : new ScaleIntensity();
        Window = window;
        _channels = new Lazy<int>(() => ReadVolumes(0).Count);
    }

    /// <summary>
    /// The intensity window (center, width) every volume is mapped to [0, 1] through; <see langword="null"/>: each
    /// volume's own minimum and maximum. A model card records it as <see cref="Inference.PreprocessingCard.IntensityWindow"/>.
    /// </summary>
    public (double Center, double Width)? Window { get; }

    /// <summary>
    /// The crop to the foreground every volume gets after reorienting and before resampling; <see langword="null"/>:
    /// none. A model card records it as <see cref="Inference.PreprocessingCard.CropForeground"/>.
    /// </summary>
    public CropForeground? ForegroundCrop { get; }

    /// <summary>The (D, H, W) every volume is resampled to.</summary>
    public (int Depth, int Height, int Width) Size => _size;

    /// <summary>The axis codes every volume is reoriented to before resampling (e.g. "RAS"); <see langword="null"/>: as stored. A model card records it as <see cref="Inference.PreprocessingCard.Orientation"/>.</summary>
    public string? Orientation { get; }

    /// <summary>The class names (sorted sub-folder names), index = label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Every sample: a NIfTI file or a DICOM series folder, and its label.</summary>
    public IReadOnlyList<(string Path, int Label)> Samples { get; }

    /// <inheritdoc />
    public int Count => Samples.Count;

    /// <inheritdoc />
    public int LabelColumns => 1;

    /// <summary>The labels, one row per sample (for stratified splits and class weights).</summary>
    public int[,] Labels
    {
        get
        {
            var labels = new int[Samples.Count, 1];
            for (int i = 0; i < Samples.Count; i++) labels[i, 0] = Samples[i].Label;
            return labels;
        }
    }

    /// <summary>Scans <paramref name="root"/>'s class sub-folders.</summary>
    /// <param name="root">The folder whose sub-folders are the classes.</param>
    /// <param name="depth">D of the resampled volumes.</param>
    /// <param name="height">H of the resampled volumes.</param>
    /// <param name="width">W of the resampled volumes.</param>
    /// <param name="window">(center, width) mapping intensities to [0, 1] for every volume (e.g. (40, 400) for a CT
    /// soft-tissue window); null: each volume's own minimum–maximum.</param>
    /// <param name="orientation">Axis codes every volume is reoriented to first (see <see cref="NiftiImage.Reorient"/>); null: as stored.</param>
    /// <param name="cropForeground">A crop to the foreground of the stored values, after reorienting and before
    /// resampling (e.g. <c>new CropForeground(0)</c> for skull-stripped MRI, as MedicalNet prepared volumes); null: none.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="DataFormatException">No class folder, or no volume in any of them.</exception>
    public static VolumeFolderSource FromSubfolders(string root, int depth, int height, int width, (double Center, double Width)? window = null, string? orientation = "RAS",
        CropForeground? cropForeground = null)
    {
        if (orientation is not null) NiftiAffine.ParseAxisCodes(orientation, nameof(orientation));
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (depth < 1 || height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(depth), $"Volume sizes must be positive: {depth}×{height}×{width}.");
        if (window is { } w && !(w.Width > 0)) throw new ArgumentOutOfRangeException(nameof(window), w.Width, "The window width must be positive.");
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"The volume folder '{root}' does not exist.");
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0) throw new DataFormatException(root, "no class sub-folders.");
        var samples = new List<(string, int)>();
        for (int label = 0; label < classes.Length; label++)
        {
            var folder = Path.Combine(root, classes[label]);
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                if (file.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase))
                    samples.Add((file, label));
            foreach (var directory in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                if (Directory.EnumerateFiles(directory, "*.dcm").Any()) samples.Add((directory, label));
        }
        if (samples.Count == 0) throw new DataFormatException(root, $"no NIfTI files or DICOM series folders in the class folders ({string.Join(", ", classes)}).");
        return new VolumeFolderSource(classes, samples.OrderBy(s => s.Item2).ThenBy(s => s.Item1, StringComparer.Ordinal).ToList(), (depth, height, width), window, orientation, cropForeground);
    }

    /// <summary>
    /// Reads sample <paramref name="index"/>'s volume as it is stored (modality values; DICOM series: the largest one in
    /// its folder, and of an enhanced file holding several volumes — echoes, time points — the first, see
    /// <see cref="DicomSeries.ReadFolder"/>).
    /// </summary>
    public NiftiImage ReadVolume(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Samples.Count);
        return ReadVolumeAt(Samples[index].Path);
    }

    /// <summary>
    /// Reads sample <paramref name="index"/>'s channels as stored: the volumes of a NIfTI file with several (dimensions
    /// 4 to 7: a multi-contrast MRI file), else its one volume (see <see cref="ReadVolume"/>).
    /// </summary>
    public IReadOnlyList<NiftiImage> ReadVolumes(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Samples.Count);
        return ReadVolumesAt(Samples[index].Path);
    }

    /// <summary>
    /// Channels of every sample: the number of volumes in the first sample's file (1 for 3-D files and DICOM series;
    /// the contrasts of a multi-contrast NIfTI file). Every sample must have as many (<see cref="Load"/> checks).
    /// </summary>
    public int Channels => _channels.Value;

    private readonly Lazy<int> _channels;

    /// <summary>A volume as stored: a NIfTI file, or a folder holding a DICOM series (its largest series).</summary>
    internal static NiftiImage ReadVolumeAt(string path) => Directory.Exists(path) ? ReadSeriesAt(path) : NiftiReader.Read(path);

    /// <summary>The channels of a sample as stored: every volume of a NIfTI file, or the folder's DICOM series.</summary>
    internal static IReadOnlyList<NiftiImage> ReadVolumesAt(string path) => Directory.Exists(path) ? [ReadSeriesAt(path)] : NiftiReader.ReadVolumes(path);

    private static NiftiImage ReadSeriesAt(string path)
    {
        var series = DicomSeries.ReadFolder(path);
        if (series.Count == 0) throw new DataFormatException(path, "the folder holds no DICOM images.");
        return series[0].ToVolume();
    }

    /// <summary>
    /// Volumes as one (C, D, H, W) image, each reoriented first when <paramref name="orientation"/> is given: the
    /// channels of a multi-contrast sample, as <see cref="Load"/> and the predictor prepare them.
    /// </summary>
    internal static FloatImage Stack(IReadOnlyList<NiftiImage> volumes, string? orientation, string source)
    {
        var oriented = volumes.Select(v => orientation is null ? v : v.Reorient(orientation)).ToList();
        if (oriented.Count == 1) return oriented[0].AsFloatImage();
        var shape = oriented[0].Shape;
        if (oriented.Any(v => !v.Shape.SequenceEqual(shape)))
            throw new DataFormatException(source, $"its volumes have different shapes after reorienting ({string.Join(", ", oriented.Select(v => string.Join("×", v.Shape)))}).");
        int n = oriented[0].Voxels.Length;
        var data = new float[(long)n * oriented.Count];
        for (int c = 0; c < oriented.Count; c++) Array.Copy(oriented[c].Voxels, 0, data, (long)c * n, n);
        return new FloatImage(data, oriented.Count, shape[2], shape[1], shape[0]);
    }

    /// <inheritdoc />
    public (FloatImage Image, int[] Labels) Load(int index)
    {
        var volumes = ReadVolumes(index);
        if (volumes.Count != Channels)
            throw new DataFormatException(Samples[index].Path, $"it holds {volumes.Count} volume(s), but the first sample ({Samples[0].Path}) holds {Channels}: every sample needs the same channels.");
        var image = Stack(volumes, Orientation, Samples[index].Path); // read for this call only: no copy needed
        if (ForegroundCrop is not null) image = ForegroundCrop.Apply(image, new Random(0));
        var (d, h, w) = _size;
        if (image.Depth != d || image.Height != h || image.Width != w)
            image = new Transforms.Resize(d, h, w, ResizeMode.Linear).Apply(image, new Random(0));
        image = _scale.Apply(image, new Random(0));
        return (image, new[] { Samples[index].Label });
    }
}
