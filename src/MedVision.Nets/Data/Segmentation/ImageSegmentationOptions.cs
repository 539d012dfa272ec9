using MedVision.Nets.Data.Images;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Segmentation;

/// <summary>
/// How 2-D images are prepared for a segmentation network, at training (<see cref="ImageMaskFolderSource"/>) and at
/// prediction (<see cref="Inference.ImageSegmentationPredictor"/>) alike: converted to <see cref="Channels"/> channels,
/// scaled to [0, 1], resized to <see cref="Size"/> (bilinearly; masks by nearest neighbour), then normalised by
/// <see cref="Normalization"/>.
/// </summary>
public sealed class ImageSegmentationOptions
{
    /// <summary>1 (grey) or 3 (RGB) channels; images are converted as needed. Default 3.</summary>
    public int Channels { get; init; } = 3;

    /// <summary>(height, width) every image and mask is resized to; null keeps each image's size. Default null.</summary>
    public (int Height, int Width)? Size { get; init; }

    /// <summary>
    /// A deterministic intensity normalisation after resizing: <see cref="Normalize"/> (per-channel mean and standard
    /// deviation, e.g. ImageNet's) or <see cref="NormalizeIntensity"/> (each image by its own statistics); null leaves
    /// the values in [0, 1]. Default null. Model files record these two kinds.
    /// </summary>
    public ITransform? Normalization { get; init; }

    /// <summary>Prepares a decoded image: (C, H, W) at <see cref="Size"/>, normalised.</summary>
    /// <exception cref="ArgumentException">The options are invalid: channels other than 1 or 3, a size outside [1, 16384], or a per-channel normalisation for another channel count.</exception>
    public FloatImage Prepare(RasterImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        Validate(nameof(ImageSegmentationOptions));
        var converted = image.WithChannels(Channels);
        if (Size is { } size) converted = converted.Resize(size.Width, size.Height);
        var prepared = FloatImage.FromBytesHwc(converted.Pixels, converted.Height, converted.Width, Channels);
        return Normalization is { } normalization ? normalization.Apply(prepared, new Random(0)) : prepared;
    }

    // Channels other than 1 or 3, a size outside [1, 16384], or a per-channel normalisation for another channel count.
    internal void Validate(string parameterName)
    {
        if (Channels is not (1 or 3)) throw new ArgumentException($"Images have 1 (grey) or 3 (RGB) channels, not {Channels}.", parameterName);
        if (Size is { } s && (s.Height < 1 || s.Width < 1 || s.Height > 16384 || s.Width > 16384))
            throw new ArgumentException($"The size ({s.Height}, {s.Width}) must lie in [1, 16384] along both axes.", parameterName);
        if (Normalization is Normalize n && n.Mean.Count != 1 && n.Mean.Count != Channels)
            throw new ArgumentException($"The normalisation has {n.Mean.Count} means for {Channels}-channel images.", parameterName);
    }
}
