using System.Numerics;

namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, adds a spike (herringbone) artefact — one corrupted sample of k-space,
/// which overlays the image with a stripe pattern — as MONAI's <c>RandKSpaceSpikeNoise</c> does, with its defaults: in each
/// channel's k-space (zero frequency at the centre, as after NumPy's <c>fftshift</c>) the magnitude at a random location
/// is set to e^v, keeping its phase, and the image is the real part of the inverse transform. v is drawn from
/// <see cref="IntensityRange"/>, or, when it is <see langword="null"/>, from 0.95 to 1.1 times 2.5 × the mean log-magnitude
/// of the channel's k-space (MONAI's default). One location per channel when <see cref="ChannelWise"/>, else one for all
/// channels. 2-D images and volumes; NaN or infinite values (a NaN
/// background) enter the transform as 0 and stay as they were; a new image; every call draws the same values whether or not
/// it applies.
/// </summary>
public sealed class RandomKSpaceSpikeNoise : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">Chance that an image is changed (0 to 1).</param>
    /// <param name="intensityRange">(low, high) of the spike's log-magnitude; <see langword="null"/>: from each channel's k-space, as MONAI's default.</param>
    /// <param name="channelWise">A location (and log-magnitude) per channel, instead of one location for all.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomKSpaceSpikeNoise(double probability = 0.1, (double Low, double High)? intensityRange = null, bool channelWise = true)
    {
        Probability = TransformArguments.Probability(probability);
        if (intensityRange is { } range)
        {
            TransformArguments.Range(range.Low, range.High, "intensityRange", "intensityRange", double.MinValue, exclusive: false, "spike log-magnitude");
            if (range.High > 80) throw new ArgumentOutOfRangeException(nameof(intensityRange), range, "The spike's log-magnitude must be at most 80 (e^80 is near float's range).");
        }
        IntensityRange = intensityRange;
        ChannelWise = channelWise;
    }

    /// <summary>Chance that an image is changed.</summary>
    public double Probability { get; }

    /// <summary>The range of the spike's log-magnitude; <see langword="null"/>: from each channel's k-space.</summary>
    public (double Low, double High)? IntensityRange { get; }

    /// <summary>Whether each channel gets its own location.</summary>
    public bool ChannelWise { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        int[] size = KSpace.Size(image);
        int channels = image.Channels;
        // Locations in fftshift order, and where in its range each channel's log-magnitude lies (the default range
        // depends on the image, so the fraction is drawn and the value made when the transform applies).
        var locations = new int[channels][];
        var fractions = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            if (ChannelWise || c == 0) locations[c] = size.Select(n => random.Next(n)).ToArray();
            else locations[c] = locations[0];
            fractions[c] = ChannelWise || IntensityRange is null || c == 0 ? random.NextDouble() : fractions[0];
        }
        return apply ? Spike(image, locations, fractions, IntensityRange) : image;
    }

    /// <summary>
    /// MONAI's <c>KSpaceSpikeNoise</c>: channel c's k-space magnitude at <paramref name="locations"/>[c] (shifted order)
    /// set to e^v, v = low + fraction · (high − low) of <paramref name="range"/> or of the channel's default range.
    /// </summary>
    internal static FloatImage Spike(FloatImage image, IReadOnlyList<int[]> locations, IReadOnlyList<double> fractions, (double Low, double High)? range)
    {
        int[] size = KSpace.Size(image);
        return KSpace.Edit(image, (c, spectrum) =>
        {
            var (low, high) = range ?? DefaultRange(spectrum);
            double logMagnitude = low + (fractions[c] * (high - low));
            int at = 0;
            for (int a = 0; a < size.Length; a++) at = (at * size[a]) + KSpace.Unshift(locations[c][a], size[a]);
            // MONAI goes through log(|k| + 1e-10) and back for every sample; only the spike's changes here.
            spectrum[at] = Complex.FromPolarCoordinates(Math.Exp(logMagnitude), spectrum[at].Phase);
        });
    }

    // MONAI's _set_default_range: 2.5 × the mean of log(|k| + 1e-10), from 0.95 to 1.1 times that.
    private static (double Low, double High) DefaultRange(Complex[] spectrum)
    {
        double sum = 0;
        foreach (var k in spectrum) sum += Math.Log(k.Magnitude + 1e-10);
        double centre = sum / spectrum.Length * 2.5;
        return (centre * 0.95, centre * 1.1);
    }
}
