using MedVision.Nets.Data.Images;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Renders a 2-D map of values in [0, 1] (a <see cref="GradCam"/> map, a probability map) as a colour image, or
/// blends it over the image it explains.
/// </summary>
/// <example><code>
/// var original = ImageCodec.DecodeFile("fundus.jpg");
/// var overlay = Heatmap.Overlay(original, result.ToArray(0), 224, 224);   // the map is resized to the photograph
/// ImageCodec.Save("fundus-gradcam.png", overlay);
/// </code></example>
public static class Heatmap
{
    // matplotlib viridis at 0, 1/8, ..., 1.
    private static readonly byte[,] ViridisAnchors =
    {
        { 68, 1, 84 }, { 71, 44, 122 }, { 59, 82, 139 }, { 44, 113, 142 }, { 33, 145, 140 },
        { 39, 173, 129 }, { 92, 200, 99 }, { 170, 220, 50 }, { 253, 231, 37 },
    };

    /// <summary>The RGB colour of <paramref name="value"/> (clamped to [0, 1]; NaN is treated as 0).</summary>
    public static (byte R, byte G, byte B) Color(double value, Colormap colormap = Colormap.Jet)
    {
        double v = double.IsNaN(value) ? 0 : Math.Clamp(value, 0, 1);
        switch (colormap)
        {
            case Colormap.Jet:
                return (Byte(1.5 - Math.Abs((4 * v) - 3)), Byte(1.5 - Math.Abs((4 * v) - 2)), Byte(1.5 - Math.Abs((4 * v) - 1)));
            case Colormap.Viridis:
            {
                double position = v * 8;
                int i = Math.Min((int)position, 7);
                double f = position - i;
                return (Lerp(ViridisAnchors[i, 0], ViridisAnchors[i + 1, 0], f), Lerp(ViridisAnchors[i, 1], ViridisAnchors[i + 1, 1], f), Lerp(ViridisAnchors[i, 2], ViridisAnchors[i + 1, 2], f));
            }
            case Colormap.Grey:
            {
                byte g = Byte(v);
                return (g, g, g);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(colormap), colormap, "Unknown colormap.");
        }
    }

    /// <summary>
    /// Colours a row-major <paramref name="height"/> × <paramref name="width"/> map of values in [0, 1] (values
    /// outside are clamped).
    /// </summary>
    public static RasterImage Render(ReadOnlySpan<float> map, int width, int height, Colormap colormap = Colormap.Jet)
    {
        CheckMap(map, width, height);
        var pixels = new byte[width * height * 3];
        for (int i = 0; i < map.Length; i++)
        {
            var (r, g, b) = Color(map[i], colormap);
            pixels[3 * i] = r;
            pixels[(3 * i) + 1] = g;
            pixels[(3 * i) + 2] = b;
        }
        return new RasterImage(width, height, 3, pixels);
    }

    /// <summary>
    /// Blends the coloured map over <paramref name="image"/> (grey or RGB; the result is RGB at the image's size):
    /// <c>(1 − alpha) · image + alpha · colour</c>. A map of another size than the image (the model's input size) is
    /// first resized with bilinear interpolation (pixel centres aligned).
    /// </summary>
    /// <param name="image">The image the map explains, at any size.</param>
    /// <param name="map">Row-major <paramref name="mapHeight"/> × <paramref name="mapWidth"/> values in [0, 1].</param>
    /// <param name="mapWidth">The map's width.</param>
    /// <param name="mapHeight">The map's height.</param>
    /// <param name="alpha">The map's weight, in [0, 1].</param>
    /// <param name="colormap">The colour scale.</param>
    public static RasterImage Overlay(RasterImage image, ReadOnlySpan<float> map, int mapWidth, int mapHeight, double alpha = 0.5, Colormap colormap = Colormap.Jet)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckMap(map, mapWidth, mapHeight);
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must lie in [0, 1].");
        var values = mapWidth == image.Width && mapHeight == image.Height ? map.ToArray() : Resize(map, mapWidth, mapHeight, image.Width, image.Height);
        var rgb = image.Channels == 3 ? image : image.WithChannels(3);
        var pixels = new byte[rgb.Pixels.Length];
        for (int i = 0; i < values.Length; i++)
        {
            var (r, g, b) = Color(values[i], colormap);
            pixels[3 * i] = Blend(rgb.Pixels[3 * i], r, alpha);
            pixels[(3 * i) + 1] = Blend(rgb.Pixels[(3 * i) + 1], g, alpha);
            pixels[(3 * i) + 2] = Blend(rgb.Pixels[(3 * i) + 2], b, alpha);
        }
        return new RasterImage(image.Width, image.Height, 3, pixels);
    }

    private static void CheckMap(ReadOnlySpan<float> map, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (map.Length != (long)width * height)
            throw new ArgumentException($"The map has {map.Length} values, not {height}×{width} = {(long)width * height}.", nameof(map));
    }

    // Bilinear resize with the source coordinate (dst + 0.5) · scale − 0.5 clamped to the borders, as RasterImage.Resize
    // and PyTorch's interpolate(align_corners=False) do.
    private static float[] Resize(ReadOnlySpan<float> map, int width, int height, int newWidth, int newHeight)
    {
        var result = new float[newWidth * newHeight];
        double sx = (double)width / newWidth, sy = (double)height / newHeight;
        for (int y = 0; y < newHeight; y++)
        {
            double srcY = Math.Clamp(((y + 0.5) * sy) - 0.5, 0, height - 1);
            int y0 = (int)srcY, y1 = Math.Min(y0 + 1, height - 1);
            double fy = srcY - y0;
            for (int x = 0; x < newWidth; x++)
            {
                double srcX = Math.Clamp(((x + 0.5) * sx) - 0.5, 0, width - 1);
                int x0 = (int)srcX, x1 = Math.Min(x0 + 1, width - 1);
                double fx = srcX - x0;
                double top = (map[(y0 * width) + x0] * (1 - fx)) + (map[(y0 * width) + x1] * fx);
                double bottom = (map[(y1 * width) + x0] * (1 - fx)) + (map[(y1 * width) + x1] * fx);
                result[(y * newWidth) + x] = (float)((top * (1 - fy)) + (bottom * fy));
            }
        }
        return result;
    }

    private static byte Byte(double unit) => (byte)Math.Round(Math.Clamp(unit, 0, 1) * 255, MidpointRounding.AwayFromZero);

    private static byte Lerp(byte a, byte b, double f) => (byte)Math.Round(a + ((b - a) * f), MidpointRounding.AwayFromZero);

    private static byte Blend(byte under, byte over, double alpha) => (byte)Math.Round(((1 - alpha) * under) + (alpha * over), MidpointRounding.AwayFromZero);
}
