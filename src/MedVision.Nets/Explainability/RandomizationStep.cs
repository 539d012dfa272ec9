namespace MedVision.Nets.Explainability;

/// <summary>
/// One step of <see cref="ParameterRandomization"/>: which layers were randomised, and how similar each sample's map
/// of the randomised model is to its map of the trained one.
/// </summary>
/// <param name="Block">The step's name: a layer's dotted name, or the block holding the layers (see <c>blockDepth</c>).</param>
/// <param name="Layers">The layers this step re-initialised.</param>
/// <param name="RankCorrelations">Per sample, Spearman's rank correlation of the two maps (ties share their mean rank); NaN where either map is constant.</param>
/// <param name="StructuralSimilarities">Per sample, the SSIM of the two maps, each scaled to [0, 1] (a constant map to zeros), with a uniform window of up to 7 positions a side.</param>
public sealed record RandomizationStep(string Block, IReadOnlyList<string> Layers, IReadOnlyList<double> RankCorrelations, IReadOnlyList<double> StructuralSimilarities)
{
    /// <summary>The step's name: a layer's dotted name, or the block holding the layers.</summary>
    public string Block { get; init; } = Block ?? throw new ArgumentNullException(nameof(Block));

    /// <summary>The layers this step re-initialised.</summary>
    public IReadOnlyList<string> Layers { get; init; } = Layers ?? throw new ArgumentNullException(nameof(Layers));

    /// <summary>Per sample, Spearman's rank correlation of the trained and the randomised model's maps; NaN where either map is constant.</summary>
    public IReadOnlyList<double> RankCorrelations { get; init; } = RankCorrelations ?? throw new ArgumentNullException(nameof(RankCorrelations));

    /// <summary>Per sample, the SSIM of the two maps scaled to [0, 1].</summary>
    public IReadOnlyList<double> StructuralSimilarities { get; init; } = StructuralSimilarities ?? throw new ArgumentNullException(nameof(StructuralSimilarities));

    /// <summary>The mean rank correlation over the samples where it is defined; NaN when it is defined for none.</summary>
    public double MeanRankCorrelation => MeanOfDefined(RankCorrelations);

    /// <summary>The mean SSIM over the samples.</summary>
    public double MeanStructuralSimilarity => MeanOfDefined(StructuralSimilarities);

    /// <summary>Samples whose rank correlation is undefined (a constant map).</summary>
    public int UndefinedCount => RankCorrelations.Count(double.IsNaN);

    private static double MeanOfDefined(IReadOnlyList<double> values)
    {
        var defined = values.Where(v => !double.IsNaN(v)).ToArray();
        return defined.Length == 0 ? double.NaN : defined.Average();
    }
}
