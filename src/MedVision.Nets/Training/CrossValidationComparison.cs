using System.Globalization;
using MedVision.Nets.Metrics;

namespace MedVision.Nets.Training;

/// <summary>
/// Two training recipes cross-validated on the same folds, compared (see <see cref="CrossValidationResult.Compare"/>);
/// every difference is the first recipe's metric minus the second's.
/// </summary>
/// <remarks>
/// Three views of the same question, which answer different parts of it. The fold tests ask whether the <i>recipe</i>
/// is better on data like these: each fold is a fresh training run, and the corrected t-test accounts for both the
/// scored samples and the training runs varying. The out-of-fold and ensemble tests ask whether these particular
/// trained models differ on these particular images, and treat the models as fixed: on their own they say nothing
/// about another training run of the same recipe.
/// </remarks>
public sealed class CrossValidationComparison
{
    internal CrossValidationComparison(
        double testToTrainRatio, IReadOnlyList<SplitMetrics> foldsA, IReadOnlyList<SplitMetrics> foldsB, ResampledTTestResult auc, ResampledTTestResult acc, DeLongComparison outOfFold, McNemarComparison? outOfFoldAccuracy,
        DeLongComparison? ensembleTest, McNemarComparison? ensembleTestAccuracy)
    {
        TestToTrainRatio = testToTrainRatio;
        FoldsA = foldsA;
        FoldsB = foldsB;
        Auc = auc;
        Acc = acc;
        OutOfFold = outOfFold;
        OutOfFoldAccuracy = outOfFoldAccuracy;
        EnsembleTest = ensembleTest;
        EnsembleTestAccuracy = ensembleTestAccuracy;
    }

    /// <summary>
    /// Compares two recipes from their cross-validations' out-of-fold predictions alone (<see cref="CrossValidationResult.GetOutOfFoldPredictions"/>,
    /// or the <see cref="CrossValidationBuilder.OutOfFoldFileName"/> files read back by <see cref="CrossValidationResult.ReadOutOfFoldCsv"/>):
    /// each fold's metrics are those of its samples' rows, and each fold's model is taken to have trained on all the other
    /// folds' samples (k-fold cross-validation), which sets the correction's n_test/n_train. <see cref="EnsembleTest"/> is <see langword="null"/>.
    /// </summary>
    /// <param name="task">How the predictions are scored.</param>
    /// <param name="labels">The samples' labels (N, L), the same in both cross-validations.</param>
    /// <param name="scoresA">Recipe A's out-of-fold scores (N, K).</param>
    /// <param name="foldsA">The fold (0-based) of each sample in A's cross-validation.</param>
    /// <param name="scoresB">Recipe B's out-of-fold scores (N, K).</param>
    /// <param name="foldsB">The fold of each sample in B's; it must equal <paramref name="foldsA"/>.</param>
    /// <param name="level">Confidence level of the intervals, in (0, 1).</param>
    /// <returns>The comparison (A − B).</returns>
    /// <exception cref="ArgumentException">
    /// Shapes that disagree, a sample in different folds in the two cross-validations, fold numbers that are not
    /// 0 … k − 1 with every fold used, fewer than two folds, bad scores or labels, or a level outside (0, 1).
    /// </exception>
    public static CrossValidationComparison FromOutOfFold(MedMnistTask task, int[,] labels, double[,] scoresA, int[] foldsA, double[,] scoresB, int[] foldsB, double level = DeLong.DefaultLevel)
        => FromOutOfFold(task, labels, scoresA, foldsA, OrdinalDecision.MostProbable, scoresB, foldsB, OrdinalDecision.MostProbable, level);

