using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// The geometric preparation of volumes before they are resized to a network's input, shared by
/// <see cref="VolumeFolderSource"/> and the predictor (which rebuilds it from a model card), in the order it is applied:
/// reorient, resample to a voxel size, align channels on different grids, crop to the foreground; and the intensity
/// percentiles, when the volumes are scaled by them, taken of the volumes at that point (before the crop and the fit,
/// which would count padding and leave out what the crop cut), as MONAI pipelines scale before cropping; with
/// <see cref="ChannelWise"/>, the percentiles or the minimum and maximum of each channel by itself.
/// </summary>
internal sealed record VolumeGeometry(string? Orientation, IReadOnlyList<float>? Spacing, bool AlignModalities, CropForeground? Crop,
    (double Lower, double Upper)? IntensityPercentiles = null, bool ChannelWise = false);

/// <summary>A grid of voxels in the world: its shape (X, Y, Z) and voxel-to-world affine with its code.</summary>
internal sealed record VolumeGrid(IReadOnlyList<int> Shape, NiftiAffine Affine, NiftiXformCode AffineCode)
{
    /// <summary>The grid of <paramref name="volume"/>.</summary>
    public static VolumeGrid Of(NiftiImage volume) => new(volume.Shape.ToArray(), volume.Affine, volume.AffineCode);
}

/// <summary>
/// A volume prepared for a network, (C, D, H, W), with the grid it lies on in the world of the scans it was prepared
/// from (voxel (x, y, z) = (W, H, D) index at <see cref="VolumeGrid.Affine"/> · (x, y, z, 1)), and the grid of the first
/// of those scans as given (<see cref="Source"/>), where maps computed on the image are placed back.
/// </summary>
internal sealed record PreparedVolume(FloatImage Image, VolumeGrid Grid, VolumeGrid Source)
{
    /// <summary>
    /// The values the geometry's intensity percentiles fell on (mapped to 0 and 1), when it has them: one range for all
    /// channels, or one per channel when <see cref="ChannelWise"/>.
    /// </summary>
    public IReadOnlyList<(double Low, double High)>? PercentileRanges { get; init; }

    /// <summary>Whether each channel is scaled by its own range (percentiles, or minimum and maximum).</summary>
    public bool ChannelWise { get; init; }

    /// <summary>
    /// <see cref="Image"/> with its values mapped to [0, 1], in place: through <paramref name="window"/> when given, else
    /// from <see cref="PercentileRanges"/> when known, else by the image's own minimum and maximum (each channel's own
    /// when <see cref="ChannelWise"/>).
    /// </summary>
    public FloatImage ScaledToUnitRange((double Center, double Width)? window)
    {
        var data = Image.Data.AsSpan();
        if (window is not null) IntensityWindow.MapToUnitRange(data, window);
        else if (PercentileRanges is { } ranges)
        {
            // One range for the whole image, or one per channel: each for its equal part.
            int size = data.Length / ranges.Count;
            for (int p = 0; p < ranges.Count; p++) IntensityWindow.MapToUnitRange(data.Slice(p * size, size), ranges[p].Low, ranges[p].High);
        }
        else IntensityWindow.MapChannelsToUnitRange(data, ChannelWise ? Image.Channels : 1, null);
        return Image;
    }
}
