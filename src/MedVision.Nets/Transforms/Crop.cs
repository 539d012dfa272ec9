namespace MedVision.Nets.Transforms;

/// <summary>Crops a 2-D image to (height, width): at the centre, or at a random position after optional zero padding (torchvision's CenterCrop / RandomCrop).</summary>
public sealed class Crop : ITransform
{
    /// <summary>Creates the transform.</summary>
    public Crop(int height, int width, bool random, int padding = 0)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), "crop sizes must be positive");
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
        if (image.IsVolume) throw new ArgumentException("Crop works on 2-D images (C, H, W).");
        int c = image.Channels, h = image.Height + 2 * Padding, w = image.Width + 2 * Padding;
        if (Height > h || Width > w) throw new ArgumentException($"Cannot crop {Height}×{Width} from a {h}×{w} image.");
        int top = IsRandom ? random.Next(h - Height + 1) : (int)Math.Round((h - Height) / 2.0);
        int left = IsRandom ? random.Next(w - Width + 1) : (int)Math.Round((w - Width) / 2.0);
        var dst = new float[c * Height * Width];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < Height; y++)
            {
                int sy = top + y - Padding;
                if (sy < 0 || sy >= image.Height) continue;
                for (int x = 0; x < Width; x++)
                {
                    int sx = left + x - Padding;
                    if (sx < 0 || sx >= image.Width) continue;
                    dst[(ch * Height + y) * Width + x] = image.Data[(ch * image.Height + sy) * image.Width + sx];
                }
            }
        return new FloatImage(dst, c, Height, Width);
    }
}
