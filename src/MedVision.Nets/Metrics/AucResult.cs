namespace MedVision.Nets.Metrics;

/// <summary>
/// The AUC of a MedMNIST task: the summary value plus the per-class (or per-label) one-vs-rest AUCs it was averaged from.
/// </summary>
/// <remarks>
/// When a class (or label column) has only one outcome in the labels, its AUC is undefined: its entry in
/// <see cref="PerClass"/> is <see cref="double.NaN"/> with the reason, and <see cref="Value"/> is the unweighted mean
/// over the classes whose AUC is defined, with a warning naming the classes left out. (scikit-learn and the Python
/// <c>medmnist</c> evaluator raise an error in this case instead.) When no class is defined, <see cref="Value"/> is NaN.
/// </remarks>
public sealed class AucResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="value">The summary AUC.</param>
    /// <param name="perClass">The per-class or per-label AUCs.</param>
    /// <param name="warnings">Warnings about the summary.</param>
    public AucResult(double value, IReadOnlyList<MetricResult> perClass, IReadOnlyList<string> warnings)
    {
        Value = value;
        PerClass = perClass ?? throw new ArgumentNullException(nameof(perClass));
        Warnings = warnings ?? throw new ArgumentNullException(nameof(warnings));
    }

    /// <summary>The summary AUC (mean over defined classes), or NaN when no class is defined.</summary>
    public double Value { get; }

    /// <summary>
    /// One entry per AUC component: for <see cref="MedMnistTask.Binary"/> the single positive-class AUC, otherwise
    /// one per class or label column.
    /// </summary>
    public IReadOnlyList<MetricResult> PerClass { get; }

    /// <summary>How many entries of <see cref="PerClass"/> are defined and entered the mean.</summary>
    public int DefinedCount => PerClass.Count(r => r.IsDefined);

    /// <summary>Whether <see cref="Value"/> is a number.</summary>
    public bool IsDefined => !double.IsNaN(Value);

    /// <summary>Warnings about the summary value (for example, classes left out of the mean).</summary>
    public IReadOnlyList<string> Warnings { get; }
}
