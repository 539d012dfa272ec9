using MedVision.Nets.Data.Images;

namespace MedVision.Benchmarks;

/// <summary>
/// A fundus-like RGB image for the segmentation benchmarks (also compiled into MedVision.Benchmarks.Onnx): a dark
/// surround, an orange-red retina and a bright optic disc, with seeded noise so that a JPEG of it costs what a photograph does.
/// </summary>
internal static class SyntheticFundus
{
    public static RasterImage Create(int size = 512, int seed = 0)
    {
        var pixels = new byte[size * size * 3];
        var random = new Random(seed);
        double scale = size / 512.0, discX = 300 * scale, discY = 240 * scale, disc = 40 * scale, retina = 230 * scale;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double r = Math.Sqrt(((x - discX) * (x - discX)) + ((y - discY) * (y - discY)));
                int i = 3 * ((y * size) + x);
                pixels[i] = (byte)Math.Clamp((r < disc ? 250 : r < retina ? 170 : 20) + random.Next(-15, 15), 0, 255);
                pixels[i + 1] = (byte)Math.Clamp((r < disc ? 200 : r < retina ? 70 : 10) + random.Next(-15, 15), 0, 255);
                pixels[i + 2] = (byte)Math.Clamp((r < retina ? 30 : 5) + random.Next(0, 10), 0, 255);
            }
        return new RasterImage(size, size, 3, pixels);
    }
}
