using MedVision.Nets.Data;

namespace MedVision.Nets.Transforms;

/// <summary>
/// Maps modality values (MR or PET intensities, Hounsfield units) to [0, 1], for 2-D or 3-D inputs: by the image's own
/// minimum and maximum (MONAI's <c>ScaleIntensity</c>), or through a fixed window of <see cref="WindowCenter"/> and
/// <see cref="WindowWidth"/> with values outside it clamped (MONAI's <c>ScaleIntensityRange</c> with <c>clip=True</c>;
/// e.g. center 40, width 400 for a CT soft-tissue window), or by two percentiles of the image's own values
/// (<see cref="FromPercentiles"/>, MONAI's <c>ScaleIntensityRangePercentiles</c> with <c>clip=True</c>: robust to the
/// few very bright voxels an MRI often has, which would squeeze a min–max scaling). The minimum and maximum or the
/// percentiles are those of all channels together, or of each channel by itself when <see cref="ChannelWise"/> (MONAI's
/// <c>channel_wise=True</c>: for channels of different modalities, such as MRI contrasts). A constant image maps to 0.
/// Deterministic: the random source is not used.
/// </summary>
public sealed class ScaleIntensity : ITransform
{
    /// <summary>Scales each image by its own minimum and maximum (of each channel by itself when <paramref name="channelWise"/>).</summary>
    /// <param name="channelWise">Each channel by its own minimum and maximum instead of all channels' together.</param>
    public ScaleIntensity(bool channelWise = false)
    {
        ChannelWise = channelWise;
    }

    /// <summary>Scales every image through one window: <paramref name="center"/> − <paramref name="width"/>/2 becomes 0 and
    /// <paramref name="center"/> + <paramref name="width"/>/2 becomes 1, clamped.</summary>
    /// <param name="center">The window's centre, in the image's units.</param>
    /// <param name="width">The window's width; positive and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">The width is not positive, or either value is not finite.</exception>
    public ScaleIntensity(double center, double width)
    {
        CheckWindow(center, width);
        WindowCenter = center;
        WindowWidth = width;
    }

    /// <summary>
    /// Scales each image by two percentiles of its own values: the <paramref name="lower"/> percentile becomes 0 and the
    /// <paramref name="upper"/> one 1, clamped — MONAI's <c>ScaleIntensityRangePercentiles(lower, upper, 0, 1, clip=True)</c>,
    /// percentiles as NumPy's <c>np.nanpercentile</c> computes them (linear interpolation between the sorted values, NaN
    /// left out), over all channels together or, when <paramref name="channelWise"/>, of each channel by itself.
    /// </summary>
    /// <param name="lower">The percentile mapped to 0, from 0 to 100 (e.g. 0.5).</param>
    /// <param name="upper">The percentile mapped to 1, above <paramref name="lower"/> and at most 100 (e.g. 99.5).</param>
    /// <param name="channelWise">Each channel by its own percentiles instead of all channels' together.</param>
    /// <exception cref="ArgumentOutOfRangeException">The percentiles are not 0 ≤ lower &lt; upper ≤ 100.</exception>
    public static ScaleIntensity FromPercentiles(double lower, double upper, bool channelWise = false)
    {
        if (!ArePercentiles(lower, upper))
        {
            if (!(lower >= 0 && lower < 100)) throw new ArgumentOutOfRangeException(nameof(lower), lower, "The lower percentile must be from 0 to below 100.");
            throw new ArgumentOutOfRangeException(nameof(upper), upper, $"The upper percentile must be above the lower one ({lower}) and at most 100.");
        }
        return new ScaleIntensity(channelWise) { LowerPercentile = lower, UpperPercentile = upper };
    }

    /// <summary>Whether (<paramref name="center"/>, <paramref name="width"/>) is a window the constructor takes: a finite centre, a positive finite width.</summary>
    internal static bool IsWindow(double center, double width) => double.IsFinite(center) && width > 0 && double.IsFinite(width);

    /// <summary>Throws the constructor's <see cref="ArgumentOutOfRangeException"/> (naming <c>center</c> or <c>width</c>) unless <see cref="IsWindow"/>.</summary>
    internal static void CheckWindow(double center, double width)
    {
        if (!double.IsFinite(center)) throw new ArgumentOutOfRangeException(nameof(center), center, "The window centre must be a finite number.");
        if (!(width > 0) || !double.IsFinite(width)) throw new ArgumentOutOfRangeException(nameof(width), width, "The window width must be positive and finite.");
    }

    /// <summary>Whether (<paramref name="lower"/>, <paramref name="upper"/>) are percentiles <see cref="FromPercentiles"/> takes: 0 ≤ lower &lt; upper ≤ 100.</summary>
    internal static bool ArePercentiles(double lower, double upper) => lower >= 0 && lower < upper && upper <= 100;

    /// <summary>The percentile mapped to 0 (<see cref="FromPercentiles"/>); <see langword="null"/> otherwise.</summary>
    public double? LowerPercentile { get; private init; }

    /// <summary>The percentile mapped to 1 (<see cref="FromPercentiles"/>); <see langword="null"/> otherwise.</summary>
    public double? UpperPercentile { get; private init; }

    /// <summary>
    /// Whether each channel is scaled by its own minimum and maximum or percentiles (MONAI's <c>channel_wise=True</c>);
    /// false: by those of all channels together. A window maps every channel alike.
    /// </summary>
    public bool ChannelWise { get; }

    /// <summary>The window's centre; <see langword="null"/> when each image is scaled by its own minimum and maximum.</summary>
    public double? WindowCenter { get; }

    /// <summary>The window's width; <see langword="null"/> when each image is scaled by its own minimum and maximum.</summary>
    public double? WindowWidth { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        if (WindowCenter is { } c && WindowWidth is { } w) IntensityWindow.MapToUnitRange(image.Data, (c, w));
        else
        {
            // The whole image as one part, or each channel as its own.
            (double, double)? percentiles = LowerPercentile is { } l && UpperPercentile is { } u ? (l, u) : null;
            IntensityWindow.MapChannelsToUnitRange(image.Data, ChannelWise ? image.Channels : 1, percentiles);
        }
        return image;
    }
}
