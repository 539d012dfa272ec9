using MedVision.Nets.Data.Dicom;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// Labelled 3-D volumes for classification from a folder of class sub-folders (<c>root/AD/…</c>, <c>root/CN/…</c>; the
/// sorted folder names are the classes): every NIfTI file (<c>.nii</c>, <c>.nii.gz</c>) and every folder that holds
/// <c>.dcm</c> files (one DICOM series) below a class folder is one sample. Each volume is reoriented (by default to
/// RAS, so that NIfTI files and DICOM series stored in different orientations agree), optionally resampled to a voxel
/// size in millimetres (<see cref="Spacing"/>, MONAI's <c>Spacing</c>) and, for modalities acquired apart, onto one
/// another's grid (<see cref="AlignModalities"/>), optionally cropped to its
/// foreground (<see cref="CropForeground"/>, on the stored values), resampled (trilinear) to the
/// requested (D, H, W) and its intensities mapped to [0, 1] — by its own minimum and maximum, or through a fixed
/// window (a CT window in Hounsfield units) — giving (1, D, H, W) images for 3-D networks and the <see cref="DataLoader"/>.
/// </summary>
public sealed class VolumeFolderSource : ILabeledImageSource
{
    private readonly (int Depth, int Height, int Width) _size;

    private VolumeFolderSource(IReadOnlyList<string> classes, IReadOnlyList<(string Path, int Label)> samples, (int, int, int) size, (double, double)? window, string? orientation,
        CropForeground? cropForeground, IReadOnlyList<string>? modalities, IReadOnlyList<float>? spacing, bool alignModalities, VolumeFit fit, (double, double)? percentiles,
        bool channelWise)
    {
        ChannelWiseIntensity = channelWise;
        Fit = fit;
        IntensityPercentiles = percentiles;
        Spacing = spacing;
        AlignModalities = alignModalities;
        Modalities = modalities;
        ForegroundCrop = cropForeground;
        Orientation = orientation;
        ClassNames = classes;
        Samples = samples;
        _size = size;
        Window = window;
        _channels = new Lazy<int>(() => modalities?.Count ?? ReadVolumes(0).Count);
    }

    /// <summary>
    /// The modalities each sample holds, in channel order, when samples are subject folders (see
    /// <see cref="FromSubfolders"/>); <see langword="null"/> when samples are files and series folders.
    /// </summary>
    public IReadOnlyList<string>? Modalities { get; }

    /// <summary>
    /// The intensity window (center, width) every volume is mapped to [0, 1] through; <see langword="null"/>: each
    /// volume's own minimum and maximum. A model card records it as <see cref="Inference.PreprocessingCard.IntensityWindow"/>.
    /// </summary>
    public (double Center, double Width)? Window { get; }

    /// <summary>
    /// The percentiles (lower, upper; 0–100) of each sample's own values (all its channels, after reorienting, resampling
    /// and aligning, before the crop and the fit, NaN left out) mapped to 0 and 1, clamped, when there is no
    /// <see cref="Window"/> (MONAI's <c>ScaleIntensityRangePercentiles</c> placed before cropping, as its pipelines do);
    /// <see langword="null"/>: each volume's minimum and maximum. A model card records it as <see cref="Inference.PreprocessingCard.IntensityPercentiles"/>.
    /// </summary>
    public (double Lower, double Upper)? IntensityPercentiles { get; }

    /// <summary>
    /// Whether the scaling to [0, 1] — by the minimum and maximum, or by <see cref="IntensityPercentiles"/> — takes each
    /// channel's own values (MONAI's <c>channel_wise=True</c>; for modalities of different ranges, such as MRI contrasts
    /// or MRI and PET) instead of all channels' together; never with a <see cref="Window"/>. A model card records it as
    /// <see cref="Inference.PreprocessingCard.IntensityChannelWise"/>.
    /// </summary>
    public bool ChannelWiseIntensity { get; }