    /// <summary>
    /// As <see cref="FromOutOfFold(MedMnistTask, int[,], double[,], int[], double[,], int[], double)"/>, for recipes
    /// whose models decide an ordinal task's grade by another rule than the most probable one (a CORAL head's median
    /// grade, <see cref="OrdinalDecision.Median"/>; <see cref="CrossValidationResult.Decision"/>): each recipe's fold ACCs
    /// and its side of the McNemar test count its own decision.
    /// </summary>
    /// <param name="task">How the predictions are scored.</param>
    /// <param name="labels">The samples' labels (N, L), the same in both cross-validations.</param>
    /// <param name="scoresA">Recipe A's out-of-fold scores (N, K).</param>
    /// <param name="foldsA">The fold (0-based) of each sample in A's cross-validation.</param>
    /// <param name="decisionA">How A's models decide.</param>
    /// <param name="scoresB">Recipe B's out-of-fold scores (N, K).</param>
    /// <param name="foldsB">The fold of each sample in B's; it must equal <paramref name="foldsA"/>.</param>
    /// <param name="decisionB">How B's models decide.</param>
    /// <param name="level">Confidence level of the intervals, in (0, 1).</param>
    /// <returns>The comparison (A − B).</returns>
    /// <exception cref="ArgumentException">As the other overload, or the median decision for a task that is not ordinal.</exception>
    public static CrossValidationComparison FromOutOfFold(
        MedMnistTask task, int[,] labels, double[,] scoresA, int[] foldsA, OrdinalDecision decisionA, double[,] scoresB, int[] foldsB, OrdinalDecision decisionB, double level = DeLong.DefaultLevel)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(foldsA);
        ArgumentNullException.ThrowIfNull(foldsB);
        BootstrapEstimator.CheckSameShape(scoresA, scoresB);
        int n = labels.GetLength(0);
        if (scoresA.GetLength(0) != n || foldsA.Length != n || foldsB.Length != n)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"labels has {n} rows, the scores {scoresA.GetLength(0)}, foldsA {foldsA.Length} and foldsB {foldsB.Length}: every array needs one entry per sample."), nameof(labels));
        }

        for (int i = 0; i < n; i++)
        {
            if (foldsA[i] != foldsB[i])
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Sample {i} is in fold {foldsA[i] + 1} of A's cross-validation but in fold {foldsB[i] + 1} of B's: a paired comparison needs both recipes run on the same folds (the same seed, fold count and stratification)."), nameof(foldsB));
            }
        }

        int negative = Array.FindIndex(foldsA, f => f < 0);
        if (negative >= 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Sample {negative} has fold {foldsA[negative]}; folds are numbered 0 … k − 1."), nameof(foldsA));
        }

        int k = n == 0 ? 0 : foldsA.Max() + 1;
        var members = Enumerable.Range(0, k).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < n; i++)
        {
            members[foldsA[i]].Add(i);
        }

        if (k < 2 || members.Any(m => m.Count == 0))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The folds must be numbered 0 … k − 1 with k ≥ 2 and every fold holding samples; got {k} fold number(s) with {members.Count(m => m.Count == 0)} empty."), nameof(foldsA));
        }

        SplitMetrics Fold(double[,] scores, List<int> rows, OrdinalDecision decision) => SplitMetrics.Of(task, Rows(labels, rows), Rows(scores, rows), decision);
        var foldMetricsA = members.Select(m => Fold(scoresA, m, decisionA)).ToArray();
        var foldMetricsB = members.Select(m => Fold(scoresB, m, decisionB)).ToArray();
        double ratio = (double)n / members.Sum(m => (double)(n - m.Count));
        return Of(task, ratio, foldMetricsA, foldMetricsB, labels, scoresA, scoresB, null, level, decisionA, decisionB);
    }

    /// <summary>The comparison from the folds' metrics, the pooled out-of-fold predictions and, when given, the two ensembles' test predictions.</summary>
    internal static CrossValidationComparison Of(
        MedMnistTask task, double ratio, IReadOnlyList<SplitMetrics> foldsA, IReadOnlyList<SplitMetrics> foldsB, int[,] labels, double[,] scoresA, double[,] scoresB,
        (int[,] Labels, double[,] A, double[,] B)? ensembles, double level, OrdinalDecision decisionA, OrdinalDecision decisionB)
    {
        ResampledTTestResult FoldTest(Func<SplitMetrics, double> metric)
        {
            double[] differences = foldsA.Select((f, i) => metric(f) - metric(foldsB[i])).ToArray();
            return differences.All(double.IsFinite)
                ? ResampledTTest.Corrected(differences, ratio, level)
                : ResampledTTest.Undefined(differences, level, "A fold's metric is undefined (NaN) for one of the recipes, so the folds' differences cannot be tested.");
        }

        var outOfFold = DeLong.Compare(task, labels, scoresA, scoresB, level);
        bool single = task != MedMnistTask.MultiLabel;
        return new CrossValidationComparison(
            ratio,
            foldsA,
            foldsB,
            FoldTest(m => m.Auc),
            FoldTest(m => m.Acc),
            outOfFold,
            single ? McNemar.Compare(task, labels, scoresA, scoresB, decisionA, decisionB) : null,
            ensembles is { } e ? DeLong.Compare(task, e.Labels, e.A, e.B, level) : null,
            ensembles is { } t && single ? McNemar.Compare(task, t.Labels, t.A, t.B, decisionA, decisionB) : null);
    }

    private static T[,] Rows<T>(T[,] matrix, List<int> rows)
    {
        int columns = matrix.GetLength(1);
        var picked = new T[rows.Count, columns];
        for (int r = 0; r < rows.Count; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                picked[r, c] = matrix[rows[r], c];
            }
        }

        return picked;
    }

    /// <summary>The folds' scored samples over their training samples, the correction's n_test/n_train.</summary>
    public double TestToTrainRatio { get; }

    /// <summary>Recipe A's metrics on each fold (its fold model on the fold's held-out samples), in fold order.</summary>
    public IReadOnlyList<SplitMetrics> FoldsA { get; }

    /// <summary>Recipe B's metrics on each fold.</summary>
    public IReadOnlyList<SplitMetrics> FoldsB { get; }

    /// <summary>The corrected resampled t-test of the folds' validation AUC differences.</summary>
    public ResampledTTestResult Auc { get; }

    /// <summary>The corrected resampled t-test of the folds' validation ACC differences.</summary>
    public ResampledTTestResult Acc { get; }

    /// <summary>DeLong's test on the pooled out-of-fold predictions (each sample scored by its own fold's model in both recipes).</summary>
    public DeLongComparison OutOfFold { get; }

    /// <summary>McNemar's test on the pooled out-of-fold predictions; <see langword="null"/> for a multi-label task.</summary>
    public McNemarComparison? OutOfFoldAccuracy { get; }

    /// <summary>DeLong's test of the two folds' ensembles on the test split; <see langword="null"/> unless both cross-validations predicted the same test split.</summary>
    public DeLongComparison? EnsembleTest { get; }

    /// <summary>McNemar's test of the two ensembles on the test split; <see langword="null"/> without <see cref="EnsembleTest"/> or for a multi-label task.</summary>
    public McNemarComparison? EnsembleTestAccuracy { get; }
}
