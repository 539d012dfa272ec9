using BenchmarkDotNet.Attributes;
using MedVision.Nets.Data.Images;

namespace MedVision.Benchmarks;

/// <summary>
/// Decoding 400 RGB JPEG files (libjpeg-turbo) and resizing each to the 224×224 network input, single-threaded, as a
/// fundus-image folder is read. The files are synthetic (smooth disc with noise, quality 90), written once to a
/// temporary folder; SourceSide is their width and height.
/// </summary>
[MemoryDiagnoser]
public class JpegDecodeBenchmarks
{
    private const int Count = 400;
    private const int Target = 224;
    private string _folder = null!;
    private string[] _files = null!;

    /// <summary>Side of the stored images.</summary>
    [Params(256, 512)]
    public int SourceSide { get; set; } = 256;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"medvision-jpeg-bench-{Environment.ProcessId}-{SourceSide}");
        Directory.CreateDirectory(_folder);
        var random = new Random(0);
        _files = new string[Count];
        for (int i = 0; i < Count; i++)
        {
            _files[i] = Path.Combine(_folder, $"fundus_{i:D3}.jpg");
            File.WriteAllBytes(_files[i], ImageCodec.EncodeJpeg(SyntheticFundus(SourceSide, random), quality: 90));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    /// <summary>Decode only.</summary>
    [Benchmark(Baseline = true)]
    public long Decode()
    {
        long pixels = 0;
        foreach (var file in _files) pixels += ImageCodec.DecodeFile(file).Width;
        return pixels;
    }

    /// <summary>Decode, then bilinear resize to 224×224.</summary>
    [Benchmark]
    public long DecodeAndResize()
    {
        long pixels = 0;
        foreach (var file in _files) pixels += ImageCodec.DecodeFile(file).Resize(Target, Target).Width;
        return pixels;
    }

    private static RasterImage SyntheticFundus(int side, Random random)
    {
        var pixels = new byte[side * side * 3];
        double c = side / 2.0;
        for (int y = 0; y < side; y++)
        {
            for (int x = 0; x < side; x++)
            {
                double r = Math.Sqrt((x - c) * (x - c) + (y - c) * (y - c)) / c;
                double inside = r < 0.95 ? 1 - 0.5 * r : 0;
                int o = (y * side + x) * 3;
                pixels[o] = (byte)Math.Clamp(200 * inside + random.Next(-8, 9), 0, 255);
                pixels[o + 1] = (byte)Math.Clamp(90 * inside + random.Next(-8, 9), 0, 255);
                pixels[o + 2] = (byte)Math.Clamp(40 * inside + random.Next(-8, 9), 0, 255);
            }
        }
        return new RasterImage(side, side, 3, pixels);
    }
}
