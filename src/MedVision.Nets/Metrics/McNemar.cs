using MathNet.Numerics.Distributions;

namespace MedVision.Nets.Metrics;

/// <summary>
/// McNemar's exact test of two classifiers' accuracies on the same samples: only the samples on which exactly one of
/// them is right carry information, and under equal accuracy each such sample is equally likely to favour either model,
/// so the count favouring the first is Binomial(b + c, ½). The two-sided p-value is min(1, 2·P(X ≤ min(b, c)))
/// (statsmodels' <c>mcnemar(exact=True)</c>). The counterpart of <see cref="DeLong"/> for ACC.
/// </summary>
public static class McNemar
{
    /// <summary>Compares two models' predicted classes against the true ones (first model against second).</summary>
    /// <param name="labels">True class indices.</param>
    /// <param name="predictedA">The first model's predicted class per sample.</param>
    /// <param name="predictedB">The second model's.</param>
    /// <returns>The 2×2 table of right and wrong answers and the test.</returns>
    /// <exception cref="ArgumentException">Empty input, arrays of different lengths, or a negative class index.</exception>
    public static McNemarComparison Compare(int[] labels, int[] predictedA, int[] predictedB)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(predictedA);
        ArgumentNullException.ThrowIfNull(predictedB);
        if (labels.Length == 0)
        {
            throw new ArgumentException("Labels are empty: at least one sample is required.", nameof(labels));
        }

        if (predictedA.Length != labels.Length || predictedB.Length != labels.Length)
        {
            throw new ArgumentException(
                $"Length mismatch: labels has {labels.Length} entries, predictedA {predictedA.Length} and predictedB {predictedB.Length}; a paired test needs both models' predictions of the same samples.",
                predictedA.Length != labels.Length ? nameof(predictedA) : nameof(predictedB));
        }

        foreach (var (values, name) in new[] { (labels, nameof(labels)), (predictedA, nameof(predictedA)), (predictedB, nameof(predictedB)) })
        {
            int negative = Array.FindIndex(values, v => v < 0);
            if (negative >= 0)
            {
                throw new ArgumentException($"{name}[{negative}] is {values[negative]}; class indices are 0 or more.", name);
            }
        }

        var rightA = new byte[labels.Length];
        var rightB = new byte[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            rightA[i] = predictedA[i] == labels[i] ? (byte)1 : (byte)0;
            rightB[i] = predictedB[i] == labels[i] ? (byte)1 : (byte)0;
        }

