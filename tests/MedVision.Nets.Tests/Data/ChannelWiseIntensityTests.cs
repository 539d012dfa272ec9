using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// Scaling each channel to [0, 1] by its own minimum and maximum or percentiles (MONAI's <c>channel_wise=True</c>) —
/// for modalities of different ranges — in the transform, the volume source, model cards (format 6) and the predictor.
/// </summary>
public sealed class ChannelWiseIntensityTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mvn-channelwise-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // A T1-like channel (values 100–150 and one very bright voxel) and a PET-like one (values 0–5).
    private static (float[] T1, float[] Pet) Modalities(int seed)
    {
        var random = new Random(seed);
        var t1 = Enumerable.Range(0, 216).Select(_ => (float)(100 + (random.NextDouble() * 50))).ToArray();
        t1[11] = 5000;
        var pet = Enumerable.Range(0, 216).Select(_ => (float)(random.NextDouble() * 5)).ToArray();
        return (t1, pet);
    }

    private static float[] Channel(FloatImage image, int c) => image.Data.AsSpan(c * image.PlaneSize, image.PlaneSize).ToArray();

    [Fact]
    public void ScaleIntensity_ChannelWise_ScalesEachChannelAsAnImageOfItsOwn()
    {
        var (t1, pet) = Modalities(1);
        FloatImage Both() => new([.. t1, .. pet], 2, 6, 6, 6);
        FloatImage One(float[] values) => new((float[])values.Clone(), 1, 6, 6, 6);
        foreach (var (channelWise, alone) in new (ScaleIntensity, ScaleIntensity)[]
                 {
                     (new ScaleIntensity(channelWise: true), new ScaleIntensity()),
                     (ScaleIntensity.FromPercentiles(1, 99, channelWise: true), ScaleIntensity.FromPercentiles(1, 99)),
                 })
        {
            channelWise.ChannelWise.Should().BeTrue();
            alone.ChannelWise.Should().BeFalse();
            var scaled = channelWise.Apply(Both(), new Random(0));
            Channel(scaled, 0).Should().Equal(alone.Apply(One(t1), new Random(0)).Data);
            Channel(scaled, 1).Should().Equal(alone.Apply(One(pet), new Random(0)).Data);
            Channel(scaled, 1).Max().Should().Be(1, "the PET channel reaches 1 by its own range");
            var joint = alone.Apply(Both(), new Random(0));
            Channel(joint, 1).Max().Should().BeLessThan(0.05f, "over both channels the PET values stay near 0");
        }
        // A window maps every channel alike; the pipeline steps pass the flag on.
        var pipeline = TransformPipeline.Create().ScaleIntensity(channelWise: true).ScaleIntensityPercentiles(2, 98, channelWise: true).Build();
        pipeline.Steps.OfType<ScaleIntensity>().Should().OnlyContain(s => s.ChannelWise);
        new ScaleIntensity(40, 400).ChannelWise.Should().BeFalse();
    }

    [Fact]
    public void VolumeSources_ScaledChannelWise_AreRecordedInFormat6_AndPredictedAlike()
    {
        for (int i = 0; i < 2; i++)
        {
            var (t1, pet) = Modalities(10 + i);
            var subject = Directory.CreateDirectory(Path.Combine(_root, i == 0 ? "AD" : "CN", $"sub-0{i}")).FullName;
            NiftiWriter.Write(Path.Combine(subject, "t1.nii.gz"), new NiftiImage(t1, [6, 6, 6]));
            NiftiWriter.Write(Path.Combine(subject, "pet.nii.gz"), new NiftiImage(pet, [6, 6, 6]));
        }
        var source = VolumeFolderSource.Builder(_root).WithModalities("t1", "pet").ScaleIntensityByPercentiles(1, 99).ScaleIntensityChannelWise().CropOrPadTo(6, 6, 6).Build();
        source.ChannelWiseIntensity.Should().BeTrue();
        VolumeFolderSource.FromSubfolders(_root, 6, 6, 6, modalities: ["t1", "pet"], fit: VolumeFit.CropOrPad, intensityPercentiles: (1, 99), channelWiseIntensity: true)
            .Load(1).Image.Data.Should().Equal(source.Load(1).Image.Data, "the builder and FromSubfolders prepare alike");
        for (int i = 0; i < 2; i++)
        {
            var image = source.Load(i).Image;
            image.Shape.Should().Equal(2, 6, 6, 6);
            for (int c = 0; c < 2; c++)
            {
                // The source's channel is the file reoriented to RAS and scaled by its own percentiles (crop-or-pad to its own size changes nothing).
                var file = NiftiReader.Read(Path.Combine(source.Samples[i].Path, c == 0 ? "t1.nii.gz" : "pet.nii.gz")).Reorient("RAS").ToFloatImage();
                Channel(image, c).Should().Equal(ScaleIntensity.FromPercentiles(1, 99).Apply(file, new Random(0)).Data, (a, e) => Math.Abs(a - e) < 1e-6f);
            }
        }
        var minMax = VolumeFolderSource.Builder(_root).WithModalities("t1", "pet").ScaleIntensityChannelWise().CropOrPadTo(6, 6, 6).Build().Load(0).Image;
        for (int c = 0; c < 2; c++)
        {
            Channel(minMax, c).Min().Should().Be(0);
            Channel(minMax, c).Max().Should().Be(1);
        }
        Channel(VolumeFolderSource.Builder(_root).WithModalities("t1", "pet").CropOrPadTo(6, 6, 6).Build().Load(0).Image, 1).Max()
            .Should().BeLessThan(0.01f, "scaled over both channels, the PET stays near 0 under the T1's bright voxel");

        Tensors.ManualSeed(3);
        using var model = ResNet.Builder().WithDepth(10).WithWidths(2, 2, 4, 4).ForInput(2, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build();
        var preprocessing = source.DescribePreprocessing([0.5f], [0.25f]);
        preprocessing.IntensityChannelWise.Should().BeTrue();
        var card = ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary);
        card.FormatVersion.Should().Be(6, "a format-5 reader would scale over all channels");
        var path = Path.Combine(_root, "model.safetensors");
        ModelFile.Save(path, model, card);
        using var predictor = Predictor.Load(path);
        predictor.Card.Preprocessing.IntensityChannelWise.Should().BeTrue();
        model.Eval();
        var normalize = new Normalize([0.5f], [0.25f]);
        for (int i = 0; i < source.Count; i++)
        {
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            var image = normalize.Apply(source.Load(i).Image, new Random(0));
            var expected = model.Call(Tensors.FromArray(image.Data, 1, 2, 6, 6, 6)).Softmax(1).ToArray<float>();
            predictor.PredictFile(source.Samples[i].Path).Probabilities.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-6);
        }

        // Cards: channel-wise scaling is for volumes, and not with a window.
        preprocessing.IntensityPercentiles = null;
        preprocessing.IntensityWindow = [40, 400];
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_root, "bad.safetensors"), model, ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary)))
            .Should().Throw<ModelFormatException>().WithMessage("*intensity_channel_wise applies to 3-D models*not through an intensity window*");
        File.Exists(Path.Combine(_root, "bad.safetensors")).Should().BeFalse();
    }

    [Fact]
    public void ChannelWiseScaling_WithAWindow_IsRefused_InEitherOrder()
    {
        Directory.CreateDirectory(Path.Combine(_root, "a"));
        FluentActions.Invoking(() => VolumeFolderSource.FromSubfolders(_root, 6, 6, 6, window: (40, 400), channelWiseIntensity: true))
            .Should().Throw<ArgumentException>().WithParameterName("channelWiseIntensity").WithMessage("*window maps every channel alike*");
        VolumeFolderSource.Builder(_root).ScaleIntensityByWindow(40, 400).Invoking(b => b.ScaleIntensityChannelWise())
            .Should().Throw<InvalidOperationException>().WithMessage("*through a window*");
        VolumeFolderSource.Builder(_root).ScaleIntensityChannelWise().Invoking(b => b.ScaleIntensityByWindow(40, 400))
            .Should().Throw<InvalidOperationException>().WithMessage("*channel by channel*");
    }
}
