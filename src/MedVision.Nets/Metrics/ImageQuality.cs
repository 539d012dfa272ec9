namespace MedVision.Nets.Metrics;

/// <summary>
/// Image-quality metrics of a synthesised image against its reference (used for CDSF's synthetic PET): peak
/// signal-to-noise ratio and a 3-D structural similarity index. Both work on flat float arrays in C order and are
/// computed in double precision.
/// </summary>
public static class ImageQuality
{
    /// <summary>SSIM's stabilising constant K₁ (Wang et al. 2004).</summary>
    public const double K1 = 0.01;

    /// <summary>SSIM's stabilising constant K₂ (Wang et al. 2004).</summary>
    public const double K2 = 0.03;

    /// <summary>
    /// Peak signal-to-noise ratio in dB: 10·log₁₀(R² / MSE) with R = <paramref name="dataRange"/> (for example 1 for
    /// images in [0, 1], 2 for [−1, 1]). Identical images give +∞.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays are empty or differ in length, or the range is not positive.</exception>
    public static double Psnr(ReadOnlySpan<float> reference, ReadOnlySpan<float> test, double dataRange)
    {
        CheckPair(reference.Length, test.Length);
        CheckRange(dataRange);
        double sum = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double d = (double)reference[i] - test[i];
            sum += d * d;
        }
        double mse = sum / reference.Length;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(dataRange * dataRange / mse);
    }

    /// <summary>
    /// The mean structural similarity (SSIM, Wang et al. 2004) of two volumes (D, H, W) in C order, with a
    /// <b>uniform cubic window</b> of side <paramref name="window"/> (7 by default, as scikit-image's default) placed at
    /// every position where it fits entirely inside the volume (no padding). In each window, with population
    /// statistics (divisor n = window³): SSIM = (2μₓμᵧ + C₁)(2σₓᵧ + C₂) / ((μₓ² + μᵧ² + C₁)(σₓ² + σᵧ² + C₂)),
    /// C₁ = (K₁R)², C₂ = (K₂R)², R = <paramref name="dataRange"/>. The result is the mean over all windows.
    /// A 2-D image is the case D = 1 with <paramref name="window"/> applied to H and W only.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not match the arrays, the window does not fit, or the range is not positive.</exception>
    public static double Ssim3D(ReadOnlySpan<float> reference, ReadOnlySpan<float> test, int depth, int height, int width, double dataRange, int window = 7)
    {
        CheckPair(reference.Length, test.Length);
        CheckRange(dataRange);
        if (depth < 1 || height < 1 || width < 1 || (long)depth * height * width != reference.Length)
            throw new ArgumentException($"Shape ({depth}, {height}, {width}) does not match {reference.Length} voxels.", nameof(depth));
        if (window < 1) throw new ArgumentException($"The window must be at least 1 voxel, got {window}.", nameof(window));
        int wd = depth == 1 ? 1 : window;
        if (wd > depth || window > height || window > width)
            throw new ArgumentException($"A {window}-voxel window does not fit in ({depth}, {height}, {width}).", nameof(window));

        // Summed-volume tables of x, y, x², y², xy (one voxel of zero padding in front of each axis).
        int d1 = depth + 1, h1 = height + 1, w1 = width + 1;
        var tables = new double[5][];
        for (int t = 0; t < 5; t++) tables[t] = new double[d1 * h1 * w1];
        for (int z = 0; z < depth; z++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int source = (z * height + y) * width + x;
                    double a = reference[source], b = test[source];
                    int at = ((z + 1) * h1 + y + 1) * w1 + x + 1;
                    Accumulate(tables[0], at, a, h1, w1);
                    Accumulate(tables[1], at, b, h1, w1);
                    Accumulate(tables[2], at, a * a, h1, w1);
                    Accumulate(tables[3], at, b * b, h1, w1);
                    Accumulate(tables[4], at, a * b, h1, w1);
                }

        double c1 = K1 * dataRange * K1 * dataRange, c2 = K2 * dataRange * K2 * dataRange;
        double n = (double)wd * window * window;
        double total = 0;
        long count = 0;
        for (int z = 0; z + wd <= depth; z++)
            for (int y = 0; y + window <= height; y++)
                for (int x = 0; x + window <= width; x++)
                {
                    double mx = BoxSum(tables[0], z, y, x, wd, window, h1, w1) / n;
                    double my = BoxSum(tables[1], z, y, x, wd, window, h1, w1) / n;
                    double vx = Math.Max(0, BoxSum(tables[2], z, y, x, wd, window, h1, w1) / n - mx * mx);
                    double vy = Math.Max(0, BoxSum(tables[3], z, y, x, wd, window, h1, w1) / n - my * my);
                    double cxy = BoxSum(tables[4], z, y, x, wd, window, h1, w1) / n - mx * my;
                    total += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
                    count++;
                }
        return total / count;
    }

    private static void Accumulate(double[] table, int at, double value, int h1, int w1)
    {
        int plane = h1 * w1;
        // Inclusion-exclusion over the three predecessors along each axis.
        table[at] = value
            + table[at - 1] + table[at - w1] + table[at - plane]
            - table[at - 1 - w1] - table[at - 1 - plane] - table[at - w1 - plane]
            + table[at - 1 - w1 - plane];
    }

    private static double BoxSum(double[] table, int z, int y, int x, int wd, int w, int h1, int w1)
    {
        int Index(int zz, int yy, int xx) => (zz * h1 + yy) * w1 + xx;
        int z2 = z + wd, y2 = y + w, x2 = x + w;
        return table[Index(z2, y2, x2)]
            - table[Index(z, y2, x2)] - table[Index(z2, y, x2)] - table[Index(z2, y2, x)]
            + table[Index(z, y, x2)] + table[Index(z, y2, x)] + table[Index(z2, y, x)]
            - table[Index(z, y, x)];
    }

    private static void CheckPair(int reference, int test)
    {
        if (reference == 0) throw new ArgumentException("The images are empty.", nameof(reference));
        if (reference != test) throw new ArgumentException($"The images differ in size: {reference} and {test} values.", nameof(test));
    }

    private static void CheckRange(double dataRange)
    {
        if (!(dataRange > 0) || double.IsInfinity(dataRange)) throw new ArgumentException($"The data range must be positive and finite, got {dataRange}.", nameof(dataRange));
    }
}
