namespace MedVision.Nets.Metrics;

/// <summary>Settings of the percentile bootstrap used for confidence intervals.</summary>
/// <remarks>
/// Resampling protocol (reproducible for a given seed): a <see cref="System.Random"/> is created with
/// <see cref="Seed"/>; for each resample, N indices are drawn with <c>random.Next(N)</c> in turn (sampling with
/// replacement). A seeded <see cref="System.Random"/> uses the same algorithm on every .NET version, so the same seed
/// gives the same intervals.
/// </remarks>
public sealed class BootstrapOptions
{
    /// <summary>The number of resamples to draw (0 disables the bootstrap). Default 1000.</summary>
    public int Resamples { get; init; } = 1000;

    /// <summary>Seed of the <see cref="System.Random"/> that draws the resamples. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Two-sided confidence level in (0, 1). Default 0.95 (the 2.5th and 97.5th percentiles).</summary>
    public double ConfidenceLevel { get; init; } = 0.95;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentException">Negative resample count or a level outside (0, 1).</exception>
    public void Validate()
    {
        if (Resamples < 0)
        {
            throw new ArgumentException($"Bootstrap resample count must be non-negative; got {Resamples}.", nameof(Resamples));
        }

        if (!(ConfidenceLevel > 0 && ConfidenceLevel < 1))
        {
            throw new ArgumentException($"Confidence level must be in (0, 1); got {ConfidenceLevel}.", nameof(ConfidenceLevel));
        }
    }
}
