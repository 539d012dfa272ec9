using System.Globalization;

namespace MedVision.Nets.Metrics.Selective;

/// <summary>What a confidence threshold did on labelled images: how many it accepted and how many of those it got wrong.</summary>
/// <param name="Count">Images.</param>
/// <param name="Accepted">Images whose confidence reached the threshold.</param>
/// <param name="Errors">Accepted images predicted wrongly.</param>
public sealed record SelectiveOutcome(int Count, int Accepted, int Errors)
{
    /// <summary>The share of images accepted.</summary>
    public double Coverage => Count == 0 ? double.NaN : (double)Accepted / Count;

    /// <summary>The error rate among accepted images (NaN when none is accepted).</summary>
    public double Risk => Accepted == 0 ? double.NaN : (double)Errors / Accepted;
}

/// <summary>
/// A confidence threshold with a guaranteed error rate on the images it accepts: selection with guaranteed risk (SGR,
/// Geifman and El-Yaniv, "Selective classification for deep neural networks", NeurIPS 2017). On held-out calibration
/// images, a binary search over thresholds bounds each one's risk by the one-sided Clopper–Pearson (binomial) bound at
/// confidence 1 − δ/⌈log₂ n⌉; the lowest threshold (largest coverage) whose bound stays below the target is chosen.
/// Then, with probability at least 1 − δ over the calibration images, the error rate on new accepted images is at most
/// the target. Images below the threshold go to a clinician.
/// </summary>
/// <example><code>
/// var confidence = SelectivePrediction.Confidence(validationProbabilities);
/// var errors = SelectivePrediction.Errors(validationLabels, validationProbabilities);
/// var control = SelectiveRiskControl.Fit(confidence, errors, targetRisk: 0.2, delta: 0.05);
/// bool automated = control.Accepts(SelectivePrediction.Confidence(testProbabilities)[0]);
/// </code></example>
public sealed class SelectiveRiskControl
{
    private SelectiveRiskControl(double targetRisk, double delta, double threshold, double bound, SelectiveOutcome calibration, int searchSteps)
    {
        TargetRisk = targetRisk;
        Delta = delta;
        Threshold = threshold;
        RiskBound = bound;
        Calibration = calibration;
        SearchSteps = searchSteps;
    }

    /// <summary>The error rate allowed on accepted images.</summary>
    public double TargetRisk { get; }

    /// <summary>The probability δ that the guarantee fails (over draws of the calibration images).</summary>
    public double Delta { get; }

    /// <summary>The confidence an image needs to be accepted; +∞ when no threshold met the target (every image is deferred).</summary>
    public double Threshold { get; }

    /// <summary>Whether a threshold met the target.</summary>
    public bool IsFeasible => !double.IsPositiveInfinity(Threshold);

    /// <summary>The chosen threshold's bound on the risk (NaN when none was feasible).</summary>
    public double RiskBound { get; }

    /// <summary>The chosen threshold on the calibration images.</summary>
    public SelectiveOutcome Calibration { get; }

    /// <summary>The thresholds the binary search tried, ⌈log₂ n⌉ (the bound's confidence is split among them).</summary>
    public int SearchSteps { get; }

    /// <summary>Fits the threshold on calibration images.</summary>
    /// <param name="confidence">Each calibration image's confidence (<see cref="SelectivePrediction.Confidence(double[,], ConfidenceScore)"/>).</param>
    /// <param name="errors">Each calibration image's error, 0 or 1 (<see cref="SelectivePrediction.Errors(int[], double[,])"/>).</param>
    /// <param name="targetRisk">The error rate allowed among accepted images, in (0, 1).</param>
    /// <param name="delta">The failure probability, in (0, 1); 0.05 by default.</param>
    /// <returns>The fitted threshold.</returns>
    public static SelectiveRiskControl Fit(double[] confidence, double[] errors, double targetRisk, double delta = 0.05)
    {
        SelectivePrediction.ValidatePairs(confidence, errors, zeroOne: true, nameof(errors));
        if (!(targetRisk > 0 && targetRisk < 1)) throw new ArgumentOutOfRangeException(nameof(targetRisk), targetRisk, "The target risk must lie strictly between 0 and 1.");
        if (!(delta > 0 && delta < 1)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must lie strictly between 0 and 1.");
        int n = confidence.Length;
        var sorted = (double[])confidence.Clone();
        Array.Sort(sorted);
        int steps = Math.Max(1, (int)Math.Ceiling(Math.Log2(n)));
        int low = 0, high = n - 1;
        double threshold = double.PositiveInfinity, bound = double.NaN;
        var chosen = new SelectiveOutcome(n, 0, 0);
        for (int step = 0; step < steps; step++)
        {
            int z = (low + high + 1) / 2;
            double candidate = sorted[z];
            var outcome = Outcome(confidence, errors, candidate);
            double b = ConfidenceInterval.ClopperPearsonUpper(outcome.Errors, outcome.Accepted, delta / steps);
            if (b < targetRisk)
            {
                if (candidate < threshold) (threshold, bound, chosen) = (candidate, b, outcome);
                high = z;
            }
            else low = z;
        }
        return new SelectiveRiskControl(targetRisk, delta, threshold, bound, chosen, steps);
    }

    /// <summary>Whether an image of this confidence is accepted (decided by the model) rather than deferred.</summary>
    /// <param name="confidence">The image's confidence.</param>
    /// <returns><see langword="true"/> when the confidence reaches the threshold.</returns>
    public bool Accepts(double confidence) => confidence >= Threshold;

    /// <summary>What the threshold does on other labelled images (e.g. the test split).</summary>
    /// <param name="confidence">Each image's confidence.</param>
    /// <param name="errors">Each image's error, 0 or 1.</param>
    /// <returns>Images accepted and errors among them.</returns>
    public SelectiveOutcome Evaluate(double[] confidence, double[] errors)
    {
        SelectivePrediction.ValidatePairs(confidence, errors, zeroOne: true, nameof(errors));
        return Outcome(confidence, errors, Threshold);
    }

    /// <inheritdoc />
    public override string ToString() => IsFeasible
        ? string.Create(CultureInfo.InvariantCulture,
            $"SelectiveRiskControl(target risk {TargetRisk:G4}, δ {Delta:G4}: threshold {Threshold:G6}, bound {RiskBound:F4}; calibration coverage {Calibration.Coverage:F4}, risk {Calibration.Risk:F4})")
        : string.Create(CultureInfo.InvariantCulture,
            $"SelectiveRiskControl(target risk {TargetRisk:G4}, δ {Delta:G4}: no threshold meets it on {Calibration.Count} calibration images; every image is deferred)");

    private static SelectiveOutcome Outcome(double[] confidence, double[] errors, double threshold)
    {
        int accepted = 0, wrong = 0;
        for (int i = 0; i < confidence.Length; i++)
            if (confidence[i] >= threshold)
            {
                accepted++;
                if (errors[i] != 0) wrong++;
            }
        return new SelectiveOutcome(confidence.Length, accepted, wrong);
    }
}
