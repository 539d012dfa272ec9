namespace MedVision.Nets.Training;

/// <summary>Settings of <see cref="LearningRateFinder"/>: the range swept, its length, smoothing and when to stop.</summary>
public sealed class LearningRateFinderOptions
{
    /// <summary>The learning rate of the first step (default 1e-7).</summary>
    public double StartLearningRate { get; init; } = 1e-7;

    /// <summary>The learning rate of the last step (default 10).</summary>
    public double EndLearningRate { get; init; } = 10;

    /// <summary>The number of training steps of the sweep, at least 2 (default 100).</summary>
    public int Steps { get; init; } = 100;

    /// <summary>Whether the rates grow geometrically (the default; the usual range test) or linearly from start to end.</summary>
    public bool Linear { get; init; }

    /// <summary>Weight of each new loss in the exponential moving average of the losses, in (0, 1] (default 0.05; 1: no smoothing).</summary>
    public double Smoothing { get; init; } = 0.05;

    /// <summary>The sweep stops once the smoothed loss exceeds this many times its lowest value, &gt; 1 (default 5).</summary>
    public double DivergenceFactor { get; init; } = 5;

    /// <summary>Steps left out at the start of the curve when looking for the steepest descent (default 10; fewer when the curve is short).</summary>
    public int SkipStart { get; init; } = 10;

    internal void Validate()
    {
        if (!(StartLearningRate > 0) || !double.IsFinite(StartLearningRate))
            throw new ArgumentOutOfRangeException(nameof(StartLearningRate), StartLearningRate, "StartLearningRate must be a finite value > 0.");
        if (!(EndLearningRate > StartLearningRate) || !double.IsFinite(EndLearningRate))
            throw new ArgumentOutOfRangeException(nameof(EndLearningRate), EndLearningRate, $"EndLearningRate must be finite and above StartLearningRate ({StartLearningRate}).");
        if (Steps < 2) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Steps must be at least 2.");
        if (!(Smoothing > 0 && Smoothing <= 1)) throw new ArgumentOutOfRangeException(nameof(Smoothing), Smoothing, "Smoothing must be in (0, 1].");
        if (!(DivergenceFactor > 1) || double.IsNaN(DivergenceFactor))
            throw new ArgumentOutOfRangeException(nameof(DivergenceFactor), DivergenceFactor, "DivergenceFactor must be above 1 (∞: never stop early).");
        if (SkipStart < 0) throw new ArgumentOutOfRangeException(nameof(SkipStart), SkipStart, "SkipStart must be ≥ 0.");
    }
}
