using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>Serves one MedMNIST split (2-D (N, H, W[, C]) or 3-D (N, D, H, W) bytes) as labelled float images.</summary>
public sealed class MedMnistImageSource : ILabeledImageSource
{
    private readonly MedMnistSplitData _split;
    private readonly bool _volume;
    private readonly bool _toRgb;

    /// <summary>Wraps a split. <paramref name="grayscaleToRgb"/> repeats a single grey channel three times.</summary>
    public MedMnistImageSource(MedMnistSplitData split, bool grayscaleToRgb = false)
    {
        ArgumentNullException.ThrowIfNull(split);
        _split = split;
        var s = split.SampleShape;
        // 2-D splits are (N, H, W) or (N, H, W, 3); 3-D ones are (N, D, H, W) with D = H = W (28 or 64).
        _volume = s.Count == 3 && s[2] > 4;
        _toRgb = grayscaleToRgb;
        if (_toRgb && _volume) throw new ArgumentException("Grayscale-to-RGB applies to 2-D images, not volumes.", nameof(grayscaleToRgb));
    }

    /// <inheritdoc />
    public int Count => _split.Count;

    /// <inheritdoc />
    public int LabelColumns => _split.LabelColumns;

    /// <summary>The split's sample shape as stored: (H, W), (H, W, C) or (D, H, W).</summary>
    public IReadOnlyList<int> SampleShape => _split.SampleShape;

    /// <inheritdoc />
    public (FloatImage Image, int[] Labels) Load(int index)
    {
        var pixels = _split.GetImage(index).Span;
        var s = _split.SampleShape;
        FloatImage image;
        if (_volume) image = FloatImage.FromBytesVolume(pixels, s[0], s[1], s[2]);
        else
        {
            int channels = s.Count == 3 ? s[2] : 1;
            image = FloatImage.FromBytesHwc(pixels, s[0], s[1], channels);
            if (_toRgb && channels == 1)
            {
                var rgb = new float[image.Data.Length * 3];
                for (int c = 0; c < 3; c++) Array.Copy(image.Data, 0, rgb, c * image.Data.Length, image.Data.Length);
                image = new FloatImage(rgb, 3, s[0], s[1]);
            }
        }
        return (image, _split.GetLabels(index));
    }
}
