namespace MedVision.Nets.Metrics;

/// <summary>
/// The standard MedMNIST AUC and ACC, with the semantics of <c>getAUC</c> and <c>getACC</c> in the Python
/// <c>medmnist</c> package's evaluator.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description>AUC, <see cref="MedMnistTask.MultiClass"/> and <see cref="MedMnistTask.OrdinalRegression"/>: the
/// unweighted mean over the K classes of the one-vs-rest ROC AUC of score column k.</description></item>
/// <item><description>AUC, <see cref="MedMnistTask.Binary"/>: the ROC AUC of the last score column (an N×1 or N×2 matrix).</description></item>
/// <item><description>AUC, <see cref="MedMnistTask.MultiLabel"/>: the mean of the per-label ROC AUCs.</description></item>
/// <item><description>ACC: arg-max (first maximum) for multi-class and ordinal; last column &gt; threshold for binary;
/// every entry &gt; threshold, accuracy averaged over all label entries, for multi-label.</description></item>
/// </list>
/// Where <c>medmnist</c> raises an error because a class has a single outcome, these evaluators report that class's
/// AUC as NaN with the reason and average the defined ones (see <see cref="AucResult"/>).
/// Labels may be given as an N×1 matrix for single-label tasks, as <c>medmnist</c> stores them.
/// </remarks>
public static class MedMnistEvaluator
{
    /// <summary>The default decision threshold of <c>getACC</c>.</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>Computes the MedMNIST AUC of a single-label task.</summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="labels">Class indices in [0, K) (0/1 for binary).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <returns>The AUC and its per-class parts.</returns>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static AucResult GetAuc(MedMnistTask task, int[] labels, double[,] scores) =>
        new EvaluationCore(PredictionSet.Create(task, labels, scores), DefaultThreshold).Auc(null);

    /// <summary>Computes the MedMNIST AUC of a single-label task from single-precision scores.</summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="labels">Class indices in [0, K) (0/1 for binary).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <returns>The AUC and its per-class parts.</returns>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static AucResult GetAuc(MedMnistTask task, int[] labels, float[,] scores) =>
        GetAuc(task, labels, PredictionSet.ToDouble(scores));

    /// <summary>
    /// Computes the MedMNIST AUC from a label matrix: N×K 0/1 targets for <see cref="MedMnistTask.MultiLabel"/>,
    /// or N×1 class indices for the other tasks.
    /// </summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label matrix.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <returns>The AUC and its per-class or per-label parts.</returns>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static AucResult GetAuc(MedMnistTask task, int[,] labels, double[,] scores) =>
        new EvaluationCore(PredictionSet.Create(task, labels, scores), DefaultThreshold).Auc(null);

    /// <summary>Computes the MedMNIST AUC from a label matrix and single-precision scores.</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label matrix (see <see cref="GetAuc(MedMnistTask, int[,], double[,])"/>).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <returns>The AUC and its per-class or per-label parts.</returns>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static AucResult GetAuc(MedMnistTask task, int[,] labels, float[,] scores) =>
        GetAuc(task, labels, PredictionSet.ToDouble(scores));

    /// <summary>Computes the MedMNIST AUC from jagged labels (one row per sample).</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label rows (see <see cref="GetAuc(MedMnistTask, int[,], double[,])"/>).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <returns>The AUC and its per-class or per-label parts.</returns>
    /// <exception cref="ArgumentException">Ragged rows, bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static AucResult GetAuc(MedMnistTask task, int[][] labels, double[,] scores) =>
        GetAuc(task, PredictionSet.ToMatrix(labels), scores);

    /// <summary>Computes the MedMNIST AUC from jagged labels and single-precision scores.</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label rows (see <see cref="GetAuc(MedMnistTask, int[,], double[,])"/>).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <returns>The AUC and its per-class or per-label parts.</returns>
    /// <exception cref="ArgumentException">Ragged rows, bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static AucResult GetAuc(MedMnistTask task, int[][] labels, float[,] scores) =>
        GetAuc(task, PredictionSet.ToMatrix(labels), PredictionSet.ToDouble(scores));

    /// <summary>Computes the MedMNIST ACC of a single-label task.</summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="labels">Class indices in [0, K) (0/1 for binary).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="threshold">Decision threshold for binary tasks (score &gt; threshold predicts 1).</param>
    /// <returns>The accuracy.</returns>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static double GetAcc(MedMnistTask task, int[] labels, double[,] scores, double threshold = DefaultThreshold) =>
        new EvaluationCore(PredictionSet.Create(task, labels, scores), threshold).Acc(null);

    /// <summary>
    /// The ACC of a single-label task whose predictions follow <paramref name="decision"/> — for an ordinal task the
    /// median grade (<see cref="OrdinalDecision.Median"/>, CORAL's rule) instead of the most probable one.
    /// </summary>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range, non-finite scores, or the median decision for a task that is not ordinal (or of negative scores).</exception>
    public static double GetAcc(MedMnistTask task, int[] labels, double[,] scores, OrdinalDecision decision) =>
        new EvaluationCore(PredictionSet.Create(task, labels, scores), DefaultThreshold, decision).Acc(null);

