using System.Globalization;

namespace MedVision.Nets.Metrics.Conformal;

/// <summary>
/// Builds a <see cref="ConformalClassifier"/>: <c>ConformalClassifier.Create().WithScore(…).WithCoverage(0.9).ClassConditional().Calibrate(labels, probabilities)</c>.
/// </summary>
public sealed class ConformalClassifierBuilder
{
    private ConformalScore _score = ConformalScore.Aps;
    private double _coverage = ConformalClassifier.DefaultCoverage;
    private bool _classConditional;
    private double? _regularization;
    private int _regularizationRank = ConformalClassifier.DefaultRegularizationRank;

    internal ConformalClassifierBuilder()
    {
    }

    /// <summary>Uses <paramref name="score"/> (default <see cref="ConformalScore.Aps"/>; <see cref="ConformalScore.OrdinalAps"/> for disease grades).</summary>
    /// <param name="score">The non-conformity score.</param>
    /// <returns>This builder.</returns>
    public ConformalClassifierBuilder WithScore(ConformalScore score)
    {
        if (!Enum.IsDefined(score)) throw new ArgumentOutOfRangeException(nameof(score), score, "Unknown conformal score.");
        _score = score;
        return this;
    }

    /// <summary>Asks for sets that hold the true class with probability <paramref name="coverage"/> (1 − α; default 0.9).</summary>
    /// <param name="coverage">In (0, 1).</param>
    /// <returns>This builder.</returns>
    public ConformalClassifierBuilder WithCoverage(double coverage)
    {
        if (!(coverage > 0 && coverage < 1))
            throw new ArgumentOutOfRangeException(nameof(coverage), coverage, "The coverage (1 − α) must lie strictly between 0 and 1, e.g. 0.9.");
        _coverage = coverage;
        return this;
    }

    /// <summary>
    /// Gives each class its own threshold from its own calibration images, so coverage holds per class (Mondrian conformal
    /// prediction); needs about 1/α calibration images of every class.
    /// </summary>
    /// <param name="enabled">Whether thresholds are per class.</param>
    /// <returns>This builder.</returns>
    public ConformalClassifierBuilder ClassConditional(bool enabled = true)
    {
        _classConditional = enabled;
        return this;
    }

