using System.Globalization;

namespace MedVision.Nets.Metrics;

/// <summary>
/// Calibration of predicted probabilities for single-label tasks: the expected and maximum calibration errors of the
/// top-label confidence over equal-width bins (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017),
/// the reliability-diagram bins, the Brier score and the negative log-likelihood. A model whose 80%-confident
/// predictions are right 80% of the time is calibrated; clinical use of a probability needs that, and AUC does not
/// measure it.
/// </summary>
/// <remarks>
/// The predicted class is the arg-max (the first on ties) for multi-class and ordinal tasks and
/// p(class 1) &gt; 0.5 for binary tasks, as <see cref="MedMnistEvaluator"/>'s ACC makes it; its confidence is its
/// probability. Bin m of M holds confidences in ((m − 1)/M, m/M]; confidence 0 falls into the first bin.
/// </remarks>
public static class Calibration
{
    /// <summary>The default number of bins (15, as Guo et al. and torchmetrics use).</summary>
    public const int DefaultBins = 15;

    /// <summary>The most bins accepted (far more than any reliability diagram shows; a larger count is a mistake).</summary>
    public const int MaxBins = 100_000;

    private const double Tolerance = 1e-4;

    /// <summary>Evaluates the calibration of single-label probabilities.</summary>
    /// <param name="task">Binary, multi-class or ordinal regression (not multi-label).</param>
    /// <param name="labels">Class indices in [0, K) (0/1 for binary).</param>
    /// <param name="probabilities">
    /// N×K probabilities (softmax output; rows sum to 1), or for binary tasks N×1 or N×2 with the positive class last.
    /// </param>
    /// <param name="bins">Equal-width confidence bins, 1 to <see cref="MaxBins"/>.</param>
    /// <exception cref="ArgumentException">The task is multi-label, the shapes disagree, a label is out of range, or the scores are not probabilities.</exception>
    public static CalibrationResult Evaluate(MedMnistTask task, int[] labels, double[,] probabilities, int bins = DefaultBins)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(probabilities);
        CheckArguments(task, bins);
        return Evaluate(PredictionSet.Create(task, labels, probabilities), bins);
    }

    /// <summary>Evaluates from an N×1 label matrix (the MedMNIST layout).</summary>
    /// <inheritdoc cref="Evaluate(MedMnistTask, int[], double[,], int)"/>
    public static CalibrationResult Evaluate(MedMnistTask task, int[,] labels, double[,] probabilities, int bins = DefaultBins)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(probabilities);
        CheckArguments(task, bins);
        return Evaluate(PredictionSet.Create(task, labels, probabilities), bins);
    }

    private static void CheckArguments(MedMnistTask task, int bins)
    {
        if (bins is < 1 or > MaxBins)
            throw new ArgumentOutOfRangeException(nameof(bins), bins, string.Create(CultureInfo.InvariantCulture, $"The number of bins must lie in [1, {MaxBins:N0}]."));
        if (task == MedMnistTask.MultiLabel)
            throw new ArgumentException("Calibration is evaluated for single-label tasks; for multi-label outputs evaluate each label as a binary task.", nameof(task));
    }

    private static CalibrationResult Evaluate(PredictionSet set, int binCount)
    {
        var p = set.Scores;
        int n = set.SampleCount, k = set.ColumnCount;
        int[] labels = set.Labels!;
        bool binary = set.Task == MedMnistTask.Binary;
        CheckProbabilities(p, binary);

        var count = new int[binCount];
        var confidenceSum = new double[binCount];
        var correctSum = new double[binCount];
        double brier = 0, nll = 0;
        for (int i = 0; i < n; i++)
        {
            int predicted;
            double confidence, trueProbability;
            if (binary)
            {
                double positive = p[i, k - 1];
                predicted = positive > MedMnistEvaluator.DefaultThreshold ? 1 : 0;
                confidence = predicted == 1 ? positive : 1 - positive;
                trueProbability = labels[i] == 1 ? positive : 1 - positive;
                brier += (positive - labels[i]) * (positive - labels[i]);
            }
            else
            {
                predicted = 0;
                for (int j = 1; j < k; j++)
                    if (p[i, j] > p[i, predicted]) predicted = j;
                confidence = p[i, predicted];
                trueProbability = p[i, labels[i]];
                for (int j = 0; j < k; j++)
                {
                    double d = p[i, j] - (j == labels[i] ? 1 : 0);
                    brier += d * d;
                }
            }

            nll -= Math.Log(Math.Max(trueProbability, 1e-15));
            int bin = Math.Clamp((int)Math.Ceiling(confidence * binCount) - 1, 0, binCount - 1);
            count[bin]++;
            confidenceSum[bin] += confidence;
            if (predicted == labels[i]) correctSum[bin]++;
        }

        var result = new ReliabilityBin[binCount];
        double ece = 0, mce = 0;
        for (int m = 0; m < binCount; m++)
        {
            double meanConfidence = count[m] > 0 ? confidenceSum[m] / count[m] : double.NaN;
            double accuracy = count[m] > 0 ? correctSum[m] / count[m] : double.NaN;
            result[m] = new ReliabilityBin((double)m / binCount, (double)(m + 1) / binCount, count[m], meanConfidence, accuracy);
            if (count[m] == 0) continue;
            double gap = Math.Abs(accuracy - meanConfidence);
            ece += gap * count[m] / n;
            mce = Math.Max(mce, gap);
        }

        return new CalibrationResult(set.Task, n, result, ece, mce, brier / n, nll / n);
    }

    private static void CheckProbabilities(double[,] p, bool binary)
    {
        int n = p.GetLength(0), k = p.GetLength(1);
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int j = 0; j < k; j++)
            {
                double v = p[i, j];
                if (v < -Tolerance || v > 1 + Tolerance)
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"Score {v} at row {i}, column {j} is not a probability: calibration needs probabilities (apply softmax, or sigmoid for one binary column, first)."), "probabilities");
                sum += v;
            }

            if ((!binary || k > 1) && Math.Abs(sum - 1) > Tolerance)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Row {i} of the probabilities sums to {sum}, not 1: calibration needs one probability per class (apply softmax first)."), "probabilities");
        }
    }
}
