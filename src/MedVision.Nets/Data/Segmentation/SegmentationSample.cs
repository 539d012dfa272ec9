using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Segmentation;

/// <summary>
/// An image or scan with its label map: <see cref="Image"/> (C, H, W) or (C, D, H, W), and <see cref="Labels"/>
/// (1, H, W) or (1, D, H, W) of the same spatial size holding class indices (0 the background) as whole numbers, so
/// that the spatial transforms that only move voxels (flips, 90° rotations, crops) apply to both alike.
/// </summary>
public sealed class SegmentationSample
{
    /// <summary>Pairs an image with its label map.</summary>
    /// <exception cref="ArgumentException">The label map is not one channel of the image's spatial size, or holds a value that is not a class index ≥ 0.</exception>
    public SegmentationSample(FloatImage image, FloatImage labels)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Channels != 1 || !labels.Shape.Skip(1).SequenceEqual(image.Shape.Skip(1)))
            throw new ArgumentException(
                $"A label map must be one channel of the image's spatial size: image [{string.Join(", ", image.Shape)}], labels [{string.Join(", ", labels.Shape)}].", nameof(labels));
        foreach (var v in labels.Data)
            if (!(v >= 0) || v != MathF.Floor(v) || v > 65535)
                throw new ArgumentException($"Label maps hold class indices (whole numbers 0 to 65535), found {v}.", nameof(labels));
        Image = image;
        Labels = labels;
    }

    /// <summary>Pairs an image with class indices given per voxel in C order.</summary>
    public SegmentationSample(FloatImage image, ReadOnlySpan<int> labels)
        : this(image, LabelImage(image, labels)) { }

    /// <summary>The image, (C, H, W) or (C, D, H, W).</summary>
    public FloatImage Image { get; }

    /// <summary>The class of each voxel, (1, H, W) or (1, D, H, W).</summary>
    public FloatImage Labels { get; }

    private static FloatImage LabelImage(FloatImage image, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (labels.Length != image.PlaneSize)
            throw new ArgumentException($"The image has {image.PlaneSize} voxels per channel, but {labels.Length} labels were given.", nameof(labels));
        var data = new float[labels.Length];
        for (int i = 0; i < data.Length; i++) data[i] = labels[i];
        return new FloatImage(data, new[] { 1 }.Concat(image.Shape.Skip(1)).ToArray());
    }
}

/// <summary>Images or scans with label maps, loaded by index (from files, memory or a generator).</summary>
public interface ISegmentationSource
{
    /// <summary>The number of samples.</summary>
    int Count { get; }

    /// <summary>Loads one sample.</summary>
    SegmentationSample Load(int index);
}
