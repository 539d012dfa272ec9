using System.Globalization;
using MathNet.Numerics.Distributions;

namespace MedVision.Nets.Metrics.Conformal;

/// <summary>
/// Split conformal prediction for classifiers: calibrated on held-out images, it turns each new image's class
/// probabilities into a <b>prediction set</b> of classes that holds the true class with a chosen probability (e.g. 90%)
/// — a guarantee that needs only that the calibration and new images are exchangeable, not that the model is good or
/// calibrated. A poor model gets large sets, an honest statement of what it does not know; a clinician reads
/// "grade 1 or 2" instead of a bare "grade 1".
/// </summary>
/// <remarks>
/// Calibration sorts the calibration images' scores (<see cref="ConformalScore"/>) of their true classes and takes the
/// ⌈(n+1)(1−α)⌉-th smallest as the threshold q̂ (Vovk et al.; Angelopoulos and Bates, "A Gentle Introduction to
/// Conformal Prediction", 2021); with coverage 1 − α. When ⌈(n+1)(1−α)⌉ &gt; n the calibration images are too few for the
/// coverage asked and q̂ = +∞: every set holds every class (see <see cref="Warnings"/>). A new image's set holds every
/// class whose score is at most q̂, so P(true class ∈ set) ≥ 1 − α over calibration and new image together (and at most
/// 1 − α + 1/(n+1) when scores do not tie); the cumulative scores (APS, RAPS, ordinal APS) also always take the most
/// probable class, so their sets are never empty. (Romano et al.'s non-randomised sets, which also take the class at
/// which the mass crosses q̂, cover far more than asked when the probabilities are flat: 0.98 for 0.8 on five grades.) With
/// <see cref="ConformalClassifierBuilder.ClassConditional"/> each class gets its own threshold from its own calibration
/// images (Mondrian conformal prediction), so the guarantee holds for each class separately: rare severe grades are
/// not under-covered to pay for common mild ones. Probabilities must be those the deployed model will produce
/// (temperature and test-time flips included): calibrate on them.
/// </remarks>
/// <example><code>
/// var conformal = ConformalClassifier.Create()
///     .WithScore(ConformalScore.OrdinalAps)
///     .WithCoverage(0.9)
///     .Calibrate(validationLabels, validationProbabilities);
/// int[] grades = conformal.PredictSet(probabilitiesOfOneImage);       // e.g. [1, 2]
/// ConformalEvaluation test = conformal.Evaluate(testLabels, testProbabilities);
/// Console.WriteLine(test);                                              // coverage, set sizes, per-class coverage
/// </code></example>
public sealed class ConformalClassifier
{
    /// <summary>The coverage a builder asks for unless told otherwise: 0.9 (α = 0.1).</summary>
    public const double DefaultCoverage = 0.9;

    /// <summary>RAPS's penalty per rank beyond <see cref="DefaultRegularizationRank"/> unless told otherwise: 0.01.</summary>
    public const double DefaultRegularization = 0.01;

    /// <summary>The number of top-ranked classes RAPS leaves unpenalised unless told otherwise: 1.</summary>
    public const int DefaultRegularizationRank = 1;

    /// <summary>How far a probability row's sum may lie from 1 (float32 softmax outputs sum to 1 within ~1e-6).</summary>
    internal const double SumTolerance = 1e-3;

    private const int StackClasses = 256;

    private readonly double[] _thresholds;
    private readonly int[] _classCounts;

    internal ConformalClassifier(ConformalScore score, double coverage, bool classConditional, double regularization, int regularizationRank,
        double[] thresholds, int calibrationCount, int[] classCounts, IReadOnlyList<string> warnings)
    {
        Score = score;
        Coverage = coverage;
        IsClassConditional = classConditional;
        Regularization = regularization;
        RegularizationRank = regularizationRank;
        _thresholds = thresholds;
        CalibrationCount = calibrationCount;
        _classCounts = classCounts;
        Warnings = warnings;
    }

    /// <summary>Starts a builder: choose the score, the coverage and whether thresholds are per class, then calibrate.</summary>
    /// <returns>A builder with <see cref="ConformalScore.Aps"/>, coverage <see cref="DefaultCoverage"/>, one threshold for all classes.</returns>
    public static ConformalClassifierBuilder Create() => new();

    /// <summary>The non-conformity score.</summary>
    public ConformalScore Score { get; }

    /// <summary>The coverage asked for, 1 − α: the probability that a set holds the true class.</summary>
    public double Coverage { get; }

