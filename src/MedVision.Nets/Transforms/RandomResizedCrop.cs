namespace MedVision.Nets.Transforms;

/// <summary>
/// torchvision's <c>RandomResizedCrop</c> for 2-D images: a crop of a random share of the image's area (from
/// <see cref="ScaleMin"/> to <see cref="ScaleMax"/>) and a random aspect ratio width / height (log-uniform from
/// <see cref="RatioMin"/> to <see cref="RatioMax"/>) at a random place, resized (bilinear or nearest, PyTorch's
/// interpolate without antialiasing) to (<see cref="Height"/>, <see cref="Width"/>). As torchvision draws it: up to ten
/// tries for a box that fits, then the centre crop of the largest box within the ratio range. Every call draws one
/// value from the random source (the box comes from a generator seeded by it).
/// </summary>
public sealed class RandomResizedCrop : ITransform
{
    /// <summary>Creates the transform with torchvision's defaults: scale 0.08 to 1, ratio 3/4 to 4/3.</summary>
    /// <param name="height">Output height.</param>
    /// <param name="width">Output width.</param>
    /// <param name="scaleMin">Smallest share of the image's area (above 0).</param>
    /// <param name="scaleMax">Largest share (at least <paramref name="scaleMin"/>, at most 1).</param>
    /// <param name="ratioMin">Smallest aspect ratio width / height (above 0).</param>
    /// <param name="ratioMax">Largest aspect ratio (at least <paramref name="ratioMin"/>).</param>
    /// <param name="mode">Resampling of the crop.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomResizedCrop(int height, int width, double scaleMin = 0.08, double scaleMax = 1.0, double ratioMin = 3.0 / 4, double ratioMax = 4.0 / 3, ResizeMode mode = ResizeMode.Linear)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        (ScaleMin, ScaleMax) = TransformArguments.Range(scaleMin, scaleMax, nameof(scaleMin), nameof(scaleMax), 0, exclusive: true, "scale");
        if (scaleMax > 1) throw new ArgumentOutOfRangeException(nameof(scaleMax), scaleMax, "The largest scale must be at most 1 (the whole image).");
        (RatioMin, RatioMax) = TransformArguments.Range(ratioMin, ratioMax, nameof(ratioMin), nameof(ratioMax), 0, exclusive: true, "aspect ratio");
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, $"{mode} is not a ResizeMode.");
        Height = height;
        Width = width;
        Mode = mode;
    }

    /// <summary>Output height.</summary>
    public int Height { get; }

    /// <summary>Output width.</summary>
    public int Width { get; }

    /// <summary>Smallest share of the image's area.</summary>
    public double ScaleMin { get; }

    /// <summary>Largest share of the image's area.</summary>
    public double ScaleMax { get; }

    /// <summary>Smallest aspect ratio (width / height).</summary>
    public double RatioMin { get; }

    /// <summary>Largest aspect ratio (width / height).</summary>
    public double RatioMax { get; }

    /// <summary>Resampling of the crop.</summary>
    public ResizeMode Mode { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        int boxSeed = random.Next();
        if (image.IsVolume) throw new ArgumentException($"RandomResizedCrop works on 2-D images (C, H, W), not on a volume of shape [{string.Join(", ", image.Shape)}].", nameof(image));
        var (top, left, height, width) = Box(image.Height, image.Width, new Random(boxSeed));
        var cropped = CropBox(image, top, left, height, width);
        return new Resize(Height, Width, Mode).Apply(cropped, random);
    }

    /// <summary>torchvision's <c>RandomResizedCrop.get_params</c>: (top, left, height, width) of the box.</summary>
    internal (int Top, int Left, int Height, int Width) Box(int imageHeight, int imageWidth, Random random)
    {
        double area = (double)imageHeight * imageWidth;
        double logMin = Math.Log(RatioMin), logMax = Math.Log(RatioMax);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * TransformArguments.Uniform(random, ScaleMin, ScaleMax);
            double aspect = Math.Exp(TransformArguments.Uniform(random, logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(target * aspect)), h = (int)Math.Round(Math.Sqrt(target / aspect)); // Python's round: half to even
            if (w > 0 && w <= imageWidth && h > 0 && h <= imageHeight)
                return (random.Next(imageHeight - h + 1), random.Next(imageWidth - w + 1), h, w);
        }
        // The centre crop of the largest box within the ratio range.
        double ratio = (double)imageWidth / imageHeight;
        int fw = imageWidth, fh = imageHeight;
        if (ratio < RatioMin) fh = (int)Math.Round(fw / RatioMin);
        else if (ratio > RatioMax) fw = (int)Math.Round(fh * RatioMax);
        return ((imageHeight - fh) / 2, (imageWidth - fw) / 2, fh, fw);
    }

    private static FloatImage CropBox(FloatImage image, int top, int left, int height, int width)
    {
        var data = new float[image.Channels * height * width];
        for (int c = 0; c < image.Channels; c++)
            for (int y = 0; y < height; y++)
                Array.Copy(image.Data, (c * image.PlaneSize) + ((top + y) * image.Width) + left, data, ((c * height) + y) * width, width);
        return new FloatImage(data, image.Channels, height, width);
    }
}
