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

    private TemperatureScaling(double temperature, double nllBefore, double nllAfter)
    {
        Temperature = temperature;
        NegativeLogLikelihoodBefore = nllBefore;
        NegativeLogLikelihoodAfter = nllAfter;
    }

    /// <summary>The fitted temperature T (probabilities are softmax(logits / T)).</summary>
    public double Temperature { get; }

    /// <summary>The mean negative log-likelihood on the fitting data at T = 1.</summary>
    public double NegativeLogLikelihoodBefore { get; }

    /// <summary>The mean negative log-likelihood on the fitting data at the fitted T (never above the value at T = 1).</summary>
    public double NegativeLogLikelihoodAfter { get; }

    /// <summary>A scaling with a given temperature (e.g. one saved with a model).</summary>
    public static TemperatureScaling WithTemperature(double temperature)
    {
        if (!double.IsFinite(temperature) || temperature <= 0) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a finite positive number.");
        return new TemperatureScaling(temperature, double.NaN, double.NaN);
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
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"TemperatureScaling(T = {Temperature:G6})");

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
