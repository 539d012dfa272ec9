using System.Globalization;

namespace MedVision.Nets.Metrics;

/// <summary>
/// Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017): one scalar T, fitted on
/// held-out data by minimising the negative log-likelihood of softmax(logits / T), that makes an over-confident
/// (T &gt; 1) or under-confident (T &lt; 1) classifier's probabilities calibrated without changing any prediction
/// (the arg-max, and therefore ACC and AUC, stay the same). Fit it on the validation split, apply it to the test split.
/// </summary>
/// <example><code>
/// var scaling = TemperatureScaling.FitFromProbabilities(validationLabels, validationScores);
/// var calibrated = scaling.ApplyToProbabilities(testScores);
/// var before = Calibration.Evaluate(task, testLabels, testScores).ExpectedCalibrationError;
/// var after = Calibration.Evaluate(task, testLabels, calibrated).ExpectedCalibrationError;
/// </code></example>
public sealed class TemperatureScaling
{
    private const double MinInverse = 1e-4, MaxInverse = 1e4;

    private TemperatureScaling(double temperature, double nllBefore, double nllAfter, bool onCumulativeLogits = false)
    {
        Temperature = temperature;
        NegativeLogLikelihoodBefore = nllBefore;
        NegativeLogLikelihoodAfter = nllAfter;
        OnCumulativeLogits = onCumulativeLogits;
    }

    /// <summary>The fitted temperature T (probabilities are softmax(logits / T); for <see cref="OnCumulativeLogits"/>, the grades' probabilities of σ(z / T)).</summary>
    public double Temperature { get; }

    /// <summary>
    /// True for a fit on a CORAL head's cumulative logits (<see cref="FitCumulative(int[], double[,])"/>): T divides
    /// those logits (<see cref="ApplyToCumulativeLogits"/>; <see cref="Losses.CoralTemperature.CumulativeLogits"/> on a model card).
    /// </summary>
    public bool OnCumulativeLogits { get; }

    /// <summary>The mean negative log-likelihood on the fitting data at T = 1.</summary>
    public double NegativeLogLikelihoodBefore { get; }

    /// <summary>The mean negative log-likelihood on the fitting data at the fitted T (never above the value at T = 1).</summary>
    public double NegativeLogLikelihoodAfter { get; }

    /// <summary>A scaling with a given temperature (e.g. one saved with a model).</summary>
    public static TemperatureScaling WithTemperature(double temperature) => WithTemperature(temperature, onCumulativeLogits: false);

    /// <summary>A scaling with a given temperature, on a CORAL head's cumulative logits when <paramref name="onCumulativeLogits"/> (a card's <see cref="Inference.ModelCard.CoralTemperature"/>).</summary>
    public static TemperatureScaling WithTemperature(double temperature, bool onCumulativeLogits)
    {
        if (!double.IsFinite(temperature) || temperature <= 0) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a finite positive number.");
        return new TemperatureScaling(temperature, double.NaN, double.NaN, onCumulativeLogits);
    }

    /// <summary>Fits T to logits (N × K, K ≥ 2) and class indices (N) by minimising the mean negative log-likelihood.</summary>
    /// <exception cref="ArgumentException">Shapes disagree, a label is out of range, or a logit is not finite.</exception>
    public static TemperatureScaling Fit(int[] labels, double[,] logits)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(logits);
        PredictionSet.ValidateScores(logits, nameof(logits));
        int n = logits.GetLength(0), k = logits.GetLength(1);
        if (k < 2) throw new ArgumentException($"Temperature scaling needs one logit per class (at least 2 columns); got {k}.", nameof(logits));
        if (labels.Length != n) throw new ArgumentException($"Length mismatch: {labels.Length} labels for {n} rows of logits.", nameof(labels));
        PredictionSet.ValidateClassLabels(labels, k, nameof(labels));

