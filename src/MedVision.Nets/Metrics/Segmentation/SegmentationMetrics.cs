namespace MedVision.Nets.Metrics.Segmentation;

/// <summary>
/// Overlap and surface measures of one binary segmentation against the truth, on masks stored in C order (last axis
/// fastest) with their shape: Dice, IoU (Jaccard) and the surface distances (Hausdorff, HD95, ASSD, surface Dice)
/// with anisotropic voxel spacing. Definitions follow MONAI's metrics; a truth without foreground makes every
/// measure NaN (undefined, so left out of means, as MONAI's <c>ignore_empty</c>). For label maps with several
/// classes use <see cref="SegmentationEvaluator"/>.
/// </summary>
public static class SegmentationMetrics
{
    /// <summary>The Dice coefficient 2|P ∩ T| / (|P| + |T|); NaN when the truth is empty.</summary>
    public static double Dice(ReadOnlySpan<bool> prediction, ReadOnlySpan<bool> truth)
    {
        var (intersection, predicted, actual) = Count(prediction, truth);
        return DiceOf(intersection, predicted, actual);
    }

    /// <summary>The intersection over union |P ∩ T| / |P ∪ T| (Jaccard index); NaN when the truth is empty.</summary>
    public static double Iou(ReadOnlySpan<bool> prediction, ReadOnlySpan<bool> truth)
    {
        var (intersection, predicted, actual) = Count(prediction, truth);
        return IouOf(intersection, predicted, actual);
    }

    // Dice and IoU from the voxel counts; NaN when the truth is empty.
    internal static double DiceOf(long intersection, long predicted, long actual) => actual == 0 ? double.NaN : 2.0 * intersection / (predicted + actual);

    internal static double IouOf(long intersection, long predicted, long actual) => actual == 0 ? double.NaN : intersection / (double)(predicted + actual - intersection);

    /// <summary>The distances between the surfaces of the two masks (Hausdorff, HD95, ASSD, surface Dice).</summary>
    /// <param name="prediction">The predicted mask, C order.</param>
    /// <param name="truth">The true mask, same shape.</param>
    /// <param name="shape">The sizes of the axes (1 to 4), e.g. (D, H, W).</param>
    /// <param name="spacing">The voxel spacing per axis, e.g. millimetres (D, H, W); null for 1.</param>
    /// <exception cref="ArgumentException">The shape does not describe the masks, or a spacing is not a positive finite number.</exception>
    public static SurfaceDistances SurfaceDistances(ReadOnlySpan<bool> prediction, ReadOnlySpan<bool> truth, IReadOnlyList<int> shape, IReadOnlyList<double>? spacing = null)
    {
        var grid = Grid.Of(shape, prediction.Length, nameof(shape), nameof(prediction));
        if (truth.Length != prediction.Length)
            throw new ArgumentException($"The truth has {truth.Length} voxels, the prediction {prediction.Length}.", nameof(truth));
        return Surface(prediction, truth, grid, grid.SpacingOf(spacing, nameof(spacing)));
    }

    internal static (long Intersection, long Predicted, long Actual) Count(ReadOnlySpan<bool> prediction, ReadOnlySpan<bool> truth)
    {
        if (truth.Length != prediction.Length)
            throw new ArgumentException($"The truth has {truth.Length} voxels, the prediction {prediction.Length}.", nameof(truth));
        long intersection = 0, predicted = 0, actual = 0;
        for (int i = 0; i < prediction.Length; i++)
        {
            if (prediction[i]) predicted++;
            if (truth[i])
            {
                actual++;
                if (prediction[i]) intersection++;
            }
        }
        return (intersection, predicted, actual);
    }

