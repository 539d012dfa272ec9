using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Transforms;

public class TransformTests
{
    private static FloatImage Ramp(params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        return new FloatImage(Enumerable.Range(0, n).Select(i => i / (float)n).ToArray(), shape);
    }

    [Fact]
    public void FromBytesHwc_ScalesToUnitAndMovesChannelsFirst()
    {
        var img = FloatImage.FromBytesHwc(new byte[] { 0, 255, 51, 102, 204, 153 }, 1, 2, 3);
        img.Shape.Should().Equal(3, 1, 2);
        img.Data.Should().Equal(0f, 102 / 255f, 1f, 204 / 255f, 51 / 255f, 153 / 255f);
    }

    [Fact]
    public void Normalize_MapsUnitIntervalToMinusOneOne()
    {
        var img = new FloatImage(new[] { 0f, 0.5f, 1f }, 1, 1, 3);
        new Normalize(new[] { 0.5f }, new[] { 0.5f }).Apply(img, new Random(0)).Data.Should().Equal(-1f, 0f, 1f);
        FluentActions.Invoking(() => new Normalize(new[] { 0.5f }, new[] { 0f })).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Theory]
    [InlineData(SpatialAxis.Width)]
    [InlineData(SpatialAxis.Height)]
    [InlineData(SpatialAxis.Depth)]
    public void Flip_MatchesTensorFlip(SpatialAxis axis)
    {
        using var scope = Tensors.NewDisposeScope();
        var img = Ramp(2, 3, 4, 5);
        var flipped = new RandomFlip(axis, 1.0).Apply(img.Clone(), new Random(0));
        var dim = axis switch { SpatialAxis.Width => 3L, SpatialAxis.Height => 2L, _ => 1L };
        var expected = Tensors.FromArray(img.Data, 2, 3, 4, 5).Flip(dim).ToArray<float>();
        flipped.Data.Should().Equal(expected);
        new RandomFlip(axis, 0.0).Apply(img.Clone(), new Random(0)).Data.Should().Equal(img.Data);
    }

    [Theory]
    [InlineData(ResizeMode.Nearest, 28, 28, 56, 56)]
    [InlineData(ResizeMode.Nearest, 28, 28, 224, 224)]
    [InlineData(ResizeMode.Linear, 28, 28, 64, 48)]
    [InlineData(ResizeMode.Linear, 30, 20, 12, 9)]
    public void Resize2d_MatchesLibtorchInterpolate(ResizeMode mode, int h, int w, int oh, int ow)
    {
        using var scope = Tensors.NewDisposeScope();
        var img = Ramp(3, h, w);
        var resized = new Resize(oh, ow, mode).Apply(img.Clone(), new Random(0));
        var reference = Functional.Interpolate(Tensors.FromArray(img.Data, 1, 3, h, w), new long[] { oh, ow },
            mode == ResizeMode.Nearest ? InterpolationMode.Nearest : InterpolationMode.Linear).ToArray<float>();
        resized.Shape.Should().Equal(3, oh, ow);
        for (int i = 0; i < reference.Length; i++) resized.Data[i].Should().BeApproximately(reference[i], 1e-5f);
    }

    [Fact]
    public void Resize3d_MatchesLibtorchTrilinear()
    {
        using var scope = Tensors.NewDisposeScope();
        var img = Ramp(1, 8, 10, 12);
        var resized = new Resize(16, 5, 7, ResizeMode.Linear).Apply(img.Clone(), new Random(0));
        var reference = Functional.Interpolate(Tensors.FromArray(img.Data, 1, 1, 8, 10, 12), new long[] { 16, 5, 7 }, InterpolationMode.Linear).ToArray<float>();
        for (int i = 0; i < reference.Length; i++) resized.Data[i].Should().BeApproximately(reference[i], 1e-5f);
    }

    [Fact]
    public void CenterCrop_TakesTheMiddle()
    {
        var img = Ramp(1, 4, 4);
        var crop = new Crop(2, 2, random: false).Apply(img, new Random(0));
        crop.Data.Should().Equal(img.Data[5], img.Data[6], img.Data[9], img.Data[10]);
    }

    [Fact]
    public void Rotation_KeepsCentreAndIsSeeded()
    {
        var img = Ramp(1, 9, 9);
        var a = new RandomRotation(30).Apply(img.Clone(), new Random(5));
        var b = new RandomRotation(30).Apply(img.Clone(), new Random(5));
        a.Data.Should().Equal(b.Data);
        a.Data[4 * 9 + 4].Should().BeApproximately(img.Data[4 * 9 + 4], 1e-6f);
        a.Data.Should().NotEqual(img.Data);
    }

