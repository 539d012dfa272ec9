namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, multiplies the image by a smooth random field exp(Σ cₘ·Pᵢ·Pⱼ[·Pₖ]) — the
/// slowly varying intensity of an MRI bias field (MONAI's <c>RandBiasField</c>, with its defaults and its terms): a sum of
/// products of Legendre polynomials over coordinates from −1 to 1 along each spatial axis, up to <see cref="Degree"/>
/// (for a volume all (i, j, k) with i + j + k ≤ degree; for a 2-D image MONAI's (i, j) with j ≤ i ≤ degree), each
/// coefficient drawn from [<see cref="CoefficientMin"/>, <see cref="CoefficientMax"/>]. Every channel gets the same
/// field. 2-D images and volumes; in place; every call draws the same values whether or not it applies.
/// </summary>
public sealed class RandomBiasField : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="degree">Highest polynomial degree (1 to 10).</param>
    /// <param name="coefficientMin">Smallest coefficient.</param>
    /// <param name="coefficientMax">Largest coefficient (at least <paramref name="coefficientMin"/>).</param>
    /// <param name="probability">Chance that an image is changed (0 to 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range, or the coefficients are so large
    /// that the field could exceed <see cref="MaxExponent"/> (terms × largest |coefficient|, counting a volume's terms).</exception>
    public RandomBiasField(int degree = 3, double coefficientMin = 0, double coefficientMax = 0.1, double probability = 0.1)
    {
        if (degree is < 1 or > 10) throw new ArgumentOutOfRangeException(nameof(degree), degree, "The degree must be from 1 to 10.");
        Degree = degree;
        (CoefficientMin, CoefficientMax) = TransformArguments.Range(coefficientMin, coefficientMax, nameof(coefficientMin), nameof(coefficientMax), double.MinValue, exclusive: false, "coefficient");
        // At a corner of the grid every Legendre polynomial is ±1, so the field reaches (terms × largest |coefficient|):
        // beyond MaxExponent the factor exp(field) overflows float for ordinary intensities (and is no bias field).
        int terms = CoefficientCount(degree, 3);
        double largest = Math.Max(Math.Abs(coefficientMin), Math.Abs(coefficientMax));
        if (terms * largest > MaxExponent)
            throw new ArgumentOutOfRangeException(Math.Abs(coefficientMin) > Math.Abs(coefficientMax) ? nameof(coefficientMin) : nameof(coefficientMax), largest,
                $"A field of degree {degree} sums up to {terms} terms (in 3-D); coefficients up to {largest} could multiply intensities by e^{terms * largest:0.#}, beyond float range. Keep every |coefficient| at or below {MaxExponent / terms:0.###} for this degree.");
        Probability = TransformArguments.Probability(probability);
    }

    /// <summary>The largest exponent a field may reach: e^40 ≈ 2.4·10¹⁷, so intensities up to about 10²¹ stay within float range.</summary>
    public const double MaxExponent = 40;

    /// <summary>Highest polynomial degree.</summary>
    public int Degree { get; }

    /// <summary>Smallest coefficient.</summary>
    public double CoefficientMin { get; }

    /// <summary>Largest coefficient.</summary>
    public double CoefficientMax { get; }

    /// <summary>Chance that an image is changed.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        int rank = image.IsVolume ? 3 : 2;
        var coefficients = Enumerable.Range(0, CoefficientCount(Degree, rank)).Select(_ => TransformArguments.Uniform(random, CoefficientMin, CoefficientMax)).ToArray();
        return apply ? Multiply(image, Degree, coefficients) : image;
    }

    /// <summary>The number of terms (coefficients) of a field of <paramref name="degree"/> over <paramref name="rank"/> axes: C(degree + rank, rank).</summary>
    internal static int CoefficientCount(int degree, int rank) => rank == 3 ? (degree + 1) * (degree + 2) * (degree + 3) / 6 : (degree + 1) * (degree + 2) / 2;

    /// <summary>Multiplies every channel of <paramref name="image"/> by exp(field), in place.</summary>
    internal static FloatImage Multiply(FloatImage image, int degree, IReadOnlyList<double> coefficients)
    {
        int[] spatial = image.IsVolume ? [image.Depth, image.Height, image.Width] : [image.Height, image.Width];
        var field = Field(spatial, degree, coefficients);
        var data = image.Data;
        int plane = image.PlaneSize, channels = image.Channels;
        // One exponential per voxel, shared by the channels.
        Parallel.For(0, (plane + 65535) / 65536, chunk =>
        {
            int end = Math.Min(plane, (chunk + 1) * 65536);
            for (int i = chunk * 65536; i < end; i++)
            {
                double factor = Math.Exp(field[i]);
                for (int c = 0; c < channels; c++) data[(c * plane) + i] = (float)(data[(c * plane) + i] * factor);
            }
        });
        return image;
    }

    /// <summary>
    /// The field (before the exponential) over <paramref name="spatial"/> (array order), as MONAI's
    /// <c>_generate_random_field</c> computes it with NumPy's <c>leggrid2d</c>/<c>leggrid3d</c> on float32 coordinates.
    /// </summary>
    internal static double[] Field(IReadOnlyList<int> spatial, int degree, IReadOnlyList<double> coefficients)
    {
        int rank = spatial.Count;
        if (coefficients.Count != CoefficientCount(degree, rank))
            throw new ArgumentException($"A degree-{degree} field over {rank} axes has {CoefficientCount(degree, rank)} coefficients, not {coefficients.Count}.", nameof(coefficients));
        // legendre[a][i][n]: Pᵢ at coordinate n of axis a.
        var legendre = spatial.Select(size =>
        {
            var table = new double[degree + 1][];
            var x = Enumerable.Range(0, size).Select(n => (double)Coordinate(n, size)).ToArray();
            table[0] = x.Select(_ => 1.0).ToArray();
            table[1] = x;
            for (int i = 1; i < degree; i++)
            {
                var (previous, current, next) = (table[i - 1], table[i], new double[size]);
                for (int n = 0; n < size; n++) next[n] = (((2 * i) + 1) * x[n] * current[n] - (i * previous[n])) / (i + 1);
                table[i + 1] = next;
            }
            return table;
        }).ToArray();
        // The terms in MONAI's order: (i, j, k) with i + j + k ≤ degree, or (i, j) with j ≤ i (np.tril_indices).
        var terms = new List<int[]>();
        if (rank == 3)
        {
            for (int i = 0; i <= degree; i++)
                for (int j = 0; j <= degree - i; j++)
                    for (int k = 0; k <= degree - i - j; k++) terms.Add([i, j, k]);
        }
        else
        {
            for (int i = 0; i <= degree; i++)
                for (int j = 0; j <= i; j++) terms.Add([i, j]);
        }
        int count = spatial.Aggregate(1, (a, b) => a * b);
        var field = new double[count];
        int last = spatial[rank - 1];
        // Row by row along the last axis (rows are independent): row r indexes the leading axes, (z, y) or y.
        Parallel.For(0, count / last, row =>
        {
            var target = field.AsSpan(row * last, last);
            for (int t = 0; t < terms.Count; t++)
            {
                var term = terms[t];
                double weight = coefficients[t];
                int rest = row;
                for (int a = rank - 2; a >= 0 && weight != 0; a--)
                {
                    weight *= legendre[a][term[a]][rest % spatial[a]];
                    rest /= spatial[a];
                }
                if (weight == 0) continue;
                var inner = legendre[rank - 1][term[rank - 1]];
                for (int n = 0; n < last; n++) target[n] += weight * inner[n];
            }
        });
        return field;
    }

    // np.linspace(-1, 1, size, dtype=np.float32)[n]: computed in float64, the last point exactly 1, then rounded to float32.
    private static float Coordinate(int n, int size) => size == 1 ? -1f : n == size - 1 ? 1f : (float)(-1 + (n * (2.0 / (size - 1))));
}
