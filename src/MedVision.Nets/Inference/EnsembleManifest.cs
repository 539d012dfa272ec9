namespace MedVision.Nets.Inference;

/// <summary>What an ensemble manifest lists (see <see cref="EnsemblePredictor.ReadManifest"/>).</summary>
/// <param name="ModelPaths">The model files' full paths, in member order.</param>
/// <param name="Weights">Their weights as written (1 where the manifest gives none).</param>
public sealed record EnsembleManifest(IReadOnlyList<string> ModelPaths, IReadOnlyList<double> Weights)
{
    /// <summary>The model files' full paths, in member order.</summary>
    public IReadOnlyList<string> ModelPaths { get; init; } = ModelPaths ?? throw new ArgumentNullException(nameof(ModelPaths));

    /// <summary>Their weights as written (1 where the manifest gives none).</summary>
    public IReadOnlyList<double> Weights { get; init; } = Weights ?? throw new ArgumentNullException(nameof(Weights));

    /// <summary>
    /// A conformal calibration of the ensemble's averaged probabilities (<see cref="EnsemblePredictor.SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?, ConformalCard?)"/>),
    /// or null.
    /// </summary>
    public ConformalCard? Conformal { get; init; }

    /// <summary>
    /// A referral operating point chosen on the ensemble's averaged probabilities (<see cref="EnsemblePredictor.SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?, ConformalCard?, ReferralCard?)"/>),
    /// or null.
    /// </summary>
    public ReferralCard? Referral { get; init; }

    /// <summary>
    /// Each model file's SHA-256 (lower-case hex) as it was when the manifest was written, in member order; null for a
    /// member the manifest records none for (manifests written before the hashes were). A calibration or operating point holds
    /// only for the files it was made with: <see cref="EnsemblePredictor.LoadManifest"/> drops it when a file has changed.
    /// </summary>
    public IReadOnlyList<string?> ModelHashes { get; init => field = value ?? throw new ArgumentNullException(nameof(ModelHashes)); } = [];
}
