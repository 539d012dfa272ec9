namespace MedVision.Nets.Data.Images;

/// <summary>One labelled image file of an <see cref="ImageFolderDataset"/>.</summary>
/// <param name="FilePath">The image file.</param>
/// <param name="Label">The class index; −1 for a sample of a multi-label dataset, whose labels are <see cref="Labels"/>.</param>
public sealed record ImageSample(string FilePath, int Label)
{
    /// <summary>The image file.</summary>
    public string FilePath { get; init; } = FilePath ?? throw new ArgumentNullException(nameof(FilePath));

    /// <summary>
    /// For a multi-label dataset (<see cref="ImageFolderDataset.LabelColumns"/> above 1): each finding's label, 0 or 1,
    /// in the order of <see cref="ImageFolderDataset.ClassNames"/>; null for single-label samples.
    /// </summary>
    public IReadOnlyList<int>? Labels { get; init; }
}
