using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Nifti;

/// <summary>
/// A 3D NIfTI volume: voxel values as <see cref="float"/> (already scaled by <c>scl_slope</c>/<c>scl_inter</c>),
/// the shape (X, Y, Z) and the voxel spacing. Voxels are stored x-fastest, as in the file:
/// index = x + X·(y + Y·z).
/// </summary>
public sealed class NiftiImage
{
    private readonly int[] _shape;
    private readonly float[] _spacing;

    /// <summary>Creates a volume.</summary>
    /// <param name="voxels">X·Y·Z values, x-fastest (not copied).</param>
    /// <param name="shape">(X, Y, Z); each at least 1.</param>
    /// <param name="spacing">Voxel size (x, y, z), usually millimetres; <see langword="null"/> for 1, 1, 1.</param>
    /// <param name="sourceDataType">The data type the values were stored as.</param>
    public NiftiImage(float[] voxels, IReadOnlyList<int> shape, IReadOnlyList<float>? spacing = null, NiftiDataType sourceDataType = NiftiDataType.Float32)
    {
        ArgumentNullException.ThrowIfNull(voxels);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Count != 3 || shape.Any(d => d < 1))
        {
            throw new ArgumentException("The shape must be three positive dimensions (X, Y, Z).", nameof(shape));
        }

        if (spacing is not null && spacing.Count != 3)
        {
            throw new ArgumentException("The spacing must have three values.", nameof(spacing));
        }

        long count = (long)shape[0] * shape[1] * shape[2];
        if (voxels.LongLength != count)
        {
            throw new ArgumentException($"{voxels.Length} voxels do not fill a {shape[0]}×{shape[1]}×{shape[2]} volume ({count}).", nameof(voxels));
        }

        Voxels = voxels;
        _shape = shape.ToArray();
        _spacing = spacing?.ToArray() ?? [1f, 1f, 1f];
        SourceDataType = sourceDataType;
    }

    /// <summary>The voxel values, x-fastest (index = x + X·(y + Y·z)).</summary>
    public float[] Voxels { get; }

    /// <summary>The shape (X, Y, Z).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The voxel spacing (pixdim[1..3]), usually millimetres.</summary>
    public IReadOnlyList<float> Spacing => _spacing;

    /// <summary>The data type the values were stored as in the file.</summary>
    public NiftiDataType SourceDataType { get; }

    /// <summary>The voxel at (x, y, z).</summary>
    /// <param name="x">0..X-1.</param>
    /// <param name="y">0..Y-1.</param>
    /// <param name="z">0..Z-1.</param>
    /// <returns>The value.</returns>
    public float this[int x, int y, int z]
    {
        get
        {
            if ((uint)x >= (uint)_shape[0] || (uint)y >= (uint)_shape[1] || (uint)z >= (uint)_shape[2])
            {
                throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}, {z}) is outside the {_shape[0]}×{_shape[1]}×{_shape[2]} volume.");
            }

            return Voxels[x + (_shape[0] * (y + (_shape[1] * z)))];
        }
    }

    /// <summary>
    /// The volume as a one-channel (1, D, H, W) image for the transform pipelines and 3-D networks, holding a copy of the
    /// voxel values: x-fastest (X, Y, Z) storage read as a C-order array is (Z, Y, X), so D = Z, H = Y and W = X.
    /// </summary>
    /// <returns>A new image of shape (1, Z, Y, X); changing it leaves <see cref="Voxels"/> as it is.</returns>
    public FloatImage ToFloatImage() => new((float[])Voxels.Clone(), 1, _shape[2], _shape[1], _shape[0]);

    /// <summary>
    /// The volume as a one-channel (1, Z, Y, X) image that shares <see cref="Voxels"/> instead of copying it (as
    /// <see cref="ToFloatImage"/> does): for a volume read only to be transformed, which saves a copy of every voxel. An
    /// in-place transform on the image (e.g. <see cref="Transforms.ScaleIntensity"/>) changes this volume too.
    /// </summary>
    /// <returns>An image of shape (1, Z, Y, X) over this volume's voxel array.</returns>
    public FloatImage AsFloatImage() => new(Voxels, 1, _shape[2], _shape[1], _shape[0]);
}
