using System.Globalization;

namespace MedVision.Nets.Metrics.Selective;

/// <summary>
/// The risk–coverage curve of selective prediction (Geifman and El-Yaniv, NeurIPS 2017; "Bias-reduced uncertainty
/// estimation for deep neural classifiers", ICLR 2019): accept the images whose confidence reaches a threshold, defer the
/// rest; as the threshold falls, coverage (the share accepted) rises and so does the risk (the mean loss among the
/// accepted). A confidence that ranks the wrong predictions last gives a low curve; the area under it (AURC) and its
/// excess over the best possible ranking of the same losses (E-AURC) summarise that.
/// </summary>
/// <remarks>
/// Images of equal confidence are accepted or deferred together: the curve's points are the distinct confidences. The
/// area is the mean, over m = 1 … N images accepted in confidence order, of the risk among those m, with images of
/// equal confidence taken in random order — its expectation, so that ties (rounded probabilities) neither help nor hurt.
/// </remarks>
public sealed class RiskCoverageCurve
{
    private readonly double[] _coverages, _risks, _thresholds;
    // Per point: images accepted and their summed loss (the coverages and risks are these over N and over the count).
    private readonly int[] _accepted;
    private readonly double[] _loss;

    private RiskCoverageCurve(int[] accepted, double[] loss, double[] thresholds, int count, double aurc, double optimal)
    {
        _accepted = accepted;
        _loss = loss;
        _coverages = accepted.Select(m => (double)m / count).ToArray();
        _risks = accepted.Select((m, g) => loss[g] / m).ToArray();
        _thresholds = thresholds;
        Count = count;
        Aurc = aurc;
        OptimalAurc = optimal;
    }

    /// <summary>The curve of any per-image losses (e.g. 0/1 errors, or the absolute grade error of an ordinal model).</summary>
    /// <param name="confidence">Each image's confidence (higher: accepted first).</param>
    /// <param name="losses">Each image's loss (finite, ≥ 0).</param>
    /// <returns>The curve.</returns>
    public static RiskCoverageCurve Compute(double[] confidence, double[] losses)
    {
        SelectivePrediction.ValidatePairs(confidence, losses, zeroOne: false);
        int n = confidence.Length;
        var order = Enumerable.Range(0, n).OrderByDescending(i => confidence[i]).ToArray();
        var accepted = new List<int>();
        var loss = new List<double>();
        var thresholds = new List<double>();
        double area = 0, before = 0;
        for (int start = 0; start < n;)
        {
            int end = start;
            double groupLoss = 0;
            while (end < n && confidence[order[end]] == confidence[order[start]]) groupLoss += losses[order[end++]];
            int size = end - start;
            // Within a group of equal confidence, any order is as likely: the expected loss of the first j is j/size of it.
            for (int j = 1; j <= size; j++) area += (before + (groupLoss * j / size)) / (start + j);
            before += groupLoss;
            accepted.Add(end);
            loss.Add(before);
            thresholds.Add(confidence[order[start]]);
            start = end;
        }
        var sorted = (double[])losses.Clone();
        Array.Sort(sorted);
        double optimal = 0, cumulative = 0;
        for (int m = 1; m <= n; m++) optimal += (cumulative += sorted[m - 1]) / m;
        return new RiskCoverageCurve(accepted.ToArray(), loss.ToArray(), thresholds.ToArray(), n, area / n, optimal / n);
    }

    /// <summary>The curve of a classifier's arg-max predictions (0/1 loss) ranked by a confidence score of its probabilities.</summary>
    /// <param name="labels">True classes.</param>
    /// <param name="probabilities">N × K class probabilities.</param>
    /// <param name="score">The confidence score.</param>
    /// <returns>The curve.</returns>
    public static RiskCoverageCurve Compute(int[] labels, double[,] probabilities, ConfidenceScore score = ConfidenceScore.MaxProbability) =>
        Compute(SelectivePrediction.Confidence(probabilities, score), SelectivePrediction.Errors(labels, probabilities));