    /// <summary>Whether each class has its own threshold (Mondrian conformal prediction: coverage per class).</summary>
    public bool IsClassConditional { get; }

    /// <summary>RAPS's penalty λ per rank beyond <see cref="RegularizationRank"/> (0 for the other scores).</summary>
    public double Regularization { get; }

    /// <summary>RAPS's k_reg: how many top-ranked classes go unpenalised (0 for the other scores).</summary>
    public int RegularizationRank { get; }

    /// <summary>The number of classes.</summary>
    public int ClassCount => _thresholds.Length;

    /// <summary>The number of calibration images.</summary>
    public int CalibrationCount { get; }

    /// <summary>Calibration images per class.</summary>
    public IReadOnlyList<int> CalibrationClassCounts => _classCounts;

    /// <summary>
    /// The threshold q̂ each class's score is held to (index = class; all equal unless class-conditional);
    /// <see cref="double.PositiveInfinity"/> where the calibration images were too few for the coverage asked.
    /// </summary>
    public IReadOnlyList<double> Thresholds => _thresholds;

    /// <summary>The one threshold q̂ of a marginal calibration; for a class-conditional one, use <see cref="Thresholds"/>.</summary>
    /// <exception cref="InvalidOperationException">The calibration is class-conditional.</exception>
    public double Threshold => IsClassConditional
        ? throw new InvalidOperationException("A class-conditional calibration has one threshold per class: read Thresholds.")
        : _thresholds[0];

    /// <summary>What the calibration could not do as asked (too few calibration images for the coverage, overall or in a class).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The score of <paramref name="label"/> for one image's class probabilities.</summary>
    /// <param name="probabilities">The image's class probabilities (softmax), one per class.</param>
    /// <param name="label">The class to score.</param>
    /// <returns>The non-conformity score: the lower, the more the class conforms.</returns>
    public double ScoreOf(ReadOnlySpan<double> probabilities, int label)
    {
        ValidateRow(probabilities, ClassCount, "row", nameof(probabilities));
        if ((uint)label >= (uint)ClassCount)
            throw new ArgumentOutOfRangeException(nameof(label), label, $"The label must lie in [0, {ClassCount}).");
        // On the stack for the usual handful of classes; on the heap for thousands, which would overflow it.
        Span<int> order = ClassCount <= StackClasses ? stackalloc int[ClassCount] : new int[ClassCount];
        Span<double> e = ClassCount <= StackClasses ? stackalloc double[ClassCount] : new double[ClassCount];
        Sequence(Score, probabilities, Regularization, RegularizationRank, order, e);
        return e[order.IndexOf(label)];
    }

    /// <summary>The prediction set of one image: its classes in ascending order (an interval of grades for <see cref="ConformalScore.OrdinalAps"/>).</summary>
    /// <param name="probabilities">The image's class probabilities (softmax), one per class.</param>
    /// <returns>The classes in the set; empty only for <see cref="ConformalScore.Lac"/> or a class-conditional calibration.</returns>
    public int[] PredictSet(ReadOnlySpan<double> probabilities)
    {
        ValidateRow(probabilities, ClassCount, "row", nameof(probabilities));
        return SetOf(probabilities);
    }

    /// <summary>The prediction set of one image from float probabilities (as <see cref="Inference.Prediction.Probabilities"/>).</summary>
    /// <param name="probabilities">The image's class probabilities (softmax), one per class.</param>
    /// <returns>The classes in the set, ascending.</returns>
    public int[] PredictSet(ReadOnlySpan<float> probabilities)
    {
        var row = new double[probabilities.Length];
        for (int j = 0; j < row.Length; j++) row[j] = probabilities[j];
        return PredictSet(row);
    }

