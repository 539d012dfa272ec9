namespace MedVision.Torch.Tests.Support;

/// <summary>
/// Plain-loop reference implementations (written from the definitions in PyTorch's documentation), used as the
/// independent oracle for the binding's results. Arrays are row-major; 1-D and 2-D ops are expressed as 3-D ones
/// with unit dimensions.
/// </summary>
public static class Naive
{
    /// <summary>Convolution of x (N, C, D, H, W) by w (O, C/groups, KD, KH, KW): cross-correlation with zero padding.</summary>
    public static (double[] Out, long[] Shape) Conv3d(double[] x, long[] xs, double[] w, long[] ws, double[]? bias,
        long[] stride, long[] pad, long[] dil, long groups)
    {
        long n = xs[0], c = xs[1], d = xs[2], h = xs[3], wd = xs[4];
        long o = ws[0], cg = ws[1], kd = ws[2], kh = ws[3], kw = ws[4];
        long od = (d + 2 * pad[0] - dil[0] * (kd - 1) - 1) / stride[0] + 1;
        long oh = (h + 2 * pad[1] - dil[1] * (kh - 1) - 1) / stride[1] + 1;
        long ow = (wd + 2 * pad[2] - dil[2] * (kw - 1) - 1) / stride[2] + 1;
        long og = o / groups;
        var y = new double[n * o * od * oh * ow];
        for (long b = 0; b < n; b++)
        for (long oc = 0; oc < o; oc++)
        {
            long g = oc / og;
            for (long z = 0; z < od; z++)
            for (long i = 0; i < oh; i++)
            for (long j = 0; j < ow; j++)
            {
                double s = bias is null ? 0 : bias[oc];
                for (long ic = 0; ic < cg; ic++)
                for (long a = 0; a < kd; a++)
                for (long p = 0; p < kh; p++)
                for (long q = 0; q < kw; q++)
                {
                    long zz = z * stride[0] - pad[0] + a * dil[0];
                    long ii = i * stride[1] - pad[1] + p * dil[1];
                    long jj = j * stride[2] - pad[2] + q * dil[2];
                    if (zz < 0 || zz >= d || ii < 0 || ii >= h || jj < 0 || jj >= wd) continue;
                    long cin = g * cg + ic;
                    s += x[(((b * c + cin) * d + zz) * h + ii) * wd + jj] * w[(((oc * cg + ic) * kd + a) * kh + p) * kw + q];
                }
                y[(((b * o + oc) * od + z) * oh + i) * ow + j] = s;
            }
        }
        return (y, new[] { n, o, od, oh, ow });
    }

    /// <summary>Transposed 2-D convolution: x (N, C, H, W), w (C, O/groups, KH, KW); every input pixel scatters its kernel.</summary>
    public static (double[] Out, long[] Shape) ConvTranspose2d(double[] x, long[] xs, double[] w, long[] ws, double[]? bias,
        long stride, long pad, long outputPad, long dil, long groups)
    {
        long n = xs[0], c = xs[1], h = xs[2], wd = xs[3];
        long og = ws[1], kh = ws[2], kw = ws[3];
        long o = og * groups, cg = c / groups;
        long oh = (h - 1) * stride - 2 * pad + dil * (kh - 1) + outputPad + 1;
        long ow = (wd - 1) * stride - 2 * pad + dil * (kw - 1) + outputPad + 1;
        var y = new double[n * o * oh * ow];
        for (long b = 0; b < n; b++)
        for (long oc = 0; oc < o; oc++)
        for (long i = 0; i < oh; i++)
        for (long j = 0; j < ow; j++)
            y[((b * o + oc) * oh + i) * ow + j] = bias is null ? 0 : bias[oc];
        for (long b = 0; b < n; b++)
        for (long ic = 0; ic < c; ic++)
        {
            long g = ic / cg;
            for (long i = 0; i < h; i++)
            for (long j = 0; j < wd; j++)
            {
                var v = x[((b * c + ic) * h + i) * wd + j];
                for (long k = 0; k < og; k++)
                for (long p = 0; p < kh; p++)
                for (long q = 0; q < kw; q++)
                {
                    long ii = i * stride - pad + p * dil, jj = j * stride - pad + q * dil;
                    if (ii < 0 || ii >= oh || jj < 0 || jj >= ow) continue;
                    long oc = g * og + k;
                    y[((b * o + oc) * oh + ii) * ow + jj] += v * w[((ic * og + k) * kh + p) * kw + q];
                }
            }
        }
        return (y, new[] { n, o, oh, ow });
    }

    /// <summary>Max or average pooling of x (N, C, D, H, W) with implicit padding (−∞ for max, zeros for average).</summary>
    public static (double[] Out, long[] Shape) Pool3d(bool max, double[] x, long[] xs, long[] k, long[] stride, long[] pad, bool countIncludePad = true)
    {
        long n = xs[0], c = xs[1], d = xs[2], h = xs[3], wd = xs[4];
        long od = (d + 2 * pad[0] - k[0]) / stride[0] + 1;
        long oh = (h + 2 * pad[1] - k[1]) / stride[1] + 1;
        long ow = (wd + 2 * pad[2] - k[2]) / stride[2] + 1;
        var y = new double[n * c * od * oh * ow];
        for (long nc = 0; nc < n * c; nc++)
        for (long z = 0; z < od; z++)
        for (long i = 0; i < oh; i++)
        for (long j = 0; j < ow; j++)
        {
            double best = double.NegativeInfinity, sum = 0; long count = 0;
            for (long a = 0; a < k[0]; a++)
            for (long p = 0; p < k[1]; p++)
            for (long q = 0; q < k[2]; q++)
            {
                long zz = z * stride[0] - pad[0] + a, ii = i * stride[1] - pad[1] + p, jj = j * stride[2] - pad[2] + q;
                if (zz < 0 || zz >= d || ii < 0 || ii >= h || jj < 0 || jj >= wd) continue;
                var v = x[((nc * d + zz) * h + ii) * wd + jj];
                best = Math.Max(best, v); sum += v; count++;
            }
            y[((nc * od + z) * oh + i) * ow + j] = max ? best : sum / (countIncludePad ? k[0] * k[1] * k[2] : count);
        }
        return (y, new[] { n, c, od, oh, ow });
    }

