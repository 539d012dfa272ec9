using MedVision.Nets.Metrics.Segmentation;

namespace MedVision.Nets.Inference;

/// <summary>
/// nnU-Net's choice of post-processing: whether keeping only a class's largest connected component helps is measured
/// on cases the model did not train on (its cross-validation's, or a validation set's), class by class, and kept with
/// the model (<see cref="SegmentationCard.KeepLargestComponent"/>) so that every later prediction applies the same.
/// </summary>
public static class SegmentationPostprocessing
{
    /// <summary>
    /// The foreground classes whose mean Dice rises when each keeps only its largest connected component: the same
    /// cases measured as predicted and after <see cref="ConnectedComponents.KeepLargestPerClass"/> of every class (with
    /// the predictor's <c>ComponentConnectivity</c>). Classes are independent there — removed voxels become background,
    /// which changes no other class's Dice — so one pass over all classes decides each. A tie (no change, or a class
    /// never present in the truth) keeps the predictions as they are, as nnU-Net does. Ascending class order.
    /// </summary>
    /// <param name="asPredicted">The cases' measures as predicted.</param>
    /// <param name="keptLargest">The same cases' measures with each class's largest component kept.</param>
    /// <exception cref="ArgumentException">The two summaries are of different cases or classes.</exception>
    public static IReadOnlyList<int> ChooseKeepLargest(SegmentationSummary asPredicted, SegmentationSummary keptLargest)
    {
        ArgumentNullException.ThrowIfNull(asPredicted);
        ArgumentNullException.ThrowIfNull(keptLargest);
        if (asPredicted.Cases != keptLargest.Cases || !asPredicted.Classes.Select(c => c.Class).SequenceEqual(keptLargest.Classes.Select(c => c.Class)))
            throw new ArgumentException($"The summaries must be of the same cases and classes: {asPredicted.Cases} cases of classes [{string.Join(", ", asPredicted.Classes.Select(c => c.Class))}] against {keptLargest.Cases} of [{string.Join(", ", keptLargest.Classes.Select(c => c.Class))}].", nameof(keptLargest));
        return asPredicted.Classes.Zip(keptLargest.Classes)
            .Where(pair => pair.First.Class > 0 && pair.Second.Dice > pair.First.Dice)   // NaN (never present) compares false: a tie
            .Select(pair => pair.First.Class).Order().ToArray();
    }
}
