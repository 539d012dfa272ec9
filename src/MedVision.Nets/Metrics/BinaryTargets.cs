using System.Globalization;

namespace MedVision.Nets.Metrics;

/// <summary>
/// A validated binary problem — one ranked score column and the 0/1 positive flag of every sample — as every
/// binary AUC and curve consumes it: plain binary labels, one class of a multi-class problem against the rest, or
/// one label column of a multi-label problem.
/// </summary>
internal sealed class BinaryTargets
{
    private BinaryTargets(RankedColumn column, byte[] positive, string description)
    {
        Column = column;
        Positive = positive;
        Description = description;
    }

    /// <summary>The score column, ranked.</summary>
    public RankedColumn Column { get; }

    /// <summary>1 for a positive sample, 0 for a negative one.</summary>
    public byte[] Positive { get; }

    /// <summary>What the positives are, for warnings ("the labels", "class 3", "label 2").</summary>
    public string Description { get; }

    /// <summary>Binary 0/1 labels against one score per sample.</summary>
    public static BinaryTargets FromBinary(int[] labels, double[] scores)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores);
        if (labels.Length == 0)
        {
            throw new ArgumentException("Labels are empty: at least one sample is required.", nameof(labels));
        }

        if (labels.Length != scores.Length)
        {
            throw new ArgumentException(
                $"Length mismatch: labels has {labels.Length} entries but scores has {scores.Length}.", nameof(labels));
        }

        PredictionSet.ValidateClassLabels(labels, 2, nameof(labels));
        PredictionSet.ValidateScores(scores);
        var positive = new byte[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            positive[i] = (byte)labels[i];
        }

        return new BinaryTargets(RankedColumn.FromSpan(scores), positive, "the labels");
    }

    /// <summary>
    /// Whether the samples hold both positives and negatives (otherwise the AUC is undefined and one of the curve's
    /// rates is NaN).
    /// </summary>
    public bool HasBothOutcomes => Positive.AsSpan().Contains((byte)0) && Positive.AsSpan().Contains((byte)1);

    /// <summary>Class <paramref name="positiveClass"/> of class indices in [0, K) against the rest.</summary>
    public static BinaryTargets OneVsRest(int[] labels, double[,] scores, int positiveClass)
        => OneVsRest(PredictionSet.Create(MedMnistTask.MultiClass, labels, scores), positiveClass);

    /// <summary>Class <paramref name="positiveClass"/> of an already validated single-label set against the rest.</summary>
    public static BinaryTargets OneVsRest(PredictionSet set, int positiveClass)
    {
        CheckColumn(positiveClass, set.ColumnCount, nameof(positiveClass), "Positive class");
        int[] labels = set.Labels!;
        var positive = new byte[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            positive[i] = labels[i] == positiveClass ? (byte)1 : (byte)0;
        }

        return new BinaryTargets(
            RankedColumn.FromColumn(set.Scores, positiveClass), positive, string.Create(CultureInfo.InvariantCulture, $"class {positiveClass}"));
    }

    /// <summary>Column <paramref name="label"/> of an N×K 0/1 multi-label target matrix.</summary>
    public static BinaryTargets ForLabel(int[,] labels, double[,] scores, int label)
        => ForLabel(PredictionSet.Create(MedMnistTask.MultiLabel, labels, scores), label);

    /// <summary>Column <paramref name="label"/> of an already validated multi-label set.</summary>
    public static BinaryTargets ForLabel(PredictionSet set, int label)
    {
        CheckColumn(label, set.ColumnCount, nameof(label), "Label");
        int[,] labels = set.MultiLabels!;
        var positive = new byte[set.SampleCount];
        for (int i = 0; i < positive.Length; i++)
        {
            positive[i] = (byte)labels[i, label];
        }

        return new BinaryTargets(
            RankedColumn.FromColumn(set.Scores, label), positive, string.Create(CultureInfo.InvariantCulture, $"label {label}"));
    }

    private static void CheckColumn(int column, int columnCount, string parameter, string what)
    {
        if ((uint)column >= (uint)columnCount)
        {
            throw new ArgumentOutOfRangeException(parameter, column, $"{what} must be in [0, {columnCount}).");
        }
    }
}
