using System.Globalization;

namespace MedVision.Nets.Metrics;

/// <summary>
/// A K×K confusion matrix: rows are the true classes, columns the predicted classes (scikit-learn's
/// <c>confusion_matrix</c> with <c>labels=range(K)</c>, so absent classes keep their zero rows and columns).
/// </summary>
public sealed class ConfusionMatrix
{
    /// <summary>
    /// The most classes accepted: the K×K counts of 10,000 classes take 800 MB, and no imaging task has that many
    /// (a larger count is a mistake, e.g. a label value passed as the count).
    /// </summary>
    public const int MaxClassCount = 10_000;

    private readonly long[,] _counts;

    private ConfusionMatrix(long[,] counts)
    {
        _counts = counts;
        ClassCount = counts.GetLength(0);
        long total = 0;
        foreach (long c in counts)
        {
            total += c;
        }

        Total = total;
    }

    /// <summary>The number of classes K.</summary>
    public int ClassCount { get; }

    /// <summary>The number of samples counted.</summary>
    public long Total { get; }

    /// <summary>The number of samples of true class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    /// <param name="actual">True class index.</param>
    /// <param name="predicted">Predicted class index.</param>
    public long this[int actual, int predicted] => _counts[actual, predicted];

    /// <summary>Overall accuracy: the trace divided by the total.</summary>
    public double Accuracy
    {
        get
        {
            long correct = 0;
            for (int k = 0; k < ClassCount; k++)
            {
                correct += _counts[k, k];
            }

            return (double)correct / Total;
        }
    }

    /// <summary>Builds the confusion matrix of predictions against targets.</summary>
    /// <param name="actual">True class indices in [0, <paramref name="classCount"/>).</param>
    /// <param name="predicted">Predicted class indices in [0, <paramref name="classCount"/>).</param>
    /// <param name="classCount">The number of classes K (1 to <see cref="MaxClassCount"/>).</param>
    /// <returns>The matrix.</returns>
    /// <exception cref="ArgumentException">Empty input, length mismatch or a class index outside [0, K).</exception>
    public static ConfusionMatrix FromPredictions(int[] actual, int[] predicted, int classCount)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        if (classCount is < 1 or > MaxClassCount)
        {
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, string.Create(CultureInfo.InvariantCulture, $"Class count must lie in [1, {MaxClassCount:N0}]."));
        }

        if (actual.Length == 0)
        {
            throw new ArgumentException("Labels are empty: at least one sample is required.", nameof(actual));
        }

        if (actual.Length != predicted.Length)
        {
            throw new ArgumentException(
                $"Length mismatch: actual has {actual.Length} entries but predicted has {predicted.Length}.", nameof(predicted));
        }

        PredictionSet.ValidateClassLabels(actual, classCount, nameof(actual));
        PredictionSet.ValidateClassLabels(predicted, classCount, nameof(predicted));
        return FromValidated(actual, predicted, classCount, null);
    }

    internal static ConfusionMatrix FromValidated(int[] actual, int[] predicted, int classCount, int[]? weights)
    {
        var counts = new long[classCount, classCount];
        for (int i = 0; i < actual.Length; i++)
        {
            counts[actual[i], predicted[i]] += weights is null ? 1 : weights[i];
        }

        return new ConfusionMatrix(counts);
    }

    /// <summary>Samples of class <paramref name="k"/> predicted as <paramref name="k"/>.</summary>
    /// <param name="k">Class index.</param>
    /// <returns>The count.</returns>
    public long TruePositives(int k) => _counts[k, k];

    /// <summary>Samples of other classes predicted as <paramref name="k"/>.</summary>
    /// <param name="k">Class index.</param>
    /// <returns>The count.</returns>
    public long FalsePositives(int k) => PredictedCount(k) - _counts[k, k];

    /// <summary>Samples of class <paramref name="k"/> predicted as another class.</summary>
    /// <param name="k">Class index.</param>
    /// <returns>The count.</returns>
    public long FalseNegatives(int k) => Support(k) - _counts[k, k];

    /// <summary>Samples of other classes predicted as another class than <paramref name="k"/>.</summary>
    /// <param name="k">Class index.</param>
    /// <returns>The count.</returns>
    public long TrueNegatives(int k) => Total - Support(k) - PredictedCount(k) + _counts[k, k];

    /// <summary>Samples whose true class is <paramref name="k"/> (the row sum).</summary>
    /// <param name="k">Class index.</param>
    /// <returns>The count.</returns>
    public long Support(int k)
    {
        long s = 0;
        for (int j = 0; j < ClassCount; j++)
        {
            s += _counts[k, j];
        }

        return s;
    }

    /// <summary>Samples predicted as class <paramref name="k"/> (the column sum).</summary>
    /// <param name="k">Class index.</param>
    /// <returns>The count.</returns>
    public long PredictedCount(int k)
    {
        long s = 0;
        for (int i = 0; i < ClassCount; i++)
        {
            s += _counts[i, k];
        }

        return s;
    }

    /// <summary>
    /// Cohen's kappa with scikit-learn's <c>cohen_kappa_score(labels=range(K))</c> semantics: weights use class
    /// indices, so an absent middle grade still counts in the distance between its neighbours.
    /// </summary>
    /// <param name="weighting">Plain, linear or quadratic disagreement weights.</param>
    /// <returns>
    /// Kappa, or NaN with the reason when the expected weighted disagreement is zero (for example when the targets and
    /// predictions all fall in one class).
    /// </returns>
    public MetricResult CohenKappa(KappaWeighting weighting = KappaWeighting.None)
    {
        int k = ClassCount;
        var rows = new double[k];
        var cols = new double[k];
        for (int i = 0; i < k; i++)
        {
            rows[i] = Support(i);
            cols[i] = PredictedCount(i);
        }

        double total = Total;
        double observed = 0;
        double expected = 0;
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++)
            {
                double w = weighting switch
                {
                    KappaWeighting.None => i == j ? 0.0 : 1.0,
                    KappaWeighting.Linear => Math.Abs(i - j),
                    KappaWeighting.Quadratic => (double)(i - j) * (i - j),
                    _ => throw new ArgumentOutOfRangeException(nameof(weighting), weighting, "Unknown kappa weighting."),
                };
                observed += w * _counts[i, j];
                expected += w * (cols[j] * rows[i] / total);
            }
        }

        if (expected == 0)
        {
            return new MetricResult(double.NaN, new[]
            {
                "Cohen's kappa is undefined: the expected disagreement is zero (targets and predictions agree by chance alone, e.g. a single class).",
            });
        }

        return new MetricResult(1.0 - (observed / expected));
    }

    /// <summary>
    /// Mean absolute error between true and predicted class indices read as ordinal grades:
    /// Σ |i − j|·C[i, j] / N (scikit-learn's <c>mean_absolute_error</c> on the grade vectors).
    /// </summary>
    /// <returns>The mean absolute grade error.</returns>
    public double MeanAbsoluteError()
    {
        double sum = 0;
        for (int i = 0; i < ClassCount; i++)
        {
            for (int j = 0; j < ClassCount; j++)
            {
                sum += Math.Abs(i - j) * (double)_counts[i, j];
            }
        }

        return sum / Total;
    }

    /// <summary>Copies the counts into a new K×K array (rows true, columns predicted).</summary>
    /// <returns>The counts.</returns>
    public long[,] ToArray() => (long[,])_counts.Clone();
}