    /// <summary>
    /// RAPS's regularisation (with <see cref="ConformalScore.Raps"/> only): a penalty <paramref name="lambda"/> per rank
    /// beyond the top <paramref name="rank"/> classes (defaults 0.01 and 1).
    /// </summary>
    /// <param name="lambda">λ ≥ 0.</param>
    /// <param name="rank">k_reg ≥ 0.</param>
    /// <returns>This builder.</returns>
    public ConformalClassifierBuilder WithRegularization(double lambda, int rank = ConformalClassifier.DefaultRegularizationRank)
    {
        if (!(double.IsFinite(lambda) && lambda >= 0)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must be a finite number ≥ 0.");
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        _regularization = lambda;
        _regularizationRank = rank;
        return this;
    }

    /// <summary>Calibrates on held-out labelled images (e.g. the validation split) that the model was not trained on.</summary>
    /// <param name="labels">True classes, one per image.</param>
    /// <param name="probabilities">N × K class probabilities (softmax) as the deployed model produces them.</param>
    /// <returns>The calibrated classifier.</returns>
    public ConformalClassifier Calibrate(int[] labels, double[,] probabilities)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ConformalClassifier.ValidateMatrix(probabilities, -1, nameof(probabilities));
        int n = probabilities.GetLength(0), k = probabilities.GetLength(1);
        ConformalClassifier.ValidateLabels(labels, probabilities, k, nameof(labels));
        if (_regularization is not null && _score != ConformalScore.Raps)
            throw new InvalidOperationException($"WithRegularization applies to ConformalScore.Raps only; the score is {_score}.");
        double lambda = _score == ConformalScore.Raps ? _regularization ?? ConformalClassifier.DefaultRegularization : 0;
        int kReg = _score == ConformalScore.Raps ? _regularizationRank : 0;

        var scores = new double[n];
        var order = new int[k];
        var e = new double[k];
        var row = new double[k];
        var counts = new int[k];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < k; j++) row[j] = probabilities[i, j];
            ConformalClassifier.Sequence(_score, row, lambda, kReg, order, e);
            scores[i] = e[Array.IndexOf(order, labels[i])];
            counts[labels[i]]++;
        }

        var warnings = new List<string>();
        var thresholds = new double[k];
        if (_classConditional)
        {
            for (int c = 0; c < k; c++)
            {
                var own = new List<double>(counts[c]);
                for (int i = 0; i < n; i++) if (labels[i] == c) own.Add(scores[i]);
                thresholds[c] = Quantile(own, _coverage);
                if (double.IsPositiveInfinity(thresholds[c]))
                    warnings.Add(Shortfall($"class {c} has {counts[c]} calibration image{(counts[c] == 1 ? "" : "s")}", counts[c], $"every set may hold class {c}"));
            }
        }
        else
        {
            Array.Fill(thresholds, Quantile(scores, _coverage));
            if (double.IsPositiveInfinity(thresholds[0]))
                warnings.Add(Shortfall($"{n} calibration image{(n == 1 ? "" : "s")}", n, "every set holds every class"));
        }
        return new ConformalClassifier(_score, _coverage, _classConditional, lambda, kReg, thresholds, n, counts, warnings);
    }

    /// <summary>Calibrates with labels as an N × 1 matrix (as MedMNIST stores them).</summary>
    /// <param name="labels">N × 1 true classes.</param>
    /// <param name="probabilities">N × K class probabilities.</param>
    /// <returns>The calibrated classifier.</returns>
    public ConformalClassifier Calibrate(int[,] labels, double[,] probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        return Calibrate(PredictionSet.LabelVector(labels, "Conformal calibration", nameof(labels)), probabilities);
    }

    /// <summary>
    /// The standard check of a conformal method on one labelled pool: <paramref name="trials"/> times, split the images
    /// at random into <paramref name="calibrationCount"/> for calibration and the rest for evaluation, and summarise the
    /// coverage and set sizes over the trials (Angelopoulos and Bates 2021, §2). Coverage averages 1 − α or a little
    /// more; its spread is what one calibration split of this size leaves.
    /// </summary>
    /// <param name="labels">True classes of the pool.</param>
    /// <param name="probabilities">N × K class probabilities of the pool.</param>
    /// <param name="calibrationCount">Images calibrated on in each trial (1 ≤ count &lt; N).</param>
    /// <param name="trials">Number of random splits (≥ 1).</param>
    /// <param name="seed">Seed of the splits.</param>
    /// <returns>The summary over trials.</returns>
    public ConformalRandomSplits EvaluateOnRandomSplits(int[] labels, double[,] probabilities, int calibrationCount, int trials = 1000, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ConformalClassifier.ValidateMatrix(probabilities, -1, nameof(probabilities));
        int n = probabilities.GetLength(0), k = probabilities.GetLength(1);
        ConformalClassifier.ValidateLabels(labels, probabilities, k, nameof(labels));
        if (calibrationCount < 1 || calibrationCount >= n)
            throw new ArgumentOutOfRangeException(nameof(calibrationCount), calibrationCount, $"Calibrate on at least 1 image and leave at least 1 of the {n} to evaluate.");
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, 1);

        var random = new Random(seed);
        var index = Enumerable.Range(0, n).ToArray();
        var coverage = new double[trials];
        var size = new double[trials];
        var worstClass = new double[trials];
        for (int t = 0; t < trials; t++)
        {
            random.Shuffle(index);
            var (calLabels, calProbabilities) = Take(labels, probabilities, index, 0, calibrationCount);
            var (testLabels, testProbabilities) = Take(labels, probabilities, index, calibrationCount, n - calibrationCount);
            var evaluation = Calibrate(calLabels, calProbabilities).Evaluate(testLabels, testProbabilities);
            coverage[t] = evaluation.Coverage;
            size[t] = evaluation.MeanSetSize;
            worstClass[t] = evaluation.WorstClassCoverage;
        }
        return new ConformalRandomSplits(_coverage, trials, calibrationCount, n - calibrationCount, coverage, size, worstClass);
    }

    /// <summary>Random-split evaluation with labels as an N × 1 matrix.</summary>
    /// <param name="labels">N × 1 true classes.</param>
    /// <param name="probabilities">N × K class probabilities.</param>
    /// <param name="calibrationCount">Images calibrated on in each trial.</param>
    /// <param name="trials">Number of random splits.</param>
    /// <param name="seed">Seed of the splits.</param>
    /// <returns>The summary over trials.</returns>
    public ConformalRandomSplits EvaluateOnRandomSplits(int[,] labels, double[,] probabilities, int calibrationCount, int trials = 1000, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        return EvaluateOnRandomSplits(PredictionSet.LabelVector(labels, "Conformal evaluation", nameof(labels)), probabilities, calibrationCount, trials, seed);
    }

    private static (int[] Labels, double[,] Probabilities) Take(int[] labels, double[,] probabilities, int[] index, int start, int count)
    {
        int k = probabilities.GetLength(1);
        var l = new int[count];
        var p = new double[count, k];
        for (int i = 0; i < count; i++)
        {
            int source = index[start + i];
            l[i] = labels[source];
            for (int j = 0; j < k; j++) p[i, j] = probabilities[source, j];
        }
        return (l, p);
    }

    // The ⌈(n+1)(1−α)⌉-th smallest score; +∞ when that rank exceeds n.
    private static double Quantile(IReadOnlyCollection<double> scores, double coverage)
    {
        int n = scores.Count;
        int rank = ConformalClassifier.QuantileRank(n, coverage);
        if (rank > n) return double.PositiveInfinity;
        var sorted = scores.ToArray();
        Array.Sort(sorted);
        return sorted[rank - 1];
    }

    private string Shortfall(string what, int n, string consequence)
    {
        int needed = 1;
        while (ConformalClassifier.QuantileRank(needed, _coverage) > needed) needed++;
        return string.Create(CultureInfo.InvariantCulture,
            $"Coverage {_coverage:G4} needs at least {needed} calibration images, and {what}: the threshold is +∞ and {consequence}.");
    }
}
