using MedVision.Nets.Data;

namespace MedVision.Nets.Transforms;

/// <summary>
/// Maps modality values (MR or PET intensities, Hounsfield units) to [0, 1], for 2-D or 3-D inputs: by the image's own
/// minimum and maximum (MONAI's <c>ScaleIntensity</c>), or through a fixed window of <see cref="WindowCenter"/> and
/// <see cref="WindowWidth"/> with values outside it clamped (MONAI's <c>ScaleIntensityRange</c> with <c>clip=True</c>;
/// e.g. center 40, width 400 for a CT soft-tissue window). A constant image maps to 0. Deterministic: the random source
/// is not used.
/// </summary>
public sealed class ScaleIntensity : ITransform
{
    /// <summary>Scales each image by its own minimum and maximum.</summary>
    public ScaleIntensity()
    {
    }

    /// <summary>Scales every image through one window: <paramref name="center"/> − <paramref name="width"/>/2 becomes 0 and
    /// <paramref name="center"/> + <paramref name="width"/>/2 becomes 1, clamped.</summary>
    /// <param name="center">The window's centre, in the image's units.</param>
    /// <param name="width">The window's width; positive and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">The width is not positive, or either value is not finite.</exception>
    public ScaleIntensity(double center, double width)
    {
        if (!double.IsFinite(center)) throw new ArgumentOutOfRangeException(nameof(center), center, "The window centre must be a finite number.");
        if (!(width > 0) || !double.IsFinite(width)) throw new ArgumentOutOfRangeException(nameof(width), width, "The window width must be positive and finite.");
        WindowCenter = center;
        WindowWidth = width;
    }

    /// <summary>The window's centre; <see langword="null"/> when each image is scaled by its own minimum and maximum.</summary>
    public double? WindowCenter { get; }

    /// <summary>The window's width; <see langword="null"/> when each image is scaled by its own minimum and maximum.</summary>
    public double? WindowWidth { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        IntensityWindow.MapToUnitRange(image.Data, WindowCenter is { } c && WindowWidth is { } w ? (c, w) : null);
        return image;
    }
}
