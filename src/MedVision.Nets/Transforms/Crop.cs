namespace MedVision.Nets.Transforms;

/// <summary>Crops a 2-D image to (height, width): at the centre, or at a random position after optional zero padding (torchvision's CenterCrop / RandomCrop).</summary>
public sealed class Crop : ITransform
{
    /// <summary>Creates the transform.</summary>
    public Crop(int height, int width, bool random, int padding = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        Height = height;
        Width = width;
        IsRandom = random;
        Padding = padding;
    }

    /// <summary>Crop height.</summary>
    public int Height { get; }
    /// <summary>Crop width.</summary>
    public int Width { get; }
    /// <summary>Random position (true) or centre (false).</summary>
    public bool IsRandom { get; }
    /// <summary>Zero padding added on every side before a random crop.</summary>
    public int Padding { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        if (image.IsVolume) throw new ArgumentException("Crop works on 2-D images (C, H, W).");
        long ph = image.Height + 2L * Padding, pw = image.Width + 2L * Padding;
        if (Height > ph || Width > pw) throw new ArgumentException($"Cannot crop {Height}×{Width} from a {ph}×{pw} image.");
        int c = image.Channels;
        // Positions in the padded image (long: the padding may be large).
        long top = IsRandom ? Draw(random, ph - Height + 1) : (long)Math.Round((ph - Height) / 2.0);
        long left = IsRandom ? Draw(random, pw - Width + 1) : (long)Math.Round((pw - Width) / 2.0);
        var dst = FloatImage.Allocate("Crop", c, Height, Width);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < Height; y++)
            {
                long sy = top + y - Padding;
                if (sy < 0 || sy >= image.Height) continue;
                for (int x = 0; x < Width; x++)
                {
                    long sx = left + x - Padding;
                    if (sx < 0 || sx >= image.Width) continue;
                    dst[(ch * Height + y) * Width + x] = image.Data[(ch * image.Height + sy) * image.Width + sx];
                }
            }
        return new FloatImage(dst, c, Height, Width);
    }

    // Random.Next for every range an int holds (the draws seeded pipelines have always made), NextInt64 beyond.
    private static long Draw(Random random, long range) => range <= int.MaxValue ? random.Next((int)range) : random.NextInt64(range);
}
