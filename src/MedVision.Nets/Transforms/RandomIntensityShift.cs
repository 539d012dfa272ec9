namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, adds an offset drawn from [−<see cref="Offset"/>, <see cref="Offset"/>] to
/// every value (MONAI's <c>RandShiftIntensity</c>), one offset for the image or, when <see cref="ChannelWise"/>, one per
/// channel. 2-D images and volumes; in place; every call draws the same number of values whether or not it applies.
/// </summary>
public sealed class RandomIntensityShift : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="offset">Largest shift (non-negative, finite), in the image's units (0.1 for images scaled to [0, 1]).</param>
    /// <param name="probability">Chance that an image is shifted (0 to 1).</param>
    /// <param name="channelWise">Draw an offset for each channel instead of one for the image.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomIntensityShift(double offset, double probability = 0.1, bool channelWise = false)
    {
        if (!(offset >= 0) || !double.IsFinite(offset)) throw new ArgumentOutOfRangeException(nameof(offset), offset, "The offset must be non-negative and finite.");
        Offset = offset;
        Probability = TransformArguments.Probability(probability);
        ChannelWise = channelWise;
    }

    /// <summary>Largest shift.</summary>
    public double Offset { get; }

    /// <summary>Chance that an image is shifted.</summary>
    public double Probability { get; }

    /// <summary>Whether each channel gets its own offset.</summary>
    public bool ChannelWise { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        var offsets = Enumerable.Range(0, ChannelWise ? image.Channels : 1).Select(_ => (float)TransformArguments.Uniform(random, -Offset, Offset)).ToArray();
        if (!apply) return image;
        var data = image.Data;
        int plane = image.PlaneSize;
        for (int c = 0; c < image.Channels; c++)
        {
            float offset = offsets[ChannelWise ? c : 0];
            foreach (ref float v in data.AsSpan(c * plane, plane)) v += offset;
        }
        return image;
    }
}
