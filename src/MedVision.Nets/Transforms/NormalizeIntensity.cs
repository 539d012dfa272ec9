namespace MedVision.Nets.Transforms;

/// <summary>
/// (x − mean) / std with the image's own statistics (MONAI's <c>NormalizeIntensity</c>): over the whole image, or over its
/// non-zero voxels only, which are then the only ones changed (the background of skull-stripped MRI stays 0); over all
/// channels together, or each channel by itself. This is how MedicalNet prepared its volumes for its pretrained 3-D
/// ResNets (it filled the background with noise as well, which this transform does not). The standard deviation is the
/// population one (NumPy's and MONAI's); a constant image or region is only centred. Deterministic: the random source is
/// not used. 2-D images and volumes alike.
/// </summary>
public sealed class NormalizeIntensity : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="nonZero">Statistics over the non-zero values only, and zeros left as they are.</param>
    /// <param name="channelWise">Statistics of each channel by itself instead of the whole image.</param>
    public NormalizeIntensity(bool nonZero = false, bool channelWise = false)
    {
        NonZero = nonZero;
        ChannelWise = channelWise;
    }

    /// <summary>True when only the non-zero values count and change.</summary>
    public bool NonZero { get; }

    /// <summary>True when each channel is normalised by its own statistics.</summary>
    public bool ChannelWise { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        var data = image.Data;
        if (!ChannelWise) Normalise(data.AsSpan());
        else
            for (int c = 0; c < image.Channels; c++) Normalise(data.AsSpan(c * image.PlaneSize, image.PlaneSize));
        return image;
    }

    private void Normalise(Span<float> values)
    {
        // Two passes in double: the mean, then the squared deviations (no cancellation for large offsets such as HU).
        double sum = 0;
        long count = 0;
        foreach (var v in values)
        {
            if (NonZero && v == 0) continue;
            if (!float.IsFinite(v)) throw new ArgumentException($"NormalizeIntensity met a value of {v}; the image holds NaN or infinite values.");
            sum += v;
            count++;
        }
        if (count == 0) return;
        double mean = sum / count, squares = 0;
        foreach (var v in values)
        {
            if (NonZero && v == 0) continue;
            squares += (v - mean) * (v - mean);
        }
        double std = Math.Sqrt(squares / count);
        double scale = std > 0 ? 1 / std : 1;
        for (int i = 0; i < values.Length; i++)
        {
            if (NonZero && values[i] == 0) continue;
            values[i] = (float)((values[i] - mean) * scale);
        }
    }
}
