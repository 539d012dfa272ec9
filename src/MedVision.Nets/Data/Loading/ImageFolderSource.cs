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
    public int LabelColumns => _dataset.LabelColumns;

    /// <summary>
    /// The model card's preprocessing for a network trained on this source: its size and channels, 8-bit bilinear
    /// resizing as this source resizes (<see cref="Inference.PreprocessingCard.ResizeEightBit"/>), and the normalisation
    /// the training pipeline applied after it — so that <see cref="Inference.Predictor.PredictFile"/> prepares a
    /// photograph exactly as training prepared it.
    /// </summary>
    /// <param name="mean">Per-channel means of the pipeline's normalisation (one value applies to every channel).</param>
    /// <param name="std">Per-channel standard deviations.</param>
    /// <exception cref="ArgumentException">No means, or another count of standard deviations, or one not positive and finite.</exception>
    public Inference.PreprocessingCard DescribePreprocessing(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count == 0 || mean.Count != std.Count || (mean.Count != 1 && mean.Count != _channels))
            throw new ArgumentException($"Give one mean and standard deviation, or one per channel ({_channels}); got {mean.Count} and {std.Count}.", nameof(mean));
        if (std.Any(s => !(s > 0) || !float.IsFinite(s)) || mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException("Means must be finite and standard deviations positive and finite.", nameof(std));
        return new Inference.PreprocessingCard
        {
            InputSize = [_height, _width], Channels = _channels, Mean = [.. mean], Std = [.. std], Resize = "linear", ResizeEightBit = true,
        };
    }

    /// <inheritdoc />
    public (FloatImage Image, int[] Labels) Load(int index)
    {
        var raster = _dataset.LoadImage(index, _width, _height, _channels);
        var image = FloatImage.FromBytesHwc(raster.Pixels, raster.Height, raster.Width, raster.Channels);
        var sample = _dataset.Samples[index];
        return (image, sample.Labels is { } labels ? labels.ToArray() : new[] { sample.Label });
    }
}