    /// <summary>
    /// The crop to the foreground every volume gets after reorienting and before resampling; <see langword="null"/>:
    /// none. A model card records it as <see cref="Inference.PreprocessingCard.CropForeground"/>.
    /// </summary>
    public CropForeground? ForegroundCrop { get; }

    /// <summary>
    /// The voxel size (i, j, k, in millimetres, after reorienting) every volume is resampled to before cropping and
    /// resizing (<see cref="NiftiImage.Resample"/>, trilinear, border padding), so that scans of different resolutions
    /// show anatomy at one scale; <see langword="null"/>: none. A model card records it as
    /// <see cref="Inference.PreprocessingCard.Spacing"/>.
    /// </summary>
    public IReadOnlyList<float>? Spacing { get; }

    /// <summary>
    /// Whether the channels of a sample that lie on different grids (modalities of a subject acquired as separate series,
    /// at other resolutions or fields of view) are resampled onto the first channel's grid through their affines
    /// (<see cref="NiftiImage.ResampleTo(NiftiImage, ResizeMode, Nifti.VolumePadding)"/>, trilinear, with border padding
    /// as MONAI's <c>ResampleToMatch</c>: where a channel's field of view ends, its edge values continue), so that a voxel
    /// means one place in the body in every channel; otherwise each is cropped and resized on its own. A model card records it as
    /// <see cref="Inference.PreprocessingCard.AlignModalities"/>.
    /// </summary>
    public bool AlignModalities { get; }

    /// <summary>
    /// How every prepared volume is brought to <see cref="Size"/>: resized (the default) or center-cropped and padded
    /// without resampling. A model card records <see cref="VolumeFit.CropOrPad"/> as <see cref="Inference.PreprocessingCard.Fit"/>.
    /// </summary>
    public VolumeFit Fit { get; }

    /// <summary>The transform that brings a prepared volume to <see cref="Size"/> as <see cref="Fit"/> says.</summary>
    internal ITransform FitTransform => Fit == VolumeFit.CropOrPad
        ? new ResizeWithPadOrCrop(_size.Depth, _size.Height, _size.Width)
        : new Transforms.Resize(_size.Depth, _size.Height, _size.Width, ResizeMode.Linear);

    /// <summary>The (D, H, W) every volume is brought to (see <see cref="Fit"/>).</summary>
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

    /// <summary>
    /// A fluent builder that reads in the order the preparation steps are applied, e.g.
    /// <c>VolumeFolderSource.Builder(root).WithModalities("t1", "pet").ResampleToSpacing(1.5f, 1.5f, 1.5f).AlignModalities().CropOrPadTo(96, 96, 96).Build()</c>.
    /// </summary>
    /// <param name="root">The folder whose sub-folders are the classes.</param>
    public static VolumeFolderSourceBuilder Builder(string root) => new(root);

