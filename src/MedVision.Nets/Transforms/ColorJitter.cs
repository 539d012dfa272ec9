namespace MedVision.Nets.Transforms;

/// <summary>
/// Random brightness, contrast and saturation changes (torchvision's ColorJitter on [0, 1] images): each factor is drawn
/// from [max(0, 1 − v), 1 + v]; the three adjustments are applied in a random order; results are clamped to [0, 1].
/// Saturation needs 3 channels and is skipped for grey images.
/// </summary>
public sealed class ColorJitter : ITransform
{
    /// <summary>Creates the transform.</summary>
    public ColorJitter(double brightness = 0, double contrast = 0, double saturation = 0)
    {
        Check(brightness, nameof(brightness));
        Check(contrast, nameof(contrast));
        Check(saturation, nameof(saturation));
        Brightness = brightness;
        Contrast = contrast;
        Saturation = saturation;
    }

    /// <summary>Brightness strength.</summary>
    public double Brightness { get; }
    /// <summary>Contrast strength.</summary>
    public double Contrast { get; }
    /// <summary>Saturation strength.</summary>
    public double Saturation { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        var d = image.Data;
        int plane = image.PlaneSize;
        var order = new[] { 0, 1, 2 }.OrderBy(_ => random.Next()).ToArray();
        foreach (var op in order)
        {
            double strength = op switch { 0 => Brightness, 1 => Contrast, _ => Saturation };
            if (strength == 0) continue;
            float f = (float)(Math.Max(0, 1 - strength) + random.NextDouble() * (1 + strength - Math.Max(0, 1 - strength)));
            switch (op)
            {
                case 0:
                    for (int i = 0; i < d.Length; i++) d[i] = Math.Clamp(d[i] * f, 0f, 1f);
                    break;
                case 1:
                {
                    double mean = 0;
                    for (int i = 0; i < plane; i++) mean += Grey(d, i, plane, image.Channels);
                    mean /= plane;
                    for (int i = 0; i < d.Length; i++) d[i] = Math.Clamp((float)(f * d[i] + (1 - f) * mean), 0f, 1f);
                    break;
                }
                default:
                    if (image.Channels != 3) break;
                    for (int i = 0; i < plane; i++)
                    {
                        float g = Grey(d, i, plane, 3);
                        for (int ch = 0; ch < 3; ch++) d[ch * plane + i] = Math.Clamp(f * d[ch * plane + i] + (1 - f) * g, 0f, 1f);
                    }
                    break;
            }
        }
        return image;
    }

    // ITU-R 601-2 luma, as torchvision's rgb_to_grayscale.
    private static float Grey(float[] d, int i, int plane, int channels)
        => channels == 3 ? 0.299f * d[i] + 0.587f * d[plane + i] + 0.114f * d[2 * plane + i] : d[i];

    private static void Check(double strength, string name)
    {
        if (!(strength >= 0) || !double.IsFinite(strength)) throw new ArgumentOutOfRangeException(name, strength, "jitter strengths must be non-negative and finite");
    }
}
