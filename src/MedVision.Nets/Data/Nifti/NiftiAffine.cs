using System.Globalization;

namespace MedVision.Nets.Data.Nifti;

/// <summary>
/// The affine map from voxel indices (i, j, k) to world coordinates (x, y, z) in millimetres, in NIfTI's RAS+ convention
/// (x grows to the subject's Right, y to Anterior, z to Superior): world = M · (i, j, k, 1)ᵀ, the 4×4 matrix nibabel
/// calls <c>img.affine</c>. Its <see cref="AxisCodes"/> say which anatomical direction each voxel axis points to ("RAS",
/// "LPS", ...).
/// </summary>
public sealed class NiftiAffine : IEquatable<NiftiAffine>
{
    private readonly double[] _m; // rows 0..2 of the 4×4 matrix, row-major (the last row is 0 0 0 1)

    /// <summary>Creates an affine from a 4×4 (last row 0 0 0 1) or 3×4 matrix.</summary>
    /// <param name="matrix">The matrix; every value finite.</param>
    /// <exception cref="ArgumentException">The shape is not 4×4 or 3×4, a value is not finite, the last row of a 4×4 is not (0, 0, 0, 1), or the 3×3 part is singular.</exception>
    public NiftiAffine(double[,] matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.GetLength(1) != 4 || matrix.GetLength(0) is not (3 or 4))
        {
            throw new ArgumentException($"An affine is a 4×4 or 3×4 matrix, not {matrix.GetLength(0)}×{matrix.GetLength(1)}.", nameof(matrix));
        }

        if (matrix.GetLength(0) == 4 && (matrix[3, 0] != 0 || matrix[3, 1] != 0 || matrix[3, 2] != 0 || matrix[3, 3] != 1))
        {
            throw new ArgumentException("The last row of a 4×4 affine must be (0, 0, 0, 1).", nameof(matrix));
        }

