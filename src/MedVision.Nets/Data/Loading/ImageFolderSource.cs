using MedVision.Nets.Data.Images;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>Serves an <see cref="ImageFolderDataset"/> (JPEG/PNG fundus photographs and similar), decoded and resized to a fixed size.</summary>
public sealed class ImageFolderSource : ILabeledImageSource
{
    private readonly ImageFolderDataset _dataset;
    private readonly int _width;
    private readonly int _height;
    private readonly int _channels;

    /// <summary>Wraps a folder dataset; every image is decoded, converted to <paramref name="channels"/> and resized (bilinear).</summary>
    public ImageFolderSource(ImageFolderDataset dataset, int width, int height, int channels = 3)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "image sizes must be positive");
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 or 3");
        _dataset = dataset;
        _width = width;
        _height = height;
        _channels = channels;
    }

    /// <inheritdoc />
    public int Count => _dataset.Count;

    /// <inheritdoc />
    public int LabelColumns => 1;

    /// <inheritdoc />
    public (FloatImage Image, int[] Labels) Load(int index)
    {
        var raster = _dataset.LoadImage(index, _width, _height, _channels);
        var image = FloatImage.FromBytesHwc(raster.Pixels, raster.Height, raster.Width, raster.Channels);
        return (image, new[] { _dataset.Samples[index].Label });
    }
}
