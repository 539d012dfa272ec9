namespace MedVision.Nets.Transforms;

/// <summary>
/// Crops an image or volume to the bounding box of its foreground — the values above <see cref="Threshold"/> in any
/// channel — widened by <see cref="Margin"/> on every side and clipped at the borders (MONAI's <c>CropForeground</c>;
/// with the threshold 0 on skull-stripped MRI, the empty border MedicalNet's <c>drop_invalid_range</c> removes before
/// resizing). Apply it to values as stored (Hounsfield units, MRI intensities) before any resizing and intensity mapping;
/// a <see cref="Resize"/> usually follows, as the crop's size varies. An image without foreground is returned as it is.
/// Deterministic: the random source is not used. 2-D images and volumes alike.
/// </summary>
public sealed class CropForeground : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="threshold">Values above it are foreground (e.g. 0 for MRI with a zero background, −500 HU for the body in CT).</param>
    /// <param name="margin">Voxels kept around the foreground on every side.</param>
    public CropForeground(float threshold = 0, int margin = 0)
    {
        if (!float.IsFinite(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The foreground threshold must be a finite number.");
        ArgumentOutOfRangeException.ThrowIfNegative(margin);
        Threshold = threshold;
        Margin = margin;
    }

    /// <summary>Values above it (in any channel) are foreground.</summary>
    public float Threshold { get; }

    /// <summary>Voxels kept around the foreground on every side.</summary>
    public int Margin { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        return FindBox(image) is var (start, end) ? Cut(image, start, end) : image;
    }

    /// <summary>The part of <paramref name="image"/> from <paramref name="start"/> up to <paramref name="end"/> ((D, H, W) bounds, as <see cref="FindBox"/> gives them); the image itself when that is all of it.</summary>
    internal static FloatImage Cut(FloatImage image, int[] start, int[] end)
    {
        int[] size = { end[0] - start[0], end[1] - start[1], end[2] - start[2] };
        if (size[0] == image.Depth && size[1] == image.Height && size[2] == image.Width) return image;
        int channels = image.Channels;
        var shape = image.IsVolume ? new[] { channels, size[0], size[1], size[2] } : new[] { channels, size[1], size[2] };
        var data = FloatImage.Allocate("CropForeground", shape);
        var source = image.Data;
        for (int c = 0; c < channels; c++)
            for (int z = 0; z < size[0]; z++)
                for (int y = 0; y < size[1]; y++)
                {
                    long from = (((long)c * image.Depth + start[0] + z) * image.Height + start[1] + y) * image.Width + start[2];
                    long to = (((long)c * size[0] + z) * size[1] + y) * size[2];
                    Array.Copy(source, from, data, to, size[2]);
                }
        return new FloatImage(data, shape);
    }

    /// <summary>
    /// The foreground's bounding box with the margin, as (depth, height, width) starts (inclusive) and ends (exclusive);
    /// depth 0 to 1 for a 2-D image. <see langword="null"/> when nothing is above the threshold.
    /// </summary>
    public (int[] Start, int[] End)? FindBox(FloatImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int depth = image.Depth, height = image.Height, width = image.Width;
        int minZ = int.MaxValue, minY = int.MaxValue, minX = int.MaxValue, maxZ = -1, maxY = -1, maxX = -1;
        var data = image.Data;
        int plane = image.PlaneSize;
        for (int c = 0; c < image.Channels; c++)
            for (int z = 0; z < depth; z++)
                for (int y = 0; y < height; y++)
                {
                    int row = c * plane + (z * height + y) * width;
                    for (int x = 0; x < width; x++)
                    {
                        if (!(data[row + x] > Threshold)) continue;
                        if (z < minZ) minZ = z;
                        if (z > maxZ) maxZ = z;
                        if (y < minY) minY = y;
                        if (y > maxY) maxY = y;
                        if (x < minX) minX = x;
                        if (x > maxX) maxX = x;
                    }
                }
        if (maxX < 0) return null;
        int[] start = { Math.Max(minZ - Margin, 0), Math.Max(minY - Margin, 0), Math.Max(minX - Margin, 0) };
        int[] end = { (int)Math.Min((long)maxZ + 1 + Margin, depth), (int)Math.Min((long)maxY + 1 + Margin, height), (int)Math.Min((long)maxX + 1 + Margin, width) };
        if (!image.IsVolume) (start[0], end[0]) = (0, 1);
        return (start, end);
    }
}