    [Fact]
    public void Pipeline_IsDeterministicPerSeedEpochAndIndex()
    {
        var pipeline = TransformPipeline.Create().RandomHorizontalFlip().RandomRotation(15).ColorJitter(0.2, 0.2, 0.2).Normalize(0.5f, 0.5f).Build();
        FloatImage Run(int epoch) => pipeline.Apply(Ramp(3, 8, 8), new Random(TransformPipeline.SampleSeed(1, epoch, 7)));
        Run(0).Data.Should().Equal(Run(0).Data);
        Run(0).Data.Should().NotEqual(Run(1).Data);
        TransformPipeline.SampleSeed(1, 2, 3).Should().Be(TransformPipeline.SampleSeed(1, 2, 3)).And.NotBe(TransformPipeline.SampleSeed(1, 2, 4));
    }

    [Fact]
    public void ColorJitter_StaysInUnitRangeAndChangesTheImage()
    {
        var img = Ramp(3, 4, 4);
        var jittered = new ColorJitter(0.5, 0.5, 0.5).Apply(img.Clone(), new Random(1));
        jittered.Data.Should().OnlyContain(v => v >= 0f && v <= 1f);
        jittered.Data.Should().NotEqual(img.Data);
    }
}

public class ScaleIntensityTests
{
    [Fact]
    public void OwnMinimumAndMaximum_MapToZeroAndOne()
    {
        var img = new FloatImage(new[] { -200f, 0f, 300f, 800f }, 1, 1, 1, 4);
        new ScaleIntensity().Apply(img, new Random(0)).Data.Should().Equal(0f, 0.2f, 0.5f, 1f);
    }

    [Fact]
    public void Window_MapsItsEdgesToZeroAndOne_AndClampsOutside()
    {
        // CT soft-tissue window: centre 40, width 400 → [−160, 240].
        var img = new FloatImage(new[] { -1000f, -160f, 40f, 240f, 3000f }, 1, 1, 5);
        var scaled = new TransformPipelineBuilder().ScaleIntensity(40, 400).Build().Apply(img, new Random(0));
        scaled.Data.Should().Equal(0f, 0f, 0.5f, 1f, 1f);
    }

    [Fact]
    public void MinMaxScaling_LeavesNaNAndInfinitiesOutOfTheRange()
    {
        // One infinite voxel must not squeeze the others to 0: the range is that of the finite values, ±∞ clamp.
        var img = new FloatImage(new[] { 0f, 1f, 2f, float.PositiveInfinity, float.NaN, float.NegativeInfinity }, 1, 1, 6);
        var scaled = new ScaleIntensity().Apply(img, new Random(0)).Data;
        scaled.Take(4).Should().Equal(0f, 0.5f, 1f, 1f);
        float.IsNaN(scaled[4]).Should().BeTrue();
        scaled[5].Should().Be(0f);
        var contrast = RandomAdjustContrast.Adjust(new FloatImage(new[] { 0f, 1f, 2f, float.PositiveInfinity, float.NegativeInfinity }, 1, 1, 5), 2);
        contrast.Data.Take(3).Should().Equal([0f, 0.5f, 2f], (a, e) => Math.Abs(a - e) < 1e-6f, "γ 2 over the finite range [0, 2] (MONAI's 1e-7 in the scale)");
        contrast.Data.Skip(3).Should().Equal(float.PositiveInfinity, float.NegativeInfinity);
    }

    [Fact]
    public void ConstantImage_MapsToZero_NotNaN()
    {
        var img = new FloatImage(new[] { 7f, 7f, 7f }, 1, 1, 3);
        new ScaleIntensity().Apply(img, new Random(0)).Data.Should().Equal(0f, 0f, 0f);
    }

    [Theory]
    [InlineData(40, 0)]
    [InlineData(40, -10)]
    [InlineData(40, double.NaN)]
    [InlineData(40, double.PositiveInfinity)]
    [InlineData(double.NaN, 400)]
    public void BadWindow_IsRefusedByName(double center, double width)
    {
        FluentActions.Invoking(() => new ScaleIntensity(center, width)).Should().Throw<ArgumentOutOfRangeException>()
            .Which.ParamName.Should().Be(double.IsFinite(center) ? "width" : "center");
    }