    /// <summary>Adaptive average pooling: output cell i averages input [floor(i·In/Out), ceil((i+1)·In/Out)).</summary>
    public static double[] AdaptiveAvg3d(double[] x, long[] xs, long[] o)
    {
        long nc = xs[0] * xs[1], d = xs[2], h = xs[3], w = xs[4];
        var y = new double[nc * o[0] * o[1] * o[2]];
        static long Lo(long i, long inp, long outp) => (long)Math.Floor((double)i * inp / outp);
        static long Hi(long i, long inp, long outp) => (long)Math.Ceiling((double)(i + 1) * inp / outp);
        for (long b = 0; b < nc; b++)
        for (long z = 0; z < o[0]; z++)
        for (long i = 0; i < o[1]; i++)
        for (long j = 0; j < o[2]; j++)
        {
            double s = 0; long cnt = 0;
            for (long zz = Lo(z, d, o[0]); zz < Hi(z, d, o[0]); zz++)
            for (long ii = Lo(i, h, o[1]); ii < Hi(i, h, o[1]); ii++)
            for (long jj = Lo(j, w, o[2]); jj < Hi(j, w, o[2]); jj++) { s += x[((b * d + zz) * h + ii) * w + jj]; cnt++; }
            y[((b * o[0] + z) * o[1] + i) * o[2] + j] = s / cnt;
        }
        return y;
    }

    /// <summary>Bilinear resize of (N, C, H, W), align_corners = false (half-pixel centres, source clamped at 0).</summary>
    public static double[] Bilinear(double[] x, long[] xs, long oh, long ow)
    {
        long nc = xs[0] * xs[1], h = xs[2], w = xs[3];
        var y = new double[nc * oh * ow];
        double sh = (double)h / oh, sw = (double)w / ow;
        for (long b = 0; b < nc; b++)
        for (long i = 0; i < oh; i++)
        for (long j = 0; j < ow; j++)
        {
            double si = Math.Max((i + 0.5) * sh - 0.5, 0), sj = Math.Max((j + 0.5) * sw - 0.5, 0);
            long i0 = (long)Math.Floor(si), j0 = (long)Math.Floor(sj);
            long i1 = Math.Min(i0 + 1, h - 1), j1 = Math.Min(j0 + 1, w - 1);
            double li = si - i0, lj = sj - j0;
            double At(long a, long c) => x[(b * h + a) * w + c];
            y[(b * oh + i) * ow + j] = (1 - li) * ((1 - lj) * At(i0, j0) + lj * At(i0, j1)) + li * ((1 - lj) * At(i1, j0) + lj * At(i1, j1));
        }
        return y;
    }

    /// <summary>Nearest resize of (N, C, H, W): source index floor(dst · In / Out).</summary>
    public static double[] Nearest(double[] x, long[] xs, long oh, long ow)
    {
        long nc = xs[0] * xs[1], h = xs[2], w = xs[3];
        var y = new double[nc * oh * ow];
        for (long b = 0; b < nc; b++)
        for (long i = 0; i < oh; i++)
        for (long j = 0; j < ow; j++)
        {
            long si = Math.Min((long)Math.Floor(i * ((double)h / oh)), h - 1), sj = Math.Min((long)Math.Floor(j * ((double)w / ow)), w - 1);
            y[(b * oh + i) * ow + j] = x[(b * h + si) * w + sj];
        }
        return y;
    }

    /// <summary>Log-softmax over the class dimension of (N, C).</summary>
    public static double[] LogSoftmaxRows(double[] x, int n, int c)
    {
        var y = new double[n * c];
        for (int i = 0; i < n; i++)
        {
            double m = double.NegativeInfinity;
            for (int k = 0; k < c; k++) m = Math.Max(m, x[i * c + k]);
            double s = 0;
            for (int k = 0; k < c; k++) s += Math.Exp(x[i * c + k] - m);
            var lse = m + Math.Log(s);
            for (int k = 0; k < c; k++) y[i * c + k] = x[i * c + k] - lse;
        }
        return y;
    }

    /// <summary>
    /// PyTorch's cross_entropy for class indices with mean reduction:
    /// (1 − ε)·NLL + ε/C · smooth, where NLL = Σ −w[yᵢ]·logp[i, yᵢ] / Σ w[yᵢ] and smooth = Σᵢ Σ_c −w[c]·logp[i, c] / Σ w[yᵢ],
    /// both over non-ignored samples.
    /// </summary>
    public static double CrossEntropyMean(double[] logits, int n, int c, long[] target, double[]? weight, double eps, long ignoreIndex = -100)
    {
        var lp = LogSoftmaxRows(logits, n, c);
        double nll = 0, smooth = 0, wsum = 0;
        for (int i = 0; i < n; i++)
        {
            if (target[i] == ignoreIndex) continue;
            var wy = weight?[target[i]] ?? 1.0;
            nll += -wy * lp[i * c + target[i]];
            wsum += wy;
            for (int k = 0; k < c; k++) smooth += -(weight?[k] ?? 1.0) * lp[i * c + k];
        }
        return (1 - eps) * nll / wsum + eps / c * smooth / wsum;
    }
}
