using System.Text.Json;
using MedVision.Nets.Tests.Data;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Tests.Transforms;

/// <summary>
/// <see cref="RandomElasticDeformation"/>: the warp against PyTorch's grid_sample (bilinear, reflection, no aligned corners;
/// Fixtures/augment/make_elastic_fixture.py) for displacements that reach beyond the border, the field's smoothing and
/// scale, and the draws.
/// </summary>
public sealed class ElasticDeformationTests
{
    private static readonly Lazy<JsonElement> Cases = FixtureJson.Lazy(FixtureJson.Folder("augment"), "elastic_fixture.json", "cases");

    [Theory]
    [InlineData("volume")]
    [InlineData("image")]
    public void Warp_IsGridSampleWithReflection(string name)
    {
        var fixture = Cases.Value.GetProperty(name);
        var image = FixtureJson.FloatImage(fixture.GetProperty("image"));
        var displacement = FixtureJson.FloatImage(fixture.GetProperty("displacement"));
        var expected = FixtureJson.FloatImage(fixture.GetProperty("output"));
        displacement.Data.Max(Math.Abs).Should().BeGreaterThan(2, "the fixture reaches beyond the border, where reflection decides");
        var warped = RandomElasticDeformation.Warp(image, displacement);
        warped.Shape.Should().Equal(expected.Shape);
        for (int i = 0; i < expected.Data.Length; i++) warped.Data[i].Should().BeApproximately(expected.Data[i], 2e-5f, $"{name}, element {i}");
    }

    [Fact]
    public void NoDisplacement_KeepsTheImage_AndAConstantOneShiftsIt()
    {
        var image = new FloatImage(Enumerable.Range(0, 2 * 4 * 5 * 6).Select(i => (float)Math.Sin(i)).ToArray(), 2, 4, 5, 6);
        var zero = new FloatImage(new float[3 * image.PlaneSize], 3, 4, 5, 6);
        RandomElasticDeformation.Warp(image, zero).Data.Should().Equal(image.Data);
        // One voxel along W everywhere: each voxel takes its right neighbour; the last column reflects onto itself.
        var shift = new float[3 * image.PlaneSize];
        Array.Fill(shift, 1f, 2 * image.PlaneSize, image.PlaneSize);
        var shifted = RandomElasticDeformation.Warp(image, new FloatImage(shift, 3, 4, 5, 6));
        for (int c = 0; c < 2; c++)
            for (int z = 0; z < 4; z++)
                for (int y = 0; y < 5; y++)
                    for (int x = 0; x < 6; x++)
                    {
                        int row = ((((c * 4) + z) * 5) + y) * 6;
                        shifted.Data[row + x].Should().Be(image.Data[row + Math.Min(x + 1, 5)]);
                    }
        FluentActions.Invoking(() => RandomElasticDeformation.Warp(image, new FloatImage(new float[2 * image.PlaneSize], 2, 4, 5, 6)))
            .Should().Throw<ArgumentException>().WithMessage("*one channel per spatial axis (3)*");
    }

    [Fact]
    public void TheField_IsSmoothedNoiseTimesTheMagnitude()
    {
        var image = new FloatImage(new float[1 * 12 * 12 * 12], 1, 12, 12, 12);
        var field = RandomElasticDeformation.Displacement(image, sigma: 2, magnitude: 10, new Random(3));
        field.Shape.Should().Equal(3, 12, 12, 12);
        var noise = new Random(3);
        var raw = Enumerable.Range(0, 3 * 1728).Select(_ => (float)((noise.NextDouble() * 2) - 1)).ToArray();
        var smoothed = RandomGaussianSmooth.Smooth(new FloatImage(raw, 3, 12, 12, 12), [2.0, 2.0, 2.0], truncated: 3.0);
        for (int i = 0; i < raw.Length; i++) field.Data[i].Should().BeApproximately(smoothed.Data[i] * 10, 1e-4f);
        RandomGaussianSmooth.Kernel(2, truncated: 3.0).Should().HaveCount(13, "6 voxels each side at 3σ");
        // Smoothing averages the noise away: neighbouring displacements are close, unlike the raw noise.
        double Roughness(float[] v) => Enumerable.Range(0, 1727).Average(i => Math.Abs(v[i + 1] - v[i]));
        Roughness(field.Data[..1728]).Should().BeLessThan(0.25 * Roughness(raw[..1728]) * 10);
    }

    [Fact]
    public void RandomDeformation_AppliesAtItsProbability_RepeatsUnderASeed_AndKeepsTheRange()
    {
        var volume = new FloatImage(Enumerable.Range(0, 10 * 10 * 10).Select(i => (float)(i % 10 / 9.0)).ToArray(), 1, 10, 10, 10);
        var transform = new RandomElasticDeformation(sigmaMin: 1.5, sigmaMax: 2.5, magnitudeMin: 5, magnitudeMax: 10, probability: 0.5);
        var random = new Random(8);
        int changed = 0;
        for (int i = 0; i < 200; i++)
        {
            var output = transform.Apply(volume.Clone(), random);
            if (!output.Data.SequenceEqual(volume.Data)) changed++;
            output.Data.Should().OnlyContain(v => v >= -1e-6f && v <= 1 + 1e-6f, "trilinear interpolation stays within the values");
        }
        changed.Should().BeInRange(75, 125);
        var again = new RandomElasticDeformation(1.5, 2.5, 5, 10, probability: 1);
        again.Apply(volume.Clone(), new Random(2)).Data.Should().Equal(again.Apply(volume.Clone(), new Random(2)).Data);
        var image = new FloatImage(Enumerable.Range(0, 16 * 16).Select(i => (float)(i % 16)).ToArray(), 1, 16, 16);
        again.Apply(image.Clone(), new Random(4)).Data.Should().NotEqual(image.Data, "2-D images deform in their plane");

        FluentActions.Invoking(() => new RandomElasticDeformation(0, 1, 1, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sigmaMin");
        FluentActions.Invoking(() => new RandomElasticDeformation(1, 200, 1, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sigmaMax");
        FluentActions.Invoking(() => new RandomElasticDeformation(1, 2, -1, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("magnitudeMin");
        FluentActions.Invoking(() => new RandomElasticDeformation(1, 2, 3, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("magnitudeMax");
        FluentActions.Invoking(() => new RandomElasticDeformation(1, 2, 1, 2, probability: -0.1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("probability");
    }
}
