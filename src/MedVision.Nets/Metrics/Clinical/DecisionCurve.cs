using System.Globalization;
using System.Text;

namespace MedVision.Nets.Metrics.Clinical;

/// <summary>
/// Decision curve analysis (Vickers and Elkin, Medical Decision Making 2006): the net benefit of referring the images
/// whose predicted risk reaches a threshold probability p_t, against referring everyone and no one. A clinician who
/// would refer at risk p_t weighs a missed case against an unneeded referral as (1 − p_t) : p_t, so net benefit =
/// TP/N − FP/N · p_t/(1 − p_t), in true positives per image. A model is worth using at the thresholds where its curve lies
/// above both "refer all" (prevalence − (1 − prevalence) · p_t/(1 − p_t)) and "refer none" (0). The risks should be
/// calibrated probabilities: the threshold is read as a risk.
/// </summary>
public sealed class DecisionCurve
{
    private readonly double[] _thresholds, _model, _all;

    private DecisionCurve(double[] thresholds, double[] model, double[] all, double prevalence, int count)
    {
        _thresholds = thresholds;
        _model = model;
        _all = all;
        Prevalence = prevalence;
        Count = count;
    }

    /// <summary>The net benefit at each threshold probability.</summary>
    /// <param name="labels">1 for a positive image, 0 for a negative one.</param>
    /// <param name="risks">Each image's predicted risk, in [0, 1].</param>
    /// <param name="thresholdProbabilities">Threshold probabilities in (0, 1); null: 0.01, 0.02, …, 0.99.</param>
    /// <returns>The curve.</returns>
    public static DecisionCurve Compute(int[] labels, double[] risks, IReadOnlyList<double>? thresholdProbabilities = null)
    {
        OperatingPoint.Validate(labels, risks, requireBoth: false, nameof(risks));
        for (int i = 0; i < risks.Length; i++)
            if (risks[i] < 0 || risks[i] > 1)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Risk {i} is {risks[i]}: a decision curve reads risks as probabilities in [0, 1]."), nameof(risks));
        var thresholds = (thresholdProbabilities ?? Enumerable.Range(1, 99).Select(i => i / 100.0).ToArray()).ToArray();
        if (thresholds.Length == 0) throw new ArgumentException("No threshold probabilities.", nameof(thresholdProbabilities));
        foreach (double t in thresholds)
            if (!(t > 0 && t < 1)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Threshold probability {t} is outside (0, 1)."), nameof(thresholdProbabilities));
        int n = labels.Length;
        double prevalence = labels.Count(l => l == 1) / (double)n;
        var model = new double[thresholds.Length];
        var all = new double[thresholds.Length];
        for (int j = 0; j < thresholds.Length; j++)
        {
            double t = thresholds[j], odds = t / (1 - t);
            int tp = 0, fp = 0;
            for (int i = 0; i < n; i++)
                if (risks[i] >= t) { if (labels[i] == 1) tp++; else fp++; }
            model[j] = ((double)tp / n) - ((double)fp / n * odds);
            all[j] = prevalence - ((1 - prevalence) * odds);
        }
        return new DecisionCurve(thresholds, model, all, prevalence, n);
    }

    /// <summary>Images.</summary>
    public int Count { get; }

    /// <summary>The share of positive images.</summary>
    public double Prevalence { get; }

    /// <summary>The threshold probabilities.</summary>
    public IReadOnlyList<double> Thresholds => _thresholds;

    /// <summary>The model's net benefit at each threshold.</summary>
    public IReadOnlyList<double> NetBenefit => _model;

    /// <summary>The net benefit of referring every image at each threshold.</summary>
    public IReadOnlyList<double> ReferAll => _all;

    /// <summary>The thresholds at which the model's net benefit exceeds both referring all and referring none.</summary>
    public IReadOnlyList<double> UsefulThresholds => _thresholds.Where((_, j) => _model[j] > Math.Max(_all[j], 0)).ToArray();

    /// <inheritdoc />
    public override string ToString()
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"DecisionCurve({Count} images, prevalence {Prevalence:F3}; useful at {UsefulThresholds.Count} of {_thresholds.Length} thresholds)");
        return b.ToString();
    }
}
