using MedVision.Nets.Data.Images;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Segmentation;

/// <summary>How the pixel values of a mask image are read as classes.</summary>
public enum MaskEncoding
{
    /// <summary>Each pixel value is the class index (0 background, 1, 2, …), as most multi-class datasets store them.</summary>
    ClassIndex,
    /// <summary>Black and white: values above 127 are the structure (class 1), the rest background (as vessel and lesion masks are often stored, 0 and 255).</summary>
    Binary,
}

/// <summary>
/// 2-D images with their masks in two folders (e.g. fundus photographs and their vessel or optic-disc masks, as
/// DRIVE, IDRiD or REFUGE distribute them): every JPEG or PNG image in the image folder is paired with the PNG mask of
/// the same name (plus an optional suffix) in the mask folder. Images become (C, H, W) in [0, 1] and masks class
/// indices, optionally resized together (images bilinearly, masks by nearest neighbour). A missing mask, a mask of
/// another size, a coloured mask or a value outside the classes is refused with the file's name.
/// </summary>
public sealed class ImageMaskFolderSource : ISegmentationSource
{
    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg"];
    private readonly MaskEncoding _encoding;

    private ImageMaskFolderSource(IReadOnlyList<(string Image, string Mask)> pairs, IReadOnlyList<string> classNames, ImageSegmentationOptions options, MaskEncoding encoding)
    {
        Pairs = pairs;
        ClassNames = classNames;
        Options = options;
        _encoding = encoding;
    }

    /// <summary>The preparation of every image (channels, size, normalisation): give it to the predictor of the trained network.</summary>
    public ImageSegmentationOptions Options { get; }

    /// <summary>The image and mask files of each sample, in file-name order.</summary>
    public IReadOnlyList<(string Image, string Mask)> Pairs { get; }

    /// <summary>The class names, background first.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc />
    public int Count => Pairs.Count;