    /// <summary>The prediction sets of many images.</summary>
    /// <param name="probabilities">N × K class probabilities (softmax), one row per image.</param>
    /// <returns>One set per image, classes ascending.</returns>
    public int[][] PredictSets(double[,] probabilities)
    {
        ValidateMatrix(probabilities, ClassCount, nameof(probabilities));
        int n = probabilities.GetLength(0);
        var sets = new int[n][];
        var row = new double[ClassCount];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < row.Length; j++) row[j] = probabilities[i, j];
            sets[i] = SetOf(row);
        }
        return sets;
    }

    /// <summary>Coverage and set sizes on labelled images that took no part in the calibration (e.g. the test split).</summary>
    /// <param name="labels">True classes, one per image.</param>
    /// <param name="probabilities">N × K class probabilities.</param>
    /// <returns>Coverage (with a Clopper–Pearson 95% interval), set sizes, and both per class and per set size.</returns>
    public ConformalEvaluation Evaluate(int[] labels, double[,] probabilities)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ValidateMatrix(probabilities, ClassCount, nameof(probabilities));
        ValidateLabels(labels, probabilities, ClassCount, nameof(labels));
        return new ConformalEvaluation(Coverage, labels, PredictSets(probabilities), ClassCount);
    }

    /// <summary>Coverage and set sizes on labelled images, labels as an N × 1 matrix (as MedMNIST stores them).</summary>
    /// <param name="labels">N × 1 true classes.</param>
    /// <param name="probabilities">N × K class probabilities.</param>
    /// <returns>See <see cref="Evaluate(int[], double[,])"/>.</returns>
    public ConformalEvaluation Evaluate(int[,] labels, double[,] probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        return Evaluate(PredictionSet.LabelVector(labels, "Conformal prediction", nameof(labels)), probabilities);
    }

    /// <summary>
    /// Where the coverage of this calibration on new images lies over draws of the calibration set: with n calibration
    /// images and l = ⌈(n+1)(1−α)⌉, the coverage given the calibration is Beta(l, n + 1 − l) distributed (Vovk 2012) —
    /// the spread a small validation split leaves around the coverage asked for. For a class-conditional calibration
    /// the interval of <paramref name="forClass"/>'s coverage.
    /// </summary>
    /// <param name="level">The probability the interval holds, e.g. 0.9.</param>
    /// <param name="forClass">The class (class-conditional calibrations only).</param>
    /// <returns>The central interval; [1, 1] when the threshold is +∞.</returns>
    public ConfidenceInterval CoverageDistribution(double level = 0.9, int? forClass = null)
    {
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "The level must lie in (0, 1).");
        int n;
        if (IsClassConditional)
        {
            if (forClass is not int c) throw new ArgumentException("A class-conditional calibration has one coverage distribution per class: name the class.", nameof(forClass));
            if ((uint)c >= (uint)ClassCount) throw new ArgumentOutOfRangeException(nameof(forClass), c, $"The class must lie in [0, {ClassCount}).");
            n = _classCounts[c];
        }
        else
        {
            if (forClass is not null) throw new ArgumentException("A marginal calibration has one coverage distribution: leave the class out.", nameof(forClass));
            n = CalibrationCount;
        }
        int l = QuantileRank(n, Coverage);
        if (l > n) return new ConfidenceInterval(1, 1, level);
        double a = l, b = n + 1 - l;
        return new ConfidenceInterval(Beta.InvCDF(a, b, (1 - level) / 2), Beta.InvCDF(a, b, (1 + level) / 2), level);
    }

    /// <inheritdoc />
    public override string ToString()
    {
        string thresholds = IsClassConditional
            ? "[" + string.Join(", ", _thresholds.Select(t => t.ToString("G6", CultureInfo.InvariantCulture))) + "]"
            : _thresholds[0].ToString("G6", CultureInfo.InvariantCulture);
        string raps = Score == ConformalScore.Raps ? string.Create(CultureInfo.InvariantCulture, $", λ = {Regularization:G4}, k_reg = {RegularizationRank}") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"ConformalClassifier({Score}{raps}, coverage {Coverage:G4}{(IsClassConditional ? " per class" : "")}, q̂ = {thresholds}, {CalibrationCount} calibration images)");
    }

    // The ⌈(n+1)·coverage⌉ rank of the calibration quantile (1-based), computed so that decimal coverages such as 0.9 give the
    // exact rational ceiling: (n+1)·0.9 for n = 119 is 108 (not 108.00000000000001).
    internal static int QuantileRank(int n, double coverage) => (int)Math.Ceiling(((n + 1) * coverage) - 1e-9);

    // The classes of one image in the score's order, and e[j]: the score a class would have at position j of that order.
    internal static void Sequence(ConformalScore score, ReadOnlySpan<double> p, double lambda, int kReg, Span<int> order, Span<double> e)
    {
        int k = p.Length;
        if (score == ConformalScore.OrdinalAps)
        {
            int top = 0;
            for (int j = 1; j < k; j++) if (p[j] > p[top]) top = j;
            int low = top, high = top;
            order[0] = top;
            for (int j = 1; j < k; j++)
            {
                // Grow towards the more probable neighbour; on a tie, towards the lower grade.
                double left = low > 0 ? p[low - 1] : double.NegativeInfinity;
                double right = high < k - 1 ? p[high + 1] : double.NegativeInfinity;
                order[j] = left >= right ? --low : ++high;
            }
        }
        else
        {
            for (int j = 0; j < k; j++) order[j] = j;
            // Most probable first; equal probabilities keep class order. Insertion sort for the usual handful of classes
            // (stable, no allocation); a comparison sort on (probability, class) for many.
            if (k <= 32)
            {
                for (int j = 1; j < k; j++)
                {
                    int c = order[j];
                    int i = j - 1;
                    while (i >= 0 && p[order[i]] < p[c]) { order[i + 1] = order[i]; i--; }
                    order[i + 1] = c;
                }
            }
            else
            {
                var probabilities = p.ToArray();
                order.Sort((a, b) => probabilities[a] != probabilities[b] ? probabilities[b].CompareTo(probabilities[a]) : a.CompareTo(b));
            }
        }

        double mass = 0;
        for (int j = 0; j < k; j++)
        {
            double pj = p[order[j]];
            mass += pj;
            e[j] = score switch
            {
                ConformalScore.Lac => 1 - pj,
                ConformalScore.Raps => mass + (lambda * Math.Max(0, j + 1 - kReg)),
                _ => mass,
            };
        }
    }

    private int[] SetOf(ReadOnlySpan<double> p)
    {
        int k = ClassCount;
        Span<int> order = k <= StackClasses ? stackalloc int[k] : new int[k];
        Span<double> e = k <= StackClasses ? stackalloc double[k] : new double[k];
        Sequence(Score, p, Regularization, RegularizationRank, order, e);
        var inSet = new bool[k];
        for (int j = 0; j < k; j++) inSet[order[j]] = e[j] <= _thresholds[order[j]];
        // Cumulative scores: the most probable class (grade) is always in the set, so no set is empty.
        if (Score != ConformalScore.Lac) inSet[order[0]] = true;
        if (Score == ConformalScore.OrdinalAps && IsClassConditional)
        {
            // An ordinal set is an interval of grades: fill the gaps per-class thresholds can leave (only adds coverage).
            int first = Array.IndexOf(inSet, true), last = Array.LastIndexOf(inSet, true);
            for (int c = first; c <= last; c++) inSet[c] = true;
        }

        int count = 0;
        foreach (bool b in inSet) if (b) count++;
        var set = new int[count];
        for (int c = 0, i = 0; c < k; c++) if (inSet[c]) set[i++] = c;
        return set;
    }

    internal static void ValidateRow(ReadOnlySpan<double> p, int classCount, string what, string name)
    {
        if (p.Length != classCount)
            throw new ArgumentException($"The {what} has {p.Length} probabilities but the calibration has {classCount} classes.", name);
        double sum = 0;
        for (int j = 0; j < p.Length; j++)
        {
            double v = p[j];
            if (!double.IsFinite(v) || v < 0 || v > 1 + SumTolerance)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"The {what}'s probability of class {j} is {v}: conformal scores need class probabilities in [0, 1] (softmax outputs, not logits)."), name);
            sum += v;
        }
        if (Math.Abs(sum - 1) > SumTolerance)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The {what}'s probabilities sum to {sum:G6}, not 1: conformal scores need one softmax distribution per image (not logits, nor multi-label sigmoids)."), name);
    }

    internal static void ValidateMatrix(double[,] probabilities, int classCount, string name)
    {
        ArgumentNullException.ThrowIfNull(probabilities, name);
        int n = probabilities.GetLength(0), k = probabilities.GetLength(1);
        if (n == 0) throw new ArgumentException("The probability matrix has no rows: at least one image is needed.", name);
        if (classCount >= 0 && k != classCount)
            throw new ArgumentException($"The probability matrix has {k} columns but the calibration has {classCount} classes.", name);
        if (k < 2) throw new ArgumentException($"The probability matrix has {k} column{(k == 1 ? "" : "s")}: conformal sets need at least two classes (a binary model's softmax has two columns).", name);
        var row = new double[k];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < k; j++) row[j] = probabilities[i, j];
            ValidateRow(row, k, $"row {i}", name);
        }
    }

    internal static void ValidateLabels(int[] labels, double[,] probabilities, int classCount, string name)
    {
        if (labels.Length != probabilities.GetLength(0))
            throw new ArgumentException($"Length mismatch: {labels.Length} labels but {probabilities.GetLength(0)} probability rows.", name);
        PredictionSet.ValidateClassLabels(labels, classCount, name);
    }
}
