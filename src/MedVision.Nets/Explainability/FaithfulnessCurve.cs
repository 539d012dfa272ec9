namespace MedVision.Nets.Explainability;

/// <summary>
/// A deletion or insertion curve (<see cref="Faithfulness"/>): the target class's probability (softmax, or the label's
/// sigmoid — see <see cref="FaithfulnessScore"/>) as a growing fraction of
/// the input's positions, most important first by the map, is replaced (deletion) or restored (insertion).
/// </summary>
/// <param name="Fractions">The fraction of positions changed at each point, from 0 to 1.</param>
/// <param name="Probabilities">The target class's probability at each point.</param>
public sealed record FaithfulnessCurve(IReadOnlyList<double> Fractions, IReadOnlyList<double> Probabilities)
{
    /// <summary>The fraction of positions changed at each point, from 0 to 1.</summary>
    public IReadOnlyList<double> Fractions { get; init; } = Fractions ?? throw new ArgumentNullException(nameof(Fractions));

    /// <summary>The target class's probability at each point.</summary>
    public IReadOnlyList<double> Probabilities { get; init; } = Probabilities ?? throw new ArgumentNullException(nameof(Probabilities));

    /// <summary>
    /// The area under the curve over [0, 1] by the trapezoid rule (RISE's score): for deletion, lower means the map's
    /// most important positions carry the prediction; for insertion, higher does.
    /// </summary>
    public double Area
    {
        get
        {
            double area = 0;
            for (int i = 1; i < Fractions.Count; i++) area += (Fractions[i] - Fractions[i - 1]) * (Probabilities[i] + Probabilities[i - 1]) / 2;
            return area;
        }
    }
}