    /// <summary>Pairs every image in <paramref name="imageFolder"/> with its mask in <paramref name="maskFolder"/>.</summary>
    /// <param name="imageFolder">The images (.png, .jpg, .jpeg).</param>
    /// <param name="maskFolder">The masks: PNG files named as the images (other extension allowed) plus <paramref name="maskSuffix"/>.</param>
    /// <param name="classNames">The class names, background first (at least two).</param>
    /// <param name="encoding">How mask values map to classes (class indices, or black and white).</param>
    /// <param name="channels">1 (grey) or 3 (RGB) image channels; images are converted as needed.</param>
    /// <param name="size">(height, width) every image and mask is resized to; null keeps each image's size (then a batch needs equal sizes or crops).</param>
    /// <param name="maskSuffix">What the mask's name adds to the image's, e.g. "_mask" for image01.jpg → image01_mask.png.</param>
    /// <exception cref="DirectoryNotFoundException">A folder does not exist.</exception>
    /// <exception cref="DataFormatException">An image has no mask (naming it), or the image folder holds no images.</exception>
    public static ImageMaskFolderSource FromFolders(string imageFolder, string maskFolder, IReadOnlyList<string> classNames, MaskEncoding encoding = MaskEncoding.ClassIndex,
        int channels = 3, (int Height, int Width)? size = null, string maskSuffix = "")
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images have 1 (grey) or 3 (RGB) channels.");
        if (size is { } s && (s.Height < 1 || s.Width < 1 || s.Height > 16384 || s.Width > 16384))
            throw new ArgumentOutOfRangeException(nameof(size), size, "Sizes must lie in [1, 16384].");
        return FromFolders(imageFolder, maskFolder, classNames, new ImageSegmentationOptions { Channels = channels, Size = size }, encoding, maskSuffix);
    }

    /// <summary>Pairs every image in <paramref name="imageFolder"/> with its mask in <paramref name="maskFolder"/>, prepared as <paramref name="options"/> say.</summary>
    /// <param name="imageFolder">The images (.png, .jpg, .jpeg).</param>
    /// <param name="maskFolder">The masks: PNG files named as the images (other extension allowed) plus <paramref name="maskSuffix"/>.</param>
    /// <param name="classNames">The class names, background first (at least two).</param>
    /// <param name="options">Channels, size and normalisation of the images (masks follow the size by nearest neighbour).</param>
    /// <param name="encoding">How mask values map to classes (class indices, or black and white).</param>
    /// <param name="maskSuffix">What the mask's name adds to the image's, e.g. "_mask" for image01.jpg → image01_mask.png.</param>
    /// <exception cref="DirectoryNotFoundException">A folder does not exist.</exception>
    /// <exception cref="DataFormatException">An image has no mask (naming it), or the image folder holds no images.</exception>
    public static ImageMaskFolderSource FromFolders(string imageFolder, string maskFolder, IReadOnlyList<string> classNames, ImageSegmentationOptions options,
        MaskEncoding encoding = MaskEncoding.ClassIndex, string maskSuffix = "")
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        ArgumentException.ThrowIfNullOrWhiteSpace(imageFolder);
        ArgumentException.ThrowIfNullOrWhiteSpace(maskFolder);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(maskSuffix);
        if (classNames.Count < 2 || classNames.Any(string.IsNullOrEmpty)) throw new ArgumentException("Name the background (0) and at least one structure.", nameof(classNames));
        if (!Enum.IsDefined(encoding)) throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "Unknown mask encoding.");
        if (encoding == MaskEncoding.Binary && classNames.Count != 2)
            throw new ArgumentException($"Black-and-white masks give two classes, not {classNames.Count}.", nameof(classNames));
        if (!Directory.Exists(imageFolder)) throw new DirectoryNotFoundException($"The image folder '{imageFolder}' does not exist.");
        if (!Directory.Exists(maskFolder)) throw new DirectoryNotFoundException($"The mask folder '{maskFolder}' does not exist.");
        var images = Directory.EnumerateFiles(imageFolder).Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToList();
        if (images.Count == 0) throw new DataFormatException(imageFolder, "the folder holds no .png, .jpg or .jpeg images.");
        var pairs = new List<(string, string)>();
        foreach (var image in images)
        {
            var mask = Path.Combine(maskFolder, Path.GetFileNameWithoutExtension(image) + maskSuffix + ".png");
            if (!File.Exists(mask)) mask = Path.Combine(maskFolder, Path.GetFileNameWithoutExtension(image) + maskSuffix + Path.GetExtension(image));
            if (!File.Exists(mask))
                throw new DataFormatException(image, $"it has no mask {Path.GetFileNameWithoutExtension(image) + maskSuffix}.png in {maskFolder}.");
            pairs.Add((image, mask));
        }
        return new ImageMaskFolderSource(pairs, classNames.ToArray(), options, encoding);
    }

    /// <inheritdoc />
    /// <exception cref="DataFormatException">A file cannot be decoded, the mask's size differs from the image's, the mask is coloured, or a value is not a class.</exception>
    public SegmentationSample Load(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The source holds {Count} samples.");
        var (imagePath, maskPath) = Pairs[index];
        var image = ImageCodec.DecodeFile(imagePath);
        var mask = ImageCodec.DecodeFile(maskPath);
        if (mask.Width != image.Width || mask.Height != image.Height)
            throw new DataFormatException(maskPath, $"the mask is {mask.Width}×{mask.Height} pixels, its image {Path.GetFileName(imagePath)} {image.Width}×{image.Height}.");
        var values = MaskValues(mask, maskPath);
        int height = image.Height, width = image.Width;
        if (Options.Size is { } size && (size.Height != height || size.Width != width))
        {
            values = ResizeNearest(values, height, width, size.Height, size.Width);
            (height, width) = size;
        }
        var labels = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int v = _encoding == MaskEncoding.Binary ? (values[i] > 127 ? 1 : 0) : values[i];
            if (v >= ClassNames.Count)
                throw new DataFormatException(maskPath, $"it holds the value {v}, which is not a class in [0, {ClassNames.Count}) ({string.Join(", ", ClassNames)}){(v == 255 && ClassNames.Count == 2 ? "; for black-and-white masks use MaskEncoding.Binary" : "")}.");
            labels[i] = v;
        }
        return new SegmentationSample(Options.Prepare(image), new FloatImage(labels, 1, height, width));
    }

    // The mask's grey values; an RGB mask is accepted when it is grey (all three channels equal).
    private static byte[] MaskValues(RasterImage mask, string path)
    {
        if (mask.Channels == 1) return mask.Pixels;
        var values = new byte[mask.Width * mask.Height];
        for (int i = 0; i < values.Length; i++)
        {
            byte r = mask.Pixels[3 * i], g = mask.Pixels[(3 * i) + 1], b = mask.Pixels[(3 * i) + 2];
            if (r != g || g != b)
                throw new DataFormatException(path, $"the mask is coloured (pixel {i % mask.Width}, {i / mask.Width} is ({r}, {g}, {b})); masks hold one value per pixel: the class, or black and white.");
            values[i] = r;
        }
        return values;
    }

    // Nearest neighbour at pixel centres: source = floor((dst + 0.5) · in / out).
    internal static T[] ResizeNearest<T>(T[] values, int height, int width, int newHeight, int newWidth)
    {
        var result = new T[newHeight * newWidth];
        for (int y = 0; y < newHeight; y++)
        {
            int sy = Math.Min(height - 1, (int)((y + 0.5) * height / newHeight));
            for (int x = 0; x < newWidth; x++)
            {
                int sx = Math.Min(width - 1, (int)((x + 0.5) * width / newWidth));
                result[(y * newWidth) + x] = values[(sy * width) + sx];
            }
        }
        return result;
    }
}
