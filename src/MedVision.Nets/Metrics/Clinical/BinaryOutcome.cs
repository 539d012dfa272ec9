namespace MedVision.Nets.Metrics.Clinical;

/// <summary>The counts of a binary decision (refer or not) against the truth, and the rates a clinician reads from them.</summary>
/// <param name="TruePositives">Positives referred.</param>
/// <param name="FalseNegatives">Positives not referred (missed).</param>
/// <param name="TrueNegatives">Negatives not referred.</param>
/// <param name="FalsePositives">Negatives referred.</param>
public sealed record BinaryOutcome(int TruePositives, int FalseNegatives, int TrueNegatives, int FalsePositives)
{
    /// <summary>Images.</summary>
    public int Count => TruePositives + FalseNegatives + TrueNegatives + FalsePositives;

    /// <summary>TP / (TP + FN): the share of positives referred (NaN without positives).</summary>
    public double Sensitivity => Ratio(TruePositives, TruePositives + FalseNegatives);

    /// <summary>TN / (TN + FP): the share of negatives not referred (NaN without negatives).</summary>
    public double Specificity => Ratio(TrueNegatives, TrueNegatives + FalsePositives);

    /// <summary>TP / (TP + FP): the share of referrals that were positive (NaN without referrals).</summary>
    public double PositivePredictiveValue => Ratio(TruePositives, TruePositives + FalsePositives);

    /// <summary>TN / (TN + FN): the share of non-referrals that were negative (NaN without any).</summary>
    public double NegativePredictiveValue => Ratio(TrueNegatives, TrueNegatives + FalseNegatives);

    /// <summary>The share of images referred.</summary>
    public double ReferralRate => Ratio(TruePositives + FalsePositives, Count);

    /// <summary>Clopper–Pearson 95% interval of the sensitivity.</summary>
    public ConfidenceInterval SensitivityInterval => Interval(TruePositives, TruePositives + FalseNegatives);

    /// <summary>Clopper–Pearson 95% interval of the specificity.</summary>
    public ConfidenceInterval SpecificityInterval => Interval(TrueNegatives, TrueNegatives + FalsePositives);

    private static double Ratio(int a, int b) => b == 0 ? double.NaN : (double)a / b;

    private static ConfidenceInterval Interval(int x, int n) =>
        n == 0 ? new ConfidenceInterval(double.NaN, double.NaN, 0.95) : ConfidenceInterval.ClopperPearson(x, n, 0.95);
}