    /// <summary>The curve of a classifier's arg-max predictions, labels as an N × 1 matrix (as MedMNIST stores them).</summary>
    /// <param name="labels">N × 1 true classes.</param>
    /// <param name="probabilities">N × K class probabilities.</param>
    /// <param name="score">The confidence score.</param>
    /// <returns>The curve.</returns>
    public static RiskCoverageCurve Compute(int[,] labels, double[,] probabilities, ConfidenceScore score = ConfidenceScore.MaxProbability) =>
        Compute(SelectivePrediction.Confidence(probabilities, score), SelectivePrediction.Errors(labels, probabilities));

    /// <summary>
    /// The curve of a classifier whose predictions follow <paramref name="decision"/> (the median grade of a CORAL model:
    /// <see cref="OrdinalDecision.Median"/>), ranked by a confidence in that prediction (see
    /// <see cref="SelectivePrediction.Confidence(double[,], ConfidenceScore, OrdinalDecision)"/>).
    /// </summary>
    /// <param name="labels">N × 1 true classes.</param>
    /// <param name="probabilities">N × K class (grade) probabilities.</param>
    /// <param name="decision">How each image's class is chosen.</param>
    /// <param name="score">The confidence score; the predicted class's probability by default.</param>
    /// <returns>The curve.</returns>
    public static RiskCoverageCurve Compute(int[,] labels, double[,] probabilities, OrdinalDecision decision, ConfidenceScore score = ConfidenceScore.PredictedProbability) =>
        Compute(SelectivePrediction.Confidence(probabilities, score, decision), SelectivePrediction.Errors(labels, probabilities, decision));

    /// <summary>Images.</summary>
    public int Count { get; }

    /// <summary>Coverage at each point (ascending; the last is 1).</summary>
    public IReadOnlyList<double> Coverages => _coverages;

    /// <summary>Mean loss of the accepted images at each point.</summary>
    public IReadOnlyList<double> Risks => _risks;

    /// <summary>The confidence threshold of each point (images with at least this confidence are accepted; descending).</summary>
    public IReadOnlyList<double> Thresholds => _thresholds;

    /// <summary>Area under the risk–coverage curve (lower is better).</summary>
    public double Aurc { get; }

    /// <summary>The area of the best ranking of the same losses (lowest losses first).</summary>
    public double OptimalAurc { get; }

    /// <summary>Excess AURC: <see cref="Aurc"/> − <see cref="OptimalAurc"/>, the part due to the confidence's ranking.</summary>
    public double ExcessAurc => Aurc - OptimalAurc;

    /// <summary>The risk with all images accepted.</summary>
    public double FullCoverageRisk => _risks[^1];

    /// <summary>
    /// The expected risk when the ⌈coverage · N⌉ most confident images are accepted (images of equal confidence in
    /// random order).
    /// </summary>
    /// <param name="coverage">In (0, 1].</param>
    /// <returns>The risk.</returns>
    public double RiskAtCoverage(double coverage)
    {
        if (!(coverage > 0 && coverage <= 1)) throw new ArgumentOutOfRangeException(nameof(coverage), coverage, "The coverage must lie in (0, 1].");
        int m = Math.Max(1, (int)Math.Ceiling((coverage * Count) - 1e-9));
        // Within the group of equal confidence that the m-th image falls in, its losses count in proportion.
        int g = 0;
        while (_accepted[g] < m) g++;
        int previousCount = g == 0 ? 0 : _accepted[g - 1];
        double previousLoss = g == 0 ? 0 : _loss[g - 1];
        return (previousLoss + ((_loss[g] - previousLoss) * (m - previousCount) / (_accepted[g] - previousCount))) / m;
    }

    /// <summary>
    /// The largest coverage of a point whose risk is at most <paramref name="risk"/> (0 when none), measured on these
    /// images — a description of them, not a guarantee for new ones (<see cref="SelectiveRiskControl"/> gives one).
    /// </summary>
    /// <param name="risk">The risk allowed.</param>
    /// <returns>The coverage.</returns>
    public double CoverageAtRisk(double risk)
    {
        if (!(risk >= 0) || double.IsNaN(risk)) throw new ArgumentOutOfRangeException(nameof(risk), risk, "The risk must be a number ≥ 0.");
        double best = 0;
        for (int g = 0; g < _coverages.Length; g++) if (_risks[g] <= risk) best = _coverages[g];
        return best;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"RiskCoverageCurve({Count} images, {_coverages.Length} points: AURC {Aurc:F4}, E-AURC {ExcessAurc:F4}, risk at full coverage {FullCoverageRisk:F4})");
}