        return Of(rightA, rightB);
    }

    /// <summary>
    /// Compares two models' MedMNIST predictions (see <see cref="MedMnistEvaluator.GetAcc(MedMnistTask, int[], double[,], double)"/>:
    /// arg-max, or the last column above the threshold for a binary task) of the same samples.
    /// </summary>
    /// <param name="task">The task type; multi-label is refused (its ACC counts label entries, which are not independent samples).</param>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scoresA">The first model's N×K finite scores.</param>
    /// <param name="scoresB">The second model's, of the same shape.</param>
    /// <param name="threshold">Decision threshold for binary tasks.</param>
    /// <returns>The 2×2 table and the test.</returns>
    /// <exception cref="ArgumentException">A multi-label task, bad input, or score matrices of different shapes.</exception>
    public static McNemarComparison Compare(MedMnistTask task, int[] labels, double[,] scoresA, double[,] scoresB, double threshold = MedMnistEvaluator.DefaultThreshold)
        => Compare(task, scores => PredictionSet.Create(task, labels, scores), scoresA, scoresB, threshold);

    /// <summary>Compares two models' MedMNIST predictions, labels given as an N×1 matrix (as MedMNIST stores them).</summary>
    /// <param name="task">The task type; multi-label is refused (its ACC counts label entries, which are not independent samples).</param>
    /// <param name="labels">N×1 class indices in [0, K).</param>
    /// <param name="scoresA">The first model's N×K finite scores.</param>
    /// <param name="scoresB">The second model's, of the same shape.</param>
    /// <param name="threshold">Decision threshold for binary tasks.</param>
    /// <returns>The 2×2 table and the test.</returns>
    /// <exception cref="ArgumentException">A multi-label task, bad input, or score matrices of different shapes.</exception>
    public static McNemarComparison Compare(MedMnistTask task, int[,] labels, double[,] scoresA, double[,] scoresB, double threshold = MedMnistEvaluator.DefaultThreshold)
        => Compare(task, scores => PredictionSet.Create(task, labels, scores), scoresA, scoresB, threshold);

    /// <summary>
    /// Compares two models' predictions of the same samples when either decides an ordinal task's grade by another rule
    /// than the most probable one — a CORAL model predicts the median grade (<see cref="OrdinalDecision.Median"/>), so
    /// the samples it gets right are those of its median.
    /// </summary>
    /// <param name="task">The task type; multi-label is refused.</param>
    /// <param name="labels">Class indices in [0, K).</param>
    /// <param name="scoresA">The first model's N×K finite scores.</param>
    /// <param name="scoresB">The second model's, of the same shape.</param>
    /// <param name="decisionA">How the first model decides (e.g. <see cref="Inference.EnsemblePredictor.OrdinalDecision"/>).</param>
    /// <param name="decisionB">How the second model decides.</param>
    /// <returns>The 2×2 table and the test.</returns>
    /// <exception cref="ArgumentException">A multi-label task, bad input, score matrices of different shapes, or the median decision for a task that is not ordinal.</exception>
    public static McNemarComparison Compare(MedMnistTask task, int[] labels, double[,] scoresA, double[,] scoresB, OrdinalDecision decisionA, OrdinalDecision decisionB)
        => Compare(task, scores => PredictionSet.Create(task, labels, scores), scoresA, scoresB, MedMnistEvaluator.DefaultThreshold, decisionA, decisionB);

    /// <summary>As <see cref="Compare(MedMnistTask, int[], double[,], double[,], OrdinalDecision, OrdinalDecision)"/>, labels given as an N×1 matrix.</summary>
    /// <param name="task">The task type; multi-label is refused.</param>
    /// <param name="labels">N×1 class indices in [0, K).</param>
    /// <param name="scoresA">The first model's N×K finite scores.</param>
    /// <param name="scoresB">The second model's, of the same shape.</param>
    /// <param name="decisionA">How the first model decides.</param>
    /// <param name="decisionB">How the second model decides.</param>
    /// <returns>The 2×2 table and the test.</returns>
    /// <exception cref="ArgumentException">A multi-label task, bad input, score matrices of different shapes, or the median decision for a task that is not ordinal.</exception>
    public static McNemarComparison Compare(MedMnistTask task, int[,] labels, double[,] scoresA, double[,] scoresB, OrdinalDecision decisionA, OrdinalDecision decisionB)
        => Compare(task, scores => PredictionSet.Create(task, labels, scores), scoresA, scoresB, MedMnistEvaluator.DefaultThreshold, decisionA, decisionB);

    // Both models' validated predictions (one labels array, two score matrices of one shape), then the test on which
    // samples each gets right.
    private static McNemarComparison Compare(
        MedMnistTask task, Func<double[,], PredictionSet> predictions, double[,] scoresA, double[,] scoresB, double threshold,
        OrdinalDecision decisionA = OrdinalDecision.MostProbable, OrdinalDecision decisionB = OrdinalDecision.MostProbable)
    {
        if (task == MedMnistTask.MultiLabel)
        {
            throw new ArgumentException(
                "McNemar's test compares which samples each model gets right; a multi-label ACC counts label entries, which are not independent samples. Compare one label at a time as a binary task.",
                nameof(task));
        }

        BootstrapEstimator.CheckSameShape(scoresA, scoresB);
        return Of(new EvaluationCore(predictions(scoresA), threshold, decisionA).CorrectEntries, new EvaluationCore(predictions(scoresB), threshold, decisionB).CorrectEntries);
    }

    // The 2×2 table from each sample's rightness (1 right, 0 wrong) under each model, and the exact test.
    private static McNemarComparison Of(ReadOnlySpan<byte> rightA, ReadOnlySpan<byte> rightB)
    {
        int both = 0, onlyA = 0, onlyB = 0, neither = 0;
        for (int i = 0; i < rightA.Length; i++)
        {
            if (rightA[i] != 0 && rightB[i] != 0)
            {
                both++;
            }
            else if (rightA[i] != 0)
            {
                onlyA++;
            }
            else if (rightB[i] != 0)
            {
                onlyB++;
            }
            else
            {
                neither++;
            }
        }

        int discordant = onlyA + onlyB;
        var warnings = new List<string>();
        double p;
        if (discordant == 0)
        {
            p = 1;
            warnings.Add("The two models are right on exactly the same samples: no sample favours either, so the test has nothing to weigh (p = 1).");
        }
        else
        {
            p = Math.Min(1, 2 * Binomial.CDF(0.5, discordant, Math.Min(onlyA, onlyB)));
        }

        return new McNemarComparison(both, onlyA, onlyB, neither, p, warnings);
    }
}
