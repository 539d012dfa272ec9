using System.Numerics;

namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, adds Gibbs ringing — the ripples next to sharp edges of an MR image whose
/// k-space was cut short — as MONAI's <c>RandGibbsNoise</c> does, with its defaults: each channel's k-space (the Fourier
/// transform over its spatial axes, zero frequency at the centre) is kept within a ball of radius
/// (1 − α) · max(size) · √2 / 2 about the centre ((size − 1) / 2 per axis) and zeroed outside, and the image is the real part
/// of the inverse transform; α is drawn from [<see cref="AlphaMin"/>, <see cref="AlphaMax"/>] (0 keeps nearly everything, 1
/// keeps the centre only). 2-D images and volumes; NaN or infinite values (a NaN
/// background) enter the transform as 0 and stay as they were; a new image; every call draws the same values whether or not
/// it applies.
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
        int[] size = KSpace.Size(image);
        int plane = image.PlaneSize;
        // Which frequencies stay. fftshift moves frequency index f of an axis of n to (f + n / 2) mod n; the ball is
        // centred at (n − 1) / 2 of the shifted axes, as MONAI builds its mask.
        double radius = (1 - alpha) * size.Max() * Math.Sqrt(2) / 2;
        var keep = new bool[plane];
        for (int i = 0; i < plane; i++)
        {
            int rest = i;
            double distance = 0;
            for (int a = size.Length - 1; a >= 0; a--)
            {
                int f = rest % size[a];
                rest /= size[a];
                double d = ((f + (size[a] / 2)) % size[a]) - ((size[a] - 1) / 2.0);
                distance += d * d;
            }
            keep[i] = Math.Sqrt(distance) <= radius;
        }
        return KSpace.Edit(image, (_, spectrum) =>
        {
            for (int i = 0; i < spectrum.Length; i++)
                if (!keep[i]) spectrum[i] = Complex.Zero;
        });
    }
}
