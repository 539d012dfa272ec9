namespace MedVision.Nets.Data.Loading;

/// <summary>How <see cref="VolumeFolderSource"/> (and a predictor, from its model card) brings a prepared volume to the network's input size.</summary>
public enum VolumeFit
{
    /// <summary>Trilinear resize to the size (<see cref="Transforms.Resize"/>): the whole field of view, stretched along each axis as needed.</summary>
    Resize,

    /// <summary>
    /// Center crop or pad to the size without resampling (<see cref="Transforms.ResizeWithPadOrCrop"/>, MONAI's
    /// <c>ResizeWithPadOrCrop</c>), padding with each volume's minimum: keeps the voxel size, which with
    /// <see cref="VolumeFolderSource.Spacing"/> makes one voxel the same number of millimetres in every sample.
    /// </summary>
    CropOrPad,
}
