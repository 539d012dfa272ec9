namespace MedVision.Nets.Inference;

/// <summary>
/// An ensemble's prediction for one input: the members' probabilities averaged (with the ensemble's weights), its
/// arg-max, name and — for ordinal tasks — grades, as for a single model; plus each member's own prediction and how far
/// the members agree, a simple measure of the prediction's uncertainty (deep ensembles: inputs unlike the training data
/// tend to split the members).
/// </summary>
public sealed record EnsemblePrediction : Prediction
{
    internal EnsemblePrediction(Prediction combined, IReadOnlyList<Prediction> members, IReadOnlyList<double> weights)
        : base(combined)
    {
        Members = members;
        Agreement = members.Count(m => m.Label == combined.Label) / (double)members.Count;
        var spread = new float[combined.Probabilities.Count];
        for (int k = 0; k < spread.Length; k++)
        {
            double mean = combined.Probabilities[k], variance = 0;
            for (int m = 0; m < members.Count; m++)
            {
                double d = members[m].Probabilities[k] - mean;
                variance += weights[m] * d * d;
            }
            spread[k] = (float)Math.Sqrt(variance);
        }
        ProbabilitySpread = spread;
    }

    /// <summary>Each member's own prediction, in the ensemble's member order.</summary>
    public IReadOnlyList<Prediction> Members { get; }

    /// <summary>The share of members (0 to 1, each member counting once) whose own label is the ensemble's label: 1 when all agree.</summary>
    public double Agreement { get; }

    /// <summary>
    /// Per class, the (weighted) standard deviation of the members' probabilities around the ensemble's: 0 when the
    /// members give the same probability, up to 0.5 when they split between 0 and 1.
    /// </summary>
    public IReadOnlyList<float> ProbabilitySpread { get; }
}
