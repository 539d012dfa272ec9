using System.Globalization;

namespace MedVision.Nets.Metrics;

/// <summary>McNemar's exact test of two models' accuracies on the same samples (see <see cref="McNemar"/>).</summary>
public sealed class McNemarComparison
{
    internal McNemarComparison(int bothCorrect, int onlyACorrect, int onlyBCorrect, int neitherCorrect, double pValue, IReadOnlyList<string> warnings)
    {
        BothCorrect = bothCorrect;
        OnlyACorrect = onlyACorrect;
        OnlyBCorrect = onlyBCorrect;
        NeitherCorrect = neitherCorrect;
        PValue = pValue;
        Warnings = warnings;
    }

    /// <summary>Samples both models classify correctly.</summary>
    public int BothCorrect { get; }

    /// <summary>Samples only the first model classifies correctly (b).</summary>
    public int OnlyACorrect { get; }

    /// <summary>Samples only the second model classifies correctly (c).</summary>
    public int OnlyBCorrect { get; }

    /// <summary>Samples both models get wrong.</summary>
    public int NeitherCorrect { get; }

    /// <summary>The number of samples.</summary>
    public int SampleCount => BothCorrect + OnlyACorrect + OnlyBCorrect + NeitherCorrect;

    /// <summary>The first model's accuracy.</summary>
    public double AccuracyA => (double)(BothCorrect + OnlyACorrect) / SampleCount;

    /// <summary>The second model's accuracy.</summary>
    public double AccuracyB => (double)(BothCorrect + OnlyBCorrect) / SampleCount;

    /// <summary><see cref="AccuracyA"/> − <see cref="AccuracyB"/> = (b − c) / N.</summary>
    public double Difference => (double)(OnlyACorrect - OnlyBCorrect) / SampleCount;

    /// <summary>The exact two-sided p-value of equal accuracies.</summary>
    public double PValue { get; }

    /// <summary>Notes on the test (for example, no discordant samples).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"ACC {AccuracyA:F4} vs {AccuracyB:F4} (only A right: {OnlyACorrect}, only B right: {OnlyBCorrect}), p = {PValue:G4}");
}
