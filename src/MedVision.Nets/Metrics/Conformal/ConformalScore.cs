namespace MedVision.Nets.Metrics.Conformal;

/// <summary>
/// The non-conformity score a <see cref="ConformalClassifier"/> ranks calibration images by. Each score orders the
/// classes of one image (most probable first, or for <see cref="OrdinalAps"/> an interval of grades grown from the most
/// probable grade) and scores a class by how far down that order it lies.
/// </summary>
public enum ConformalScore
{
    /// <summary>
    /// Least ambiguous set-valued classifier (Sadinle, Lei and Wasserman, JASA 2019): the score of class y is 1 − p_y and
    /// the set holds every class whose probability reaches 1 − q̂. The smallest sets on average, but their coverage
    /// leans on the easy images: hard images are under-covered. A set may be empty (no class is plausible enough).
    /// </summary>
    Lac,

    /// <summary>
    /// Adaptive prediction sets (Romano, Sesia and Candès, NeurIPS 2020), non-randomised: the score of class y is the
    /// probability mass of the classes ranked above it and y itself; the set takes classes, most probable first, until
    /// their mass reaches q̂. Sets grow on hard images and shrink on easy ones; never empty.
    /// </summary>
    Aps,

    /// <summary>
    /// Regularised adaptive prediction sets (Angelopoulos, Bates, Malik and Jordan, ICLR 2021), non-randomised: APS plus
    /// a penalty λ·max(0, rank − k_reg) that keeps the long tail of unlikely classes out of the sets.
    /// </summary>
    Raps,

    /// <summary>
    /// Ordinal adaptive prediction sets (Lu, Angelopoulos, Bates, Kalpathy-Cramer et al., "Improving trustworthiness of
    /// AI disease severity rating in medical imaging with ordinal conformal prediction sets", MICCAI 2022): an interval of
    /// grades grown from the most probable grade, one neighbour at a time towards the more probable side, until its mass
    /// reaches q̂. Every set is a contiguous range of grades ("grade 1 to 3"), as a clinician reads a severity scale.
    /// </summary>
    OrdinalAps,
}
