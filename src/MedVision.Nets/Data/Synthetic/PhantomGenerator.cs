namespace MedVision.Nets.Data.Synthetic;

/// <summary>
/// Generates seeded two-modality 3-D phantoms for trying collaborative synthesis and diagnosis (CDSF) without
/// clinical data. Each subject is a cubic volume holding a head-like ellipsoid (random radii and centre) with a
/// brighter cortical shell and a darker core; the PET-like volume is uptake concentrated in the shell, smoothly varying
/// over the head, so PET is largely predictable from MRI. Label 1 subjects carry a lesion (random position inside the
/// head, radius <see cref="MinimumLesionRadius"/>–<see cref="MaximumLesionRadius"/> voxels) that darkens the MRI by
/// 35% and reduces PET uptake by 60% in a region 1.5 times larger: the class changes both modalities, and PET shows
/// it more clearly. Gaussian noise (σ = <see cref="Noise"/>) is added to both, then values are clipped to [0, 1].
/// Subject i has label i mod 2 and depends only on (seed, i), so any subset is reproducible.
/// </summary>
public sealed class PhantomGenerator
{
    /// <summary>The smallest lesion radius, in voxels at size 36 (scaled with the size).</summary>
    public const double MinimumLesionRadius = 3;

    /// <summary>The largest lesion radius, in voxels at size 36 (scaled with the size).</summary>
    public const double MaximumLesionRadius = 6;

    /// <summary>Creates a generator of <paramref name="size"/>³ volumes.</summary>
    /// <param name="size">Edge length in voxels, at least 8 (36 suits <see cref="Models.Cdsf"/>: divisible by 4 and ≥ 33).</param>
    /// <param name="seed">Seed of every random choice.</param>
    /// <param name="noise">Standard deviation of the additive Gaussian noise, in [0, 0.5].</param>
    /// <exception cref="ArgumentOutOfRangeException">The size or the noise is out of range.</exception>
    public PhantomGenerator(int size = 36, int seed = 0, double noise = 0.03)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        if (!(noise >= 0 && noise <= 0.5)) throw new ArgumentOutOfRangeException(nameof(noise), noise, "The noise level must lie in [0, 0.5].");
        Size = size;
        Seed = seed;
        Noise = noise;
    }

    /// <summary>Edge length of the volumes.</summary>
    public int Size { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>Standard deviation of the noise.</summary>
    public double Noise { get; }

    /// <summary>Subject <paramref name="index"/> (label <paramref name="index"/> mod 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public PhantomSubject Generate(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var random = new Random(SubjectSeed(Seed, index));
        int n = Size;
        double scale = n / 36.0;
        int label = index % 2;
        double c = (n - 1) / 2.0;
        double Jitter(double amplitude) => (random.NextDouble() * 2 - 1) * amplitude;
        double cz = c + Jitter(1.5 * scale), cy = c + Jitter(1.5 * scale), cx = c + Jitter(1.5 * scale);
        double rz = n * 0.36 + Jitter(1.5 * scale), ry = n * 0.40 + Jitter(1.5 * scale), rx = n * 0.33 + Jitter(1.5 * scale);
        double gradient = Jitter(0.15);

        // The lesion: inside the head, away from its centre.
        double lesionRadius = label == 1 ? scale * (MinimumLesionRadius + random.NextDouble() * (MaximumLesionRadius - MinimumLesionRadius)) : 0;
        double lz = cz + Jitter(rz * 0.4), ly = cy + Jitter(ry * 0.4), lx = cx + Jitter(rx * 0.4);

        var mri = new float[n * n * n];
        var pet = new float[n * n * n];
        for (int z = 0; z < n; z++)
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++)
                {
                    double dz = (z - cz) / rz, dy = (y - cy) / ry, dx = (x - cx) / rx;
                    double r = Math.Sqrt(dz * dz + dy * dy + dx * dx);
                    double m = 0, p = 0;
                    if (r <= 1)
                    {
                        bool shell = r > 0.7;
                        m = shell ? 0.75 : 0.45;
                        p = (shell ? 0.8 : 0.3) * (1 + gradient * dz);
                        if (lesionRadius > 0)
                        {
                            double dl = Math.Sqrt((z - lz) * (z - lz) + (y - ly) * (y - ly) + (x - lx) * (x - lx));
                            if (dl <= lesionRadius) m *= 0.65;
                            if (dl <= 1.5 * lesionRadius) p *= 0.4;
                        }
                    }
                    int at = (z * n + y) * n + x;
                    mri[at] = (float)Math.Clamp(m + Noise * Gaussian(random), 0, 1);
                    pet[at] = (float)Math.Clamp(p + Noise * Gaussian(random), 0, 1);
                }
        return new PhantomSubject(index, mri, pet, n, label, lesionRadius > 0 ? new PhantomLesion(lz, ly, lx, lesionRadius) : null);
    }

    /// <summary>Subjects <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative start or count.</exception>
    public IReadOnlyList<PhantomSubject> Generate(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var subjects = new PhantomSubject[count];
        for (int i = 0; i < count; i++) subjects[i] = Generate(start + i);
        return subjects;
    }

    // SplitMix64 of (seed, index): stable across processes and .NET versions (HashCode.Combine is randomised per process).
    private static int SubjectSeed(int seed, int index)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private static double Gaussian(Random random)
    {
        // Box–Muller.
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
