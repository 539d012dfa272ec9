namespace MedVision.Nets.Transforms;

/// <summary>Resizes an image (C, H, W) or volume (C, D, H, W) to a fixed size, nearest or (bi/tri)linear with PyTorch's interpolate conventions.</summary>
public sealed class Resize : ITransform
{
    /// <summary>Resizes 2-D images to (height, width).</summary>
    public Resize(int height, int width, ResizeMode mode = ResizeMode.Linear) : this(0, height, width, mode) { }

    /// <summary>Resizes volumes to (depth, height, width); depth 0 means a 2-D resize.</summary>
    public Resize(int depth, int height, int width, ResizeMode mode)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, $"{mode} is not a ResizeMode.");
        Depth = depth;
        Height = height;
        Width = width;
        Mode = mode;
    }

    /// <summary>Target depth (0 for 2-D).</summary>
    public int Depth { get; }
    /// <summary>Target height.</summary>
    public int Height { get; }
    /// <summary>Target width.</summary>
    public int Width { get; }
    /// <summary>Resampling.</summary>
    public ResizeMode Mode { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        int od = image.IsVolume ? (Depth == 0 ? image.Depth : Depth) : 1;
        if (!image.IsVolume && Depth > 1) throw new ArgumentException("A 3-D resize needs a (C, D, H, W) volume.");
        int c = image.Channels, id = image.Depth, ih = image.Height, iw = image.Width;
        if (od == id && Height == ih && Width == iw) return image;
        var src = image.Data;
        var dst = FloatImage.Allocate("Resize", c, od, Height, Width);
        for (int ch = 0; ch < c; ch++)
            for (int z = 0; z < od; z++)
                for (int y = 0; y < Height; y++)
                    for (int x = 0; x < Width; x++)
                    {
                        float v = Mode == ResizeMode.Nearest
                            ? src[((ch * id + Nearest(z, id, od)) * ih + Nearest(y, ih, Height)) * iw + Nearest(x, iw, Width)]
                            : Linear(src, ch, id, ih, iw, Source(z, id, od), Source(y, ih, Height), Source(x, iw, Width));
                        dst[((ch * od + z) * Height + y) * Width + x] = v;
                    }
        var shape = image.IsVolume ? new[] { c, od, Height, Width } : new[] { c, Height, Width };
        return new FloatImage(dst, shape);
    }

    private static int Nearest(int dst, int inSize, int outSize) => Math.Min((int)Math.Floor(dst * (double)inSize / outSize), inSize - 1);

    private static double Source(int dst, int inSize, int outSize) => Math.Max(0, (dst + 0.5) * inSize / outSize - 0.5);

    private static float Linear(float[] s, int ch, int d, int h, int w, double z, double y, double x)
    {
        int z0 = Math.Min((int)z, d - 1), y0 = Math.Min((int)y, h - 1), x0 = Math.Min((int)x, w - 1);
        int z1 = Math.Min(z0 + 1, d - 1), y1 = Math.Min(y0 + 1, h - 1), x1 = Math.Min(x0 + 1, w - 1);
        double fz = z - z0, fy = y - y0, fx = x - x0;
        double At(int zz, int yy, int xx) => s[((ch * d + zz) * h + yy) * w + xx];
        double c00 = At(z0, y0, x0) * (1 - fx) + At(z0, y0, x1) * fx;
        double c01 = At(z0, y1, x0) * (1 - fx) + At(z0, y1, x1) * fx;
        double c10 = At(z1, y0, x0) * (1 - fx) + At(z1, y0, x1) * fx;
        double c11 = At(z1, y1, x0) * (1 - fx) + At(z1, y1, x1) * fx;
        return (float)(((c00 * (1 - fy) + c01 * fy) * (1 - fz)) + ((c10 * (1 - fy) + c11 * fy) * fz));
    }
}
