namespace MedVision.Nets.Metrics.Segmentation;

/// <summary>
/// The distances between the surfaces of a predicted and a true mask, in the units of the voxel spacing (millimetres
/// for scans): for each surface voxel of one, the distance to the nearest surface voxel of the other. A surface voxel
/// is a mask voxel with a face neighbour outside the mask or on the image's border (the mask minus its erosion, as
/// MONAI and the surface-distance package define it). Hausdorff distances, their percentiles (HD95), the average
/// symmetric surface distance and the normalised surface Dice all follow from these two lists. When the truth is
/// empty every measure is NaN (undefined; left out of means); when only the prediction is empty the distances are
/// +∞ and the surface Dice is 0.
/// </summary>
public sealed class SurfaceDistances
{
    private readonly double[] _predictionToTruth;
    private readonly double[] _truthToPrediction;

    internal SurfaceDistances(double[] predictionToTruth, double[] truthToPrediction, bool predictionEmpty, bool truthEmpty)
    {
        _predictionToTruth = predictionToTruth;
        _truthToPrediction = truthToPrediction;
        Array.Sort(_predictionToTruth);
        Array.Sort(_truthToPrediction);
        PredictionEmpty = predictionEmpty;
        TruthEmpty = truthEmpty;
    }

    /// <summary>Sorted distances from each surface voxel of the prediction to the truth's surface.</summary>
    public IReadOnlyList<double> PredictionToTruth => _predictionToTruth;

    /// <summary>Sorted distances from each surface voxel of the truth to the prediction's surface.</summary>
    public IReadOnlyList<double> TruthToPrediction => _truthToPrediction;

    /// <summary>Whether the predicted mask is empty.</summary>
    public bool PredictionEmpty { get; }

    /// <summary>Whether the true mask is empty (every measure is then NaN).</summary>
    public bool TruthEmpty { get; }

    /// <summary>The (symmetric) Hausdorff distance: the larger of the two directed maxima.</summary>
    public double Hausdorff => HausdorffPercentile(100);

    /// <summary>The 95th-percentile Hausdorff distance (HD95), robust to a few stray voxels.</summary>
    public double Hausdorff95 => HausdorffPercentile(95);

    /// <summary>
    /// The larger of the two directed percentiles of the distances (MONAI's <c>compute_hausdorff_distance</c> with
    /// <c>percentile</c>; numpy's linear interpolation between order statistics).
    /// </summary>
    /// <param name="percentile">In [0, 100]; 100 is the Hausdorff distance.</param>
    public double HausdorffPercentile(double percentile)
    {
        if (!(percentile >= 0 && percentile <= 100)) throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "The percentile must lie in [0, 100].");
        if (Undefined(out var value)) return value;
        return Math.Max(Percentile(_predictionToTruth, percentile), Percentile(_truthToPrediction, percentile));
    }

    /// <summary>The directed Hausdorff percentile from the prediction to the truth only (how far stray predictions reach).</summary>
    public double DirectedHausdorffPercentile(double percentile)
    {
        if (!(percentile >= 0 && percentile <= 100)) throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "The percentile must lie in [0, 100].");
        if (Undefined(out var value)) return value;
        return Percentile(_predictionToTruth, percentile);
    }

    /// <summary>The average symmetric surface distance (ASSD): the mean of both lists together.</summary>
    public double AverageSymmetric
    {
        get
        {
            if (Undefined(out var value)) return value;
            double sum = 0;
            foreach (var d in _predictionToTruth) sum += d;
            foreach (var d in _truthToPrediction) sum += d;
            return sum / (_predictionToTruth.Length + _truthToPrediction.Length);
        }
    }

    /// <summary>The mean distance from the prediction's surface to the truth's (MONAI's non-symmetric average surface distance).</summary>
    public double MeanPredictionToTruth => Undefined(out var value) ? value : _predictionToTruth.Average();

    /// <summary>
    /// The normalised surface Dice at a tolerance τ (Nikolov et al., 2021): the surface voxels of both masks that lie
    /// within τ of the other's surface, over all surface voxels; 1 when the surfaces agree to within τ everywhere.
    /// </summary>
    /// <param name="tolerance">τ ≥ 0 in the spacing's units (e.g. millimetres).</param>
    public double SurfaceDice(double tolerance)
    {
        if (!(tolerance >= 0) || double.IsInfinity(tolerance)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance must be a finite number ≥ 0.");
        if (TruthEmpty) return double.NaN;
        if (PredictionEmpty) return 0;
        int within = UpperBound(_predictionToTruth, tolerance) + UpperBound(_truthToPrediction, tolerance);
        return within / (double)(_predictionToTruth.Length + _truthToPrediction.Length);
    }

    private bool Undefined(out double value)
    {
        value = TruthEmpty ? double.NaN : PredictionEmpty ? double.PositiveInfinity : 0;
        return TruthEmpty || PredictionEmpty;
    }

    // numpy.percentile (linear) of sorted values.
    internal static double Percentile(double[] sorted, double percentile)
    {
        double position = percentile / 100 * (sorted.Length - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sorted.Length - 1);
        double fraction = position - lower;
        if (fraction == 0 || sorted[upper] == sorted[lower]) return sorted[lower]; // exact, and no ∞ − ∞
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * fraction);
    }

    // The number of sorted values ≤ limit.
    private static int UpperBound(double[] sorted, double limit)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= limit) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
