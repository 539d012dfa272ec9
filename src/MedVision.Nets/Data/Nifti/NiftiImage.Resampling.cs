using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Nifti;

public sealed partial class NiftiImage
{
    // Sample points this close to the first or last voxel centre (in voxels) count as on it: affine arithmetic puts the
    // last centre of a resampled grid at n − 1 ± 1e-13, which must not read as outside.
    private const double EdgeTolerance = 1e-6;

    /// <summary>
    /// The volume resampled to the voxel sizes <paramref name="spacing"/> (millimetres along the voxel axes i, j, k), as
    /// MONAI's <c>Spacing(pixdim=…)</c> does before a network sees scans of different resolutions: the voxel axes keep
    /// their directions and voxel (0, 0, 0) its world position, and axis n gets round((Nₙ − 1) · sₙ / s′ₙ + 1) voxels
    /// (half to even, at least 1; MONAI's shape with <c>scale_extent=False</c>), so the new grid spans the same field of
    /// view. Run it after <see cref="Reorient"/> so that "i, j, k" mean the same anatomical axes for every volume.
    /// </summary>
    /// <param name="spacing">Three voxel sizes (i, j, k), positive and finite, in the units of the affine (mm).</param>
    /// <param name="interpolation"><see cref="ResizeMode.Linear"/> (trilinear) for images, <see cref="ResizeMode.Nearest"/> for label maps.</param>
    /// <param name="padding">Values where the new grid samples beyond the last voxel centre (up to half a new voxel).</param>
    /// <returns>A new volume, or this one when its voxel sizes already are <paramref name="spacing"/> (within 1e-6 relative).</returns>
    /// <exception cref="ArgumentException"><paramref name="spacing"/> is not three positive finite numbers.</exception>
    public NiftiImage Resample(IReadOnlyList<float> spacing, ResizeMode interpolation = ResizeMode.Linear, VolumePadding padding = VolumePadding.Border)
    {
        ArgumentNullException.ThrowIfNull(spacing);
        NiftiAffine.CheckVoxelSize(spacing, nameof(spacing));

        var current = Affine.VoxelSizes;
        if (Enumerable.Range(0, 3).All(n => Math.Abs(current[n] - spacing[n]) <= 1e-6 * spacing[n])) return this;

        var shape = new int[3];
        var factors = new double[3];
        for (int n = 0; n < 3; n++)
        {
            factors[n] = spacing[n] / current[n];
            double count = Math.Round(((_shape[n] - 1) / factors[n]) + 1.0, MidpointRounding.ToEven);
            if (count > int.MaxValue / 2) throw new ArgumentException($"Spacing {spacing[n]} along axis {n} would give {count} voxels from {_shape[n]}.", nameof(spacing));
            shape[n] = Math.Max(1, (int)count);
        }

        NiftiAffine scaled;
        try
        {
            scaled = Affine.WithColumnsScaled(factors);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Voxels of [{string.Join(", ", spacing)}] give no usable affine: {e.Message}", nameof(spacing), e);
        }

        return Sampled(shape, scaled, AffineCode, interpolation, padding, nameof(spacing));
    }

    /// <summary>
    /// Whether this volume lies on the grid of <paramref name="other"/>: the same shape and the same voxel-to-world affine
    /// (a voxel means the same place in both), so that the two can be stacked voxel for voxel without
    /// <see cref="ResampleTo(NiftiImage, ResizeMode, VolumePadding)"/>.
    /// </summary>
    public bool IsOnGridOf(NiftiImage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Shape.SequenceEqual(other.Shape) && Affine.Equals(other.Affine);
    }

