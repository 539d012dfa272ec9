using System.Globalization;

namespace MedVision.Nets.Metrics.Clinical;

/// <summary>
/// A decision threshold on a risk score — refer when score ≥ threshold — chosen on held-out images for a clinical
/// requirement (a minimum sensitivity, a minimum specificity, or Youden's J), then applied to new images. A screening
/// programme states its operating point this way: for diabetic retinopathy, e.g. at least 80% sensitivity for referable
/// disease. The choice uses only the images it is fitted on, so fit it on the validation split and report the test split.
/// </summary>
/// <example><code>
/// var (valLabels, valRisk) = Referral.FromGrades(validationGrades, validationProbabilities, referableFrom: 2);
/// var point = OperatingPoint.AtSensitivity(valLabels, valRisk, minimum: 0.8);
/// var (testLabels, testRisk) = Referral.FromGrades(testGrades, testProbabilities, referableFrom: 2);
/// BinaryOutcome test = point.Evaluate(testLabels, testRisk);   // sensitivity, specificity with 95% intervals, PPV, NPV
/// </code></example>
public sealed class OperatingPoint
{
    private OperatingPoint(double threshold, string rule, BinaryOutcome? fitted)
    {
        Threshold = threshold;
        Rule = rule;
        Fitted = fitted;
    }

    /// <summary>The threshold: an image is referred (positive) when its score is at least this (+∞: none is).</summary>
    public double Threshold { get; }

    /// <summary>How the threshold was chosen, in words.</summary>
    public string Rule { get; }

    /// <summary>The decision on the images the threshold was fitted on (null for <see cref="AtThreshold"/>).</summary>
    public BinaryOutcome? Fitted { get; }

    /// <summary>
    /// The highest threshold whose sensitivity is at least <paramref name="minimum"/> — the most specific operating point
    /// that refers that share of the positives.
    /// </summary>
    /// <param name="labels">1 for a positive image, 0 for a negative one (both must occur).</param>
    /// <param name="scores">Each image's risk score (higher: more likely positive).</param>
    /// <param name="minimum">The sensitivity required, in (0, 1].</param>
    /// <returns>The operating point.</returns>
    public static OperatingPoint AtSensitivity(int[] labels, double[] scores, double minimum)
    {
        if (!(minimum > 0 && minimum <= 1)) throw new ArgumentOutOfRangeException(nameof(minimum), minimum, "The sensitivity required must lie in (0, 1].");
        var points = Points(labels, scores);
        var best = points.Where(p => p.Outcome.Sensitivity >= minimum).MaxBy(p => p.Threshold);
        return new OperatingPoint(best.Threshold, string.Create(CultureInfo.InvariantCulture, $"sensitivity ≥ {minimum:G4}"), best.Outcome);
    }

