using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Segmentation;

namespace MedVision.Nets.Inference;

/// <summary>
/// A 2-D label map: one class index per pixel (0 the background), row-major with x fastest, as
/// <see cref="ImageSegmentationPredictor"/> returns it on the image's own size. It counts each class's pixels, writes
/// itself as a PNG mask (class indices, or black and white as many datasets store masks), and draws itself over its
/// image for a quick look.
/// </summary>
public sealed class SegmentationMap
{
    private readonly int[] _labels;
    private readonly long[] _counts;

    /// <summary>Creates a map over <paramref name="labels"/> (copied).</summary>
    /// <param name="labels">Height·Width class indices, row-major, x fastest.</param>
    /// <param name="height">The height in pixels.</param>
    /// <param name="width">The width in pixels.</param>
    /// <param name="classNames">The class names, background first (at least two); every label must be below their count.</param>
    /// <exception cref="ArgumentException">The labels do not fill the size, or a label is negative or not a class.</exception>
    public SegmentationMap(ReadOnlySpan<int> labels, int height, int width, IReadOnlyList<string> classNames)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count < 2 || classNames.Any(string.IsNullOrEmpty)) throw new ArgumentException("Name the background and at least one structure.", nameof(classNames));
        if (labels.Length != (long)height * width) throw new ArgumentException($"{labels.Length} labels do not fill {height}×{width} pixels.", nameof(labels));
        _counts = new long[classNames.Count];
        for (int i = 0; i < labels.Length; i++)
        {
            int label = labels[i];
            if ((uint)label >= (uint)classNames.Count)
                throw new ArgumentException($"The label {label} at pixel ({i % width}, {i / width}) is not a class in [0, {classNames.Count}).", nameof(labels));
            _counts[label]++;
        }
        _labels = labels.ToArray();
        Height = height;
        Width = width;
        ClassNames = classNames.ToArray();
    }

    /// <summary>The height in pixels.</summary>
    public int Height { get; }

    /// <summary>The width in pixels.</summary>
    public int Width { get; }

    /// <summary>The class names, background first.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The class of every pixel, row-major, x fastest.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>The class of pixel (<paramref name="x"/>, <paramref name="y"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The pixel lies outside the map.</exception>
    public int this[int y, int x]
    {
        get
        {
            if ((uint)y >= (uint)Height) throw new ArgumentOutOfRangeException(nameof(y), y, $"Rows are 0 to {Height - 1}.");
            if ((uint)x >= (uint)Width) throw new ArgumentOutOfRangeException(nameof(x), x, $"Columns are 0 to {Width - 1}.");
            return _labels[(y * Width) + x];
        }
    }

    /// <summary>How many pixels belong to <paramref name="classIndex"/>.</summary>
    public long PixelCount(int classIndex) => _counts[CheckClass(classIndex)];

    /// <summary>The share of the image that belongs to <paramref name="classIndex"/>, in [0, 1].</summary>
    public double Fraction(int classIndex) => (double)_counts[CheckClass(classIndex)] / _labels.Length;

    /// <summary>The labels of one class as a mask (true where the pixel belongs to it).</summary>
    public bool[] MaskOf(int classIndex)
    {
        CheckClass(classIndex);
        var mask = new bool[_labels.Length];
        for (int i = 0; i < mask.Length; i++) mask[i] = _labels[i] == classIndex;
        return mask;
    }

    /// <summary>
    /// The map as an 8-bit grey image: the class index per pixel (<see cref="MaskEncoding.ClassIndex"/>, up to 256
    /// classes), or black background and white structure (<see cref="MaskEncoding.Binary"/>, two classes), as
    /// <see cref="ImageMaskFolderSource"/> reads masks.
    /// </summary>
    /// <exception cref="InvalidOperationException">More than 256 classes for class indices, or more than two for black and white.</exception>
    public RasterImage ToImage(MaskEncoding encoding = MaskEncoding.ClassIndex)
    {
        if (!Enum.IsDefined(encoding)) throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "Unknown mask encoding.");
        if (encoding == MaskEncoding.Binary && ClassNames.Count != 2)
            throw new InvalidOperationException($"Black-and-white masks hold two classes; this map has {ClassNames.Count}. Use MaskEncoding.ClassIndex.");
        if (ClassNames.Count > 256) throw new InvalidOperationException($"An 8-bit mask holds up to 256 classes; this map has {ClassNames.Count}.");
        var pixels = new byte[_labels.Length];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = encoding == MaskEncoding.Binary ? (byte)(_labels[i] == 0 ? 0 : 255) : (byte)_labels[i];
        return new RasterImage(Width, Height, 1, pixels);
    }

    /// <summary>Writes the map as a PNG mask (see <see cref="ToImage"/>), atomically.</summary>
    /// <exception cref="ArgumentException">The path is not a .png file (masks need a lossless format).</exception>
    public void Save(string path, MaskEncoding encoding = MaskEncoding.ClassIndex)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!string.Equals(Path.GetExtension(path), ".png", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{path}: masks are written as .png (JPEG's lossy compression would change the classes at their borders).", nameof(path));
        ImageCodec.Save(path, ToImage(encoding));
    }

    /// <summary>
    /// The image with each structure tinted in its own colour (background left as it is), for a quick visual check.
    /// </summary>
    /// <param name="image">The image the map was predicted from (same size; grey images are drawn in grey).</param>
    /// <param name="opacity">How strongly the colours cover the image, in [0, 1].</param>
    /// <exception cref="ArgumentException">The image's size differs from the map's.</exception>
    public RasterImage Overlay(RasterImage image, double opacity = 0.5)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!(opacity >= 0 && opacity <= 1)) throw new ArgumentOutOfRangeException(nameof(opacity), opacity, "The opacity must be in [0, 1].");
        if (image.Width != Width || image.Height != Height)
            throw new ArgumentException($"The image is {image.Width}×{image.Height} pixels; the map {Width}×{Height}.", nameof(image));
        var rgb = image.WithChannels(3);
        var pixels = (byte[])rgb.Pixels.Clone();
        for (int i = 0; i < _labels.Length; i++)
        {
            int label = _labels[i];
            if (label == 0) continue;
            var (r, g, b) = Colour(label);
            pixels[3 * i] = Blend(pixels[3 * i], r, opacity);
            pixels[(3 * i) + 1] = Blend(pixels[(3 * i) + 1], g, opacity);
            pixels[(3 * i) + 2] = Blend(pixels[(3 * i) + 2], b, opacity);
        }
        return new RasterImage(Width, Height, 3, pixels);
    }

    // Distinct colours for the first classes (red, green, blue, yellow, magenta, cyan, orange, purple), then hues spread by the golden angle.
    internal static (byte R, byte G, byte B) Colour(int label)
    {
        ReadOnlySpan<byte> palette = [230, 25, 75, 60, 180, 75, 0, 130, 200, 255, 225, 25, 240, 50, 230, 70, 240, 240, 245, 130, 48, 145, 30, 180];
        int first = label - 1;
        if (first < palette.Length / 3) return (palette[3 * first], palette[(3 * first) + 1], palette[(3 * first) + 2]);
        double hue = (label * 137.508) % 360 / 60.0;
        double x = 1 - Math.Abs((hue % 2) - 1);
        var (r, g, b) = (int)hue switch { 0 => (1.0, x, 0.0), 1 => (x, 1.0, 0.0), 2 => (0.0, 1.0, x), 3 => (0.0, x, 1.0), 4 => (x, 0.0, 1.0), _ => (1.0, 0.0, x) };
        return ((byte)(r * 255), (byte)(g * 255), (byte)(b * 255));
    }

    private static byte Blend(byte under, byte over, double opacity) => (byte)Math.Round((under * (1 - opacity)) + (over * opacity), MidpointRounding.AwayFromZero);

    private int CheckClass(int classIndex) => (uint)classIndex < (uint)ClassNames.Count
        ? classIndex : throw new ArgumentOutOfRangeException(nameof(classIndex), classIndex, $"Classes are 0 to {ClassNames.Count - 1} ({string.Join(", ", ClassNames)}).");
}