    [Fact]
    public void NiftiVolume_BecomesOneChannelDepthHeightWidth_AsACopyOrSharingTheVoxels()
    {
        // x-fastest voxels of a 3 (X) × 2 (Y) × 2 (Z) volume: value = x + 10 y + 100 z.
        var voxels = new float[12];
        for (int z = 0; z < 2; z++) for (int y = 0; y < 2; y++) for (int x = 0; x < 3; x++) voxels[x + 3 * (y + 2 * z)] = x + 10 * y + 100 * z;
        var volume = new MedVision.Nets.Data.Nifti.NiftiImage(voxels, new[] { 3, 2, 2 });
        var image = volume.ToFloatImage();
        image.Shape.Should().Equal(1, 2, 2, 3);
        // (c, d, h, w) = (0, z, y, x) in C order.
        image.Data[(1 * 2 + 1) * 3 + 2].Should().Be(volume[2, 1, 1]).And.Be(112f);
        image.Data[(1 * 2 + 0) * 3 + 1].Should().Be(101f);
        new ScaleIntensity().Apply(image, new Random(0));
        volume.Voxels.Max().Should().Be(112f, "the image holds a copy of the voxels");

        var shared = volume.AsFloatImage();
        shared.Shape.Should().Equal(1, 2, 2, 3);
        shared.Data.Should().BeSameAs(volume.Voxels, "AsFloatImage shares the voxel array");
        shared.Data[(1 * 2 + 1) * 3 + 2].Should().Be(112f);
        new ScaleIntensity().Apply(shared, new Random(0));
        volume[2, 1, 1].Should().Be(1f, "scaling the shared image in place scales the volume");
    }
}

/// <summary>
/// Arguments that would silently produce NaN, infinity or a wrongly sized image are refused when the transform is
/// built. Found by the transform fuzzer (tests/FormatFuzzer transforms), which applies random pipelines to random images.
/// </summary>
public class TransformArgumentTests
{
    public static IEnumerable<object[]> NonFinite() => new[]
    {
        new object[] { "Normalize mean NaN", (Action)(() => _ = new Normalize(new[] { float.NaN }, new[] { 0.5f })), "mean" },
        new object[] { "Normalize std infinite", (Action)(() => _ = new Normalize(new[] { 0.5f }, new[] { float.PositiveInfinity })), "std" },
        new object[] { "RandomRotation degrees infinite", (Action)(() => _ = new RandomRotation(double.PositiveInfinity)), "degrees" },
        new object[] { "RandomRotation fill -infinity", (Action)(() => _ = new RandomRotation(10, float.NegativeInfinity)), "fill" },
        new object[] { "ColorJitter contrast NaN", (Action)(() => _ = new ColorJitter(0.1, double.NaN, 0)), "contrast" },
        new object[] { "ColorJitter saturation -1", (Action)(() => _ = new ColorJitter(0, 0, -1)), "saturation" },
        new object[] { "RandomIntensityScale probability NaN", (Action)(() => _ = new RandomIntensityScale(0.1, double.NaN)), "probability" },
        new object[] { "RandomIntensityScale strength infinite", (Action)(() => _ = new RandomIntensityScale(double.PositiveInfinity)), "strength" },
        new object[] { "RandomFlip undefined axis", (Action)(() => _ = new RandomFlip((SpatialAxis)9)), "axis" },
        new object[] { "Resize undefined mode", (Action)(() => _ = new Resize(4, 4, (ResizeMode)9)), "mode" },
        new object[] { "Resize zero width", (Action)(() => _ = new Resize(4, 0)), "width" },
        new object[] { "Crop zero width", (Action)(() => _ = new Crop(4, 0, random: true)), "width" },
    };

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void BadArguments_AreRefusedNamingTheParameter(string name, Action create, string parameter)
    {
        create.Should().Throw<ArgumentOutOfRangeException>(name).Which.ParamName.Should().Be(parameter);
    }

    [Fact]
    public void AResizeTooLargeForAnArray_IsRefusedByName_InsteadOfOverflowingIntoAWrongSize()
    {
        // 3 × 5 × 2,147,483,647 values: the int product wrapped to a negative or small size before.
        var image = new FloatImage(new float[3 * 2 * 11], 3, 2, 11);
        var act = () => new Resize(5, int.MaxValue).Apply(image, new Random(0));
        act.Should().Throw<ArgumentException>().WithMessage("Resize: an image of shape [3, 1, 5, 2147483647] would hold more values than an array can*");
    }

