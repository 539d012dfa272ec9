using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// The geometric preparation of volumes before they are resized to a network's input, shared by
/// <see cref="VolumeFolderSource"/> and the predictor (which rebuilds it from a model card), in the order it is applied:
/// reorient, resample to a voxel size, align channels on different grids, crop to the foreground.
/// </summary>
internal sealed record VolumeGeometry(string? Orientation, IReadOnlyList<float>? Spacing, bool AlignModalities, CropForeground? Crop);
