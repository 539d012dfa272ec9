namespace MedVision.Nets.Data.MedMnist;

/// <summary>Options for <see cref="MedMnistDataset.Load(string, MedMnistLoadOptions?)"/>.</summary>
public sealed class MedMnistLoadOptions
{
    /// <summary>
    /// The dataset's metadata, used to check label ranges, channels and dimensionality. When <see langword="null"/>
    /// it is inferred from the file name (e.g. <c>pathmnist_64.npz</c>); when it cannot be inferred, labels are only
    /// checked to be non-negative.
    /// </summary>
    public MedMnistInfo? Info { get; init; }

    /// <summary>
    /// Repeat grey 2D images into three identical channels, giving images of shape (N, H, W, 3).
    /// RGB images are left unchanged. Not allowed for 3D datasets.
    /// </summary>
    public bool GrayscaleToRgb { get; init; }

    /// <summary>
    /// Check the split sample counts against the official counts in <see cref="Info"/> (default <see langword="false"/>,
    /// so that subsets and test fixtures load).
    /// </summary>
    public bool RequireOfficialSplitSizes { get; init; }
}
