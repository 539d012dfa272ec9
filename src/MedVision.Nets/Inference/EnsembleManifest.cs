namespace MedVision.Nets.Inference;

/// <summary>What an ensemble manifest lists (see <see cref="EnsemblePredictor.ReadManifest"/>).</summary>
/// <param name="ModelPaths">The model files' full paths, in member order.</param>
/// <param name="Weights">Their weights as written (1 where the manifest gives none).</param>
public sealed record EnsembleManifest(IReadOnlyList<string> ModelPaths, IReadOnlyList<double> Weights);
