using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace MedVision.Nets.Transforms;

/// <summary>The k-space (discrete Fourier transform over the spatial axes) of each channel, for the MR artefact augmentations.</summary>
internal static class KSpace
{
    /// <summary>The spatial size of <paramref name="image"/>: (D, H, W) or (H, W).</summary>
    public static int[] Size(FloatImage image) => image.IsVolume ? [image.Depth, image.Height, image.Width] : [image.Height, image.Width];

    /// <summary>
    /// A new image: each channel transformed to k-space (unshifted: frequency index f of an axis of n at f, NumPy's
    /// <c>fftn</c>), changed by <paramref name="edit"/> (given the channel and its spectrum, row-major over the spatial
    /// size), and transformed back, keeping the real part (NumPy's <c>ifftn(…).real</c>). NaN or infinite values (a NaN
    /// background some tools write) enter the transform as 0 and are put back as they were, instead of spreading over
    /// the whole channel.
    /// </summary>
    public static FloatImage Edit(FloatImage image, Action<int, Complex[]> edit)
    {
        int[] size = Size(image);
        int plane = image.PlaneSize;
        var output = new float[image.Data.Length];
        var spectrum = new Complex[plane];
        for (int c = 0; c < image.Channels; c++)
        {
            for (int i = 0; i < plane; i++)
            {
                float v = image.Data[(c * plane) + i];
                spectrum[i] = float.IsFinite(v) ? v : 0;
            }
            Transform(spectrum, size, inverse: false);
            edit(c, spectrum);
            Transform(spectrum, size, inverse: true);
            for (int i = 0; i < plane; i++)
            {
                float v = image.Data[(c * plane) + i];
                output[(c * plane) + i] = float.IsFinite(v) ? (float)spectrum[i].Real : v;
            }
        }
        return new FloatImage(output, (int[])image.Shape.Clone());
    }

    /// <summary>The unshifted index of position <paramref name="shifted"/> of an axis of <paramref name="n"/> after NumPy's <c>fftshift</c> (the inverse of f → (f + n / 2) mod n).</summary>
    public static int Unshift(int shifted, int n) => (((shifted - (n / 2)) % n) + n) % n;

    // The n-dimensional discrete Fourier transform of `values` (row-major over `size`), axis by axis, in place; NumPy's
    // conventions: e^(−2πi·fk/n) forward without scaling, e^(+2πi·fk/n) / n inverse. The lines of an axis are
    // independent: they are transformed on all cores, each thread with its own buffer.
    public static void Transform(Complex[] values, int[] size, bool inverse)
    {
        int stride = 1;
        for (int a = size.Length - 1; a >= 0; a--)
        {
            int n = size[a], step = stride;
            if (n > 1)
            {
                int block = step * n, lines = values.Length / n;
                Parallel.For(0, lines, () => new Complex[n], (l, _, line) =>
                {
                    int first = ((l / step) * block) + (l % step);
                    for (int k = 0; k < n; k++) line[k] = values[first + (k * step)];
                    if (inverse) Fourier.Inverse(line, FourierOptions.Matlab);
                    else Fourier.Forward(line, FourierOptions.Matlab);
                    for (int k = 0; k < n; k++) values[first + (k * step)] = line[k];
                    return line;
                }, _ => { });
            }
            stride *= n;
        }
    }
}