    /// <summary>
    /// The volume resampled onto the grid of <paramref name="reference"/> (its shape and affine) through the world
    /// coordinates of both affines: nibabel's <c>resample_from_to(self, reference)</c>, MONAI's <c>ResampleToMatch</c>.
    /// Brings a modality acquired apart (another series, resolution or field of view; a PET onto its MRI) voxel for voxel
    /// onto another. Both affines must be in one world (e.g. the scanner's coordinates of one session, or a registration's
    /// output): resampling does not register images.
    /// </summary>
    /// <param name="reference">The volume whose grid the result takes (its voxels are not used).</param>
    /// <param name="interpolation"><see cref="ResizeMode.Linear"/> (trilinear) for images, <see cref="ResizeMode.Nearest"/> for label maps.</param>
    /// <param name="padding">Values where the reference grid lies outside this volume.</param>
    /// <returns>A new volume with <paramref name="reference"/>'s shape, affine and affine code.</returns>
    /// <exception cref="ArgumentException">No voxel of the reference grid lies within this volume.</exception>
    public NiftiImage ResampleTo(NiftiImage reference, ResizeMode interpolation = ResizeMode.Linear, VolumePadding padding = VolumePadding.Border)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return Sampled(reference._shape, reference.Affine, reference.AffineCode, interpolation, padding, nameof(reference));
    }

    /// <summary>
    /// The volume resampled onto the grid of shape <paramref name="shape"/> whose voxel-to-world map is
    /// <paramref name="affine"/> (nibabel's <c>resample_from_to(self, (shape, affine))</c>).
    /// </summary>
    /// <param name="shape">The new grid's (X, Y, Z), each at least 1.</param>
    /// <param name="affine">The new grid's voxel-to-world affine, in this volume's world.</param>
    /// <param name="interpolation"><see cref="ResizeMode.Linear"/> (trilinear) for images, <see cref="ResizeMode.Nearest"/> for label maps.</param>
    /// <param name="padding">Values where the new grid lies outside this volume.</param>
    /// <returns>A new volume on that grid, with this volume's affine code.</returns>
    /// <exception cref="ArgumentException">The shape is not three positive sizes, or no voxel of the new grid lies within this volume.</exception>
    public NiftiImage ResampleTo(IReadOnlyList<int> shape, NiftiAffine affine, ResizeMode interpolation = ResizeMode.Linear, VolumePadding padding = VolumePadding.Border)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(affine);
        if (shape.Count != 3 || shape.Any(d => d < 1))
        {
            throw new ArgumentException($"The shape must be three positive dimensions (X, Y, Z), not [{string.Join(", ", shape)}].", nameof(shape));
        }

        return Sampled(shape.ToArray(), affine, AffineCode, interpolation, padding, nameof(affine));
    }

    /// <summary>
    /// Trilinear onto the grid (<paramref name="shape"/>, <paramref name="affine"/>) with code <paramref name="code"/>,
    /// border padding out to half a voxel beyond this volume's outer voxel centres (what its edge voxels stand for) and
    /// zero beyond: how a map computed on a prepared input is placed back on a scan.
    /// </summary>
    internal NiftiImage ResampleWithinReach(IReadOnlyList<int> shape, NiftiAffine affine, NiftiXformCode code)
        => Sampled(shape.ToArray(), affine, code, ResizeMode.Linear, VolumePadding.Border, nameof(affine), zeroBeyondReach: true);

    // parameter: the caller's parameter that describes the grid, named by the exceptions. zeroBeyondReach: with border
    // padding, points beyond half a voxel outside the outer voxel centres (not Covers) read 0.
    private NiftiImage Sampled(int[] shape, NiftiAffine affine, NiftiXformCode code, ResizeMode interpolation, VolumePadding padding, string parameter,
        bool zeroBeyondReach = false)
    {
        if (!Enum.IsDefined(interpolation)) throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, "Not a resampling mode.");
        if (!Enum.IsDefined(padding)) throw new ArgumentOutOfRangeException(nameof(padding), padding, "Not a padding mode.");
        long count = (long)shape[0] * shape[1] * shape[2];
        if (count > Array.MaxLength) throw new ArgumentException($"A {shape[0]}×{shape[1]}×{shape[2]} grid has more voxels than one array holds.", parameter);

        double[] map = Affine.IndexMapFrom(affine); // output voxel index → this volume's voxel index
        var voxels = new float[count];
        long inside = 0;
        Parallel.For(0, shape[2], () => 0L, (k, _, local) =>
        {
            var sampler = new Sampler(Voxels, _shape, padding == VolumePadding.Border);
            for (int j = 0; j < shape[1]; j++)
            {
                double x = (map[1] * j) + (map[2] * k) + map[3];
                double y = (map[5] * j) + (map[6] * k) + map[7];
                double z = (map[9] * j) + (map[10] * k) + map[11];
                long at = (long)shape[0] * (j + ((long)shape[1] * k));
                for (int i = 0; i < shape[0]; i++, at++)
                {
                    double px = x + (map[0] * i), py = y + (map[4] * i), pz = z + (map[8] * i);
                    bool covered = sampler.Covers(px, py, pz);
                    if (covered) local++;
                    voxels[at] = zeroBeyondReach && !covered ? 0f
                        : interpolation == ResizeMode.Linear ? sampler.Linear(px, py, pz) : sampler.Nearest(px, py, pz);
                }
            }

            return local;
        }, local => Interlocked.Add(ref inside, local));

        if (inside == 0)
        {
            throw new ArgumentException($"The grid {shape[0]}×{shape[1]}×{shape[2]} with affine {affine} does not overlap the volume ({_shape[0]}×{_shape[1]}×{_shape[2]}, affine {Affine}): "
                + "no voxel of it lies within the volume. Are both affines in the same world coordinates?", parameter);
        }

        var dataType = interpolation == ResizeMode.Nearest ? SourceDataType : NiftiDataType.Float32;
        var spacing = affine.VoxelSizes.Select(s => (float)s).ToArray();
        return new NiftiImage(voxels, shape, spacing, dataType, affine, code);
    }

    /// <summary>Reads a volume at fractional voxel indices, as SciPy's <c>map_coordinates</c> (order 0 or 1) does.</summary>
    private readonly struct Sampler(float[] voxels, int[] shape, bool border)
    {
        private readonly float[] _voxels = voxels;
        private readonly int _nx = shape[0], _ny = shape[1], _nz = shape[2];

        /// <summary>Whether the point lies within the volume's voxels (half a voxel beyond the outer centres).</summary>
        public bool Covers(double x, double y, double z) =>
            x >= -0.5 && x <= _nx - 0.5 && y >= -0.5 && y <= _ny - 0.5 && z >= -0.5 && z <= _nz - 0.5;

        // Zeros padding: points outside [0, n − 1] on any axis read 0 (SciPy mode "constant"); border: clamped into it.
        private bool Place(ref double x, ref double y, ref double z)
        {
            if (!border && (x < -EdgeTolerance || x > _nx - 1 + EdgeTolerance || y < -EdgeTolerance || y > _ny - 1 + EdgeTolerance
                || z < -EdgeTolerance || z > _nz - 1 + EdgeTolerance || double.IsNaN(x + y + z)))
            {
                return false;
            }

            x = Math.Clamp(x, 0, _nx - 1);
            y = Math.Clamp(y, 0, _ny - 1);
            z = Math.Clamp(z, 0, _nz - 1);
            return true;
        }

        public float Nearest(double x, double y, double z)
        {
            if (!Place(ref x, ref y, ref z)) return 0f;
            int i = Math.Min((int)Math.Floor(x + 0.5), _nx - 1), j = Math.Min((int)Math.Floor(y + 0.5), _ny - 1), k = Math.Min((int)Math.Floor(z + 0.5), _nz - 1);
            return _voxels[i + ((long)_nx * (j + ((long)_ny * k)))];
        }

        public float Linear(double x, double y, double z)
        {
            if (!Place(ref x, ref y, ref z)) return 0f;
            int x0 = Math.Min((int)x, _nx - 1), y0 = Math.Min((int)y, _ny - 1), z0 = Math.Min((int)z, _nz - 1);
            int x1 = Math.Min(x0 + 1, _nx - 1), y1 = Math.Min(y0 + 1, _ny - 1), z1 = Math.Min(z0 + 1, _nz - 1);
            double fx = x - x0, fy = y - y0, fz = z - z0;
            float[] v = _voxels;
            long nx = _nx, plane = nx * _ny;
            double V(int i, int j, int k) => v[i + (nx * j) + (plane * k)];
            double c00 = V(x0, y0, z0) + (fx * (V(x1, y0, z0) - V(x0, y0, z0)));
            double c10 = V(x0, y1, z0) + (fx * (V(x1, y1, z0) - V(x0, y1, z0)));
            double c01 = V(x0, y0, z1) + (fx * (V(x1, y0, z1) - V(x0, y0, z1)));
            double c11 = V(x0, y1, z1) + (fx * (V(x1, y1, z1) - V(x0, y1, z1)));
            double c0 = c00 + (fy * (c10 - c00));
            double c1 = c01 + (fy * (c11 - c01));
            return (float)(c0 + (fz * (c1 - c0)));
        }
    }
}
