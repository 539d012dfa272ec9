using System.Text.Json;
using MedVision.Nets.Tests.Data;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Tests.Transforms;

/// <summary>
/// The MONAI-style augmentations — contrast (gamma), bias field, Gaussian smoothing, quarter turns, intensity shift —
/// against NumPy computations of MONAI's formulas (Fixtures/augment/make_augment_fixtures.py) for the parameters their
/// random draws give, and their draws: ranges, probabilities, reproducibility under a seed.
/// </summary>
public sealed class IntensityAugmentationTests
{
    private static readonly Lazy<JsonElement> Fixture = FixtureJson.Lazy(FixtureJson.Folder("augment"), "augment_fixture.json", "cases");
    private static readonly Lazy<(FloatImage Volume, FloatImage Image)> Inputs = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureJson.Folder("augment"), "augment_fixture.json")));
        return (FixtureJson.FloatImage(doc.RootElement.GetProperty("volume")), FixtureJson.FloatImage(doc.RootElement.GetProperty("image")));
    });

    private static readonly Lazy<JsonElement> LowResolution = FixtureJson.Lazy(FixtureJson.Folder("augment"), "lowres_fixture.json", "cases");

    private static FloatImage Input(string name) => (name.Contains("volume") ? Inputs.Value.Volume : Inputs.Value.Image).Clone();

    private static void ShouldMatch(FloatImage actual, JsonElement expected, double tolerance, string because)
    {
        var output = expected.GetProperty("output");
        actual.Shape.Should().Equal(output.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()), because);
        var values = output.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        for (int i = 0; i < values.Length; i++)
            actual.Data[i].Should().BeApproximately((float)values[i], (float)(tolerance * Math.Max(1, Math.Abs(values[i]))), $"{because}, element {i}");
    }

    [Theory]
    [InlineData("contrast_volume_0.7")]
    [InlineData("contrast_volume_2.5")]
    [InlineData("contrast_image_0.7")]
    [InlineData("contrast_image_2.5")]
    public void AdjustContrast_IsMonaisGammaCurve(string name)
    {
        var expected = Fixture.Value.GetProperty(name);
        var input = Input(name);
        float min = input.Data.Min(), max = input.Data.Max();
        var output = RandomAdjustContrast.Adjust(input, expected.GetProperty("gamma").GetDouble());
        ShouldMatch(output, expected, 1e-5, name);
        output.Data.Min().Should().BeApproximately(min, 1e-4f * Math.Max(1, Math.Abs(min)), "the minimum stays");
        output.Data.Max().Should().BeApproximately(max, 1e-4f * Math.Max(1, Math.Abs(max)), "the maximum stays (up to MONAI's epsilon)");
    }

    [Theory]
    [InlineData("bias_volume_2")]
    [InlineData("bias_volume_3")]
    [InlineData("bias_image_2")]
    [InlineData("bias_image_3")]
    public void BiasField_IsMonaisLegendreField(string name)
    {
        var expected = Fixture.Value.GetProperty(name);
        int degree = expected.GetProperty("degree").GetInt32();
        var coefficients = expected.GetProperty("coefficients").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var input = Input(name);
        coefficients.Should().HaveCount(RandomBiasField.CoefficientCount(degree, input.IsVolume ? 3 : 2));
        ShouldMatch(RandomBiasField.Multiply(input, degree, coefficients), expected, 1e-5, name);
        FluentActions.Invoking(() => RandomBiasField.Field([4, 4], degree, coefficients[..^1])).Should().Throw<ArgumentException>().WithMessage("*coefficients*");
    }

    [Theory]
    [InlineData("smooth_volume")]
    [InlineData("smooth_image")]
    public void GaussianSmooth_IsMonaisErfKernel_WithZeroPadding(string name)
    {
        var expected = Fixture.Value.GetProperty(name);
        var sigmas = expected.GetProperty("sigmas").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var input = Input(name);
        var before = (float[])input.Data.Clone();
        ShouldMatch(RandomGaussianSmooth.Smooth(input, sigmas), expected, 1e-5, name);
        input.Data.Should().Equal(before, "smoothing returns a new image");
        // The kernel: the Gaussian's mass over each voxel, 4σ each side, not renormalised.
        var kernel = RandomGaussianSmooth.Kernel(1.0);
        kernel.Should().HaveCount(9);
        kernel.Sum().Should().BeApproximately(0.9999932047, 1e-9, "erf(4.5/√2), the mass within ±4.5 voxels");
        kernel[4].Should().BeApproximately(0.3829249220, 1e-9, "erf(0.5/√2)");
    }

    [Theory]
    [InlineData("rot90_volume_1")]
    [InlineData("rot90_volume_2")]
    [InlineData("rot90_volume_3")]
    [InlineData("rot90_image_1")]
    [InlineData("rot90_image_2")]
    [InlineData("rot90_image_3")]
    public void Rotate90_IsNumPysRot90_InTheHeightWidthPlane(string name)
    {
        var expected = Fixture.Value.GetProperty(name);
        ShouldMatch(RandomRotate90.Rotate(Input(name), expected.GetProperty("k").GetInt32()), expected, 0, name);
    }

    [Theory]
    [InlineData("rot90_volume_depth_height_1")]
    [InlineData("rot90_volume_depth_height_2")]
    [InlineData("rot90_volume_depth_height_3")]
    [InlineData("rot90_volume_depth_width_1")]
    [InlineData("rot90_volume_depth_width_2")]
    [InlineData("rot90_volume_depth_width_3")]
    [InlineData("rot90_volume_width_height_1")]
    [InlineData("rot90_volume_width_height_3")]
    [InlineData("rot90_image_width_height_1")]
    [InlineData("rot90_image_width_height_3")]
    public void Rotate90_IsNumPysRot90_InAnyPlane(string name)
    {
        var expected = Fixture.Value.GetProperty(name);
        var axes = expected.GetProperty("axes").EnumerateArray().Select(a => Enum.Parse<SpatialAxis>(a.GetString()!)).ToArray();
        int turns = expected.GetProperty("k").GetInt32();
        ShouldMatch(RandomRotate90.Rotate(Input(name), turns, axes[0], axes[1]), expected, 0, name);
        // Through the transform: one turn when drawn with maxTurns 1, in the plane it was given.
        if (turns == 1)
            ShouldMatch(new RandomRotate90(probability: 1, maxTurns: 1, fromAxis: axes[0], towardsAxis: axes[1]).Apply(Input(name), new Random(0)), expected, 0, name);
    }

    [Theory]
    [InlineData("histogram_volume_3")]
    [InlineData("histogram_volume_10")]
    [InlineData("histogram_image_3")]
    [InlineData("histogram_image_10")]
    public void HistogramShift_IsNumPysInterp_BetweenTheMovedControlPoints(string name)
    {
        var expected = Fixture.Value.GetProperty(name);
        var moved = expected.GetProperty("moved").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var input = Input(name);
        var (min, max) = (input.Data.Min(), input.Data.Max());
        var shifted = RandomHistogramShift.Shift(input.Clone(), moved);
        ShouldMatch(shifted, expected, 1e-5, name);
        shifted.Data.Min().Should().BeApproximately(min, 1e-3f, "the ends stay");
        shifted.Data.Max().Should().BeApproximately(max, 1e-3f, "the ends stay");
        // Monotone: the order of values is kept.
        var order = Enumerable.Range(0, input.Data.Length).OrderBy(i => input.Data[i]).ToArray();
        for (int i = 1; i < order.Length; i++) shifted.Data[order[i]].Should().BeGreaterThanOrEqualTo(shifted.Data[order[i - 1]] - 1e-4f);
    }

    [Fact]
    public void HistogramShift_LeavesConstantImagesAndNaNAsTheyAre()
    {
        var constant = new FloatImage([2f, 2f, 2f, 2f], 1, 2, 2);
        RandomHistogramShift.Shift(constant, [0, 0.9, 1]).Data.Should().Equal(2f, 2f, 2f, 2f);
        var withNaN = RandomHistogramShift.Shift(new FloatImage([0f, float.NaN, 1f, 0.5f], 1, 2, 2), [0, 0.75, 1]);
        float.IsNaN(withNaN.Data[1]).Should().BeTrue();
        withNaN.Data.Where(v => !float.IsNaN(v)).Should().Equal(0f, 1f, 0.75f);
    }

    [Theory]
    [InlineData("lowres_volume_0.5")]
    [InlineData("lowres_volume_0.6")]
    [InlineData("lowres_volume_0.15")]
    [InlineData("lowres_image_0.5")]
    [InlineData("lowres_image_0.6")]
    [InlineData("lowres_image_0.15")]
    public void SimulateLowResolution_IsTorchsNearestDownThenLinearUp(string name)
    {
        var expected = LowResolution.Value.GetProperty(name);
        // PyTorch interpolates in float32: the values (−50 to 150) agree to float32 rounding (a few 1e-5 absolute).
        ShouldMatch(RandomSimulateLowResolution.Simulate(Input(name), expected.GetProperty("zoom").GetDouble()), expected, 1e-4, name);
    }

    [Theory]
    [InlineData("gibbs_volume_0.0")]
    [InlineData("gibbs_volume_0.3")]
    [InlineData("gibbs_volume_0.8")]
    [InlineData("gibbs_image_0.0")]
    [InlineData("gibbs_image_0.3")]
    [InlineData("gibbs_image_0.8")]
    public void GibbsNoise_IsNumPysMaskedKSpace_RealPart(string name)
    {
        var expected = Fixture.Value.GetProperty(name);
        var input = Input(name);
        var ringed = RandomGibbsNoise.Ring(input, expected.GetProperty("alpha").GetDouble());
        ringed.Should().NotBeSameAs(input);
        ShouldMatch(ringed, expected, 1e-4, name);
    }

    [Theory]
    [InlineData("spike_volume_default")]
    [InlineData("spike_volume_range")]
    [InlineData("spike_image_default")]
    public void KSpaceSpike_IsNumPysSpikedKSpace_RealPart(string name)
    {
        var expected = Fixture.Value.GetProperty(name);
        var locations = expected.GetProperty("locations").EnumerateArray().Select(l => l.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        var fractions = expected.GetProperty("fractions").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        (double, double)? range = expected.GetProperty("range") is { ValueKind: JsonValueKind.Array } r ? (r[0].GetDouble(), r[1].GetDouble()) : null;
        ShouldMatch(RandomKSpaceSpikeNoise.Spike(Input(name), locations, fractions, range), expected, 1e-4, name);
    }

    [Fact]
    public void KSpaceTransforms_TakeNaNAndInfinityAsZero_AndKeepThem_WhileHistogramShiftLeavesThemOutOfItsRange()
    {
        var volume = Inputs.Value.Volume;
        var withHoles = volume.Clone();
        withHoles.Data[3] = float.NaN;
        withHoles.Data[200] = float.PositiveInfinity;
        var zeroed = volume.Clone();
        zeroed.Data[3] = 0;
        zeroed.Data[200] = 0;
        foreach (var (holes, zeros) in new[]
                 {
                     (RandomGibbsNoise.Ring(withHoles, 0.4), RandomGibbsNoise.Ring(zeroed, 0.4)),
                     (RandomKSpaceSpikeNoise.Spike(withHoles, [[1, 2, 3], [0, 0, 0]], [0.5, 0.5], (8, 8)), RandomKSpaceSpikeNoise.Spike(zeroed, [[1, 2, 3], [0, 0, 0]], [0.5, 0.5], (8, 8))),
                 })
        {
            float.IsNaN(holes.Data[3]).Should().BeTrue();
            holes.Data[200].Should().Be(float.PositiveInfinity);
            holes.Data.Where((_, i) => i != 3 && i != 200).Should().Equal(zeros.Data.Where((_, i) => i != 3 && i != 200), "the other voxels are those of a volume with zeros there");
        }
        // An infinite voxel does not stretch the histogram shift's range: the finite voxels map as without it.
        var shifted = RandomHistogramShift.Shift(withHoles.Clone(), [0, 0.8, 1]);
        var finite = volume.Clone();
        finite.Data[3] = finite.Data[4];
        finite.Data[200] = finite.Data[201];
        var expected = RandomHistogramShift.Shift(finite, [0, 0.8, 1]);
        shifted.Data[200].Should().Be(float.PositiveInfinity);
        shifted.Data.Where((_, i) => i != 3 && i != 200).Should().Equal(expected.Data.Where((_, i) => i != 3 && i != 200));
    }

    [Fact]
    public void KSpaceSpike_SharesItsLocation_AcrossChannels_UnlessChannelWise()
    {
        // A spike of one frequency adds a plane wave: with one location for all channels, both channels change by
        // waves of the same frequency; channel-wise, each channel has its own.
        var volume = new FloatImage(new float[2 * 4 * 4 * 4], 2, 4, 4, 4);
        FloatImage Spiked(bool channelWise, int seed) => new RandomKSpaceSpikeNoise(probability: 1, intensityRange: (3, 3), channelWise: channelWise).Apply(volume.Clone(), new Random(seed));
        var shared = Spiked(false, 3);
        shared.Data.Take(64).Should().Equal(shared.Data.Skip(64), "one location and one value for both channels");
        Enumerable.Range(0, 20).Select(seed => Spiked(true, seed)).Should().Contain(s => !s.Data.Take(64).SequenceEqual(s.Data.Skip(64)), "channel-wise, the locations differ");
        shared.Data.Should().Contain(v => Math.Abs(v) > 1e-3f, "a spike of magnitude e³ on a zero image shows");
    }

    [Fact]
    public void RicianNoise_IsTheMagnitudeOfComplexGaussianNoise()
    {
        // On zeros the magnitude of N(0, s²) + i·N(0, s²) is Rayleigh: mean s·√(π/2), variance (4 − π)/2 · s².
        var zeros = new float[200_000];
        RandomRicianNoise.AddNoise(zeros, 0, 2, new Random(5));
        zeros.Should().OnlyContain(v => v >= 0);
        double mean = zeros.Average(v => (double)v), variance = zeros.Average(v => (v - mean) * (v - mean));
        mean.Should().BeApproximately(2 * Math.Sqrt(Math.PI / 2), 0.02);
        variance.Should().BeApproximately((4 - Math.PI) / 2 * 4, 0.03);
        // Far above the noise it is nearly Gaussian about √(A² + s²).
        var bright = Enumerable.Repeat(100f, 200_000).ToArray();
        RandomRicianNoise.AddNoise(bright, 0, 2, new Random(6));
        bright.Average(v => (double)v).Should().BeApproximately(Math.Sqrt((100 * 100) + 4), 0.03);
        Math.Sqrt(bright.Average(v => (v - 100.02) * (v - 100.02))).Should().BeApproximately(2, 0.03);

        // Relative and channel by channel: a constant channel (standard deviation 0) gets no noise, a varied one does.
        var image = new FloatImage([.. Enumerable.Repeat(3f, 16), .. Enumerable.Range(0, 16).Select(i => (float)(i % 2 == 0 ? -1 : 1))], 2, 4, 4);
        var perChannel = new RandomRicianNoise(probability: 1, std: 0.5, channelWise: true, relative: true, sampleStd: false).Apply(image.Clone(), new Random(1));
        perChannel.Data.Take(16).Should().OnlyContain(v => v == 3f);
        perChannel.Data.Skip(16).Should().NotEqual(image.Data.Skip(16).Select(Math.Abs));
        var whole = new RandomRicianNoise(probability: 1, std: 0.5, relative: true, sampleStd: false).Apply(image.Clone(), new Random(1));
        whole.Data.Take(16).Should().Contain(v => v != 3f, "the spread comes from the whole image's standard deviation");
    }

    [Fact]
    public void Rotate90_OutOfAPlaneWithDepth_IsRefusedFor2DImages_AndUndoneByTheOppositeTurn()
    {
        var image = Inputs.Value.Image;
        var depthTurn = new RandomRotate90(probability: 1, fromAxis: SpatialAxis.Depth, towardsAxis: SpatialAxis.Height);
        FluentActions.Invoking(() => depthTurn.Apply(image.Clone(), new Random(0))).Should().Throw<ArgumentException>()
            .WithParameterName("image").WithMessage("*(Depth, Height) plane needs a (C, D, H, W) volume*");
        var volume = Inputs.Value.Volume;
        var there = RandomRotate90.Rotate(volume, 1, SpatialAxis.Depth, SpatialAxis.Width);
        there.Shape.Should().Equal(volume.Shape[0], volume.Shape[3], volume.Shape[2], volume.Shape[1]);
        var back = RandomRotate90.Rotate(there, 1, SpatialAxis.Width, SpatialAxis.Depth);
        back.Shape.Should().Equal(volume.Shape);
        back.Data.Should().Equal(volume.Data);
        RandomRotate90.Rotate(volume, 4, SpatialAxis.Depth, SpatialAxis.Height).Should().BeSameAs(volume, "four turns are none");
    }

    [Fact]
    public void RandomTransforms_DrawWithinTheirRanges_AtTheirProbability_AndRepeatUnderASeed()
    {
        var volume = Inputs.Value.Volume;
        float min = volume.Data.Min(), max = volume.Data.Max();
        ITransform[] transforms =
        [
            new RandomAdjustContrast(probability: 0.5, gammaMin: 0.8, gammaMax: 1.25), new RandomIntensityShift(0.5, probability: 0.5),
            new RandomBiasField(probability: 0.5), new RandomGaussianSmooth(probability: 0.5), new RandomRotate90(probability: 0.5),
            new RandomHistogramShift(3, 6, probability: 0.5), new RandomSimulateLowResolution(0.3, 0.6, probability: 0.5),
            new RandomRicianNoise(probability: 0.5), new RandomGibbsNoise(probability: 0.5, alphaMin: 0.2, alphaMax: 0.9), new RandomKSpaceSpikeNoise(probability: 0.5),
        ];
        foreach (var transform in transforms)
        {
            var random = new Random(11);
            int changed = 0;
            for (int i = 0; i < 400; i++)
            {
                var input = volume.Clone();
                var output = transform.Apply(input, random);
                if (!output.Shape.SequenceEqual(volume.Shape) || !output.Data.SequenceEqual(volume.Data)) changed++;
            }
            changed.Should().BeInRange(160, 240, $"{transform.GetType().Name} applies with probability 0.5 (400 draws)");
            var again = transform.Apply(volume.Clone(), new Random(5));
            transform.Apply(volume.Clone(), new Random(5)).Data.Should().Equal(again.Data, $"{transform.GetType().Name} repeats under a seed");
        }

        // Gamma from [0.8, 1.25] keeps the range; a shift of at most 0.5 moves every value by one offset.
        var contrast = new RandomAdjustContrast(probability: 1, gammaMin: 0.8, gammaMax: 1.25).Apply(volume.Clone(), new Random(1));
        contrast.Data.Min().Should().BeApproximately(min, 1e-3f);
        contrast.Data.Max().Should().BeApproximately(max, 1e-3f);
        var shifted = new RandomIntensityShift(0.5, probability: 1).Apply(volume.Clone(), new Random(2));
        var offsets = shifted.Data.Zip(volume.Data, (a, b) => a - b).ToArray();
        offsets.Should().OnlyContain(o => Math.Abs(o - offsets[0]) < 1e-4 && Math.Abs(o) <= 0.5 + 1e-4);
        var perChannel = new RandomIntensityShift(0.5, probability: 1, channelWise: true).Apply(volume.Clone(), new Random(2));
        int plane = volume.PlaneSize;
        var first = perChannel.Data[0] - volume.Data[0];
        var second = perChannel.Data[plane] - volume.Data[plane];
        first.Should().NotBeApproximately(second, 1e-6f, "each channel has its own offset");
        // A bias field of coefficients up to 0.1 over 20 terms scales by exp(±2) at most; one field for all channels.
        var biased = new RandomBiasField(probability: 1).Apply(volume.Clone(), new Random(3));
        var ratios = biased.Data.Zip(volume.Data, (a, b) => (double)a / b).ToArray();
        ratios.Should().OnlyContain(r => r > Math.Exp(-2.01) && r < Math.Exp(2.01));
        for (int i = 0; i < plane; i++) ratios[i].Should().BeApproximately(ratios[plane + i], 1e-4);
        // Quarter turns of a 6 × 7 plane swap H and W for odd k.
        var turned = new RandomRotate90(probability: 1, maxTurns: 1).Apply(volume.Clone(), new Random(4));
        turned.Shape.Should().Equal(2, 5, 7, 6);
    }

    [Fact]
    public void BadArguments_AreRefused_NamingThem()
    {
        FluentActions.Invoking(() => new RandomAdjustContrast(gammaMin: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("gammaMin");
        FluentActions.Invoking(() => new RandomAdjustContrast(gammaMin: 2, gammaMax: 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("gammaMax");
        FluentActions.Invoking(() => new RandomAdjustContrast(probability: 1.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("probability");
        FluentActions.Invoking(() => new RandomIntensityShift(double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("offset");
        FluentActions.Invoking(() => new RandomBiasField(degree: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("degree");
        FluentActions.Invoking(() => new RandomBiasField(coefficientMin: 0.2, coefficientMax: 0.1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("coefficientMax");
        // 165 terms of degree 8 in 3-D: 0.93 each would reach e^153 at a corner (found by the transform fuzzer as infinities).
        FluentActions.Invoking(() => new RandomBiasField(degree: 8, coefficientMin: 0.91, coefficientMax: 0.93)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("coefficientMax").WithMessage("*degree 8 sums up to 165 terms*e^15*at or below 0.242*");
        FluentActions.Invoking(() => new RandomBiasField(degree: 3, coefficientMin: -2.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("coefficientMin");
        new RandomBiasField(degree: 3, coefficientMin: -2, coefficientMax: 2).Degree.Should().Be(3, "20 terms × 2 = 40 is the limit itself");
        FluentActions.Invoking(() => new RandomGaussianSmooth(sigmaMin: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sigmaMin");
        FluentActions.Invoking(() => new RandomGaussianSmooth(sigmaMax: double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sigmaMax");
        FluentActions.Invoking(() => new RandomRotate90(maxTurns: 4)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxTurns");
        FluentActions.Invoking(() => new RandomRotate90(probability: double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("probability");
        FluentActions.Invoking(() => new RandomHistogramShift(controlPointsMin: 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("controlPointsMin");
        FluentActions.Invoking(() => new RandomHistogramShift(controlPointsMin: 5, controlPointsMax: 4)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("controlPointsMax");
        FluentActions.Invoking(() => new RandomHistogramShift(probability: -0.1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("probability");
        FluentActions.Invoking(() => new RandomSimulateLowResolution(zoomMin: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("zoomMin");
        FluentActions.Invoking(() => new RandomSimulateLowResolution(zoomMin: 0.5, zoomMax: 1.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("zoomMax");
        FluentActions.Invoking(() => new RandomSimulateLowResolution(zoomMin: 0.8, zoomMax: 0.7)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("zoomMax");
        FluentActions.Invoking(() => new RandomRicianNoise(std: -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("std");
        FluentActions.Invoking(() => new RandomRicianNoise(mean: double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("mean");
        FluentActions.Invoking(() => new RandomKSpaceSpikeNoise(intensityRange: (12, 11))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("intensityRange");
        FluentActions.Invoking(() => new RandomKSpaceSpikeNoise(intensityRange: (1, 200))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("intensityRange");
        FluentActions.Invoking(() => new RandomGibbsNoise(alphaMin: -0.1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("alphaMin");
        FluentActions.Invoking(() => new RandomGibbsNoise(alphaMax: 1.1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("alphaMax");
        FluentActions.Invoking(() => new RandomRotate90(fromAxis: SpatialAxis.Width, towardsAxis: SpatialAxis.Width)).Should().Throw<ArgumentException>().WithParameterName("towardsAxis");
        FluentActions.Invoking(() => new RandomRotate90(fromAxis: (SpatialAxis)7)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("fromAxis");
        FluentActions.Invoking(() => new RandomRotate90(towardsAxis: (SpatialAxis)(-1))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("towardsAxis");
    }

    [Fact]
    public void ThePipelineBuilder_AddsThemInOrder()
    {
        var pipeline = TransformPipeline.Create().RandomAdjustContrast().RandomIntensityShift(0.1).RandomBiasField().RandomGaussianSmooth().RandomRotate90()
            .RandomHistogramShift().RandomSimulateLowResolution().RandomRicianNoise().RandomGibbsNoise().RandomKSpaceSpikeNoise().Build();
        pipeline.Steps.Select(t => t.GetType()).Should().Equal(
            typeof(RandomAdjustContrast), typeof(RandomIntensityShift), typeof(RandomBiasField), typeof(RandomGaussianSmooth), typeof(RandomRotate90),
            typeof(RandomHistogramShift), typeof(RandomSimulateLowResolution), typeof(RandomRicianNoise), typeof(RandomGibbsNoise), typeof(RandomKSpaceSpikeNoise));
        var output = pipeline.Apply(Inputs.Value.Volume.Clone(), new Random(0));
        output.Data.Should().OnlyContain(v => float.IsFinite(v));
    }
}
