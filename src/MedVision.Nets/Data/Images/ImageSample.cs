namespace MedVision.Nets.Data.Images;

/// <summary>One labelled image file of an <see cref="ImageFolderDataset"/>.</summary>
/// <param name="FilePath">The image file.</param>
/// <param name="Label">The class index.</param>
public sealed record ImageSample(string FilePath, int Label)
{
    /// <summary>The image file.</summary>
    public string FilePath { get; init; } = FilePath ?? throw new ArgumentNullException(nameof(FilePath));
}
