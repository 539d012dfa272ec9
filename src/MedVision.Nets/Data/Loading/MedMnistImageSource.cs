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
            if (_toRgb && channels == 1) image = image.GreyToRgb();
        }
        return (image, _split.GetLabels(index));
    }
}
