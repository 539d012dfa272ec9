using MedVision.Nets.Plotting;

namespace MedVision.Nets.Training;

/// <summary>The curve of a <see cref="LearningRateFinder"/> sweep and the learning rates it suggests.</summary>
public sealed class LearningRateFinderResult
{
    private readonly int _minimum; // the step with the lowest smoothed loss
    internal LearningRateFinderResult(double[] learningRates, double[] losses, double[] smoothedLosses, bool diverged, int skipStart)
    {
        LearningRates = learningRates;
        Losses = losses;
        SmoothedLosses = smoothedLosses;
        Diverged = diverged;
        for (int i = 1; i < smoothedLosses.Length; i++)
            if (smoothedLosses[i] < smoothedLosses[_minimum]) _minimum = i;
        MinimumLossLearningRate = learningRates[_minimum];
        SuggestedLearningRate = SteepestDescent(learningRates, smoothedLosses, _minimum, skipStart);
    }

    /// <summary>The learning rate of each step taken.</summary>
    public IReadOnlyList<double> LearningRates { get; }

    /// <summary>The training loss of each step (of its batch, before the step's update).</summary>
    public IReadOnlyList<double> Losses { get; }

    /// <summary>The exponential moving average of <see cref="Losses"/>, which the suggestions and the stop look at.</summary>
    public IReadOnlyList<double> SmoothedLosses { get; }

    /// <summary>Whether the sweep stopped early because the smoothed loss diverged (or a loss was not finite).</summary>
    public bool Diverged { get; }

    /// <summary>The learning rate with the lowest smoothed loss (fast.ai suggests a tenth of it).</summary>
    public double MinimumLossLearningRate { get; }

    /// <summary>
    /// The learning rate where the smoothed loss falls fastest on its way down to its minimum (the steepest negative
    /// slope against the step, as pytorch-lr-finder suggests, but looked for only up to the minimum: past it, a loss that
    /// spikes and drops again while diverging would win), the first steps left out; null when that part of the curve is
    /// too short (&lt; 3 points) or never falls.
    /// </summary>
    public double? SuggestedLearningRate { get; }

    /// <summary>
    /// The smoothed and raw losses against log₁₀ of the learning rate, with the suggestion marked, for an SVG file. The
    /// loss axis spans the curve up to its minimum (from a little below the lowest loss to a quarter above the highest
    /// smoothed loss before the minimum), so that the diverging end does not flatten the part that matters; what lies
    /// above is cut at the frame.
    /// </summary>
    public LineChart ToChart(string? title = "Learning-rate range test")
    {
        var x = LearningRates.Select(Math.Log10).ToArray();
        var chart = new LineChart(title, "log₁₀ learning rate", "training loss")
            .Add("smoothed loss", x, SmoothedLosses.ToArray())
            .Add("loss", x, Losses.ToArray(), dashed: true);
        double low = 0.9 * Math.Min(Losses.Min(), SmoothedLosses[_minimum]), high = 1.25 * SmoothedLosses.Take(_minimum + 1).Max();
        if (high > low) chart.YRange = (low, high);
        if (SuggestedLearningRate is double s)
            chart.Add("suggestion", new[] { Math.Log10(s), Math.Log10(s) }, new[] { chart.YRange?.Min ?? low, chart.YRange?.Max ?? high }, dashed: true);
        return chart;
    }

    // numpy.gradient over the curve from skipStart to its minimum (central differences inside, one-sided at the ends)
    // and its most negative value; a short curve keeps at least three points by skipping fewer.
    private static double? SteepestDescent(double[] lrs, double[] losses, int minimum, int skipStart)
    {
        int to = minimum + 1, from = Math.Max(0, Math.Min(skipStart, to - 3));
        if (to - from < 3) return null;
        int best = -1;
        double steepest = 0;
        for (int i = from; i < to; i++)
        {
            double g = i == from ? losses[i + 1] - losses[i]
                : i == to - 1 ? losses[i] - losses[i - 1]
                : (losses[i + 1] - losses[i - 1]) / 2;
            if (g < steepest) (steepest, best) = (g, i);
        }
        return best < 0 ? null : lrs[best];
    }
}
