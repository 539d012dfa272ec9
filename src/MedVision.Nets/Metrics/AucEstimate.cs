using System.Globalization;

namespace MedVision.Nets.Metrics;

/// <summary>
/// An AUC with DeLong's standard error and a Wald confidence interval (see <see cref="DeLong"/>), and the same for
/// each class it averages.
/// </summary>
public sealed class AucEstimate
{
    internal AucEstimate(string name, double value, double standardError, ConfidenceInterval interval, IReadOnlyList<AucEstimate> perClass, IReadOnlyList<string> warnings)
    {
        Name = name;
        Value = value;
        StandardError = standardError;
        Interval = interval;
        PerClass = perClass;
        Warnings = warnings;
    }

    /// <summary>What the AUC is of: "class 1" for a binary task, "class 3" or "label 2" for a class's entry, "mean of 5 AUCs" for a MedMNIST mean.</summary>
    public string Name { get; }

    /// <summary>The AUC, equal to <see cref="MedMnistEvaluator"/>'s; NaN when undefined (the first warning says why).</summary>
    public double Value { get; }

    /// <summary>DeLong's standard error of the AUC; NaN when it cannot be estimated (the warnings say why).</summary>
    public double StandardError { get; }

    /// <summary>AUC ± z·SE, clipped to [0, 1]; undefined (NaN bounds) with the standard error.</summary>
    public ConfidenceInterval Interval { get; }

    /// <summary>
    /// One estimate per AUC component (per class or label; one entry for a binary task); their own
    /// <see cref="PerClass"/> lists are empty.
    /// </summary>
    public IReadOnlyList<AucEstimate> PerClass { get; }

    /// <summary>Why the AUC or its standard error is undefined, and which classes the mean leaves out.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Whether <see cref="Value"/> is a number.</summary>
    public bool IsDefined => !double.IsNaN(Value);

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name}: AUC {Value:F4} ± {StandardError:F4} (SE), {Interval}");
}