    /// <summary>Scans <paramref name="root"/>'s class sub-folders (<see cref="Builder"/> sets the same options step by step).</summary>
    /// <param name="root">The folder whose sub-folders are the classes.</param>
    /// <param name="depth">D of the resampled volumes.</param>
    /// <param name="height">H of the resampled volumes.</param>
    /// <param name="width">W of the resampled volumes.</param>
    /// <param name="window">(center, width) mapping intensities to [0, 1] for every volume (e.g. (40, 400) for a CT
    /// soft-tissue window); null: each volume's own minimum–maximum.</param>
    /// <param name="orientation">Axis codes every volume is reoriented to first (see <see cref="NiftiImage.Reorient"/>); null: as stored.</param>
    /// <param name="cropForeground">A crop to the foreground of the stored values, after reorienting and before
    /// resampling (e.g. <c>new CropForeground(0)</c> for skull-stripped MRI, as MedicalNet prepared volumes); null: none.</param>
    /// <param name="modalities">
    /// Null: every NIfTI file and DICOM series folder is a sample. Otherwise the modalities of a subject, in channel
    /// order (e.g. <c>["flair", "t1", "t1ce", "t2"]</c>): every folder under a class folder that holds one entry per
    /// modality — a NIfTI file or a DICOM series folder named after it (<c>FLAIR/</c>, <c>t1.nii.gz</c>) or ending in
    /// <c>_</c>, <c>-</c> or <c>.</c> and its name (<c>BraTS2021_00000_t1ce.nii.gz</c>), case-insensitive — is a sample of as
    /// many channels, as BraTS and the RSNA-MICCAI radiogenomic challenge distribute them.
    /// </param>
    /// <param name="spacing">Voxel size (i, j, k) in millimetres every volume is resampled to after reorienting (e.g.
    /// <c>[1, 1, 1]</c>; MONAI's <c>Spacing(pixdim=…)</c>); null: none. See <see cref="Spacing"/>.</param>
    /// <param name="alignModalities">Resample channels on different grids onto the first channel's grid through their
    /// affines (every such volume needs an orientation in its header); see <see cref="AlignModalities"/>.</param>
    /// <param name="fit">How prepared volumes are brought to (depth, height, width): resized (default), or center-cropped
    /// and padded keeping their voxel size (with <paramref name="spacing"/>, as MONAI pipelines do); see <see cref="Fit"/>.</param>
    /// <param name="intensityPercentiles">(lower, upper) percentiles of each volume's values mapped to 0 and 1 instead of
    /// its minimum and maximum (e.g. (0.5, 99.5) for MRI, whose few very bright voxels squeeze a min–max scaling); not with
    /// <paramref name="window"/>. See <see cref="IntensityPercentiles"/>.</param>
    /// <param name="channelWiseIntensity">Scale each channel by its own minimum and maximum (or percentiles) instead of
    /// all channels' together; not with <paramref name="window"/>. See <see cref="ChannelWiseIntensity"/>.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="DataFormatException">No class folder, no volume in any of them, or a subject folder that lacks a modality or holds it twice.</exception>
    public static VolumeFolderSource FromSubfolders(string root, int depth, int height, int width, (double Center, double Width)? window = null, string? orientation = "RAS",
        CropForeground? cropForeground = null, IReadOnlyList<string>? modalities = null, IReadOnlyList<float>? spacing = null, bool alignModalities = false, VolumeFit fit = VolumeFit.Resize,
        (double Lower, double Upper)? intensityPercentiles = null, bool channelWiseIntensity = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (channelWiseIntensity && window is not null)
            throw new ArgumentException("An intensity window maps every channel alike; channel-wise scaling applies to the minimum–maximum and percentile scalings.", nameof(channelWiseIntensity));
        if (intensityPercentiles is { } percentiles)
        {
            if (window is not null) throw new ArgumentException("Give an intensity window or intensity percentiles, not both.", nameof(intensityPercentiles));
            if (!ScaleIntensity.ArePercentiles(percentiles.Lower, percentiles.Upper))
                throw new ArgumentOutOfRangeException(nameof(intensityPercentiles), percentiles, "The intensity percentiles must be (lower, upper) with 0 ≤ lower < upper ≤ 100.");
        }
        if (!Enum.IsDefined(fit)) throw new ArgumentOutOfRangeException(nameof(fit), fit, "Not a volume fit.");
        if (orientation is not null) NiftiAffine.ParseAxisCodes(orientation, nameof(orientation));
        if (spacing is not null)
        {
            NiftiAffine.CheckVoxelSize(spacing, nameof(spacing));
            spacing = spacing.ToArray();
        }
        if (modalities is not null)
        {
            CheckModalities(modalities, nameof(modalities));
            modalities = modalities.ToArray();
        }
        CheckSize(depth, height, width);
        if (window is { } w && !ScaleIntensity.IsWindow(w.Center, w.Width))
            throw new ArgumentOutOfRangeException(nameof(window), w, "The window's center must be finite and its width positive and finite.");
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"The volume folder '{root}' does not exist.");
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0) throw new DataFormatException(root, "no class sub-folders.");
        var samples = new List<(string, int)>();
        for (int label = 0; label < classes.Length; label++)
        {
            var folder = Path.Combine(root, classes[label]);
            if (modalities is not null)
            {
                foreach (var directory in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                    if (ModalityPaths(directory, modalities) is not null) samples.Add((directory, label));
                continue;
            }
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                if (IsNifti(file)) samples.Add((file, label));
            foreach (var directory in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                if (IsSeriesFolder(directory)) samples.Add((directory, label));
        }
        if (samples.Count == 0)
            throw new DataFormatException(root, modalities is null
                ? $"no NIfTI files or DICOM series folders in the class folders ({string.Join(", ", classes)})."
                : $"no subject folder with the modalities {string.Join(", ", modalities)} in the class folders ({string.Join(", ", classes)}).");
        return new VolumeFolderSource(classes, samples.OrderBy(s => s.Item2).ThenBy(s => s.Item1, StringComparer.Ordinal).ToList(), (depth, height, width), window, orientation, cropForeground, modalities, spacing, alignModalities, fit, intensityPercentiles, channelWiseIntensity);
    }

    /// <summary>Throws unless there is at least one modality, none empty and none named twice (case-insensitive).</summary>
    internal static void CheckModalities(IReadOnlyList<string> modalities, string parameterName)
    {
        if (modalities.Count == 0 || modalities.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("Give at least one modality name, none of them empty.", parameterName);
        if (modalities.Distinct(StringComparer.OrdinalIgnoreCase).Count() != modalities.Count)
            throw new ArgumentException($"A modality is named twice: {string.Join(", ", modalities)}.", parameterName);
    }

    /// <summary>Throws unless every size of (D, H, W) is positive.</summary>
    internal static void CheckSize(int depth, int height, int width)
    {
        if (depth < 1 || height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(depth), $"Volume sizes must be positive: {depth}×{height}×{width}.");
    }

    private static bool IsNifti(string path) => path.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase);

    private static bool IsSeriesFolder(string directory) => Directory.EnumerateFiles(directory, "*.dcm").Any();

    /// <summary>
    /// The entry (a NIfTI file or a DICOM series folder) of each modality in subject folder <paramref name="folder"/>,
    /// in the modalities' order; <see langword="null"/> when the folder holds none of them (not a subject).
    /// </summary>
    /// <exception cref="DataFormatException">The folder holds some modalities but not all, or one of them twice.</exception>
    internal static IReadOnlyList<string>? ModalityPaths(string folder, IReadOnlyList<string> modalities)
    {
        var entries = Directory.EnumerateFiles(folder).Where(IsNifti)
            .Concat(Directory.EnumerateDirectories(folder).Where(IsSeriesFolder))
            .Order(StringComparer.Ordinal).ToList();
        static string Stem(string path)
        {
            var name = Path.GetFileName(path);
            foreach (var extension in new[] { ".nii.gz", ".nii" })
                if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase)) return name[..^extension.Length];
            return name;
        }
        static bool Names(string stem, string modality) => stem.Equals(modality, StringComparison.OrdinalIgnoreCase)
            || (stem.Length > modality.Length && stem.EndsWith(modality, StringComparison.OrdinalIgnoreCase) && stem[^(modality.Length + 1)] is '_' or '-' or '.');
        var found = modalities.Select(m => entries.Where(e => Names(Stem(e), m)).ToList()).ToList();
        if (found.All(f => f.Count == 0)) return null;
        for (int i = 0; i < modalities.Count; i++)
        {
            if (found[i].Count == 0)
                throw new DataFormatException(folder, $"the subject folder has no {modalities[i]} (a NIfTI file or DICOM series folder named {modalities[i]} or ending in _{modalities[i]}); it holds: {string.Join(", ", entries.Select(Path.GetFileName))}.");
            if (found[i].Count > 1)
                throw new DataFormatException(folder, $"the subject folder holds {modalities[i]} more than once ({string.Join(", ", found[i].Select(Path.GetFileName))}).");
        }
        return found.Select(f => f[0]).ToList();
    }

    /// <summary>
    /// Reads sample <paramref name="index"/>'s volume as it is stored (modality values; DICOM series: the largest one in
    /// its folder, see <see cref="DicomSeries.ReadFolder"/>).
    /// </summary>
    /// <exception cref="DataFormatException">The sample holds several volumes: a 4-D NIfTI file, or an enhanced DICOM file
    /// of several echoes or time points (read them as channels with <see cref="ReadVolumes"/>).</exception>
    /// <exception cref="InvalidOperationException">The samples are subject folders of several modalities (use <see cref="ReadVolumes"/>).</exception>
    public NiftiImage ReadVolume(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Samples.Count);
        if (Modalities is not null) throw new InvalidOperationException($"The samples are subject folders of {Modalities.Count} modalities ({string.Join(", ", Modalities)}); read them with ReadVolumes.");
        return ReadVolumeAt(Samples[index].Path);
    }

    /// <summary>
    /// Reads sample <paramref name="index"/>'s channels as stored: a subject folder's modalities (see
    /// <see cref="Modalities"/>), the volumes of a NIfTI file with several (dimensions 4 to 7: a multi-contrast MRI
    /// file) or of an enhanced DICOM file with several (its echoes, time points or stacks, in the file's order, as
    /// dcm2niix would write them into one 4-D file), else its one volume (see <see cref="ReadVolume"/>).
    /// </summary>
    public IReadOnlyList<NiftiImage> ReadVolumes(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Samples.Count);
        return Modalities is null ? ReadVolumesAt(Samples[index].Path) : ReadSubjectAt(Samples[index].Path, Modalities);
    }

    /// <summary>A subject folder's modalities as stored, one volume each, in the modalities' order.</summary>
    /// <exception cref="DataFormatException">The folder lacks a modality, or a modality's file holds several volumes.</exception>
    internal static IReadOnlyList<NiftiImage> ReadSubjectAt(string folder, IReadOnlyList<string> modalities)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The subject folder '{folder}' does not exist.");
        var paths = ModalityPaths(folder, modalities)
            ?? throw new DataFormatException(folder, $"the folder holds none of the modalities {string.Join(", ", modalities)}.");
        return paths.Select(ReadVolumeAt).ToList();
    }

    /// <summary>
    /// Channels of every sample: the number of <see cref="Modalities"/>, else of volumes in the first sample's file (1
    /// for 3-D files and DICOM series; the contrasts of a multi-contrast NIfTI file, the echoes or time points of an
    /// enhanced DICOM file). Every sample must have as many
    /// (<see cref="Load"/> checks).
    /// </summary>
    public int Channels => _channels.Value;

    private readonly Lazy<int> _channels;

    /// <summary>
    /// A volume as stored: a NIfTI file holding one, or a folder holding a DICOM series (its largest series).
    /// </summary>
    /// <exception cref="DataFormatException">The file or the series holds several volumes (read them with <see cref="ReadVolumesAt"/>).</exception>
    internal static NiftiImage ReadVolumeAt(string path)
    {
        if (!Directory.Exists(path)) return NiftiReader.Read(path);
        var volumes = ReadSeriesAt(path);
        if (volumes.Count > 1)
            throw new DataFormatException(path, $"its DICOM series holds {volumes.Count} volumes ({string.Join(", ", volumes.Select(v => v.Subset))}), where one volume is expected; as channels they are read by ReadVolumes, or pick one with DicomSeries.ReadFolder.");
        return volumes[0].Volume;
    }

    /// <summary>
    /// The channels of a sample as stored: every volume of a NIfTI file, or every volume of the folder's DICOM series
    /// (one, or the echoes, time points or stacks of an enhanced multi-frame file, as dcm2niix writes them into one 4-D
    /// NIfTI file).
    /// </summary>
    internal static IReadOnlyList<NiftiImage> ReadVolumesAt(string path)
        => Directory.Exists(path) ? ReadSeriesAt(path).Select(v => v.Volume).ToList() : NiftiReader.ReadVolumes(path);

    // The folder's largest series; when it is one of the volumes of a multi-frame file that holds several (its frames
    // repeat positions: echoes, time points, stacks), all of them in the file's order.
    private static IReadOnlyList<(NiftiImage Volume, string? Subset)> ReadSeriesAt(string path)
    {
        var series = DicomSeries.ReadFolder(path);
        if (series.Count == 0) throw new DataFormatException(path, "the folder holds no DICOM images.");
        var first = series[0];
        // A file's volumes share its series UID (only a series of one file is split); its first frames come first.
        IEnumerable<DicomSeries> parts = first.Subset is null ? [first]
            : series.Where(s => s.SeriesInstanceUid == first.SeriesInstanceUid && s.Subset is not null).OrderBy(s => s.Frames.Min());
        var volumes = parts.Select(v => (Volume: v.ToVolume(), v.Subset)).ToList();
        // Echoes and time points cover one region; stacks or slabs of one file cover different ones and are no channels.
        if (volumes.Any(v => !v.Volume.IsOnGridOf(volumes[0].Volume)))
            throw new DataFormatException(path, $"its enhanced DICOM file holds {volumes.Count} volumes on different grids ({string.Join(", ", volumes.Select(v => $"{v.Subset}: {string.Join("×", v.Volume.Shape)}"))}), such as stacks or slabs of different regions, which are not channels of one sample; pick one with DicomSeries.ReadFolder.");
        return volumes;
    }

    /// <summary>
    /// The preprocessing a model card records for a network trained on this source, so that
    /// <see cref="Inference.Predictor"/> prepares scans exactly as <see cref="Load"/> prepared the training volumes:
    /// input size and channels, orientation, voxel size, alignment of modalities, crop to the foreground, fit,
    /// intensity window and modalities as this source has them, with the normalisation the training pipeline applied
    /// after <see cref="Load"/>. Copying those fields by hand risks a predictor that prepares scans differently from
    /// training without any error; this cannot forget one.
    /// </summary>
    /// <param name="mean">The mean subtracted from each channel (one value for all, or one per channel), as the training pipeline's <see cref="Transforms.Normalize"/>.</param>
    /// <param name="std">The standard deviations (as many as <paramref name="mean"/>).</param>
    /// <param name="intensityNormalization">The per-volume normalisation the training pipeline applied before (x − mean) / std (<see cref="Transforms.NormalizeIntensity"/>), if any.</param>
    /// <returns>A new card section, for <c>ModelFile.Describe(model, preprocessing, source.ClassNames, task)</c>.</returns>
    /// <exception cref="ArgumentException">No means, or not as many standard deviations as means.</exception>
    public Inference.PreprocessingCard DescribePreprocessing(IReadOnlyList<float> mean, IReadOnlyList<float> std, Inference.IntensityNormalizationCard? intensityNormalization = null)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new ArgumentException($"Give one mean and one standard deviation for all channels or for each; got {mean.Count} and {std.Count}.", nameof(std));
        var (depth, height, width) = _size;
        return new Inference.PreprocessingCard
        {
            InputSize = [depth, height, width],
            Channels = Channels,
            Mean = mean.ToList(),
            Std = std.ToList(),
            Resize = "linear",
            Orientation = Orientation,
            IntensityWindow = Window is { } w ? [w.Center, w.Width] : null,
            IntensityPercentiles = IntensityPercentiles is { } p ? [p.Lower, p.Upper] : null,
            IntensityChannelWise = ChannelWiseIntensity ? true : null,
            IntensityNormalization = intensityNormalization is null ? null : new() { NonZero = intensityNormalization.NonZero, ChannelWise = intensityNormalization.ChannelWise },
            CropForeground = ForegroundCrop is { } crop ? new() { Threshold = crop.Threshold, Margin = crop.Margin } : null,
            Modalities = Modalities?.ToList(),
            Spacing = Spacing?.ToList(),
            AlignModalities = AlignModalities ? true : null,
            Fit = Fit == VolumeFit.CropOrPad ? "crop_or_pad" : null,
        };
    }

    /// <summary>How this source prepares the geometry of its volumes, for <see cref="Prepare"/>.</summary>
    internal VolumeGeometry Geometry => new(Orientation, Spacing, AlignModalities, ForegroundCrop, Window is null ? IntensityPercentiles : null, ChannelWiseIntensity);

    /// <summary>
    /// Channels (volumes) as one (C, D, H, W) image at the size <paramref name="resize"/> gives, as <see cref="Load"/>
    /// and the predictor prepare them: each reoriented to the geometry's orientation when given and resampled to its
    /// spacing when given; channels on other grids than the first resampled onto the first's grid when the geometry aligns
    /// modalities; volumes on one grid then stacked, cropped to their joint foreground and resized together; volumes still
    /// on different grids (modalities acquired apart, not aligned) cropped and resized each on its own, then stacked. The
    /// voxels of <paramref name="volumes"/> are never changed when <paramref name="owned"/> is false. The result carries the
    /// world affine of its grid (the first channel's, followed through resampling, crop and fit), so that maps computed
    /// on it (class activations) can be placed back on the scans.
    /// </summary>
    internal static PreparedVolume Prepare(IReadOnlyList<NiftiImage> volumes, VolumeGeometry geometry, ITransform resize, bool owned, string source)
    {
        var (orientation, spacing, align, crop, percentiles, channelWise) = geometry;
        var reoriented = volumes.Select(v => orientation is null ? v : v.Reorient(orientation)).ToList();
        var first = spacing is null ? reoriented[0] : reoriented[0].Resample(spacing);
        var oriented = reoriented.Select((v, i) =>
        {
            if (i == 0) return first;
            if (!align || v.IsOnGridOf(reoriented[0])) return spacing is null ? v : v.Resample(spacing);
            foreach (var (volume, index) in new[] { (reoriented[0], 0), (v, i) })
            {
                if (volume.AffineCode == NiftiXformCode.Unknown)
                    throw new DataFormatException(source, $"channel {index + 1} of {reoriented.Count} records no orientation (NIfTI qform and sform codes 0), so the channels on different grids cannot be aligned in world coordinates; prepare them without aligning modalities, or give the files their orientation.");
            }
            try
            {
                return v.ResampleTo(first);
            }
            catch (ArgumentException e)
            {
                throw new DataFormatException(source, $"channel {i + 1} of {reoriented.Count} cannot be aligned with channel 1: {e.Message}");
            }
        }).ToList();
        // One range over all channels, or one for each channel's own values.
        IReadOnlyList<(double, double)>? ranges = percentiles is not { } pc ? null
            : channelWise ? oriented.Select(v => IntensityWindow.Percentiles(v.Voxels, pc.Lower, pc.Upper)).ToArray()
            : [IntensityWindow.Percentiles(oriented.Select(v => v.Voxels).ToList(), pc.Lower, pc.Upper)];
        // A volume's own voxels may be used in place when this call owns them or they were made here (reoriented, resampled).
        FloatImage Own(int i) => owned || !ReferenceEquals(oriented[i], volumes[i]) ? oriented[i].AsFloatImage() : oriented[i].ToFloatImage();
        // The prepared image on the grid `affine` (of its (X, Y, Z) = (W, H, D) voxels), with the first scan's grid as given.
        PreparedVolume Result(FloatImage image, NiftiAffine affine) =>
            new(image, new VolumeGrid([image.Width, image.Height, image.Depth], affine, first.AffineCode), VolumeGrid.Of(volumes[0])) { PercentileRanges = ranges, ChannelWise = channelWise };
        var shape = oriented[0].Shape;
        if (oriented.All(v => v.Shape.SequenceEqual(shape)))
        {
            FloatImage image;
            if (oriented.Count == 1)
            {
                image = Own(0);
            }
            else
            {
                int n = oriented[0].Voxels.Length;
                var data = new float[(long)n * oriented.Count];
                for (int c = 0; c < oriented.Count; c++) Array.Copy(oriented[c].Voxels, 0, data, (long)c * n, n);
                image = new FloatImage(data, oriented.Count, shape[2], shape[1], shape[0]);
            }
            var (fitted, affine) = CropAndFit(image, first.Affine, crop, resize);
            return Result(fitted, affine);
        }
        var fits = Enumerable.Range(0, oriented.Count).Select(i => CropAndFit(Own(i), oriented[i].Affine, crop, resize)).ToList();
        var parts = fits.Select(f => f.Image).ToList();
        if (parts.Any(p => !p.Shape.SequenceEqual(parts[0].Shape)))
            throw new DataFormatException(source, $"its volumes have different shapes after resizing ({string.Join(", ", parts.Select(p => string.Join("×", p.Shape)))}).");
        var stacked = new float[parts.Sum(p => (long)p.Data.Length)];
        long at = 0;
        foreach (var part in parts)
        {
            Array.Copy(part.Data, 0, stacked, at, part.Data.Length);
            at += part.Data.Length;
        }
        var one = parts[0].Shape;
        return Result(new FloatImage(stacked, parts.Count, one[1], one[2], one[3]), fits[0].Affine);
    }

    // Crops a (C, D, H, W) image on the grid `affine` to its foreground, brings it to the input size, and follows its
    // voxels: the affine of the result, from the crop's start and the fit's crop start, padding or scale (a linear resize
    // with half-voxel centres maps output index n to input index (n + 0.5) · in / out − 0.5, a nearest one to about n · in / out).
    private static (FloatImage Image, NiftiAffine Affine) CropAndFit(FloatImage image, NiftiAffine affine, CropForeground? crop, ITransform fit)
    {
        double[] scale = [1, 1, 1], offset = [0, 0, 0]; // x, y, z: W, H, D
        if (crop?.FindBox(image) is var (start, end))
        {
            image = CropForeground.Cut(image, start, end);
            offset = [start[2], start[1], start[0]];
        }
        int[] before = [image.Width, image.Height, image.Depth];
        var fitted = fit.Apply(image, new Random(0));
        int[] after = [fitted.Width, fitted.Height, fitted.Depth];
        for (int n = 0; n < 3; n++)
        {
            if (fit is ResizeWithPadOrCrop)
            {
                offset[n] += ResizeWithPadOrCrop.Offset(before[n], after[n]);
            }
            else
            {
                // Linear: half-voxel centres, n → (n + 0.5) · s − 0.5; nearest (PyTorch's "nearest"): n → floor(n · s),
                // whose nearest affine is n · s.
                scale[n] = before[n] / (double)after[n];
                if (fit is not Transforms.Resize { Mode: ResizeMode.Nearest }) offset[n] += (0.5 * scale[n]) - 0.5;
            }
        }
        return (fitted, affine.WithIndexMap(scale, offset));
    }

    /// <inheritdoc />
    public (FloatImage Image, int[] Labels) Load(int index)
    {
        var volumes = ReadVolumes(index);
        if (volumes.Count != Channels)
            throw new DataFormatException(Samples[index].Path, $"it holds {volumes.Count} volume(s), but the first sample ({Samples[0].Path}) holds {Channels}: every sample needs the same channels.");
        // read for this call only: no copy needed
        var image = Prepare(volumes, Geometry, FitTransform, owned: true, Samples[index].Path).ScaledToUnitRange(Window);
        return (image, new[] { Samples[index].Label });
    }
}
