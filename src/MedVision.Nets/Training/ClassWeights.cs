namespace MedVision.Nets.Training;

/// <summary>
/// Per-class weights of the cross-entropy for imbalanced training sets (most medical ones: few severe grades, few
/// positive findings), for <see cref="ClassificationTask"/>'s <c>classWeights</c> as
/// <c>torch.nn.CrossEntropyLoss(weight=…)</c> takes them.
/// </summary>
public static class ClassWeights
{
    /// <summary>
    /// scikit-learn's <c>compute_class_weight("balanced")</c>: n / (K · n_k) for class k of n_k among n labels, so that
    /// every class weighs as much in the loss as if the classes were equally frequent (a class as frequent as the average
    /// gets 1).
    /// </summary>
    /// <param name="labels">The training labels (class indices).</param>
    /// <param name="classCount">K, the number of classes.</param>
    /// <returns>The K weights.</returns>
    /// <exception cref="ArgumentException">No labels, a label outside 0 … K − 1, or a class with no label (its weight would be infinite).</exception>
    public static float[] Balanced(IReadOnlyList<int> labels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        if (labels.Count == 0) throw new ArgumentException("There are no labels to count.", nameof(labels));
        var counts = new long[classCount];
        for (int i = 0; i < labels.Count; i++)
        {
            int label = labels[i];
            if (label < 0 || label >= classCount)
                throw new ArgumentException($"Label {i} is {label}, outside the {classCount} classes 0 … {classCount - 1}.", nameof(labels));
            counts[label]++;
        }
        int missing = Array.IndexOf(counts, 0L);
        if (missing >= 0)
            throw new ArgumentException($"Class {missing} has no label among the {labels.Count}: a balanced weight needs every class present (drop the class, or give weights yourself).", nameof(labels));
        return counts.Select(n => (float)(labels.Count / ((double)classCount * n))).ToArray();
    }
}
