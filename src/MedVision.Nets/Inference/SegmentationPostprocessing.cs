using MedVision.Nets.Metrics.Segmentation;

namespace MedVision.Nets.Inference;

/// <summary>
/// nnU-Net's choice of post-processing: whether keeping only the largest connected component helps is measured on
/// cases the model did not train on (its cross-validation's, or a validation set's) — first for the foreground taken as
/// one, then class by class — and kept with the model (<see cref="SegmentationCard.KeepLargestForeground"/>,
/// <see cref="SegmentationCard.KeepLargestComponent"/>) so that every later prediction applies the same.
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
        CheckAlike(asPredicted, keptLargest, nameof(keptLargest));
        return asPredicted.Classes.Zip(keptLargest.Classes)
            .Where(pair => pair.First.Class > 0 && pair.Second.Dice > pair.First.Dice)   // NaN (never present) compares false: a tie
            .Select(pair => pair.First.Class).Order().ToArray();
    }

    /// <summary>
    /// Whether to keep only the largest connected component of the foreground taken as one
    /// (<see cref="ConnectedComponents.KeepLargestForeground"/>), nnU-Net's first step: yes when it raises the mean Dice
    /// of at least one foreground class and lowers none's, on the same cases measured as predicted and after it. With
    /// one foreground class the step is the per-class one, which <see cref="ChooseKeepLargest"/> decides: no. The
    /// per-class choice (<see cref="ChooseKeepLargest"/>) is then made on top of the result: measure "as predicted" as
    /// the foreground step leaves the maps when this says yes.
    /// </summary>
    /// <param name="asPredicted">The cases' measures as predicted.</param>
    /// <param name="foregroundKept">The same cases' measures with the foreground's largest component kept.</param>
    /// <exception cref="ArgumentException">The two summaries are of different cases or classes.</exception>
    public static bool ChooseKeepLargestForeground(SegmentationSummary asPredicted, SegmentationSummary foregroundKept)
    {
        CheckAlike(asPredicted, foregroundKept, nameof(foregroundKept));
        var pairs = asPredicted.Classes.Zip(foregroundKept.Classes).Where(pair => pair.First.Class > 0).ToList();
        if (pairs.Count < 2) return false;   // one structure: the same operation as the per-class step, which decides it
        // NaN (a class never present) compares false both ways: neither a gain nor a loss.
        return pairs.Any(pair => pair.Second.Dice > pair.First.Dice) && !pairs.Any(pair => pair.Second.Dice < pair.First.Dice);
    }

    private static void CheckAlike(SegmentationSummary asPredicted, SegmentationSummary changed, string parameter)
    {
        ArgumentNullException.ThrowIfNull(asPredicted);
        ArgumentNullException.ThrowIfNull(changed, parameter);
        if (asPredicted.Cases != changed.Cases || !asPredicted.Classes.Select(c => c.Class).SequenceEqual(changed.Classes.Select(c => c.Class)))
            throw new ArgumentException($"The summaries must be of the same cases and classes: {asPredicted.Cases} cases of classes [{string.Join(", ", asPredicted.Classes.Select(c => c.Class))}] against {changed.Cases} of [{string.Join(", ", changed.Classes.Select(c => c.Class))}].", parameter);
    }
}
