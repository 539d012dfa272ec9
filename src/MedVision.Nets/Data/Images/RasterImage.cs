namespace MedVision.Nets.Data.Images;

/// <summary>
/// An 8-bit image held as interleaved bytes in (H, W, C) order: grey (C = 1) or RGB (C = 3).
/// </summary>
public sealed class RasterImage
{
    /// <summary>Creates an image over <paramref name="pixels"/> (not copied).</summary>
    /// <param name="width">Width W in pixels (at least 1).</param>
    /// <param name="height">Height H in pixels (at least 1).</param>
    /// <param name="channels">1 (grey) or 3 (RGB).</param>
    /// <param name="pixels">H·W·C bytes, row-major, channels interleaved.</param>
    public RasterImage(int width, int height, int channels, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images have 1 (grey) or 3 (RGB) channels.");
        }

        if (pixels.LongLength != (long)width * height * channels)
        {
            throw new ArgumentException($"{pixels.Length} bytes do not match {height}×{width}×{channels}.", nameof(pixels));
        }

        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    /// <summary>Width W in pixels.</summary>
    public int Width { get; }

    /// <summary>Height H in pixels.</summary>
    public int Height { get; }

    /// <summary>Channels C: 1 (grey) or 3 (RGB).</summary>
    public int Channels { get; }

    /// <summary>The pixels, (H, W, C) order. Not copied.</summary>
    public byte[] Pixels { get; }

    /// <summary>The value of channel <paramref name="channel"/> at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    /// <param name="x">Column, 0..W-1.</param>
    /// <param name="y">Row, 0..H-1.</param>
    /// <param name="channel">Channel, 0..C-1.</param>
    /// <returns>The byte value.</returns>
    public byte this[int x, int y, int channel]
    {
        get
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height || (uint)channel >= (uint)Channels)
            {
                throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}, {channel}) is outside the {Width}×{Height}×{Channels} image.");
            }

            return Pixels[(((y * Width) + x) * Channels) + channel];
        }
    }

    /// <summary>
    /// Converts to <paramref name="channels"/> channels: grey to RGB repeats the value; RGB to grey uses the
    /// ITU-R BT.601 luma weights (0.299, 0.587, 0.114). Returns this image when it already has that many channels.
    /// </summary>
    /// <param name="channels">1 or 3.</param>
    /// <returns>The converted image.</returns>
    public RasterImage WithChannels(int channels)
    {
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images have 1 (grey) or 3 (RGB) channels.");
        }

        if (channels == Channels)
        {
            return this;
        }

        int n = Width * Height;
        var result = new byte[n * channels];
        if (channels == 3)
        {
            for (int i = 0; i < n; i++)
            {
                result[3 * i] = result[(3 * i) + 1] = result[(3 * i) + 2] = Pixels[i];
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                double luma = (0.299 * Pixels[3 * i]) + (0.587 * Pixels[(3 * i) + 1]) + (0.114 * Pixels[(3 * i) + 2]);
                result[i] = (byte)Math.Clamp(Math.Round(luma, MidpointRounding.AwayFromZero), 0, 255);
            }
        }

        return new RasterImage(Width, Height, channels, result);
    }

    /// <summary>
    /// Resizes with bilinear interpolation using pixel-centre alignment (source coordinate
    /// (dst + 0.5)·scale − 0.5, clamped at the borders), rounding to the nearest byte. No anti-aliasing is applied
    /// when shrinking. Returns this image when the size is unchanged.
    /// </summary>
    /// <param name="width">New width (at least 1).</param>
    /// <param name="height">New height (at least 1).</param>
    /// <returns>The resized image.</returns>
    public RasterImage Resize(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (width == Width && height == Height)
        {
            return this;
        }

        int c = Channels;
        var result = new byte[width * height * c];
        double sx = (double)Width / width;
        double sy = (double)Height / height;
        var x0 = new int[width];
        var x1 = new int[width];
        var fx = new double[width];
        for (int x = 0; x < width; x++)
        {
            double src = Math.Clamp(((x + 0.5) * sx) - 0.5, 0, Width - 1);
            x0[x] = (int)src;
            x1[x] = Math.Min(x0[x] + 1, Width - 1);
            fx[x] = src - x0[x];
        }

        for (int y = 0; y < height; y++)
        {
            double srcY = Math.Clamp(((y + 0.5) * sy) - 0.5, 0, Height - 1);
            int y0 = (int)srcY;
            int y1 = Math.Min(y0 + 1, Height - 1);
            double fy = srcY - y0;
            int row0 = y0 * Width * c;
            int row1 = y1 * Width * c;
            for (int x = 0; x < width; x++)
            {
                int a = x0[x] * c;
                int b = x1[x] * c;
                double wx = fx[x];
                for (int k = 0; k < c; k++)
                {
                    double top = Pixels[row0 + a + k] + (wx * (Pixels[row0 + b + k] - Pixels[row0 + a + k]));
                    double bottom = Pixels[row1 + a + k] + (wx * (Pixels[row1 + b + k] - Pixels[row1 + a + k]));
                    double v = top + (fy * (bottom - top));
                    result[(((y * width) + x) * c) + k] = (byte)Math.Clamp(Math.Round(v, MidpointRounding.AwayFromZero), 0, 255);
                }
            }
        }

        return new RasterImage(width, height, c, result);
    }
}
