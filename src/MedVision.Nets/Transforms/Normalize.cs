namespace MedVision.Nets.Transforms;

/// <summary>(x − mean_c) / std_c per channel (torchvision's Normalize). With mean 0.5 and std 0.5, [0, 1] becomes [−1, 1].</summary>
public sealed class Normalize : ITransform
{
    private readonly float[] _mean;
    private readonly float[] _std;

    /// <summary>Creates the transform; one value applies to every channel.</summary>
    public Normalize(float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length) throw new ArgumentException("Normalize needs as many standard deviations as means (at least one).");
        if (mean.Any(m => !float.IsFinite(m))) throw new ArgumentOutOfRangeException(nameof(mean), "means must be finite numbers");
        if (std.Any(s => !(s > 0) || !float.IsFinite(s))) throw new ArgumentOutOfRangeException(nameof(std), "standard deviations must be positive and finite");
        _mean = (float[])mean.Clone();
        _std = (float[])std.Clone();
    }

    /// <summary>The mean subtracted from each channel (one value: every channel).</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>The standard deviation each channel is divided by (one value: every channel).</summary>
    public IReadOnlyList<float> Std => _std;

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        if (_mean.Length != 1 && _mean.Length != image.Channels)
            throw new ArgumentException($"Normalize has {_mean.Length} means but the image has {image.Channels} channels.");
        int plane = image.PlaneSize;
        var d = image.Data;
        for (int c = 0; c < image.Channels; c++)
        {
            float m = _mean[_mean.Length == 1 ? 0 : c], inv = 1f / _std[_std.Length == 1 ? 0 : c];
            for (int i = c * plane, end = i + plane; i < end; i++) d[i] = (d[i] - m) * inv;
        }
        return image;
    }
}
