namespace MedVision.Nets.Metrics;

/// <summary>One named metric of an <see cref="EvaluationResult"/>, with its bootstrap confidence interval.</summary>
public sealed class MetricEntry
{
    /// <summary>Creates an entry.</summary>
    /// <param name="name">Metric name, for example <c>AUC</c> or <c>Sensitivity[class 2]</c>.</param>
    /// <param name="value">The value on the full data (NaN when undefined).</param>
    /// <param name="interval">The bootstrap interval, or <see langword="null"/> when no bootstrap was run.</param>
    public MetricEntry(string name, double value, ConfidenceInterval? interval)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Value = value;
        Interval = interval;
    }

    /// <summary>The metric name.</summary>
    public string Name { get; }

    /// <summary>The value on the full data (NaN when undefined).</summary>
    public double Value { get; }

    /// <summary>The bootstrap percentile interval, or <see langword="null"/> when no bootstrap was run.</summary>
    public ConfidenceInterval? Interval { get; }
}
