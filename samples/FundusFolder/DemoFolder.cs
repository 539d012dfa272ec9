using System.Globalization;
using MedVision.Nets.Data.Images;

namespace MedVision.Samples.FundusFolder;

/// <summary>
/// Writes a tiny generated folder in the iChallenge-PM / PALM layout, only to exercise the pipeline end to end: it is
/// not fundus data. Each JPEG is a dark background with an orange disc (the fundus) and a bright optic disc;
/// "pathologic" images add a pale crescent of peripapillary atrophy beside the optic disc.
/// </summary>
internal static class DemoFolder
{
    public static (string Training, string Validation, string Csv) Write(string root, int perClass, int size, int seed)
    {
        var training = Directory.CreateDirectory(Path.Combine(root, "training")).FullName;
        var validation = Directory.CreateDirectory(Path.Combine(root, "validation")).FullName;
        var random = new Random(seed);
        DrawPairs(perClass, size, random, (i, pathologic) => Path.Combine(training, $"{(pathologic ? 'P' : i % 2 == 0 ? 'N' : 'H')}{i + 1:D4}.jpg"));
        var rows = new List<string> { "imgName,Label" };
        DrawPairs(perClass, size, random, (_, pathologic) =>
        {
            var name = $"V{rows.Count:D4}.jpg";
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"{name},{(pathologic ? 1 : 0)}"));
            return Path.Combine(validation, name);
        });
        var csv = Path.Combine(root, "validation-labels.csv");
        File.WriteAllLines(csv, rows);
        return (training, validation, csv);
    }

    /// <summary>
    /// The same generated images in class sub-folders (<c>training/normal</c>, <c>training/pathologic</c>, and alike for
    /// validation), the layout <c>--labels subfolders</c> reads.
    /// </summary>
    public static (string Training, string Validation) WriteSubfolders(string root, int perClass, int size, int seed)
    {
        var random = new Random(seed);
        string Split(string name)
        {
            var folder = Path.Combine(root, name);
            DrawPairs(perClass, size, random, (i, pathologic) =>
                Path.Combine(Directory.CreateDirectory(Path.Combine(folder, pathologic ? "pathologic" : "normal")).FullName, $"{name[0]}{i + 1:D4}.jpg"));
            return folder;
        }
        return (Split("training"), Split("validation"));
    }

    // perClass pathologic and perClass other images, drawn alternately (pathologic first) and saved where `path` says.
    private static void DrawPairs(int perClass, int size, Random random, Func<int, bool, string> path)
    {
        for (int i = 0; i < perClass; i++)
            foreach (var pathologic in new[] { true, false })
            {
                var file = path(i, pathologic);
                ImageCodec.Save(file, Draw(pathologic, size, random));
            }
    }

    private static RasterImage Draw(bool pathologic, int size, Random random)
    {
        var pixels = new byte[size * size * 3];
        double c = size / 2.0, radius = size * 0.45;
        double discX = c + size * (0.12 + 0.05 * random.NextDouble()), discY = c + size * 0.05 * (random.NextDouble() - 0.5), disc = size * 0.07;
        double atrophy = disc * (1.8 + 0.6 * random.NextDouble());
        double tint = 0.85 + 0.3 * random.NextDouble();
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double r = Math.Sqrt((x - c) * (x - c) + (y - c) * (y - c));
                double d = Math.Sqrt((x - discX) * (x - discX) + (y - discY) * (y - discY));
                double red = 0, green = 0, blue = 0;
                if (r < radius)
                {
                    (red, green, blue) = (200 * tint, 90 * tint, 40 * tint);
                    if (pathologic && d < atrophy && x < discX) (red, green, blue) = (235, 200, 160);
                    if (d < disc) (red, green, blue) = (250, 230, 170);
                }
                int at = (y * size + x) * 3;
                pixels[at] = (byte)Math.Clamp(red + random.Next(-8, 9), 0, 255);
                pixels[at + 1] = (byte)Math.Clamp(green + random.Next(-8, 9), 0, 255);
                pixels[at + 2] = (byte)Math.Clamp(blue + random.Next(-8, 9), 0, 255);
            }
        return new RasterImage(size, size, 3, pixels);
    }
}