        _m = new double[12];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                _m[(r * 4) + c] = matrix[r, c];
        Validate(_m, nameof(matrix));
    }

    private NiftiAffine(double[] rows)
    {
        _m = rows;
        Validate(_m, "matrix");
    }

    private static void Validate(double[] m, string parameter)
    {
        if (m.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("Every value of an affine must be finite.", parameter);
        }

        if (Math.Abs(Determinant3(m)) < 1e-12)
        {
            throw new ArgumentException("The 3×3 part of the affine is singular: it does not map voxels to a volume.", parameter);
        }
    }

    /// <summary>The affine of a volume with only voxel sizes: diag(spacing), origin at voxel (0, 0, 0) (NIfTI's "method 1").</summary>
    /// <param name="spacing">Voxel sizes (x, y, z), positive.</param>
    public static NiftiAffine FromSpacing(IReadOnlyList<float> spacing)
    {
        ArgumentNullException.ThrowIfNull(spacing);
        if (!IsVoxelSize(spacing))
        {
            throw new ArgumentException("The spacing must be three positive finite values.", nameof(spacing));
        }

        return new NiftiAffine([spacing[0], 0, 0, 0, 0, spacing[1], 0, 0, 0, 0, spacing[2], 0]);
    }

    /// <summary>Whether <paramref name="spacing"/> is a voxel size: three positive finite values (i, j, k).</summary>
    internal static bool IsVoxelSize(IReadOnlyList<float> spacing) => spacing.Count == 3 && spacing.All(s => s > 0 && float.IsFinite(s));

    /// <summary>Throws the <see cref="ArgumentException"/> of a <paramref name="spacing"/> that is not a voxel size (see <see cref="IsVoxelSize"/>), naming <paramref name="parameter"/>.</summary>
    internal static void CheckVoxelSize(IReadOnlyList<float> spacing, string parameter)
    {
        if (!IsVoxelSize(spacing))
            throw new ArgumentException($"The spacing must be three positive finite voxel sizes (i, j, k), not [{string.Join(", ", spacing)}].", parameter);
    }

    /// <summary>
    /// The affine of a NIfTI qform: rotation from the quaternion (b, c, d) with a = √(1 − b² − c² − d²), voxel sizes
    /// (the third negated when <paramref name="qfac"/> is −1), and the offset, as the NIfTI-1 standard defines it.
    /// </summary>
    /// <param name="b">quatern_b.</param>
    /// <param name="c">quatern_c.</param>
    /// <param name="d">quatern_d.</param>
    /// <param name="offset">(qoffset_x, qoffset_y, qoffset_z).</param>
    /// <param name="spacing">pixdim[1..3] (their absolute values are used).</param>
    /// <param name="qfac">pixdim[0]: −1 flips the third axis; anything else is taken as 1.</param>
    /// <exception cref="ArgumentException">b² + c² + d² exceeds 1 (not a unit quaternion) or a value is not finite.</exception>
    public static NiftiAffine FromQuaternion(double b, double c, double d, (double X, double Y, double Z) offset, IReadOnlyList<float> spacing, double qfac = 1)
    {
        ArgumentNullException.ThrowIfNull(spacing);
        double sum = (b * b) + (c * c) + (d * d);
        if (!double.IsFinite(sum) || sum > 1 + 1e-6)
        {
            throw new ArgumentException($"(b, c, d) = ({b}, {c}, {d}) is not the vector part of a unit quaternion (b² + c² + d² = {sum:G6} > 1).", nameof(b));
        }

        double a = sum >= 1 ? 0 : Math.Sqrt(1 - sum);
        if (sum > 1)
        {
            double n = Math.Sqrt(sum);
            (b, c, d) = (b / n, c / n, d / n);
        }

        double dx = Math.Abs(spacing[0]), dy = Math.Abs(spacing[1]), dz = Math.Abs(spacing[2]) * (qfac < 0 ? -1 : 1);
        return new NiftiAffine([
            ((a * a) + (b * b) - (c * c) - (d * d)) * dx, 2 * ((b * c) - (a * d)) * dy, 2 * ((b * d) + (a * c)) * dz, offset.X,
            2 * ((b * c) + (a * d)) * dx, ((a * a) + (c * c) - (b * b) - (d * d)) * dy, 2 * ((c * d) - (a * b)) * dz, offset.Y,
            2 * ((b * d) - (a * c)) * dx, 2 * ((c * d) + (a * b)) * dy, ((a * a) + (d * d) - (c * c) - (b * b)) * dz, offset.Z,
        ]);
    }

    /// <summary>Element (row, column) of the 4×4 matrix.</summary>
    /// <param name="row">0..3.</param>
    /// <param name="column">0..3.</param>
    public double this[int row, int column]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)row, 3u, nameof(row));
            ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)column, 3u, nameof(column));
            return row == 3 ? (column == 3 ? 1 : 0) : _m[(row * 4) + column];
        }
    }

    /// <summary>The 4×4 matrix (a copy).</summary>
    public double[,] ToArray()
    {
        var a = new double[4, 4];
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++)
                a[r, c] = this[r, c];
        return a;
    }

    /// <summary>The world coordinates (mm) of voxel (i, j, k); fractional indices are allowed.</summary>
    public (double X, double Y, double Z) Apply(double i, double j, double k) => (
        (_m[0] * i) + (_m[1] * j) + (_m[2] * k) + _m[3],
        (_m[4] * i) + (_m[5] * j) + (_m[6] * k) + _m[7],
        (_m[8] * i) + (_m[9] * j) + (_m[10] * k) + _m[11]);

    /// <summary>The voxel sizes along i, j and k: the lengths of the first three columns.</summary>
    public IReadOnlyList<double> VoxelSizes => [Column(0).Length, Column(1).Length, Column(2).Length];

    /// <summary>
    /// The anatomical direction each voxel axis points to, as three letters: R/L for x, A/P for y, S/I for z ("RAS" when
    /// i runs to the right, j to anterior, k to superior; "LPS" is DICOM's patient order). Each axis gets the world axis
    /// its direction is closest to (for oblique volumes, the nearest orthogonal orientation, as nibabel's
    /// <c>aff2axcodes</c>).
    /// </summary>
    public string AxisCodes
    {
        get
        {
            var (worldOf, negative) = ClosestAxes();
            return string.Concat(Enumerable.Range(0, 3).Select(i => Letter(worldOf[i], negative[i])));
        }
    }

    /// <summary>Whether <paramref name="axisCodes"/> names an orientation: three letters, one of R/L, one of A/P and one of S/I, in any order (case-insensitive).</summary>
    public static bool IsValidAxisCodes(string? axisCodes) => TryParseAxisCodes(axisCodes, out _, out _);

    /// <summary>Throws an <see cref="ArgumentException"/> for <paramref name="parameterName"/> unless <paramref name="axisCodes"/> names an orientation.</summary>
    internal static (int[] World, bool[] Negative) ParseAxisCodes(string? axisCodes, string parameterName)
    {
        if (!TryParseAxisCodes(axisCodes, out var world, out var negative))
        {
            throw new ArgumentException($"'{axisCodes}' is not an orientation: give three letters, one of R/L, one of A/P and one of S/I (e.g. \"RAS\" or \"LPS\").", parameterName);
        }

        return (world, negative);
    }

    internal static bool TryParseAxisCodes(string? axisCodes, out int[] world, out bool[] negative)
    {
        world = new int[3];
        negative = new bool[3];
        if (axisCodes is not { Length: 3 }) return false;
        for (int n = 0; n < 3; n++)
        {
            (world[n], negative[n]) = char.ToUpperInvariant(axisCodes[n]) switch
            {
                'R' => (0, false), 'L' => (0, true), 'A' => (1, false), 'P' => (1, true), 'S' => (2, false), 'I' => (2, true), _ => (-1, false),
            };
            if (world[n] < 0) return false;
        }

        return world.Distinct().Count() == 3;
    }

    private static char Letter(int world, bool negative) => (world, negative) switch
    {
        (0, false) => 'R', (0, true) => 'L', (1, false) => 'A', (1, true) => 'P', (2, false) => 'S', _ => 'I',
    };

    // For each voxel axis, the world axis (0 = x, 1 = y, 2 = z) its direction is closest to and whether it points the
    // negative way; greedy by the largest cosine so that two voxel axes never share a world axis.
    internal (int[] WorldOf, bool[] Negative) ClosestAxes()
    {
        var cosines = new double[3, 3];
        for (int c = 0; c < 3; c++)
        {
            var (x, y, z, length) = Column(c);
            cosines[0, c] = x / length;
            cosines[1, c] = y / length;
            cosines[2, c] = z / length;
        }

        var worldOf = new int[3];
        var negative = new bool[3];
        bool[] voxelUsed = new bool[3], worldUsed = new bool[3];
        for (int step = 0; step < 3; step++)
        {
            (int w, int v, double best) = (-1, -1, -1.0);
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 3; c++)
                    if (!worldUsed[r] && !voxelUsed[c] && Math.Abs(cosines[r, c]) > best)
                        (w, v, best) = (r, c, Math.Abs(cosines[r, c]));
            worldUsed[w] = voxelUsed[v] = true;
            worldOf[v] = w;
            negative[v] = cosines[w, v] < 0;
        }

        return (worldOf, negative);
    }

    /// <summary>
    /// This affine after the voxel axes are permuted and flipped: new voxel axis n is old axis <paramref name="source"/>[n],
    /// reversed when <paramref name="flip"/>[n] (index m becomes <paramref name="oldShape"/>[source[n]] − 1 − m).
    /// </summary>
    internal NiftiAffine Reindexed(int[] source, bool[] flip, IReadOnlyList<int> oldShape)
    {
        var m = new double[12];
        for (int r = 0; r < 3; r++)
        {
            double offset = _m[(r * 4) + 3];
            for (int n = 0; n < 3; n++)
            {
                double column = _m[(r * 4) + source[n]];
                m[(r * 4) + n] = flip[n] ? -column : column;
                if (flip[n]) offset += column * (oldShape[source[n]] - 1);
            }

            m[(r * 4) + 3] = offset;
        }

        return new NiftiAffine(m);
    }

    /// <summary>
    /// The NIfTI qform parameters of this affine when its 3×3 part is a rotation times voxel sizes (columns orthogonal
    /// within 1e-4); <see langword="null"/> for a sheared affine, which only an sform can hold.
    /// </summary>
    internal (double B, double C, double D, double Qfac, double[] Spacing)? ToQuaternion()
    {
        var columns = Enumerable.Range(0, 3).Select(Column).ToArray();
        var u = columns.Select(c => new[] { c.X / c.Length, c.Y / c.Length, c.Z / c.Length }).ToArray();
        for (int p = 0; p < 3; p++)
            for (int q = p + 1; q < 3; q++)
                if (Math.Abs((u[p][0] * u[q][0]) + (u[p][1] * u[q][1]) + (u[p][2] * u[q][2])) > 1e-4)
                    return null;

        // A proper rotation needs det = +1; otherwise the third column is negated and qfac = −1 records it.
        double det = (u[0][0] * ((u[1][1] * u[2][2]) - (u[2][1] * u[1][2]))) - (u[1][0] * ((u[0][1] * u[2][2]) - (u[2][1] * u[0][2]))) + (u[2][0] * ((u[0][1] * u[1][2]) - (u[1][1] * u[0][2])));
        double qfac = det < 0 ? -1 : 1;
        if (qfac < 0) u[2] = [-u[2][0], -u[2][1], -u[2][2]];

        // R[row, col] = u[col][row]; the quaternion of a rotation matrix (Shepperd's method), then a ≥ 0.
        double r11 = u[0][0], r12 = u[1][0], r13 = u[2][0], r21 = u[0][1], r22 = u[1][1], r23 = u[2][1], r31 = u[0][2], r32 = u[1][2], r33 = u[2][2];
        double a, b, c, d;
        double trace = r11 + r22 + r33;
        if (trace > 0)
        {
            double s = Math.Sqrt(trace + 1) * 2;
            (a, b, c, d) = (s / 4, (r32 - r23) / s, (r13 - r31) / s, (r21 - r12) / s);
        }
        else if (r11 > r22 && r11 > r33)
        {
            double s = Math.Sqrt(1 + r11 - r22 - r33) * 2;
            (a, b, c, d) = ((r32 - r23) / s, s / 4, (r12 + r21) / s, (r13 + r31) / s);
        }
        else if (r22 > r33)
        {
            double s = Math.Sqrt(1 + r22 - r11 - r33) * 2;
            (a, b, c, d) = ((r13 - r31) / s, (r12 + r21) / s, s / 4, (r23 + r32) / s);
        }
        else
        {
            double s = Math.Sqrt(1 + r33 - r11 - r22) * 2;
            (a, b, c, d) = ((r21 - r12) / s, (r13 + r31) / s, (r23 + r32) / s, s / 4);
        }

        if (a < 0) (b, c, d) = (-b, -c, -d);
        return (b, c, d, qfac, columns.Select(x => x.Length).ToArray());
    }

    /// <summary>
    /// The map from the voxel indices of a volume with affine <paramref name="target"/> to this affine's voxel indices
    /// (this⁻¹ · target), as its first three rows, row-major: what a resampling onto <paramref name="target"/>'s grid
    /// evaluates for every output voxel.
    /// </summary>
    internal double[] IndexMapFrom(NiftiAffine target)
    {
        // Inverse of the 3×3 part by cofactors, then of the translation.
        double[] m = _m;
        double det = Determinant3(m);
        var inv = new double[9]
        {
            ((m[5] * m[10]) - (m[6] * m[9])) / det, ((m[2] * m[9]) - (m[1] * m[10])) / det, ((m[1] * m[6]) - (m[2] * m[5])) / det,
            ((m[6] * m[8]) - (m[4] * m[10])) / det, ((m[0] * m[10]) - (m[2] * m[8])) / det, ((m[2] * m[4]) - (m[0] * m[6])) / det,
            ((m[4] * m[9]) - (m[5] * m[8])) / det, ((m[1] * m[8]) - (m[0] * m[9])) / det, ((m[0] * m[5]) - (m[1] * m[4])) / det,
        };
        var t = target._m;
        var result = new double[12];
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 4; c++)
            {
                double v = 0;
                for (int n = 0; n < 3; n++) v += inv[(r * 3) + n] * (t[(n * 4) + c] - (c == 3 ? m[(n * 4) + 3] : 0));
                result[(r * 4) + c] = v;
            }
        }

        return result;
    }

    /// <summary>This affine with its voxel axes rescaled: column c multiplied by <paramref name="factors"/>[c], the origin (voxel (0, 0, 0)) kept.</summary>
    internal NiftiAffine WithColumnsScaled(IReadOnlyList<double> factors)
    {
        var m = (double[])_m.Clone();
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                m[(r * 4) + c] *= factors[c];
        return new NiftiAffine(m);
    }

    /// <summary>
    /// The affine of a grid whose voxel (i, j, k) is this grid's voxel (scale[0]·i + offset[0], scale[1]·j + offset[1],
    /// scale[2]·k + offset[2]): what cropping (offsets), padding (negative offsets) and resizing (scales) make of a grid.
    /// </summary>
    internal NiftiAffine WithIndexMap(IReadOnlyList<double> scale, IReadOnlyList<double> offset)
    {
        var m = new double[12];
        for (int r = 0; r < 3; r++)
        {
            double t = _m[(r * 4) + 3];
            for (int c = 0; c < 3; c++)
            {
                m[(r * 4) + c] = _m[(r * 4) + c] * scale[c];
                t += _m[(r * 4) + c] * offset[c];
            }

            m[(r * 4) + 3] = t;
        }

        return new NiftiAffine(m);
    }

    private (double X, double Y, double Z, double Length) Column(int c)
    {
        double x = _m[c], y = _m[4 + c], z = _m[8 + c];
        return (x, y, z, Math.Sqrt((x * x) + (y * y) + (z * z)));
    }

    private static double Determinant3(double[] m) =>
        (m[0] * ((m[5] * m[10]) - (m[6] * m[9]))) - (m[1] * ((m[4] * m[10]) - (m[6] * m[8]))) + (m[2] * ((m[4] * m[9]) - (m[5] * m[8])));

    /// <inheritdoc />
    public bool Equals(NiftiAffine? other) => other is not null && _m.AsSpan().SequenceEqual(other._m);

    /// <summary>
    /// Whether <paramref name="other"/> describes the same grid up to what header round trips change: translations
    /// within 10⁻³ mm and the other entries within 10⁻⁵ (relative to their size where above 1). Affines that tools write
    /// for one grid (an image and its label map, a quaternion and its matrix) differ in the last digits, so exact
    /// <see cref="Equals(NiftiAffine?)"/> is too strict for checking that two files lie on one grid.
    /// </summary>
    public bool IsCloseTo(NiftiAffine other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                if (Math.Abs(this[r, c] - other[r, c]) > (c == 3 ? 1e-3 : 1e-5 * Math.Max(1, Math.Abs(this[r, c])))) return false;
        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as NiftiAffine);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var v in _m) hash.Add(v);
        return hash.ToHashCode();
    }

    /// <summary>The first three rows, e.g. "[[1, 0, 0, -90], [0, 1, 0, -126], [0, 0, 1, -72]] (RAS)".</summary>
    public override string ToString() =>
        "[" + string.Join(", ", Enumerable.Range(0, 3).Select(r => "[" + string.Join(", ", Enumerable.Range(0, 4).Select(c => _m[(r * 4) + c].ToString("G6", CultureInfo.InvariantCulture))) + "]")) + $"] ({AxisCodes})";
}
