using System.Globalization;

namespace MedVision.Nets.Metrics;

/// <summary>Validated, normalised evaluator input: labels plus an N×K score matrix of doubles.</summary>
internal sealed class PredictionSet
{
    private PredictionSet(MedMnistTask task, int[]? labels, int[,]? multiLabels, double[,] scores)
    {
        Task = task;
        Labels = labels;
        MultiLabels = multiLabels;
        Scores = scores;
        SampleCount = scores.GetLength(0);
        ColumnCount = scores.GetLength(1);
    }

    public MedMnistTask Task { get; }

    /// <summary>Single-label targets (all tasks except <see cref="MedMnistTask.MultiLabel"/>).</summary>
    public int[]? Labels { get; }

    /// <summary>N×K 0/1 targets for <see cref="MedMnistTask.MultiLabel"/>.</summary>
    public int[,]? MultiLabels { get; }

    public double[,] Scores { get; }

    public int SampleCount { get; }

    public int ColumnCount { get; }

    /// <summary>The number of classes used by the confusion-matrix metrics (2 for binary tasks).</summary>
    public int ClassCount => Task == MedMnistTask.Binary ? 2 : ColumnCount;

    public static PredictionSet Create(MedMnistTask task, int[] labels, double[,] scores)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ValidateScores(scores);
        if (task == MedMnistTask.MultiLabel)
        {
            throw new ArgumentException(
                "Task MultiLabel needs a label matrix (int[,] or int[][]), one column per label; a label vector was given.",
                nameof(labels));
        }

        ValidateSingleLabels(task, labels, scores);
        return new PredictionSet(task, labels, null, scores);
    }

    public static PredictionSet Create(MedMnistTask task, int[,] labels, double[,] scores)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ValidateScores(scores);
        if (task != MedMnistTask.MultiLabel)
        {
            var vector = LabelVector(labels, $"Task {task}", nameof(labels));
            ValidateSingleLabels(task, vector, scores);
            return new PredictionSet(task, vector, null, scores);
        }

        int n = labels.GetLength(0);
        int k = labels.GetLength(1);
        if (n == 0)
        {
            throw new ArgumentException("Labels are empty: at least one sample is required.", nameof(labels));
        }

        if (n != scores.GetLength(0))
        {
            throw new ArgumentException(
                $"Length mismatch: the label matrix has {n} rows but the score matrix has {scores.GetLength(0)} rows.",
                nameof(labels));
        }

        if (k != scores.GetLength(1))
        {
            throw new ArgumentException(
                $"Shape mismatch: the label matrix has {k} label columns but the score matrix has {scores.GetLength(1)} columns.",
                nameof(labels));
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < k; j++)
            {
                int v = labels[i, j];
                if (v != 0 && v != 1)
                {
                    throw new ArgumentException(
                        string.Create(CultureInfo.InvariantCulture, $"Multi-label label {v} at row {i}, column {j} is outside [0, 2): multi-label targets must be 0 or 1."),
                        nameof(labels));
                }
            }
        }

        return new PredictionSet(task, null, (int[,])labels.Clone(), scores);
    }

    /// <summary>
    /// The label vector of an N × 1 label matrix (like medmnist's squeeze()); a wider matrix (multi-label data) is an
    /// error naming <paramref name="user"/>.
    /// </summary>
    public static int[] LabelVector(int[,] labels, string user, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(labels, parameterName);
        if (labels.GetLength(1) != 1)
        {
            throw new ArgumentException(
                $"{user} needs one label per sample, but the label matrix has {labels.GetLength(1)} columns (multi-label data).",
                parameterName);
        }

        var vector = new int[labels.GetLength(0)];
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] = labels[i, 0];
        }

        return vector;
    }

    public static int[,] ToMatrix(int[][] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        int n = labels.Length;
        int k = n == 0 ? 0 : (labels[0] ?? throw new ArgumentException("Label row 0 is null.", nameof(labels))).Length;
        var matrix = new int[n, k];
        for (int i = 0; i < n; i++)
        {
            int[] row = labels[i] ?? throw new ArgumentException($"Label row {i} is null.", nameof(labels));
            if (row.Length != k)
            {
                throw new ArgumentException(
                    $"Ragged labels: row {i} has {row.Length} entries but row 0 has {k}.", nameof(labels));
            }

            for (int j = 0; j < k; j++)
            {
                matrix[i, j] = row[j];
            }
        }

        return matrix;
    }

    public static double[,] ToDouble(float[,] scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        int n = scores.GetLength(0);
        int k = scores.GetLength(1);
        var result = new double[n, k];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < k; j++)
            {
                result[i, j] = scores[i, j];
            }
        }

        return result;
    }

    public static void ValidateScores(double[,] scores, string name = "scores")
    {
        ArgumentNullException.ThrowIfNull(scores, name);
        int n = scores.GetLength(0);
        int k = scores.GetLength(1);
        if (n == 0)
        {
            throw new ArgumentException("Scores are empty: the score matrix has no rows; at least one sample is required.", name);
        }

        if (k == 0)
        {
            throw new ArgumentException("Scores are empty: the score matrix has no columns.", name);
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < k; j++)
            {
                double s = scores[i, j];
                if (!double.IsFinite(s))
                {
                    throw new ArgumentException(
                        $"Score at row {i}, column {j} is {(double.IsNaN(s) ? "NaN" : "infinite")}: scores must be finite numbers.",
                        name);
                }
            }
        }
    }

    public static void ValidateScores(ReadOnlySpan<double> scores, string name = "scores")
    {
        if (scores.Length == 0)
        {
            throw new ArgumentException("Scores are empty: at least one sample is required.", name);
        }

        for (int i = 0; i < scores.Length; i++)
        {
            if (!double.IsFinite(scores[i]))
            {
                throw new ArgumentException(
                    $"Score at index {i} is {(double.IsNaN(scores[i]) ? "NaN" : "infinite")}: scores must be finite numbers.",
                    name);
            }
        }
    }

    public static void ValidateClassLabels(int[] labels, int classCount, string name)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentException(
                    $"Label {labels[i]} at index {i} is outside [0, {classCount}).", name);
            }
        }
    }

    private static void ValidateSingleLabels(MedMnistTask task, int[] labels, double[,] scores)
    {
        if (labels.Length == 0)
        {
            throw new ArgumentException("Labels are empty: at least one sample is required.", nameof(labels));
        }

        if (labels.Length != scores.GetLength(0))
        {
            throw new ArgumentException(
                $"Length mismatch: labels has {labels.Length} entries but the score matrix has {scores.GetLength(0)} rows.",
                nameof(labels));
        }

        int k = task == MedMnistTask.Binary ? 2 : scores.GetLength(1);
        if (task != MedMnistTask.Binary && k < 2)
        {
            throw new ArgumentException(
                $"Task {task} needs a score matrix with at least 2 columns (one per class), but it has {k}.", nameof(scores));
        }

        ValidateClassLabels(labels, k, nameof(labels));
    }
}
