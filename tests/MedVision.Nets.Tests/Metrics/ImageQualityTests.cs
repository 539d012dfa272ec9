using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Metrics;

public sealed class ImageQualityTests
{
    [Fact]
    public void PsnrMatchesHandComputedValue()
    {
        // MSE = (0.1² + 0 + 0.2² + 0) / 4 = 0.0125; PSNR = 10·log10(1 / 0.0125) = 19.0309 dB.
        float[] reference = [0.5f, 0.5f, 0.5f, 0.5f];
        float[] test = [0.6f, 0.5f, 0.3f, 0.5f];
        ImageQuality.Psnr(reference, test, dataRange: 1).Should().BeApproximately(19.0309, 1e-3);
        // Range 2 adds 20·log10(2) = 6.0206 dB.
        ImageQuality.Psnr(reference, test, dataRange: 2).Should().BeApproximately(25.0515, 1e-3);
        ImageQuality.Psnr(reference, reference, 1).Should().Be(double.PositiveInfinity);
    }

    [Fact]
    public void SsimOfOneWindowMatchesHandComputedValue()
    {
        // A 2×2×2 volume and a 2-voxel window: exactly one window. x = i/8; y = x + 0.1 except the last voxel.
        float[] x = [0f, 0.125f, 0.25f, 0.375f, 0.5f, 0.625f, 0.75f, 0.875f];
        float[] y = [0.1f, 0.225f, 0.35f, 0.475f, 0.6f, 0.725f, 0.85f, 0.5f];
        // By hand (population statistics, n = 8, R = 1, C1 = 1e-4, C2 = 9e-4): μx = 0.4375, μy = 0.478125,
        // σx² = 0.08203125, σy² = 0.054755859375, σxy = 0.0560546875;
        // SSIM = (0.418459375 · 0.113009375) / (0.420109765625 · 0.137687109375) = 0.817545.
        const double expected = 0.8175451;
        ImageQuality.Ssim3D(x, y, 2, 2, 2, dataRange: 1, window: 2).Should().BeApproximately(expected, 1e-6);
    }

    [Fact]
    public void SsimIsOneForIdenticalVolumesAndAveragesOverWindows()
    {
        var random = new Random(1);
        var a = Enumerable.Range(0, 5 * 6 * 7).Select(_ => (float)random.NextDouble()).ToArray();
        ImageQuality.Ssim3D(a, a, 5, 6, 7, 1, window: 3).Should().BeApproximately(1, 1e-9);
        // Two windows along W (width 3, window 2): the mean of the two single-window values.
        float[] x = [0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0];
        float[] y = [0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0];
        double Window(int offset)
        {
            var xs = new List<double>(); var ys = new List<double>();
            for (int z = 0; z < 2; z++) for (int h = 0; h < 2; h++) for (int w = offset; w < offset + 2; w++) { xs.Add(x[(z * 2 + h) * 3 + w]); ys.Add(y[(z * 2 + h) * 3 + w]); }
            double mx = xs.Average(), my = ys.Average();
            double vx = xs.Average(v => (v - mx) * (v - mx)), vy = ys.Average(v => (v - my) * (v - my));
            double cxy = xs.Zip(ys).Average(p => (p.First - mx) * (p.Second - my));
            return (2 * mx * my + 1e-4) * (2 * cxy + 9e-4) / ((mx * mx + my * my + 1e-4) * (vx + vy + 9e-4));
        }
        ImageQuality.Ssim3D(x, y, 2, 2, 3, 1, window: 2).Should().BeApproximately((Window(0) + Window(1)) / 2, 1e-9);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        float[] a = [0, 1, 0, 1];
        FluentActions.Invoking(() => ImageQuality.Psnr(a, new float[3], 1)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ImageQuality.Psnr(a, a, 0)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ImageQuality.Ssim3D(a, a, 1, 2, 3, 1, 2)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ImageQuality.Ssim3D(a, a, 1, 2, 2, 1, 3)).Should().Throw<ArgumentException>().WithMessage("*window*");
    }
}
