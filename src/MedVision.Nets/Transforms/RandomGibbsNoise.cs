using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, adds Gibbs ringing — the ripples next to sharp edges of an MR image whose
/// k-space was cut short — as MONAI's <c>RandGibbsNoise</c> does, with its defaults: each channel's k-space (the Fourier
/// transform over its spatial axes, zero frequency at the centre) is kept within a ball of radius
/// (1 − α) · max(size) · √2 / 2 about the centre ((size − 1) / 2 per axis) and zeroed outside, and the image is the real part
/// of the inverse transform; α is drawn from [<see cref="AlphaMin"/>, <see cref="AlphaMax"/>] (0 keeps nearly everything, 1
/// keeps the centre only). 2-D images and volumes; a new image; every call draws the same values whether or not it applies.
/// </summary>
public sealed class RandomGibbsNoise : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">Chance that an image is changed (0 to 1).</param>
    /// <param name="alphaMin">Smallest α (0 to 1).</param>
    /// <param name="alphaMax">Largest α (at least <paramref name="alphaMin"/>, at most 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomGibbsNoise(double probability = 0.1, double alphaMin = 0, double alphaMax = 1)
    {
        Probability = TransformArguments.Probability(probability);
        (AlphaMin, AlphaMax) = TransformArguments.Range(alphaMin, alphaMax, nameof(alphaMin), nameof(alphaMax), 0, exclusive: false, "alpha");
        if (AlphaMax > 1) throw new ArgumentOutOfRangeException(nameof(alphaMax), alphaMax, "The largest alpha must be at most 1.");
    }

    /// <summary>Chance that an image is changed.</summary>
    public double Probability { get; }

    /// <summary>Smallest α.</summary>
    public double AlphaMin { get; }

    /// <summary>Largest α.</summary>
    public double AlphaMax { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        double alpha = TransformArguments.Uniform(random, AlphaMin, AlphaMax);
        return apply ? Ring(image, alpha) : image;
    }

    /// <summary>MONAI's <c>GibbsNoise(alpha)</c> of every channel: a new image.</summary>
    internal static FloatImage Ring(FloatImage image, double alpha)
    {
        int[] size = image.IsVolume ? [image.Depth, image.Height, image.Width] : [image.Height, image.Width];
        int plane = image.PlaneSize;
        // Which frequencies stay. fftshift moves frequency index f of an axis of n to (f + n / 2) mod n; the ball is
        // centred at (n − 1) / 2 of the shifted axes, as MONAI builds its mask.
        double radius = (1 - alpha) * size.Max() * Math.Sqrt(2) / 2;
        var keep = new bool[plane];
        var index = new int[size.Length];
        for (int i = 0; i < plane; i++)
        {
            int rest = i;
            double distance = 0;
            for (int a = size.Length - 1; a >= 0; a--)
            {
                index[a] = rest % size[a];
                rest /= size[a];
                double d = ((index[a] + (size[a] / 2)) % size[a]) - ((size[a] - 1) / 2.0);
                distance += d * d;
            }
            keep[i] = Math.Sqrt(distance) <= radius;
        }
        var output = new float[image.Data.Length];
        var spectrum = new Complex[plane];
        for (int c = 0; c < image.Channels; c++)
        {
            for (int i = 0; i < plane; i++) spectrum[i] = image.Data[(c * plane) + i];
            Transform(spectrum, size, inverse: false);
            for (int i = 0; i < plane; i++)
                if (!keep[i]) spectrum[i] = Complex.Zero;
            Transform(spectrum, size, inverse: true);
            for (int i = 0; i < plane; i++) output[(c * plane) + i] = (float)spectrum[i].Real;
        }
        return new FloatImage(output, (int[])image.Shape.Clone());
    }

    // The n-dimensional discrete Fourier transform of `values` (row-major over `size`), axis by axis, in place; NumPy's
    // conventions: e^(−2πi·fk/n) forward without scaling, e^(+2πi·fk/n) / n inverse. The lines of an axis are
    // independent: they are transformed on all cores, each thread with its own buffer.
    private static void Transform(Complex[] values, int[] size, bool inverse)
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
