namespace MedVision.Nets.Metrics;

/// <summary>How <see cref="MultipleTesting.Adjust"/> adjusts a family of p-values.</summary>
public enum MultipleTestingMethod
{
    /// <summary>Holm's step-down method: controls the family-wise error rate, never less powerful than Bonferroni's.</summary>
    Holm,

    /// <summary>Bonferroni's: each p-value times the number of tests (capped at 1); controls the family-wise error rate.</summary>
    Bonferroni,

    /// <summary>Benjamini and Hochberg's step-up method: controls the false discovery rate (independent or positively dependent tests).</summary>
    BenjaminiHochberg,
}

/// <summary>
/// Adjusted p-values for a family of tests — the per-class tests of a comparison, say, where five grades tested at 5%
/// each find a "significant" difference by chance far more often than one test would (statsmodels'
/// <c>multipletests</c>, R's <c>p.adjust</c>).
/// </summary>
/// <example>
/// <code>
/// var comparison = DeLong.Compare(MedMnistTask.OrdinalRegression, labels, scoresA, scoresB);
/// var perGrade = comparison.PerClass.Select(c => c.PValue).ToArray();
/// double[] holm = MultipleTesting.Adjust(perGrade, MultipleTestingMethod.Holm);
/// </code>
/// </example>
public static class MultipleTesting
{
    /// <summary>
    /// The adjusted p-values, in the order given. NaN p-values (a test that could not be made) stay NaN and do not
    /// count towards the number of tests, as in R's <c>p.adjust</c>.
    /// </summary>
    /// <param name="pValues">The family's p-values, each in [0, 1] or NaN.</param>
    /// <param name="method">The adjustment.</param>
    /// <exception cref="ArgumentOutOfRangeException">A p-value is outside [0, 1] (and not NaN), or the method is unknown.</exception>
    public static double[] Adjust(IReadOnlyList<double> pValues, MultipleTestingMethod method = MultipleTestingMethod.Holm)
    {
        ArgumentNullException.ThrowIfNull(pValues);
        for (int i = 0; i < pValues.Count; i++)
            if (!double.IsNaN(pValues[i]) && pValues[i] is < 0 or > 1)
                throw new ArgumentOutOfRangeException(nameof(pValues), pValues[i], $"p-value {i} is {pValues[i]}; p-values lie in [0, 1].");
        var adjusted = Enumerable.Repeat(double.NaN, pValues.Count).ToArray();
        // The tests that were made, by increasing p-value (ties in the order given, as a stable sort).
        var order = Enumerable.Range(0, pValues.Count).Where(i => !double.IsNaN(pValues[i])).OrderBy(i => pValues[i]).ToArray();
        int m = order.Length;
        switch (method)
        {
            case MultipleTestingMethod.Bonferroni:
                foreach (var i in order) adjusted[i] = Math.Min(1, m * pValues[i]);
                break;
            case MultipleTestingMethod.Holm:
                double running = 0;
                for (int rank = 0; rank < m; rank++)
                {
                    running = Math.Max(running, Math.Min(1, (m - rank) * pValues[order[rank]]));
                    adjusted[order[rank]] = running;
                }
                break;
            case MultipleTestingMethod.BenjaminiHochberg:
                double smallest = 1;
                for (int rank = m - 1; rank >= 0; rank--)
                {
                    smallest = Math.Min(smallest, (double)m / (rank + 1) * pValues[order[rank]]);
                    adjusted[order[rank]] = smallest;
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, "Holm, Bonferroni or BenjaminiHochberg.");
        }
        return adjusted;
    }
}
