using System.Text.Json.Serialization;

namespace MedVision.Nets.Inference;

/// <summary>
/// The post-processing chosen for a segmentation model or ensemble on cases it did not train on (nnU-Net's two steps,
/// <see cref="SegmentationPostprocessing.ChooseKeepLargestForeground"/> and then
/// <see cref="SegmentationPostprocessing.ChooseKeepLargest"/>): whether the foreground as one keeps only its largest
/// connected region, and which classes then keep only their largest connected component.
/// </summary>
/// <param name="KeepLargestForeground">The foreground (every class above 0) as one keeps its largest region first.</param>
/// <param name="KeepLargestComponent">The foreground classes (1 to classes − 1, each once) that keep only their largest component.</param>
public sealed record SegmentationPostprocessingChoice(
    [property: JsonPropertyName("keep_largest_foreground")] bool KeepLargestForeground,
    IReadOnlyList<int> KeepLargestComponent)
{
    /// <summary>The foreground classes (1 to classes − 1, each once) that keep only their largest component.</summary>
    [JsonPropertyName("keep_largest_component")]
    public IReadOnlyList<int> KeepLargestComponent { get; init; } = KeepLargestComponent ?? throw new ArgumentNullException(nameof(KeepLargestComponent), "Give the classes that keep their largest component (an empty list for none).");

    /// <summary>No post-processing: the arg-max maps as they are.</summary>
    public static SegmentationPostprocessingChoice None { get; } = new(false, []);

    /// <summary>A sentence saying the choice is invalid for <paramref name="classes"/> classes, or null when it is valid.</summary>
    internal string? Problem(int classes) =>
        KeepLargestComponent.Any(k => k < 1 || k >= classes) || KeepLargestComponent.Distinct().Count() != KeepLargestComponent.Count
            ? $"keep_largest_component [{string.Join(", ", KeepLargestComponent)}] must name foreground classes (1 to {classes - 1}) once each"
        : null;
}

/// <summary>What a segmentation ensemble manifest lists (see <see cref="SegmentationModelFile.ReadEnsembleManifest"/>).</summary>
/// <param name="ModelPaths">The model files' full paths, in member order.</param>
public sealed record SegmentationEnsembleManifest(IReadOnlyList<string> ModelPaths)
{
    /// <summary>The model files' full paths, in member order.</summary>
    public IReadOnlyList<string> ModelPaths { get; init; } = ModelPaths ?? throw new ArgumentNullException(nameof(ModelPaths));

    /// <summary>
    /// The post-processing chosen on the ensemble's own predictions (which is no member's), or null when the manifest
    /// records none: the predictors then apply what every member's card records, when all record the same.
    /// </summary>
    public SegmentationPostprocessingChoice? Postprocessing { get; init; }

    /// <summary>
    /// Each member's weight in the mean of the probabilities, in member order (1 where the file gives none); null for
    /// equal weights. Finite, non-negative and not all 0; normalised to sum to 1 when used.
    /// </summary>
    public IReadOnlyList<double>? Weights { get; init; }

    /// <summary>
    /// Each model file's SHA-256 (lower-case hex) as it was when the manifest was written, in member order. The
    /// post-processing holds only for the files it was chosen with: <see cref="SegmentationPredictor.LoadManifest"/>
    /// leaves it out when a file has changed.
    /// </summary>
    public IReadOnlyList<string?> ModelHashes { get; init => field = value ?? throw new ArgumentNullException(nameof(ModelHashes)); } = [];
}