    /// <summary>The ACC from a label matrix (N×1) whose predictions follow <paramref name="decision"/> (see <see cref="GetAcc(MedMnistTask, int[], double[,], OrdinalDecision)"/>).</summary>
    /// <exception cref="ArgumentException">As the other overload.</exception>
    public static double GetAcc(MedMnistTask task, int[,] labels, double[,] scores, OrdinalDecision decision) =>
        new EvaluationCore(PredictionSet.Create(task, labels, scores), DefaultThreshold, decision).Acc(null);

    /// <summary>Computes the MedMNIST ACC of a single-label task from single-precision scores.</summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="labels">Class indices in [0, K) (0/1 for binary).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="threshold">Decision threshold for binary tasks.</param>
    /// <returns>The accuracy.</returns>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static double GetAcc(MedMnistTask task, int[] labels, float[,] scores, double threshold = DefaultThreshold) =>
        GetAcc(task, labels, PredictionSet.ToDouble(scores), threshold);

    /// <summary>Computes the MedMNIST ACC from a label matrix (N×K 0/1 for multi-label, N×1 otherwise).</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label matrix.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="threshold">Decision threshold for binary and multi-label tasks.</param>
    /// <returns>The accuracy (for multi-label, averaged over all N×K label entries).</returns>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static double GetAcc(MedMnistTask task, int[,] labels, double[,] scores, double threshold = DefaultThreshold) =>
        new EvaluationCore(PredictionSet.Create(task, labels, scores), threshold).Acc(null);

    /// <summary>Computes the MedMNIST ACC from a label matrix and single-precision scores.</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label matrix.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="threshold">Decision threshold for binary and multi-label tasks.</param>
    /// <returns>The accuracy.</returns>
    /// <exception cref="ArgumentException">Bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static double GetAcc(MedMnistTask task, int[,] labels, float[,] scores, double threshold = DefaultThreshold) =>
        GetAcc(task, labels, PredictionSet.ToDouble(scores), threshold);

    /// <summary>Computes the MedMNIST ACC from jagged labels.</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label rows.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="threshold">Decision threshold for binary and multi-label tasks.</param>
    /// <returns>The accuracy.</returns>
    /// <exception cref="ArgumentException">Ragged rows, bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static double GetAcc(MedMnistTask task, int[][] labels, double[,] scores, double threshold = DefaultThreshold) =>
        GetAcc(task, PredictionSet.ToMatrix(labels), scores, threshold);

    /// <summary>Computes the MedMNIST ACC from jagged labels and single-precision scores.</summary>
    /// <param name="task">The task type.</param>
    /// <param name="labels">The label rows.</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="threshold">Decision threshold for binary and multi-label tasks.</param>
    /// <returns>The accuracy.</returns>
    /// <exception cref="ArgumentException">Ragged rows, bad shapes, empty input, labels out of range or non-finite scores.</exception>
    public static double GetAcc(MedMnistTask task, int[][] labels, float[,] scores, double threshold = DefaultThreshold) =>
        GetAcc(task, PredictionSet.ToMatrix(labels), PredictionSet.ToDouble(scores), threshold);

    /// <summary>
    /// The class predicted for each sample of a single-label task: the arg-max (first maximum) of each row, or for
    /// <see cref="MedMnistTask.Binary"/> 1 when the last column exceeds <paramref name="threshold"/>.
    /// </summary>
    /// <param name="task">The task type (not <see cref="MedMnistTask.MultiLabel"/>).</param>
    /// <param name="scores">N×K finite scores.</param>
    /// <param name="threshold">Decision threshold for binary tasks.</param>
    /// <returns>The predicted class indices.</returns>
    /// <exception cref="ArgumentException">Multi-label task, empty input or non-finite scores.</exception>
    public static int[] Predict(MedMnistTask task, double[,] scores, double threshold = DefaultThreshold) => Predict(task, scores, threshold, OrdinalDecision.MostProbable);

    /// <summary>
    /// The class predicted for each sample, as <see cref="Predict(MedMnistTask, double[,], double)"/>, an ordinal
    /// task's by <paramref name="decision"/> (the median grade: <see cref="OrdinalDecision.Median"/>).
    /// </summary>
    /// <exception cref="ArgumentException">Multi-label task, empty input, non-finite scores, or the median decision for a task that is not ordinal.</exception>
    public static int[] Predict(MedMnistTask task, double[,] scores, OrdinalDecision decision) => Predict(task, scores, DefaultThreshold, decision);

    private static int[] Predict(MedMnistTask task, double[,] scores, double threshold, OrdinalDecision decision)
    {
        PredictionSet.ValidateScores(scores);
        if (task == MedMnistTask.MultiLabel)
        {
            throw new ArgumentException("Predict is for single-label tasks; multi-label predictions are scores > threshold per entry.", nameof(task));
        }

        return new EvaluationCore(PredictionSet.Create(task, new int[scores.GetLength(0)], scores), threshold, decision).Predicted!;
    }
}
