using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// Configures a <see cref="VolumeFolderSource"/> step by step, in the order the steps are applied to every scan:
/// <code>VolumeFolderSource.Builder("data/adni")
///     .WithModalities("t1", "pet")          // subject folders, one channel per modality
///     .ResampleToSpacing(1.5f, 1.5f, 1.5f)  // after reorienting to RAS (the default)
///     .AlignModalities()                    // the PET onto the T1's grid
///     .ScaleIntensityByPercentiles(0.5, 99.5)
///     .CropOrPadTo(96, 96, 96)
///     .Build();</code>
/// The size (<see cref="ResizeTo"/> or <see cref="CropOrPadTo"/>) is required; everything else is optional and defaults
/// as <see cref="VolumeFolderSource.FromSubfolders"/>'s parameters do. Each option is checked when it is set;
/// <see cref="Build"/> scans the folder. A builder cannot be used after <see cref="Build"/>.
/// </summary>
public sealed class VolumeFolderSourceBuilder
{
    private readonly string _root;
    private (int Depth, int Height, int Width)? _size;
    private VolumeFit _fit = VolumeFit.Resize;
    private string? _orientation = "RAS";
    private IReadOnlyList<string>? _modalities;
    private IReadOnlyList<float>? _spacing;
    private bool _alignModalities;
    private CropForeground? _cropForeground;
    private (double Center, double Width)? _window;
    private (double Lower, double Upper)? _percentiles;
    private bool _channelWise;
    private bool _built;

    internal VolumeFolderSourceBuilder(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = root;
    }