    [Fact]
    public void ARandomCropWithHugePadding_CropsZeros_InsteadOfOverflowing()
    {
        var image = new FloatImage(Enumerable.Range(1, 4).Select(i => (float)i).ToArray(), 1, 2, 2);
        var crop = new Crop(2, 2, random: true, padding: int.MaxValue).Apply(image, new Random(0));
        crop.Shape.Should().Equal(1, 2, 2);
        crop.Data.Should().OnlyContain(v => v == 0, "a 2×2 window in ~2^32 of zero padding misses the 2×2 image");
    }

    [Fact]
    public void ARandomCropWithSmallPadding_DrawsItsPositionAsBefore()
    {
        // Seeded pipelines must reproduce: the position comes from Random.Next(range) as it always did.
        var image = new FloatImage(Enumerable.Range(0, 36).Select(i => (float)i).ToArray(), 1, 6, 6);
        var crop = new Crop(3, 3, random: true, padding: 2).Apply(image, new Random(3));
        crop.Shape.Should().Equal(1, 3, 3);
        var expected = new Random(3);
        int t = expected.Next(8), l = expected.Next(8); // (6 + 2·2 − 3 + 1) positions each way
        float At(int y, int x) => y - 2 is >= 0 and < 6 && x - 2 is >= 0 and < 6 ? (y - 2) * 6 + (x - 2) : 0;
        crop.Data.Should().Equal(Enumerable.Range(0, 9).Select(i => At(t + i / 3, l + i % 3)));
    }
}