    /// <summary>
    /// The highest threshold whose sensitivity is at least <paramref name="minimum"/> with confidence 1 − <paramref name="delta"/>:
    /// the one-sided Clopper–Pearson lower bound of its sensitivity on the held-out positives reaches the minimum. Where
    /// <see cref="AtSensitivity"/> meets the requirement on the held-out images — and, on a few dozen positives, misses
    /// it on new ones about half the time — this point meets it on the population the held-out images come from, except
    /// with probability at most δ. No correction for trying many thresholds is needed: the bound falls as the threshold
    /// rises, so the chosen point overshoots only if the fixed threshold where the true sensitivity first falls below the
    /// minimum passes the test, which happens with probability at most δ (a fixed-sequence test, as in Learn then Test,
    /// Angelopoulos et al. 2021). The guarantee assumes the held-out and future images are exchangeable; a shift between
    /// them (harder cases in deployment) is not covered.
    /// </summary>
    /// <param name="labels">1 for a positive image, 0 for a negative one (both must occur).</param>
    /// <param name="scores">Each image's risk score (higher: more likely positive).</param>
    /// <param name="minimum">The sensitivity required, in (0, 1).</param>
    /// <param name="delta">The probability allowed that the population sensitivity falls short, in (0, 1); 0.05 for 95% confidence.</param>
    /// <returns>
    /// The operating point; its threshold is −∞ (refer every image) when even referring every held-out positive cannot
    /// show the requirement — with n positives the bound then is δ^(1/n), e.g. 0.946 for 54 positives at δ = 0.05.
    /// </returns>
    public static OperatingPoint AtSensitivityBound(int[] labels, double[] scores, double minimum, double delta = 0.05)
    {
        if (!(minimum > 0 && minimum < 1)) throw new ArgumentOutOfRangeException(nameof(minimum), minimum, "The sensitivity required must lie in (0, 1): no finite sample shows a sensitivity of 1.");
        if (!(delta > 0 && delta < 1)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ, the probability that the guarantee fails, must lie in (0, 1).");
        var points = Points(labels, scores);
        int positives = labels.Count(l => l == 1);
        string rule = string.Create(CultureInfo.InvariantCulture, $"sensitivity ≥ {minimum:G4} with {(1 - delta) * 100:G4}% confidence (one-sided Clopper–Pearson bound on {positives} positives)");
        var feasible = points.Where(p => ConfidenceInterval.ClopperPearsonLower(p.Outcome.TruePositives, positives, delta) >= minimum).ToList();
        if (feasible.Count == 0)
        {
            return new OperatingPoint(double.NegativeInfinity, rule + string.Create(CultureInfo.InvariantCulture,
                $"; not shown even by referring every image (bound {ConfidenceInterval.ClopperPearsonLower(positives, positives, delta):F3})"), Outcome(labels, scores, double.NegativeInfinity));
        }
        var best = feasible.MaxBy(p => p.Threshold);
        return new OperatingPoint(best.Threshold, rule, best.Outcome);
    }

    /// <summary>
    /// The lowest threshold whose specificity is at least <paramref name="minimum"/> — the most sensitive operating point
    /// that spares that share of the negatives (+∞, referring none, when only that does).
    /// </summary>
    /// <param name="labels">1 for a positive image, 0 for a negative one (both must occur).</param>
    /// <param name="scores">Each image's risk score.</param>
    /// <param name="minimum">The specificity required, in (0, 1].</param>
    /// <returns>The operating point.</returns>
    public static OperatingPoint AtSpecificity(int[] labels, double[] scores, double minimum)
    {
        if (!(minimum > 0 && minimum <= 1)) throw new ArgumentOutOfRangeException(nameof(minimum), minimum, "The specificity required must lie in (0, 1].");
        var points = Points(labels, scores);
        var best = points.Where(p => p.Outcome.Specificity >= minimum).MinBy(p => p.Threshold);
        return new OperatingPoint(best.Threshold, string.Create(CultureInfo.InvariantCulture, $"specificity ≥ {minimum:G4}"), best.Outcome);
    }

    /// <summary>The threshold that maximises Youden's J = sensitivity + specificity − 1 (the highest of equal ones).</summary>
    /// <param name="labels">1 for a positive image, 0 for a negative one (both must occur).</param>
    /// <param name="scores">Each image's risk score.</param>
    /// <returns>The operating point.</returns>
    public static OperatingPoint Youden(int[] labels, double[] scores)
    {
        var points = Points(labels, scores);
        var best = points[0];
        foreach (var p in points)
            if (J(p.Outcome) > J(best.Outcome) || (J(p.Outcome) == J(best.Outcome) && p.Threshold > best.Threshold)) best = p;
        return new OperatingPoint(best.Threshold, "Youden's J", best.Outcome);

        static double J(BinaryOutcome o) => o.Sensitivity + o.Specificity - 1;
    }

    /// <summary>A fixed threshold (e.g. one a guideline sets on a calibrated risk).</summary>
    /// <param name="threshold">The threshold (not NaN).</param>
    /// <returns>The operating point.</returns>
    public static OperatingPoint AtThreshold(double threshold)
    {
        if (double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be a number.");
        return new OperatingPoint(threshold, "fixed threshold", null);
    }

    /// <summary>The decision on other images (e.g. the test split).</summary>
    /// <param name="labels">1 for a positive image, 0 for a negative one.</param>
    /// <param name="scores">Each image's risk score.</param>
    /// <returns>The counts and rates.</returns>
    public BinaryOutcome Evaluate(int[] labels, double[] scores)
    {
        Validate(labels, scores, requireBoth: false);
        return Outcome(labels, scores, Threshold);
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"OperatingPoint({Rule}: refer when score ≥ {Threshold:G6}{(Fitted is { } f ? $"; fitted sensitivity {f.Sensitivity:F4}, specificity {f.Specificity:F4}" : "")})");

    // Every distinct score as a threshold, and +∞ (refer none).
    private static List<(double Threshold, BinaryOutcome Outcome)> Points(int[] labels, double[] scores)
    {
        Validate(labels, scores, requireBoth: true);
        return scores.Distinct().Append(double.PositiveInfinity).Select(t => (t, Outcome(labels, scores, t))).ToList();
    }

    private static BinaryOutcome Outcome(int[] labels, double[] scores, double threshold)
    {
        int tp = 0, fn = 0, tn = 0, fp = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            bool refer = scores[i] >= threshold;
            if (labels[i] == 1) { if (refer) tp++; else fn++; }
            else if (refer) fp++;
            else tn++;
        }
        return new BinaryOutcome(tp, fn, tn, fp);
    }

    internal static void Validate(int[] labels, double[] scores, bool requireBoth, string scoreName = "scores")
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores, scoreName);
        if (labels.Length == 0) throw new ArgumentException("No images: at least one label and score are needed.", nameof(labels));
        if (labels.Length != scores.Length) throw new ArgumentException($"Length mismatch: {labels.Length} labels but {scores.Length} {scoreName}.", scoreName);
        PredictionSet.ValidateClassLabels(labels, 2, nameof(labels));
        PredictionSet.ValidateScores(scores, scoreName);
        if (requireBoth && (!labels.Contains(0) || !labels.Contains(1)))
            throw new ArgumentException($"The labels hold only {(labels.Contains(1) ? "positives" : "negatives")}: choosing an operating point needs both.", nameof(labels));
    }
}
