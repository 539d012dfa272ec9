namespace MedVision.Nets.Transforms;

/// <summary>Multiplies every voxel by a factor drawn uniformly from [1 − s, 1 + s] (MONAI's RandScaleIntensity), for 2-D or 3-D inputs.</summary>
public sealed class RandomIntensityScale : ITransform
{
    /// <summary>Creates the transform.</summary>
    public RandomIntensityScale(double strength, double probability = 1.0)
    {
        if (!(strength >= 0) || !double.IsFinite(strength)) throw new ArgumentOutOfRangeException(nameof(strength), strength, "strength must be non-negative and finite");
        Probability = TransformArguments.Probability(probability);
        Strength = strength;
    }

    /// <summary>Maximum relative change.</summary>
    public double Strength { get; }
    /// <summary>Probability of applying.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        if (random.NextDouble() >= Probability) return image;
        float f = (float)(1 + (random.NextDouble() * 2 - 1) * Strength);
        var d = image.Data;
        for (int i = 0; i < d.Length; i++) d[i] *= f;
        return image;
    }
}
