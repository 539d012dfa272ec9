using System.Globalization;

namespace MedVision.Nets.Metrics.Selective;

/// <summary>
/// Selective prediction — let the model decide the images it is confident about and defer the others to a clinician:
/// confidence scores, the risk–coverage curve and its area (<see cref="RiskCoverageCurve"/>), and a confidence threshold
/// whose risk on accepted images is bounded with high probability (<see cref="SelectiveRiskControl"/>).
/// </summary>
public static class SelectivePrediction
{
    /// <summary>Each image's confidence in its prediction.</summary>
    /// <param name="probabilities">N × K class probabilities (softmax), one row per image.</param>
    /// <param name="score">The confidence score.</param>
    /// <returns>One confidence per image; higher is more confident.</returns>
    public static double[] Confidence(double[,] probabilities, ConfidenceScore score = ConfidenceScore.MaxProbability)
    {
        if (!Enum.IsDefined(score)) throw new ArgumentOutOfRangeException(nameof(score), score, "Unknown confidence score.");
        Conformal.ConformalClassifier.ValidateMatrix(probabilities, -1, nameof(probabilities));
        int n = probabilities.GetLength(0), k = probabilities.GetLength(1);
        var confidence = new double[n];
        for (int i = 0; i < n; i++)
        {
            double first = double.NegativeInfinity, second = double.NegativeInfinity, entropy = 0;
            for (int j = 0; j < k; j++)
            {
                double p = probabilities[i, j];
                if (p > first) { second = first; first = p; }
                else if (p > second) second = p;
                if (p > 0) entropy += p * Math.Log(p);
            }
            confidence[i] = score switch
            {
                ConfidenceScore.MaxProbability => first,
                ConfidenceScore.Margin => first - second,
                _ => entropy,
            };
        }
        return confidence;
    }

    /// <summary>Whether each image's arg-max prediction (the first of equal maxima) is wrong: the 0/1 loss.</summary>
    /// <param name="labels">True classes.</param>
    /// <param name="probabilities">N × K class probabilities.</param>
    /// <returns>1 for a wrong prediction, 0 for a right one.</returns>
    public static double[] Errors(int[] labels, double[,] probabilities)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Conformal.ConformalClassifier.ValidateMatrix(probabilities, -1, nameof(probabilities));
        Conformal.ConformalClassifier.ValidateLabels(labels, probabilities, probabilities.GetLength(1), nameof(labels));
        var predicted = MedMnistEvaluator.Predict(MedMnistTask.MultiClass, probabilities);
        return labels.Select((label, i) => predicted[i] == label ? 0.0 : 1.0).ToArray();
    }

    /// <summary>The 0/1 loss of each image's arg-max prediction, labels as an N × 1 matrix (as MedMNIST stores them).</summary>
    /// <param name="labels">N × 1 true classes.</param>
    /// <param name="probabilities">N × K class probabilities.</param>
    /// <returns>1 for a wrong prediction, 0 for a right one.</returns>
    public static double[] Errors(int[,] labels, double[,] probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        return Errors(PredictionSet.LabelVector(labels, "Selective prediction", nameof(labels)), probabilities);
    }

    internal static void ValidatePairs(double[] confidence, double[] losses, bool zeroOne, string lossName = "losses")
    {
        ArgumentNullException.ThrowIfNull(confidence);
        ArgumentNullException.ThrowIfNull(losses, lossName);
        if (confidence.Length == 0) throw new ArgumentException("No images: at least one confidence and loss are needed.", nameof(confidence));
        if (confidence.Length != losses.Length)
            throw new ArgumentException($"Length mismatch: {confidence.Length} confidences but {losses.Length} {(zeroOne ? "errors" : "losses")}.", lossName);
        for (int i = 0; i < confidence.Length; i++)
        {
            if (!double.IsFinite(confidence[i]))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Confidence {i} is {confidence[i]}: confidences must be finite."), nameof(confidence));
            double l = losses[i];
            if (!double.IsFinite(l) || l < 0 || (zeroOne && l != 0 && l != 1))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{(zeroOne ? "Error" : "Loss")} {i} is {l}: {(zeroOne ? "risk control takes 0/1 errors (1 for a wrong prediction)" : "losses must be finite and at least 0")}."), lossName);
        }
    }
}
