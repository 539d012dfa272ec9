namespace MedVision.Nets.Metrics;

/// <summary>
/// A single metric value together with the reasons why it may be undefined or degenerate.
/// An undefined metric has <see cref="Value"/> = <see cref="double.NaN"/> and at least one entry in <see cref="Warnings"/>;
/// a number is never returned silently in place of an undefined value.
/// </summary>
public sealed class MetricResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="value">The metric value, or <see cref="double.NaN"/> when undefined.</param>
    /// <param name="warnings">Reasons the value is undefined or degenerate; may be empty.</param>
    public MetricResult(double value, IReadOnlyList<string>? warnings = null)
    {
        Value = value;
        Warnings = warnings ?? Array.Empty<string>();
    }

    /// <summary>The metric value, or <see cref="double.NaN"/> when the metric is undefined for the input.</summary>
    public double Value { get; }

    /// <summary>Whether <see cref="Value"/> is a number.</summary>
    public bool IsDefined => !double.IsNaN(Value);

    /// <summary>Warnings about the computation; when the value is undefined, the first entry says why.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The reason the value is undefined, or <see langword="null"/> when it is defined.</summary>
    public string? Reason => IsDefined ? null : (Warnings.Count > 0 ? Warnings[0] : "undefined");

    /// <inheritdoc />
    public override string ToString() =>
        IsDefined ? Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : $"NaN ({Reason})";
}
