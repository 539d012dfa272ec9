namespace MedVision.Nets.Data.Synthetic;

/// <summary>
/// One synthetic subject of <see cref="PhantomGenerator"/>: an MRI-like and a PET-like volume (D, H, W) in C order,
/// both with intensities in [0, 1], and the diagnostic label (0 = healthy, 1 = lesion).
/// </summary>
/// <param name="Index">The subject's index in its generator.</param>
/// <param name="Mri">The structural volume, D·H·W values.</param>
/// <param name="Pet">The functional volume, D·H·W values.</param>
/// <param name="Size">The edge length of the cubic volumes (D = H = W).</param>
/// <param name="Label">0 (healthy) or 1 (lesion).</param>
/// <param name="Lesion">Where the lesion is (label 1), the ground truth for localisation checks; null for label 0.</param>
public sealed record PhantomSubject(int Index, float[] Mri, float[] Pet, int Size, int Label, PhantomLesion? Lesion = null)
{
    /// <summary>The structural volume, D·H·W values.</summary>
    public float[] Mri { get; init; } = Mri ?? throw new ArgumentNullException(nameof(Mri));

    /// <summary>The functional volume, D·H·W values.</summary>
    public float[] Pet { get; init; } = Pet ?? throw new ArgumentNullException(nameof(Pet));

    /// <summary>
    /// The voxels (D·H·W, C order) within <paramref name="radiusScale"/> lesion radii of its centre: 1 is the region
    /// darkened in the MRI, 1.5 the region of reduced PET uptake. All false without a lesion.
    /// </summary>
    public bool[] LesionMask(double radiusScale = 1.5)
    {
        if (!(radiusScale > 0)) throw new ArgumentOutOfRangeException(nameof(radiusScale), radiusScale, "The radius scale must be positive.");
        var mask = new bool[Size * Size * Size];
        if (Lesion is not { } l) return mask;
        double r = l.Radius * radiusScale;
        for (int z = 0; z < Size; z++)
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                    mask[(z * Size + y) * Size + x] = (z - l.Z) * (z - l.Z) + (y - l.Y) * (y - l.Y) + (x - l.X) * (x - l.X) <= r * r;
        return mask;
    }
}

/// <summary>A phantom's spherical lesion: centre (z, y, x) in voxels and radius in voxels.</summary>
/// <param name="Z">Centre along depth.</param>
/// <param name="Y">Centre along height.</param>
/// <param name="X">Centre along width.</param>
/// <param name="Radius">Radius of the MRI change (the PET change reaches 1.5 radii).</param>
public sealed record PhantomLesion(double Z, double Y, double X, double Radius);