public class NormalizeIntensityTests
{
    [Fact]
    public void OverTheWholeImage_GivesMeanZeroAndPopulationStandardDeviationOne()
    {
        // [1, 2, 3, 4]: mean 2.5, population sd √1.25.
        var image = new FloatImage(new[] { 1f, 2f, 3f, 4f }, 1, 2, 2);
        new NormalizeIntensity().Apply(image, new Random(0)).Data.Should().Equal(
            new[] { -1.5f, -0.5f, 0.5f, 1.5f }.Select(v => (float)(v / Math.Sqrt(1.25))), (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void OverNonZeroVoxels_LeavesTheBackgroundAtZero()
    {
        // A volume (1, 1, 2, 3) with background 0: the statistics of [2, 4, 6] only (mean 4, sd √(8/3)).
        var volume = new FloatImage(new[] { 0f, 2f, 0f, 4f, 0f, 6f }, 1, 1, 2, 3);
        var sd = (float)Math.Sqrt(8.0 / 3);
        new NormalizeIntensity(nonZero: true).Apply(volume, new Random(0)).Data.Should().Equal(
            new[] { 0f, -2f / sd, 0f, 0f, 0f, 2f / sd }, (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void ChannelWise_UsesEachChannelsStatistics_AndOnlyCentresAConstantChannel()
    {
        var image = new FloatImage(new[] { 10f, 30f, 5f, 5f }, 2, 1, 2);
        var pipeline = TransformPipeline.Create().NormalizeIntensity(channelWise: true).Build();
        pipeline.Apply(image, new Random(0)).Data.Should().Equal(-1f, 1f, 0f, 0f);
        // All channels together: mean 12.5, sd √(106.25).
        var together = new NormalizeIntensity().Apply(new FloatImage(new[] { 10f, 30f, 5f, 5f }, 2, 1, 2), new Random(0)).Data;
        together[1].Should().BeApproximately((float)(17.5 / Math.Sqrt(106.25)), 1e-6f);
        // Nothing non-zero: unchanged. A NaN: refused by name.
        new NormalizeIntensity(nonZero: true).Apply(new FloatImage(new float[4], 1, 2, 2), new Random(0)).Data.Should().OnlyContain(v => v == 0);
        var nan = () => new NormalizeIntensity().Apply(new FloatImage(new[] { 1f, float.NaN }, 1, 1, 2), new Random(0));
        nan.Should().Throw<ArgumentException>().WithMessage("*NaN*");
    }
}

public class CropForegroundTests
{
    [Fact]
    public void AVolume_IsCroppedToTheBoxOfItsValuesAboveTheThreshold_InEveryChannel()
    {
        // (2, 4, 5, 6): channel 0 has foreground at (1, 1, 2) and (2, 3, 3); channel 1 at (1, 2, 4). The box is the union:
        // D 1–2, H 1–3, W 2–4 (inclusive), so the crop is (2, 2, 3, 3) and keeps the values at their places.
        var data = new float[2 * 4 * 5 * 6];
        int At(int c, int z, int y, int x) => ((c * 4 + z) * 5 + y) * 6 + x;
        data[At(0, 1, 1, 2)] = 5;
        data[At(0, 2, 3, 3)] = 7;
        data[At(1, 1, 2, 4)] = 9;
        data[At(1, 0, 0, 0)] = -3;   // at or below the threshold: background
        var volume = new FloatImage(data, 2, 4, 5, 6);
        var transform = new CropForeground();
        transform.FindBox(volume)!.Value.Start.Should().Equal(1, 1, 2);
        transform.FindBox(volume)!.Value.End.Should().Equal(3, 4, 5);
        var cropped = transform.Apply(volume, new Random(0));
        cropped.Shape.Should().Equal(2, 2, 3, 3);
        int Cropped(int c, int z, int y, int x) => ((c * 2 + z) * 3 + y) * 3 + x;
        cropped.Data[Cropped(0, 0, 0, 0)].Should().Be(5);
        cropped.Data[Cropped(0, 1, 2, 1)].Should().Be(7);
        cropped.Data[Cropped(1, 0, 1, 2)].Should().Be(9);
        cropped.Data.Count(v => v != 0).Should().Be(3);

        // A margin widens the box on every side, clipped at the borders: D 0–3, H 0–4, W 0–5 with margin 2 → the whole
        // volume's D and H, W 0–5 (6 wide: the whole width), so the image comes back as it is.
        new CropForeground(margin: 2).Apply(volume, new Random(0)).Should().BeSameAs(volume);
        var one = new CropForeground(margin: 1).Apply(volume, new Random(0));
        one.Shape.Should().Equal(2, 4, 5, 5);   // D 0–3, H 0–4, W 1–5
        // A higher threshold keeps only the 9.
        new CropForeground(threshold: 8).Apply(volume, new Random(0)).Data.Should().Equal(0f, 9f);
    }

    [Fact]
    public void A2DImage_IsCroppedInHeightAndWidth_AndAnImageWithoutForegroundIsKept()
    {
        // (1, 3, 4) with CT-like values: the body (> −500) in rows 1–2, columns 1–2.
        var image = new FloatImage(new[] { -1000f, -1000, -1000, -1000, -1000, 40, -200, -1000, -1000, 60, 30, -1000 }, 1, 3, 4);
        var cropped = TransformPipeline.Create().CropForeground(threshold: -500).Build().Apply(image, new Random(0));
        cropped.Shape.Should().Equal(1, 2, 2);
        cropped.Data.Should().Equal(40f, -200f, 60f, 30f);
        new CropForeground(-500).FindBox(image)!.Value.Start.Should().Equal(0, 1, 1);
        var air = new FloatImage(Enumerable.Repeat(-1000f, 12).ToArray(), 1, 3, 4);
        new CropForeground(-500).FindBox(air).Should().BeNull();
        new CropForeground(-500).Apply(air, new Random(0)).Should().BeSameAs(air);
        // NaN is not above any threshold.
        new CropForeground().FindBox(new FloatImage(new[] { float.NaN, 0f }, 1, 1, 2)).Should().BeNull();

        var nan = () => new CropForeground(float.NaN);
        nan.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*finite*");
        var negative = () => new CropForeground(0, -1);
        negative.Should().Throw<ArgumentOutOfRangeException>();
    }
}

public class VolumeAugmentationTests
{
    private static FloatImage Ramp(params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        return new FloatImage(Enumerable.Range(0, n).Select(i => (float)i).ToArray(), shape);
    }

    [Fact]
    public void VolumeCrops_TakeTheCentreOrASeededPosition_AndRefuseTheOtherRank()
    {
        // (1, 4, 5, 6) holding its own indices: the centre 2×3×2 starts at (1, 1, 2).
        var volume = Ramp(1, 4, 5, 6);
        var centre = TransformPipeline.Create().CenterVolumeCrop(2, 3, 2).Build().Apply(volume, new Random(0));
        centre.Shape.Should().Equal(1, 2, 3, 2);
        centre.Data.Should().Equal(new[] { 38f, 39, 44, 45, 50, 51, 68, 69, 74, 75, 80, 81 });

        // A random crop is a contiguous block of the volume, the same for the same seed, different for another.
        var crop = new Crop(2, 3, 2, random: true);
        var a = crop.Apply(volume, new Random(3));
        crop.Apply(volume, new Random(3)).Data.Should().Equal(a.Data);
        Enumerable.Range(0, 20).Select(seed => crop.Apply(volume, new Random(seed)).Data[0]).Distinct().Should().HaveCountGreaterThan(3);
        float first = a.Data[0];
        int z = (int)first / 30, y = (int)first % 30 / 6, x = (int)first % 6;
        a.Data.Should().Equal(from dz in Enumerable.Range(0, 2) from dy in Enumerable.Range(0, 3) from dx in Enumerable.Range(0, 2)
                              select (float)((z + dz) * 30 + (y + dy) * 6 + x + dx));

        // With padding, the crop may reach into zeros on every axis, the depth included; a crop of the padded size keeps
        // the volume in its middle.
        var padded = TransformPipeline.Create().RandomVolumeCrop(6, 7, 8, padding: 1).Build().Apply(volume, new Random(0));
        padded.Shape.Should().Equal(1, 6, 7, 8);
        padded.Data.Count(v => v != 0).Should().Be(4 * 5 * 6 - 1, "the whole volume (whose first value is 0) inside a zero border");

        var flat = () => new Crop(2, 2, random: false).Apply(volume, new Random(0));
        flat.Should().Throw<ArgumentException>().WithMessage("*works on 2-D images*give a volume a (depth, height, width) crop*");
        var deep = () => new Crop(2, 2, 2, random: false).Apply(Ramp(1, 4, 4), new Random(0));
        deep.Should().Throw<ArgumentException>().WithMessage("*crop works on volumes*");
        var large = () => new Crop(5, 2, 2, random: false).Apply(volume, new Random(0));
        large.Should().Throw<ArgumentException>().WithMessage("Cannot crop 5×2×2 from a 4×5×6 volume.");
    }

    [Fact]
    public void RotatingAVolume_RotatesEverySliceAsA2DImageByTheSameAngle()
    {
        var volume = Ramp(2, 3, 7, 7);
        var rotated = new RandomRotation(40).Apply(volume.Clone(), new Random(11));
        rotated.Shape.Should().Equal(2, 3, 7, 7);
        rotated.Data.Should().NotEqual(volume.Data);
        for (int plane = 0; plane < 6; plane++)
        {
            var slice = new FloatImage(volume.Data.Skip(plane * 49).Take(49).ToArray(), 1, 7, 7);
            var expected = new RandomRotation(40).Apply(slice, new Random(11)).Data;
            rotated.Data.Skip(plane * 49).Take(49).Should().Equal(expected);
        }
    }

    [Fact]
    public void GaussianNoise_HasTheAskedMeanAndSd_IsSeeded_AndHonoursItsProbability()
    {
        var zeros = new FloatImage(new float[3 * 40 * 50 * 50], 3, 40, 50, 50);   // 300,000 values, an odd count of pairs covered
        var noisy = TransformPipeline.Create().RandomGaussianNoise(probability: 1, mean: 0.5, std: 0.2).Build().Apply(zeros, new Random(4));
        double mean = noisy.Data.Average(v => (double)v);
        double sd = Math.Sqrt(noisy.Data.Average(v => (v - mean) * (v - mean)));
        mean.Should().BeApproximately(0.5, 0.002);   // the standard error is 0.2 / √300,000 ≈ 0.0004
        sd.Should().BeApproximately(0.2, 0.002);
        noisy.Data.Count(v => Math.Abs(v - 0.5) > 0.4).Should().BeInRange(13_300, 14_000, "4.55% of 300,000 lie beyond 2 sd (13,650 ± 114)");

        var odd = new RandomGaussianNoise(1, 0, 1).Apply(new FloatImage(new float[3], 1, 1, 3), new Random(1));
        odd.Data.Should().OnlyContain(v => v != 0 && float.IsFinite(v));
        new RandomGaussianNoise(1, 0, 1).Apply(new FloatImage(new float[3], 1, 1, 3), new Random(1)).Data.Should().Equal(odd.Data);

        // The default probability is MONAI's 0.1: about one image in ten gets noise.
        var transform = new RandomGaussianNoise();
        int changed = Enumerable.Range(0, 2000).Count(seed => transform.Apply(new FloatImage(new float[4], 1, 2, 2), new Random(seed)).Data.Any(v => v != 0));
        changed.Should().BeInRange(150, 250);
        new RandomGaussianNoise(probability: 0).Apply(new FloatImage(new float[4], 1, 2, 2), new Random(0)).Data.Should().OnlyContain(v => v == 0);

        var badProbability = () => new RandomGaussianNoise(probability: 1.5);
        badProbability.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*probability*");
        var badStd = () => new RandomGaussianNoise(std: double.NaN);
        badStd.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*standard deviation*");
    }
}
