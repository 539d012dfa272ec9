using System.Globalization;

namespace MedVision.Nets.Metrics.Selective;

/// <summary>
/// Selective prediction — let the model decide the images it is confident about and defer the others to a clinician:
/// confidence scores, the risk–coverage curve and its area (<see cref="RiskCoverageCurve"/>), and a confidence threshold
/// whose risk on accepted images is bounded with high probability (<see cref="SelectiveRiskControl"/>).
/// </summary>
public static class SelectivePrediction
{
    /// <summary>Each image's confidence in its arg-max prediction.</summary>
    /// <param name="probabilities">N × K class probabilities (softmax), one row per image.</param>
    /// <param name="score">The confidence score.</param>
    /// <returns>One confidence per image; higher is more confident.</returns>
    public static double[] Confidence(double[,] probabilities, ConfidenceScore score = ConfidenceScore.MaxProbability)
        => Confidence(probabilities, score, OrdinalDecision.MostProbable);

    /// <summary>
    /// Each image's confidence in its prediction when the prediction follows <paramref name="decision"/>: for the
    /// median grade (<see cref="OrdinalDecision.Median"/>, a CORAL model's), <see cref="ConfidenceScore.PredictedProbability"/>
    /// is that grade's probability and <see cref="ConfidenceScore.Margin"/> its probability minus the largest of the
    /// other grades' (negative when another grade is more probable); <see cref="ConfidenceScore.MaxProbability"/> and
    /// <see cref="ConfidenceScore.NegativeEntropy"/> do not depend on the decision.
    /// </summary>
    /// <param name="probabilities">N × K class (grade) probabilities, one row per image.</param>
    /// <param name="score">The confidence score.</param>
    /// <param name="decision">How each image's class is chosen.</param>
    /// <returns>One confidence per image; higher is more confident.</returns>
    /// <exception cref="ArgumentException">Bad probabilities, or an unknown decision.</exception>
    public static double[] Confidence(double[,] probabilities, ConfidenceScore score, OrdinalDecision decision)
    {
        if (!Enum.IsDefined(score)) throw new ArgumentOutOfRangeException(nameof(score), score, "Unknown confidence score.");
        if (!Enum.IsDefined(decision)) throw new ArgumentOutOfRangeException(nameof(decision), decision, "Unknown ordinal decision.");
        Conformal.ConformalClassifier.ValidateMatrix(probabilities, -1, nameof(probabilities));
        int n = probabilities.GetLength(0), k = probabilities.GetLength(1);
        int[]? median = decision == OrdinalDecision.Median ? Losses.OrdinalDecoding.MedianGrades(probabilities) : null;
        var confidence = new double[n];
        for (int i = 0; i < n; i++)
        {
            // The decided class (the first of equal maxima, as numpy.argmax, or the median grade) and its strongest rival.
            int decided = 0;
            double largest = double.NegativeInfinity, entropy = 0;
            for (int j = 0; j < k; j++)
            {
                double p = probabilities[i, j];
                if (p > largest) { largest = p; decided = j; }
                if (p > 0) entropy += p * Math.Log(p);
            }
            if (median is not null) decided = median[i];
            double rival = double.NegativeInfinity;
            for (int j = 0; j < k; j++)
            {
                if (j != decided && probabilities[i, j] > rival) rival = probabilities[i, j];
            }
            if (k == 1) rival = 0;
            double own = probabilities[i, decided];
            confidence[i] = score switch
            {
                ConfidenceScore.MaxProbability => largest,
                ConfidenceScore.Margin => own - rival,
                ConfidenceScore.PredictedProbability => own,
                _ => entropy,
            };
        }
        return confidence;
    }

    /// <summary>Whether each image's arg-max prediction (the first of equal maxima) is wrong: the 0/1 loss.</summary>
    /// <param name="labels">True classes.</param>
    /// <param name="probabilities">N × K class probabilities.</param>
    /// <returns>1 for a wrong prediction, 0 for a right one.</returns>
    public static double[] Errors(int[] labels, double[,] probabilities) => Errors(labels, probabilities, OrdinalDecision.MostProbable);

    /// <summary>
    /// Whether each image's prediction is wrong when predictions follow <paramref name="decision"/> (the median grade of
    /// a CORAL model: <see cref="OrdinalDecision.Median"/>): the 0/1 loss of the class the model reports.
    /// </summary>
    /// <param name="labels">True classes.</param>
    /// <param name="probabilities">N × K class (grade) probabilities.</param>
    /// <param name="decision">How each image's class is chosen.</param>
    /// <returns>1 for a wrong prediction, 0 for a right one.</returns>
    /// <exception cref="ArgumentException">Bad labels or probabilities, or an unknown decision.</exception>
    public static double[] Errors(int[] labels, double[,] probabilities, OrdinalDecision decision)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Conformal.ConformalClassifier.ValidateMatrix(probabilities, -1, nameof(probabilities));
        Conformal.ConformalClassifier.ValidateLabels(labels, probabilities, probabilities.GetLength(1), nameof(labels));
        var predicted = decision == OrdinalDecision.Median
            ? MedMnistEvaluator.Predict(MedMnistTask.OrdinalRegression, probabilities, decision)
            : MedMnistEvaluator.Predict(MedMnistTask.MultiClass, probabilities, decision);
        return labels.Select((label, i) => predicted[i] == label ? 0.0 : 1.0).ToArray();
    }

    /// <summary>The 0/1 loss of each image's arg-max prediction, labels as an N × 1 matrix (as MedMNIST stores them).</summary>
    /// <param name="labels">N × 1 true classes.</param>
    /// <param name="probabilities">N × K class probabilities.</param>
    /// <returns>1 for a wrong prediction, 0 for a right one.</returns>
    public static double[] Errors(int[,] labels, double[,] probabilities) => Errors(labels, probabilities, OrdinalDecision.MostProbable);

    /// <summary>The 0/1 loss of each image's prediction under <paramref name="decision"/>, labels as an N × 1 matrix.</summary>
    /// <param name="labels">N × 1 true classes.</param>
    /// <param name="probabilities">N × K class (grade) probabilities.</param>
    /// <param name="decision">How each image's class is chosen.</param>
    /// <returns>1 for a wrong prediction, 0 for a right one.</returns>
    public static double[] Errors(int[,] labels, double[,] probabilities, OrdinalDecision decision)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        return Errors(PredictionSet.LabelVector(labels, "Selective prediction", nameof(labels)), probabilities, decision);
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
