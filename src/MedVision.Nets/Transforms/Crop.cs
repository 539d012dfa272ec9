namespace MedVision.Nets.Transforms;

/// <summary>
/// Crops a 2-D image to (height, width) or a volume to (depth, height, width): at the centre, or at a random position
/// after optional zero padding on every side of every spatial axis (torchvision's CenterCrop / RandomCrop; MONAI's
/// CenterSpatialCrop / RandSpatialCrop for volumes).
/// </summary>
public sealed class Crop : ITransform
{
    /// <summary>Creates the transform for 2-D images.</summary>
    public Crop(int height, int width, bool random, int padding = 0) : this(0, height, width, random, padding)
    {
    }

    /// <summary>Creates the transform for volumes (depth ≥ 1); depth 0: for 2-D images.</summary>
    public Crop(int depth, int height, int width, bool random, int padding = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        Depth = depth;
        Height = height;
        Width = width;
        IsRandom = random;
        Padding = padding;
    }

    /// <summary>Crop depth for volumes; 0 for 2-D images.</summary>
    public int Depth { get; }
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
        bool volume = Depth > 0;
        if (image.IsVolume != volume)
            throw new ArgumentException(volume
                ? $"A {Depth}×{Height}×{Width} crop works on volumes (C, D, H, W), not on a 2-D image of shape [{string.Join(", ", image.Shape)}]."
                : $"A {Height}×{Width} crop works on 2-D images (C, H, W); give a volume a (depth, height, width) crop.");
        long pd = volume ? image.Depth + 2L * Padding : 1, ph = image.Height + 2L * Padding, pw = image.Width + 2L * Padding;
        int depth = volume ? Depth : 1;
        if (depth > pd || Height > ph || Width > pw)
            throw new ArgumentException(volume ? $"Cannot crop {Depth}×{Height}×{Width} from a {pd}×{ph}×{pw} volume." : $"Cannot crop {Height}×{Width} from a {ph}×{pw} image.");
        int c = image.Channels;
        // Positions in the padded image (long: the padding may be large); 2-D images draw top, then left, as always.
        long front = !volume ? 0 : IsRandom ? Draw(random, pd - depth + 1) : (long)Math.Round((pd - depth) / 2.0);
        long top = IsRandom ? Draw(random, ph - Height + 1) : (long)Math.Round((ph - Height) / 2.0);
        long left = IsRandom ? Draw(random, pw - Width + 1) : (long)Math.Round((pw - Width) / 2.0);
        int padDepth = volume ? Padding : 0;
        var shape = volume ? new[] { c, depth, Height, Width } : new[] { c, Height, Width };
        var dst = FloatImage.Allocate("Crop", shape);
        for (int ch = 0; ch < c; ch++)
            for (int z = 0; z < depth; z++)
            {
                long sz = front + z - padDepth;
                if (sz < 0 || sz >= image.Depth) continue;
                for (int y = 0; y < Height; y++)
                {
                    long sy = top + y - Padding;
                    if (sy < 0 || sy >= image.Height) continue;
                    for (int x = 0; x < Width; x++)
                    {
                        long sx = left + x - Padding;
                        if (sx < 0 || sx >= image.Width) continue;
                        dst[((ch * depth + z) * Height + y) * Width + x] = image.Data[((ch * image.Depth + sz) * image.Height + sy) * image.Width + sx];
                    }
                }
            }
        return new FloatImage(dst, shape);
    }

    // Random.Next for every range an int holds (the draws seeded pipelines have always made), NextInt64 beyond.
    private static long Draw(Random random, long range) => range <= int.MaxValue ? random.Next((int)range) : random.NextInt64(range);
}