        // f(β) = mean_i [logsumexp(β z_i) − β z_i,y], β = 1/T, is convex: f' = mean (E_p[z] − z_y), f'' = mean Var_p[z].
        // Newton steps inside a shrinking bracket [lo, hi] on β (bisection when a step leaves it).
        double lo = MinInverse, hi = MaxInverse, beta = 1;
        for (int iteration = 0; iteration < 100; iteration++)
        {
            var (_, gradient, curvature) = Evaluate(labels, logits, beta);
            if (Math.Abs(gradient) < 1e-12) break;
            if (gradient > 0) hi = beta; else lo = beta;
            double next = curvature > 0 ? beta - (gradient / curvature) : double.NaN;
            if (!(next > lo && next < hi)) next = hi == MaxInverse && gradient < 0 ? Math.Min(beta * 2, MaxInverse) : 0.5 * (lo + hi);
            if (Math.Abs(next - beta) <= 1e-12 * Math.Max(1, beta)) { beta = next; break; }
            beta = next;
        }
        beta = Math.Clamp(beta, MinInverse, MaxInverse);
        double before = Evaluate(labels, logits, 1).Value;
        double after = Evaluate(labels, logits, beta).Value;
        if (after > before) (beta, after) = (1, before); // cannot happen for a converged convex fit; keeps the guarantee
        return new TemperatureScaling(1 / beta, before, after);
    }

    /// <summary>
    /// Fits T to softmax probabilities (N × K), using their logarithms as logits (softmax is unchanged by the shift
    /// that separates them). Zero probabilities are treated as 1e-300.
    /// </summary>
    public static TemperatureScaling FitFromProbabilities(int[] labels, double[,] probabilities) => Fit(labels, LogOf(probabilities));

    /// <summary>Fits T from an N × 1 label matrix (MedMNIST's layout) and softmax probabilities.</summary>
    public static TemperatureScaling FitFromProbabilities(int[,] labels, double[,] probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        return FitFromProbabilities(PredictionSet.LabelVector(labels, "Temperature scaling", nameof(labels)), probabilities);
    }

    /// <summary>
    /// Fits T to a CORAL head's cumulative logits z (N × (K − 1), K ≥ 2 grades) and grades (N, 0 … K − 1) by minimising
    /// the mean negative log-likelihood of the grades' probabilities of σ(z / T) (P₀ = 1 − σ(z₀/T),
    /// P_k = σ(z_(k−1)/T) − σ(z_k/T), P_(K−1) = σ(z_(K−2)/T); negative differences of crossing thresholds clipped to 0
    /// and rows renormalised, as <see cref="Losses.OrdinalDecoding.ToClassProbabilities(MedVision.Torch.Tensor)"/>).
    /// Dividing by T &gt; 0 keeps every threshold's side of 0, so CORAL's predicted (median) grade, and the ranking by
    /// each P(grade &gt; k), do not change: ACC, AUC of each threshold and the median decision stay; only how sure the
    /// probabilities are moves. The likelihood is not convex in 1/T here; the fit scans ln(1/T) on a grid over
    /// [10⁻⁴, 10⁴] and refines the best cell by golden-section search.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree, a grade is out of range, or a logit is not finite.</exception>
    public static TemperatureScaling FitCumulative(int[] labels, double[,] cumulativeLogits)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(cumulativeLogits);
        PredictionSet.ValidateScores(cumulativeLogits, nameof(cumulativeLogits));
        int n = cumulativeLogits.GetLength(0), thresholds = cumulativeLogits.GetLength(1);
        if (labels.Length != n) throw new ArgumentException($"Length mismatch: {labels.Length} grades for {n} rows of cumulative logits.", nameof(labels));
        PredictionSet.ValidateClassLabels(labels, thresholds + 1, nameof(labels));

        double Nll(double u) => CumulativeNll(labels, cumulativeLogits, Math.Exp(u));
        double lo = Math.Log(MinInverse), hi = Math.Log(MaxInverse);
        const int cells = 160;
        double before = Nll(0), step = (hi - lo) / cells, best = 0, bestValue = before;
        for (int c = 0; c <= cells; c++)
        {
            double u = lo + (c * step), value = Nll(u);
            if (value < bestValue) (best, bestValue) = (u, value);
        }
        // Golden-section search in the grid cells either side of the best point.
        double a = Math.Max(lo, best - step), b = Math.Min(hi, best + step);
        double ratio = (Math.Sqrt(5) - 1) / 2, x1 = b - (ratio * (b - a)), x2 = a + (ratio * (b - a));
        double f1 = Nll(x1), f2 = Nll(x2);
        for (int iteration = 0; iteration < 200 && b - a > 1e-12; iteration++)
        {
            if (f1 <= f2) { b = x2; (x2, f2) = (x1, f1); x1 = b - (ratio * (b - a)); f1 = Nll(x1); }
            else { a = x1; (x1, f1) = (x2, f2); x2 = a + (ratio * (b - a)); f2 = Nll(x2); }
        }
        double refined = f1 <= f2 ? x1 : x2, refinedValue = Math.Min(f1, f2);
        if (refinedValue < bestValue) (best, bestValue) = (refined, refinedValue);
        if (bestValue > before) (best, bestValue) = (0, before); // keeps the guarantee: never worse than T = 1
        return new TemperatureScaling(1 / Math.Exp(best), before, bestValue, onCumulativeLogits: true);
    }

    /// <summary>Fits T to a CORAL head's cumulative logits from an N × 1 grade matrix (MedMNIST's layout); see <see cref="FitCumulative(int[], double[,])"/>.</summary>
    public static TemperatureScaling FitCumulative(int[,] labels, double[,] cumulativeLogits)
    {
        ArgumentNullException.ThrowIfNull(cumulativeLogits);
        return FitCumulative(PredictionSet.LabelVector(labels, "Temperature scaling", nameof(labels)), cumulativeLogits);
    }

    /// <summary>
    /// The grades' probabilities (N × K) of cumulative logits z (N × (K − 1)) at this temperature: those of σ(z / T), as
    /// <see cref="FitCumulative(int[], double[,])"/> models them (a model card's <see cref="Losses.CoralTemperature.CumulativeLogits"/>).
    /// </summary>
    public double[,] ApplyToCumulativeLogits(double[,] cumulativeLogits)
    {
        PredictionSet.ValidateScores(cumulativeLogits, nameof(cumulativeLogits));
        int n = cumulativeLogits.GetLength(0), thresholds = cumulativeLogits.GetLength(1);
        var result = new double[n, thresholds + 1];
        var row = new double[thresholds + 1];
        for (int i = 0; i < n; i++)
        {
            CumulativeRow(cumulativeLogits, i, 1 / Temperature, row);
            for (int j = 0; j <= thresholds; j++) result[i, j] = row[j];
        }
        return result;
    }

    // The grades' probabilities of row i of cumulative logits at inverse temperature β (OrdinalDecoding's rule, in double).
    private static void CumulativeRow(double[,] z, int i, double beta, double[] row)
    {
        int thresholds = z.GetLength(1);
        static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
        double total = 0;
        for (int k = 0; k <= thresholds; k++)
        {
            double upper = k == 0 ? 1 : Sigmoid(beta * z[i, k - 1]);
            double p = k == 0 ? Sigmoid(-beta * z[i, 0]) : k == thresholds ? upper : upper - Sigmoid(beta * z[i, k]);
            total += row[k] = Math.Max(p, 0);
        }
        total = Math.Max(total, Losses.OrdinalDecoding.ProbabilityFloor);
        for (int k = 0; k <= thresholds; k++) row[k] /= total;
    }

    private static double CumulativeNll(int[] labels, double[,] z, double beta)
    {
        var row = new double[z.GetLength(1) + 1];
        double sum = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            CumulativeRow(z, i, beta, row);
            sum -= Math.Log(Math.Max(row[labels[i]], 1e-300));
        }
        return sum / labels.Length;
    }

    /// <summary>softmax(logits / T) for each row.</summary>
    public double[,] Apply(double[,] logits)
    {
        PredictionSet.ValidateScores(logits, nameof(logits));
        int n = logits.GetLength(0), k = logits.GetLength(1);
        var result = new double[n, k];
        var row = new double[k];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < k; j++) row[j] = logits[i, j] / Temperature;
            double max = row.Max(), sum = 0;
            for (int j = 0; j < k; j++) sum += row[j] = Math.Exp(row[j] - max);
            for (int j = 0; j < k; j++) result[i, j] = row[j] / sum;
        }
        return result;
    }

    /// <summary>Rescales softmax probabilities: softmax(log p / T) for each row.</summary>
    public double[,] ApplyToProbabilities(double[,] probabilities) => Apply(LogOf(probabilities));

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"TemperatureScaling(T = {Temperature:G6}{(OnCumulativeLogits ? ", on cumulative logits" : "")})");

    private static double[,] LogOf(double[,] probabilities)
    {
        PredictionSet.ValidateScores(probabilities, nameof(probabilities));
        int n = probabilities.GetLength(0), k = probabilities.GetLength(1);
        var logs = new double[n, k];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
            {
                double p = probabilities[i, j];
                if (p < 0 || p > 1 + 1e-6)
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Score {p} at row {i}, column {j} is not a probability; pass logits to Fit/Apply instead."), nameof(probabilities));
                logs[i, j] = Math.Log(Math.Max(p, 1e-300));
            }
        return logs;
    }

    // Mean NLL at inverse temperature β, its derivative and second derivative with respect to β.
    private static (double Value, double Gradient, double Curvature) Evaluate(int[] labels, double[,] z, double beta)
    {
        int n = z.GetLength(0), k = z.GetLength(1);
        double value = 0, gradient = 0, curvature = 0;
        var w = new double[k];
        for (int i = 0; i < n; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < k; j++) max = Math.Max(max, beta * z[i, j]);
            double sum = 0;
            for (int j = 0; j < k; j++) sum += w[j] = Math.Exp((beta * z[i, j]) - max);
            double mean = 0, square = 0;
            for (int j = 0; j < k; j++)
            {
                double p = w[j] / sum;
                mean += p * z[i, j];
                square += p * z[i, j] * z[i, j];
            }
            value += max + Math.Log(sum) - (beta * z[i, labels[i]]);
            gradient += mean - z[i, labels[i]];
            curvature += Math.Max(square - (mean * mean), 0);
        }
        return (value / n, gradient / n, curvature / n);
    }
}