    /// <summary>
    /// Samples are subject folders holding one NIfTI file or DICOM series folder per modality, one channel each in this
    /// order (e.g. <c>"flair", "t1", "t1ce", "t2"</c>; see <see cref="VolumeFolderSource.FromSubfolders"/>'s
    /// <c>modalities</c>). Without it every NIfTI file and DICOM series folder below a class folder is a sample.
    /// </summary>
    /// <exception cref="ArgumentException">No modality, an empty name, or a name given twice.</exception>
    public VolumeFolderSourceBuilder WithModalities(params string[] modalities)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(modalities);
        VolumeFolderSource.CheckModalities(modalities, nameof(modalities));
        _modalities = modalities.ToArray();
        return this;
    }

    /// <summary>Reorients every volume to these axis codes first (the default is "RAS"; see <see cref="NiftiImage.Reorient"/>).</summary>
    /// <exception cref="ArgumentException">Not three axis codes naming each body axis once.</exception>
    public VolumeFolderSourceBuilder ReorientTo(string axisCodes)
    {
        EnsureUsable();
        ArgumentException.ThrowIfNullOrEmpty(axisCodes);
        NiftiAffine.ParseAxisCodes(axisCodes, nameof(axisCodes));
        _orientation = axisCodes;
        return this;
    }

    /// <summary>Keeps every volume's voxel order as stored instead of reorienting it to RAS.</summary>
    public VolumeFolderSourceBuilder KeepStoredOrientation()
    {
        EnsureUsable();
        _orientation = null;
        return this;
    }

    /// <summary>
    /// Resamples every volume, after reorienting, to this voxel size (i, j, k) in millimetres (MONAI's
    /// <c>Spacing(pixdim=…)</c>; see <see cref="VolumeFolderSource.Spacing"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A size that is not positive and finite.</exception>
    public VolumeFolderSourceBuilder ResampleToSpacing(float i, float j, float k)
    {
        EnsureUsable();
        float[] spacing = [i, j, k];
        NiftiAffine.CheckVoxelSize(spacing, "spacing");
        _spacing = spacing;
        return this;
    }

    /// <summary>
    /// Resamples the channels of a sample that lie on other grids than the first onto the first's grid through their
    /// affines (see <see cref="VolumeFolderSource.AlignModalities"/>); the files must record their orientation.
    /// </summary>
    public VolumeFolderSourceBuilder AlignModalities()
    {
        EnsureUsable();
        _alignModalities = true;
        return this;
    }

    /// <summary>
    /// Crops every volume, on its stored values after reorienting and resampling, to the box of its values above
    /// <paramref name="threshold"/> widened by <paramref name="margin"/> voxels (see <see cref="Transforms.CropForeground"/>;
    /// 0 for skull-stripped MRI, as MedicalNet prepared volumes).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative margin or a threshold that is not a number.</exception>
    public VolumeFolderSourceBuilder CropToForeground(float threshold = 0, int margin = 0)
    {
        EnsureUsable();
        _cropForeground = new CropForeground(threshold, margin);
        return this;
    }

    /// <summary>
    /// Maps intensities to [0, 1] through a fixed window (center, width) in the scans' units, e.g. (40, 400) for a CT
    /// soft-tissue window in Hounsfield units, instead of each volume's own minimum and maximum.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A width that is not positive, or a center that is not finite.</exception>
    /// <exception cref="InvalidOperationException">Intensity percentiles are already set.</exception>
    public VolumeFolderSourceBuilder ScaleIntensityByWindow(double center, double width)
    {
        EnsureUsable();
        ScaleIntensity.CheckWindow(center, width);
        if (_percentiles is not null) throw new InvalidOperationException("Intensities are already scaled by percentiles; choose a window or percentiles, not both.");
        if (_channelWise) throw new InvalidOperationException("Intensities are already scaled channel by channel; a window maps every channel alike: choose one.");
        _window = (center, width);
        return this;
    }

    /// <summary>
    /// Maps the <paramref name="lower"/> and <paramref name="upper"/> percentiles (0–100) of each volume's values to 0 and 1,
    /// clamped, instead of its minimum and maximum (MONAI's <c>ScaleIntensityRangePercentiles</c>; e.g. 0.5 and 99.5 for
    /// MRI; see <see cref="VolumeFolderSource.IntensityPercentiles"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 0 ≤ lower &lt; upper ≤ 100.</exception>
    /// <exception cref="InvalidOperationException">An intensity window is already set.</exception>
    public VolumeFolderSourceBuilder ScaleIntensityByPercentiles(double lower, double upper)
    {
        EnsureUsable();
        if (!ScaleIntensity.ArePercentiles(lower, upper))
            throw new ArgumentOutOfRangeException(nameof(upper), (lower, upper), "The intensity percentiles must be (lower, upper) with 0 ≤ lower < upper ≤ 100.");
        if (_window is not null) throw new InvalidOperationException("Intensities are already scaled through a window; choose a window or percentiles, not both.");
        _percentiles = (lower, upper);
        return this;
    }

    /// <summary>
    /// Scales each channel by its own values — its minimum and maximum, or its own percentiles with
    /// <see cref="ScaleIntensityByPercentiles"/> — instead of all channels' together (MONAI's <c>channel_wise=True</c>),
    /// for modalities whose values lie in different ranges (MRI contrasts, MRI and PET); see
    /// <see cref="VolumeFolderSource.ChannelWiseIntensity"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">An intensity window is already set (it maps every channel alike).</exception>
    public VolumeFolderSourceBuilder ScaleIntensityChannelWise()
    {
        EnsureUsable();
        if (_window is not null) throw new InvalidOperationException("Intensities are already scaled through a window, which maps every channel alike; channel-wise scaling applies to the minimum–maximum and percentile scalings.");
        _channelWise = true;
        return this;
    }

    /// <summary>Resizes (trilinear) every prepared volume to (D, H, W), the network's input size.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    public VolumeFolderSourceBuilder ResizeTo(int depth, int height, int width) => FitTo(depth, height, width, VolumeFit.Resize);

    /// <summary>
    /// Center-crops and pads every prepared volume to (D, H, W) without resampling, so that a voxel keeps its size (with
    /// <see cref="ResampleToSpacing"/>, as MONAI pipelines do; see <see cref="VolumeFit.CropOrPad"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    public VolumeFolderSourceBuilder CropOrPadTo(int depth, int height, int width) => FitTo(depth, height, width, VolumeFit.CropOrPad);

    private VolumeFolderSourceBuilder FitTo(int depth, int height, int width, VolumeFit fit)
    {
        EnsureUsable();
        VolumeFolderSource.CheckSize(depth, height, width);
        _size = (depth, height, width);
        _fit = fit;
        return this;
    }

    /// <summary>Scans the folder's class sub-folders and returns the source.</summary>
    /// <exception cref="InvalidOperationException">No size was given (<see cref="ResizeTo"/> or <see cref="CropOrPadTo"/>), or the builder was used already.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="DataFormatException">No class folder, no sample in any of them, or a subject folder that lacks a modality or holds it twice.</exception>
    public VolumeFolderSource Build()
    {
        EnsureUsable();
        if (_size is not var (depth, height, width))
            throw new InvalidOperationException("Give the size every volume is brought to: ResizeTo(depth, height, width) or CropOrPadTo(depth, height, width).");
        var source = VolumeFolderSource.FromSubfolders(_root, depth, height, width, _window, _orientation, _cropForeground, _modalities, _spacing,
            _alignModalities, _fit, _percentiles, _channelWise);
        _built = true;
        return source;
    }

    private void EnsureUsable()
    {
        if (_built) throw new InvalidOperationException("This builder has built its source already; start a new one with VolumeFolderSource.Builder(root).");
    }
}
