using MedVision.Nets.Data.Nifti;

namespace MedVision.Nets.Inference;

/// <summary>
/// Ensembles of saved predictions, as nnU-Net's <c>nnUNetv2_ensemble</c> merges the probabilities its predictions saved:
/// the class probabilities of several predictions of one scan — other configurations (a 2-D and a 3-D network), folds
/// run on other machines, runs of other seeds; each from <see cref="SegmentationPredictor.PredictWithProbabilities"/>
/// or <c>segmentation predict --probabilities</c> — averaged (<see cref="Average"/>), and the label map of their
/// arg-max (<see cref="Labels"/>; for images <see cref="AverageImages"/> and <see cref="ImageMap"/>). Unlike <see cref="SegmentationPredictor.LoadEnsemble"/>, the members need not share
/// a preparation or window, nor run in one process: only the scan's grid and the classes.
/// </summary>
public static class SegmentationProbabilities
{
    /// <summary>
    /// The (weighted) mean of several predictions' probabilities of one scan: each prediction a volume per class, all
    /// on one grid, with the same classes in the same order.
    /// </summary>
    /// <param name="predictions">The predictions, at least one; each at least two volumes (background first).</param>
    /// <param name="weights">Each prediction's weight (finite, non-negative, not all 0); equal when null.</param>
    /// <exception cref="ArgumentException">No predictions, a prediction of fewer than two classes or of another class count than the first, a volume off the first's grid, or bad weights.</exception>
    public static IReadOnlyList<NiftiImage> Average(IReadOnlyList<IReadOnlyList<NiftiImage>> predictions, IReadOnlyList<double>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        if (predictions.Count == 0) throw new ArgumentException("Give at least one prediction's probabilities.", nameof(predictions));
        var first = predictions[0] ?? throw new ArgumentException("Prediction 0 is null.", nameof(predictions));
        if (first.Count < 2) throw new ArgumentException($"Prediction 0 has {first.Count} probability volume(s); a segmentation's probabilities are a volume per class, background included (at least 2).", nameof(predictions));
        var grid = first[0] ?? throw new ArgumentException("Prediction 0's volume 0 is null.", nameof(predictions));
        for (int p = 0; p < predictions.Count; p++)
        {
            var prediction = predictions[p] ?? throw new ArgumentException($"Prediction {p} is null.", nameof(predictions));
            if (prediction.Count != first.Count)
                throw new ArgumentException($"Prediction {p} has {prediction.Count} classes and prediction 0 has {first.Count}; an ensemble's predictions give the same classes.", nameof(predictions));
            for (int k = 0; k < prediction.Count; k++)
            {
                var volume = prediction[k] ?? throw new ArgumentException($"Prediction {p}'s volume {k} is null.", nameof(predictions));
                if (!volume.IsOnGridOf(grid))
                    throw new ArgumentException($"Prediction {p}'s volume {k} ({string.Join("×", volume.Shape)}) is not on the grid of prediction 0's ({string.Join("×", grid.Shape)}, the same affine); average predictions of one scan, each on its grid.", nameof(predictions));
            }
        }
        return Mean(predictions.Select(p => p.Select(v => v.Voxels).ToArray()).ToList(), weights)
            .Select(mean => new NiftiImage(mean, grid.Shape, grid.Spacing, NiftiDataType.Float32, grid.Affine, grid.AffineCode)).ToList();
    }

    /// <summary>
    /// The (weighted) mean of several predictions' probabilities of one image (as <see cref="Average(IReadOnlyList{IReadOnlyList{NiftiImage}}, IReadOnlyList{double}?)"/>
    /// for scans): each prediction an array of <paramref name="height"/> × <paramref name="width"/> values per class
    /// (x fastest; <see cref="ImageSegmentationPredictor.PredictWithProbabilities"/>, or the planes of the
    /// (classes, H, W) array <c>segmentation predict --probabilities</c> saves), with the same classes in the same order.
    /// </summary>
    /// <exception cref="ArgumentException">No predictions, a prediction of fewer than two classes or of another class count than the first, an array not of height × width values, or bad weights.</exception>
    public static IReadOnlyList<float[]> AverageImages(IReadOnlyList<IReadOnlyList<float[]>> predictions, int height, int width, IReadOnlyList<double>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (predictions.Count == 0) throw new ArgumentException("Give at least one prediction's probabilities.", nameof(predictions));
        for (int p = 0; p < predictions.Count; p++)
        {
            var prediction = predictions[p] ?? throw new ArgumentException($"Prediction {p} is null.", nameof(predictions));
            if (prediction.Count < 2) throw new ArgumentException($"Prediction {p} has {prediction.Count} probability plane(s); a segmentation's probabilities are a plane per class, background included (at least 2).", nameof(predictions));
            if (prediction.Count != predictions[0].Count)
                throw new ArgumentException($"Prediction {p} has {prediction.Count} classes and prediction 0 has {predictions[0].Count}; an ensemble's predictions give the same classes.", nameof(predictions));
            for (int k = 0; k < prediction.Count; k++)
                if (prediction[k] is not { } plane || plane.Length != height * width)
                    throw new ArgumentException($"Prediction {p}'s plane {k} has {prediction[k]?.Length ?? 0} values, not {height}×{width}; average predictions of one image, each on its size.", nameof(predictions));
        }
        return Mean(predictions.Select(p => p.ToArray()).ToList(), weights);
    }

