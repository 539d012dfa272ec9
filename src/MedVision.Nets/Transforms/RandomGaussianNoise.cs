namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, adds noise drawn from N(<see cref="Mean"/>, <see cref="Std"/>²) to every
/// value, independently (MONAI's <c>RandGaussianNoise</c>: the same defaults and argument order), for 2-D images and
/// volumes. In place; the noise comes from the <see cref="Random"/> given, so a seeded loader adds the same noise on
/// every run.
/// </summary>
public sealed class RandomGaussianNoise : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">Probability of adding noise to an image.</param>
    /// <param name="mean">Mean of the noise.</param>
    /// <param name="std">Standard deviation of the noise.</param>
    public RandomGaussianNoise(double probability = 0.1, double mean = 0, double std = 0.1)
    {
        Probability = TransformArguments.Probability(probability);
        if (!double.IsFinite(mean)) throw new ArgumentOutOfRangeException(nameof(mean), mean, "the mean must be a finite number");
        if (!(std >= 0) || !double.IsFinite(std)) throw new ArgumentOutOfRangeException(nameof(std), std, "the standard deviation must be non-negative and finite");
        Mean = mean;
        Std = std;
    }

    /// <summary>Probability of adding noise to an image.</summary>
    public double Probability { get; }
    /// <summary>Mean of the noise.</summary>
    public double Mean { get; }
    /// <summary>Standard deviation of the noise.</summary>
    public double Std { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        if (random.NextDouble() >= Probability) return image;
        var data = image.Data;
        for (int i = 0; i < data.Length; i += 2)
        {
            var (first, second) = TransformArguments.NormalPair(random);
            data[i] += (float)(Mean + (Std * first));
            if (i + 1 < data.Length) data[i + 1] += (float)(Mean + (Std * second));
        }
        return image;
    }
}
