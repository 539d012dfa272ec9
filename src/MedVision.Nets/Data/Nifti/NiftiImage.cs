using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Nifti;

/// <summary>
/// A 3D NIfTI volume: voxel values as <see cref="float"/> (already scaled by <c>scl_slope</c>/<c>scl_inter</c>),
/// the shape (X, Y, Z), the voxel spacing and the voxel-to-world <see cref="Affine"/> (from the file's sform or qform).
/// Voxels are stored x-fastest, as in the file: index = x + X·(y + Y·z). <see cref="Reorient"/> brings volumes stored
/// in different orientations (e.g. an MRI in LPS and a PET in RAS) to one.
/// </summary>
public sealed partial class NiftiImage
{
    private readonly int[] _shape;
    private readonly float[] _spacing;

    /// <summary>Creates a volume.</summary>
    /// <param name="voxels">X·Y·Z values, x-fastest (not copied).</param>
    /// <param name="shape">(X, Y, Z); each at least 1.</param>
    /// <param name="spacing">Voxel size (x, y, z), usually millimetres; <see langword="null"/> for 1, 1, 1.</param>
    /// <param name="sourceDataType">The data type the values were stored as.</param>
    /// <param name="affine">The voxel-to-world affine; <see langword="null"/> for diag(spacing), and then <see cref="AffineCode"/> is <see cref="NiftiXformCode.Unknown"/>.</param>
    /// <param name="affineCode">What the affine's world coordinates are (scanner, aligned, Talairach, MNI); <see cref="NiftiXformCode.Unknown"/> keeps the affine in memory but writes none to a file.</param>
    public NiftiImage(float[] voxels, IReadOnlyList<int> shape, IReadOnlyList<float>? spacing = null, NiftiDataType sourceDataType = NiftiDataType.Float32,
        NiftiAffine? affine = null, NiftiXformCode affineCode = NiftiXformCode.ScannerAnatomical)
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
        if (affine is not null && !Enum.IsDefined(affineCode))
        {
            throw new ArgumentOutOfRangeException(nameof(affineCode), affineCode, "Not a NIfTI xform code (0–5).");
        }

        Affine = affine ?? NiftiAffine.FromSpacing(_spacing.Select(s => s > 0 && float.IsFinite(s) ? s : 1f).ToArray());
        AffineCode = affine is null ? NiftiXformCode.Unknown : affineCode;
    }

    /// <summary>
    /// The voxel-to-world affine (RAS+, millimetres): the file's sform when its code is set, else its qform, else
    /// diag(spacing) (NIfTI's "method 1", when <see cref="AffineCode"/> is <see cref="NiftiXformCode.Unknown"/>).
    /// </summary>
    public NiftiAffine Affine { get; }

    /// <summary>What <see cref="Affine"/>'s world coordinates are; <see cref="NiftiXformCode.Unknown"/> when the file recorded no orientation.</summary>
    public NiftiXformCode AffineCode { get; }

    /// <summary>The anatomical direction of the voxel axes, e.g. "RAS" or "LPS" (see <see cref="NiftiAffine.AxisCodes"/>); "RAS" by convention when the orientation is unknown.</summary>
    public string Orientation => Affine.AxisCodes;

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

    /// <summary>
    /// The volume with its voxel axes permuted and flipped so that they point the way <paramref name="axisCodes"/> says
    /// (nibabel's <c>as_reoriented</c>, MONAI's <c>Orientation(axcodes=...)</c>): "RAS" (the default, nibabel's
    /// canonical orientation) makes x run to the subject's right, y to anterior and z to superior. The world position of
    /// every voxel is unchanged — the affine, shape and spacing follow the voxels — so volumes of one subject stored in
    /// different orientations line up voxel for voxel after both are reoriented (when they share a field of view).
    /// Oblique volumes go to the closest orthogonal orientation; nothing is resampled.
    /// </summary>
    /// <param name="axisCodes">Three letters, one of R/L, one of A/P and one of S/I, in any order (case-insensitive).</param>
    /// <returns>A new volume, or this one when it is already in that orientation.</returns>
    /// <exception cref="ArgumentException"><paramref name="axisCodes"/> is not three letters naming each anatomical axis once.</exception>
    public NiftiImage Reorient(string axisCodes = "RAS")
    {
        ArgumentNullException.ThrowIfNull(axisCodes);
        var (targetWorld, targetNegative) = NiftiAffine.ParseAxisCodes(axisCodes, nameof(axisCodes));
        var (worldOf, negative) = Affine.ClosestAxes();
        var source = new int[3];
        var flip = new bool[3];
        for (int n = 0; n < 3; n++)
        {
            source[n] = Array.IndexOf(worldOf, targetWorld[n]);
            flip[n] = negative[source[n]] != targetNegative[n];
        }

        if (source.SequenceEqual([0, 1, 2]) && !flip.Any(f => f)) return this;

        int[] newShape = [_shape[source[0]], _shape[source[1]], _shape[source[2]]];
        long[] oldStride = [1, _shape[0], (long)_shape[0] * _shape[1]];
        var step = new long[3];
        long start = 0;
        for (int n = 0; n < 3; n++)
        {
            step[n] = flip[n] ? -oldStride[source[n]] : oldStride[source[n]];
            if (flip[n]) start += (newShape[n] - 1) * oldStride[source[n]];
        }

        var voxels = new float[Voxels.LongLength];
        long at = 0;
        for (int k = 0; k < newShape[2]; k++)
        {
            for (int j = 0; j < newShape[1]; j++)
            {
                long from = start + (k * step[2]) + (j * step[1]);
                for (int i = 0; i < newShape[0]; i++, from += step[0]) voxels[at++] = Voxels[from];
            }
        }

        return new NiftiImage(voxels, newShape, [_spacing[source[0]], _spacing[source[1]], _spacing[source[2]]], SourceDataType,
            Affine.Reindexed(source, flip, _shape), AffineCode);
    }
}
