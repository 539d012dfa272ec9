namespace MedVision.Nets.Explainability;

/// <summary>
/// How well a class-activation map (<see cref="GradCam"/>, <see cref="OcclusionSensitivity"/>) finds a known region,
/// such as an annotated lesion: the pointing game (Zhang et al., ECCV 2016) and the energy-based pointing game
/// (Wang et al., Score-CAM, 2020).
/// </summary>
public static class Localization
{
    /// <summary>
    /// The pointing game: true when the map's maximum lies inside <paramref name="mask"/> (with ties, when any
    /// maximal voxel does). A flat map (an all-zero Grad-CAM, say) points nowhere: false. Map and mask have the same
    /// length and layout.
    /// </summary>
    public static bool PointingGameHit(IReadOnlyList<float> map, IReadOnlyList<bool> mask)
    {
        Check(map, mask);
        float max = float.NegativeInfinity, min = float.PositiveInfinity;
        for (int i = 0; i < map.Count; i++)
        {
            if (map[i] > max) max = map[i];
            if (map[i] < min) min = map[i];
        }
        if (!(max > min)) return false;
        for (int i = 0; i < map.Count; i++) if (map[i] == max && mask[i]) return true;
        return false;
    }

    /// <summary>
    /// The energy-based pointing game: the share of the map's total (non-negative) mass that falls inside
    /// <paramref name="mask"/>, in [0, 1]. A map that ignores the region scores about the region's volume fraction
    /// (<see cref="Fraction"/>); 0 for an all-zero map.
    /// </summary>
    public static double EnergyInside(IReadOnlyList<float> map, IReadOnlyList<bool> mask)
    {
        Check(map, mask);
        double inside = 0, total = 0;
        for (int i = 0; i < map.Count; i++)
        {
            if (map[i] < 0 || float.IsNaN(map[i])) throw new ArgumentException($"Map value {i} is {map[i]}; the energy game needs non-negative maps.", nameof(map));
            total += map[i];
            if (mask[i]) inside += map[i];
        }
        return total > 0 ? inside / total : 0;
    }

    /// <summary>The share of voxels inside <paramref name="mask"/>: the chance level of <see cref="EnergyInside"/>.</summary>
    public static double Fraction(IReadOnlyList<bool> mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.Count == 0) throw new ArgumentException("The mask is empty.", nameof(mask));
        return (double)mask.Count(m => m) / mask.Count;
    }

    private static void Check(IReadOnlyList<float> map, IReadOnlyList<bool> mask)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(mask);
        if (map.Count == 0) throw new ArgumentException("The map is empty.", nameof(map));
        if (map.Count != mask.Count) throw new ArgumentException($"The map has {map.Count} values but the mask {mask.Count}.", nameof(mask));
        if (!mask.Any(m => m)) throw new ArgumentException("The mask marks no voxel.", nameof(mask));
    }
}