    // Class by class, the weighted mean of the predictions' arrays (checked to be alike).
    private static float[][] Mean(IReadOnlyList<float[][]> predictions, IReadOnlyList<double>? weights)
    {
        EnsembleWeights.Check(weights, predictions.Count, "predictions");
        double[] w = EnsembleWeights.Normalised(weights, predictions.Count);
        return Enumerable.Range(0, predictions[0].Length).Select(k =>
        {
            var mean = new float[predictions[0][k].Length];
            for (int p = 0; p < predictions.Count; p++)
            {
                if (w[p] == 0) continue;
                var values = predictions[p][k];
                float weight = (float)w[p];
                for (int i = 0; i < mean.Length; i++) mean[i] += weight * values[i];
            }
            return mean;
        }).ToArray();
    }


    /// <summary>
    /// The label map of a scan's class probabilities (a volume per class, background first, on one grid): the arg-max
    /// per voxel, then <paramref name="postprocessing"/> (the foreground's largest region, then the classes' largest
    /// components, with the scan predictor's <see cref="SegmentationPredictor.ComponentConnectivity"/>). Stored as uint8
    /// up to 256 classes, else int16, on the probabilities' grid.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two volumes, volumes on different grids, or a post-processing choice naming classes the probabilities do not have.</exception>
    public static NiftiImage Labels(IReadOnlyList<NiftiImage> probabilities, SegmentationPostprocessingChoice? postprocessing = null)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        var average = Average([probabilities]);   // the same checks (the mean of one prediction is itself)
        int classes = average.Count;
        if (postprocessing?.Problem(classes) is { } problem) throw new ArgumentException($"The post-processing does not fit {classes} classes: {problem}.", nameof(postprocessing));
        var grid = average[0];
        if (grid.Shape.Count != 3) throw new ArgumentException($"The probabilities are {grid.Shape.Count}-D volumes; label maps are made of 3-D ones.", nameof(probabilities));
        var labels = SegmentationInference.ArgMax([.. average.Select(v => v.Voxels)]);
        if (postprocessing is not null)
            labels = SegmentationInference.KeepLargest(labels, [grid.Shape[2], grid.Shape[1], grid.Shape[0]], [.. postprocessing.KeepLargestComponent], classes, SegmentationPredictor.ComponentConnectivity, postprocessing.KeepLargestForeground);
        var voxels = new float[labels.Length];
        for (int i = 0; i < voxels.Length; i++) voxels[i] = labels[i];
        return new NiftiImage(voxels, grid.Shape, grid.Spacing, classes <= 256 ? NiftiDataType.UInt8 : NiftiDataType.Int16, grid.Affine, grid.AffineCode);
    }

    /// <summary>
    /// The segmentation map of an image's class probabilities (a plane of <paramref name="height"/> × <paramref name="width"/>
    /// values per class, background first): the arg-max per pixel, then <paramref name="postprocessing"/> with the image
    /// predictor's <see cref="ImageSegmentationPredictor.ComponentConnectivity"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two planes, planes not of height × width values, class names that do not match the planes, or a post-processing choice naming classes they do not have.</exception>
    public static SegmentationMap ImageMap(IReadOnlyList<float[]> probabilities, int height, int width, IReadOnlyList<string> classNames, SegmentationPostprocessingChoice? postprocessing = null)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(classNames);
        AverageImages([probabilities], height, width);   // the same checks
        int classes = probabilities.Count;
        if (classNames.Count != classes) throw new ArgumentException($"{classNames.Count} class names were given for {classes} probability planes.", nameof(classNames));
        if (postprocessing?.Problem(classes) is { } problem) throw new ArgumentException($"The post-processing does not fit {classes} classes: {problem}.", nameof(postprocessing));
        var labels = SegmentationInference.ArgMax([.. probabilities]);
        if (postprocessing is not null)
            labels = SegmentationInference.KeepLargest(labels, [height, width], [.. postprocessing.KeepLargestComponent], classes, ImageSegmentationPredictor.ComponentConnectivity, postprocessing.KeepLargestForeground);
        return new SegmentationMap(labels, height, width, classNames);
    }
}