    internal static SurfaceDistances Surface(ReadOnlySpan<bool> prediction, ReadOnlySpan<bool> truth, Grid grid, double[] spacing)
    {
        int rank = grid.Rank;
        // The union's bounding box, one voxel wider where the image allows: every surface voxel lies inside, and
        // distances between voxels do not depend on how far the grid extends, so the crop changes nothing.
        var low = Enumerable.Repeat(int.MaxValue, rank).ToArray();
        var high = Enumerable.Repeat(-1, rank).ToArray();
        bool anyPrediction = false, anyTruth = false;
        Span<int> c = stackalloc int[rank];
        for (int i = 0; i < prediction.Length; i++)
        {
            if (!prediction[i] && !truth[i]) continue;
            anyPrediction |= prediction[i];
            anyTruth |= truth[i];
            grid.Coordinates(i, c);
            for (int d = 0; d < rank; d++)
            {
                low[d] = Math.Min(low[d], c[d]);
                high[d] = Math.Max(high[d], c[d]);
            }
        }
        if (!anyTruth || !anyPrediction) return new SurfaceDistances(Array.Empty<double>(), Array.Empty<double>(), !anyPrediction, !anyTruth);

        var cropShape = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            low[d] = Math.Max(0, low[d] - 1);
            high[d] = Math.Min(grid.Shape[d] - 1, high[d] + 1);
            cropShape[d] = high[d] - low[d] + 1;
        }
        var crop = Grid.Of(cropShape, cropShape.Aggregate(1L, (a, s) => a * s), "shape", "values");
        var predictionCrop = Crop(prediction, grid, crop, low);
        var truthCrop = Crop(truth, grid, crop, low);
        var predictionSurface = SurfaceOf(predictionCrop, crop);
        var truthSurface = SurfaceOf(truthCrop, crop);
        var toTruth = DistancesAt(predictionSurface, SquaredDistanceTransform(truthSurface, crop, spacing));
        var toPrediction = DistancesAt(truthSurface, SquaredDistanceTransform(predictionSurface, crop, spacing));
        return new SurfaceDistances(toTruth, toPrediction, false, false);
    }

    private static bool[] Crop(ReadOnlySpan<bool> mask, Grid grid, Grid crop, int[] low)
    {
        var result = new bool[crop.Count];
        Span<int> c = stackalloc int[crop.Rank];
        for (long i = 0; i < crop.Count; i++)
        {
            crop.Coordinates(i, c);
            long source = 0;
            for (int d = 0; d < crop.Rank; d++) source += (c[d] + low[d]) * grid.Strides[d];
            result[i] = mask[(int)source];
        }
        return result;
    }

    // Mask voxels with a face neighbour outside the mask or outside the grid (the mask minus its erosion by the cross).
    internal static bool[] SurfaceOf(bool[] mask, Grid grid)
    {
        var surface = new bool[mask.Length];
        Span<int> c = stackalloc int[grid.Rank];
        for (long i = 0; i < mask.Length; i++)
        {
            if (!mask[i]) continue;
            grid.Coordinates(i, c);
            bool edge = false;
            for (int d = 0; d < grid.Rank && !edge; d++)
            {
                edge = c[d] == 0 || c[d] == grid.Shape[d] - 1 || !mask[i - grid.Strides[d]] || !mask[i + grid.Strides[d]];
            }
            surface[i] = edge;
        }
        return surface;
    }

    private static double[] DistancesAt(bool[] where, double[] squared)
    {
        var result = new List<double>();
        for (int i = 0; i < where.Length; i++)
            if (where[i]) result.Add(Math.Sqrt(squared[i]));
        return result.ToArray();
    }

    /// <summary>
    /// The exact squared Euclidean distance from every voxel to the nearest feature voxel, with spacing, by
    /// Felzenszwalb and Huttenlocher's lower envelope of parabolas, one axis after another (linear time).
    /// </summary>
    internal static double[] SquaredDistanceTransform(bool[] features, Grid grid, double[] spacing)
    {
        var distance = new double[features.Length];
        for (int i = 0; i < distance.Length; i++) distance[i] = features[i] ? 0 : double.PositiveInfinity;
        int longest = grid.Shape.Max();
        var line = new double[longest];
        var output = new double[longest];
        var vertices = new int[longest];
        var bounds = new double[longest + 1];
        for (int d = 0; d < grid.Rank; d++)
        {
            long stride = grid.Strides[d];
            int length = grid.Shape[d];
            double weight = spacing[d] * spacing[d];
            for (long start = 0; start < distance.Length; start++)
            {
                if (start / stride % length != 0) continue;
                for (int k = 0; k < length; k++) line[k] = distance[start + (k * stride)];
                if (!Envelope(line, output, vertices, bounds, length, weight)) continue;
                for (int k = 0; k < length; k++) distance[start + (k * stride)] = output[k];
            }
        }
        return distance;
    }

    // One line of the transform: output[q] = min_p weight·(q − p)² + f[p]; false when the line has no finite value.
    private static bool Envelope(double[] f, double[] output, int[] v, double[] z, int n, double weight)
    {
        int k = -1;
        for (int q = 0; q < n; q++)
        {
            if (double.IsPositiveInfinity(f[q])) continue;
            if (k < 0)
            {
                k = 0;
                v[0] = q;
                z[0] = double.NegativeInfinity;
                z[1] = double.PositiveInfinity;
                continue;
            }
            double s = Intersection(f, v[k], q, weight);
            while (s <= z[k])
            {
                k--;
                s = Intersection(f, v[k], q, weight);
            }
            k++;
            v[k] = q;
            z[k] = s;
            z[k + 1] = double.PositiveInfinity;
        }
        if (k < 0) return false;
        k = 0;
        for (int q = 0; q < n; q++)
        {
            while (z[k + 1] < q) k++;
            double offset = q - v[k];
            output[q] = (weight * offset * offset) + f[v[k]];
        }
        return true;
    }

    private static double Intersection(double[] f, int p, int q, double weight)
        => ((f[q] + (weight * q * q)) - (f[p] + (weight * p * p))) / (2 * weight * (q - p));
}
