namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, changes the contrast by a gamma curve with γ drawn from
/// [<see cref="GammaMin"/>, <see cref="GammaMax"/>] (MONAI's <c>RandAdjustContrast</c>, with its defaults): the values are
/// mapped to [0, 1] by the image's minimum and range (over all channels), raised to γ and mapped back, so that the
/// minimum and maximum stay and γ &lt; 1 brightens the mid-tones, γ &gt; 1 darkens them. 2-D images and volumes;
/// in place; every call draws the same values from the random source whether or not it applies.
/// </summary>
public sealed class RandomAdjustContrast : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">Chance that an image is changed (0 to 1).</param>
    /// <param name="gammaMin">Smallest γ (positive).</param>
    /// <param name="gammaMax">Largest γ (at least <paramref name="gammaMin"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomAdjustContrast(double probability = 0.1, double gammaMin = 0.5, double gammaMax = 4.5)
    {
        Probability = TransformArguments.Probability(probability);
        (GammaMin, GammaMax) = TransformArguments.Range(gammaMin, gammaMax, nameof(gammaMin), nameof(gammaMax), 0, exclusive: true, "gamma");
    }

    /// <summary>Chance that an image is changed.</summary>
    public double Probability { get; }

    /// <summary>Smallest γ.</summary>
    public double GammaMin { get; }

    /// <summary>Largest γ.</summary>
    public double GammaMax { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        double gamma = TransformArguments.Uniform(random, GammaMin, GammaMax);
        return apply ? Adjust(image, gamma) : image;
    }

    /// <summary>MONAI's <c>AdjustContrast</c>: ((x − min) / (range + 1e-7))^γ · range + min, in place.</summary>
    internal static FloatImage Adjust(FloatImage image, double gamma)
    {
        var data = image.Data;
        var (min, max) = Data.IntensityWindow.Range(data);
        double range = (double)max - min, scale = range + 1e-7;
        for (int i = 0; i < data.Length; i++)
            if (float.IsFinite(data[i])) data[i] = (float)((Math.Pow((data[i] - min) / scale, gamma) * range) + min); // NaN and ±∞ stay
        return image;
    }
}
