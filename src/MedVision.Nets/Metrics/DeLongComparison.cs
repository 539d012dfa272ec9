using System.Globalization;

namespace MedVision.Nets.Metrics;

/// <summary>
/// DeLong's paired test of two models' AUCs on the same samples (see <see cref="DeLong"/>): the difference (first
/// model minus second), its standard error, the z statistic, the two-sided p-value and a confidence interval of the
/// difference, with the same for each class.
/// </summary>
public sealed class DeLongComparison
{
    internal DeLongComparison(
        string name, double aucA, double aucB, double difference, double standardError, double correlation, double z, double pValue,
        ConfidenceInterval differenceInterval, IReadOnlyList<DeLongComparison> perClass, IReadOnlyList<string> warnings)
    {
        Name = name;
        AucA = aucA;
        AucB = aucB;
        Difference = difference;
        StandardError = standardError;
        Correlation = correlation;
        Z = z;
        PValue = pValue;
        DifferenceInterval = differenceInterval;
        PerClass = perClass;
        Warnings = warnings;
    }

    /// <summary>What the AUCs are of ("class 1", "label 2", "mean of 5 AUCs").</summary>
    public string Name { get; }

    /// <summary>The first model's AUC.</summary>
    public double AucA { get; }

    /// <summary>The second model's AUC.</summary>
    public double AucB { get; }

    /// <summary><see cref="AucA"/> − <see cref="AucB"/>.</summary>
    public double Difference { get; }

    /// <summary>DeLong's standard error of the difference (NaN when it cannot be estimated; the warnings say why).</summary>
    public double StandardError { get; }

    /// <summary>
    /// The estimated correlation of the two AUCs over samples like these: the closer to 1, the more of the test set's
    /// easy and hard cases the models share, and the smaller a difference the test can see.
    /// </summary>
    public double Correlation { get; }

    /// <summary>Difference / standard error.</summary>
    public double Z { get; }

    /// <summary>Two-sided p-value of the hypothesis that the two AUCs are equal (normal approximation); NaN when undefined.</summary>
    public double PValue { get; }

    /// <summary>Difference ± z·SE (clipped to [−1, 1]).</summary>
    public ConfidenceInterval DifferenceInterval { get; }

    /// <summary>One comparison per AUC component (per class or label; one entry for a binary task).</summary>
    public IReadOnlyList<DeLongComparison> PerClass { get; }

    /// <summary>Why a value is undefined, and which classes the mean leaves out.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>
    /// The per-class p-values of <see cref="PerClass"/> adjusted for their number (<see cref="MultipleTesting.Adjust"/>;
    /// Holm's by default): testing five grades at 5% each finds some "significant" difference by chance far more often
    /// than 5%. A class without a variance keeps NaN and does not count.
    /// </summary>
    public double[] AdjustedPerClassPValues(MultipleTestingMethod method = MultipleTestingMethod.Holm) =>
        MultipleTesting.Adjust(PerClass.Select(c => c.PValue).ToArray(), method);

    /// <summary>Whether the test is defined and rejects equal AUCs at significance level <paramref name="alpha"/>.</summary>
    /// <param name="alpha">The significance level, in (0, 1); 0.05 by convention.</param>
    /// <returns><see langword="true"/> when <see cref="PValue"/> &lt; <paramref name="alpha"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> outside (0, 1).</exception>
    public bool IsSignificant(double alpha = 0.05)
    {
        if (!(alpha > 0 && alpha < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The significance level must lie strictly between 0 and 1.");
        }

        return PValue < alpha;
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name}: AUC {AucA:F4} vs {AucB:F4}, difference {Difference:+0.0000;-0.0000;0.0000} {DifferenceInterval}, z = {Z:F3}, p = {PValue:G4}");
}
