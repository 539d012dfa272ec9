using System.Text.Json;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Inference;

public sealed class SegmentationModelFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mv-segfile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly NiftiSegmentationOptions Preparation = new()
    {
        Orientation = "LPS",
        Spacing = [1f, 1f, 2f],
        Normalization = new NormalizeIntensity(nonZero: true, channelWise: true),
    };

    private static UNet Network() => UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithInstanceNorm().WithLeakyReLU(0.1).WithUpsampling(UNetUpsampling.Interpolation).WithClasses(2).Build();

    [Fact]
    public void SavedFile_RebuildsThePredictor_ThatSegmentsAsTheOriginal()
    {
        using var model = Network();
        var window = new SlidingWindowInferer([8, 8, 8], overlap: 0.25);
        var card = SegmentationModelFile.Describe(model, Preparation, ["background", "lesion"], window, ["MRI", "PET"], new Dictionary<string, double> { ["val_dice"] = 0.5 });
        var path = Path.Combine(_folder, "sub", "unet.safetensors");
        SegmentationModelFile.Save(path, model, card);
        Directory.GetFiles(Path.GetDirectoryName(path)!).Should().Equal(path);

        var read = SegmentationModelFile.ReadCard(path);
        read.Features.Should().Equal(4, 8);
        read.Normalization.Should().Be("instance");
        read.LeakySlope.Should().Be(0.1);
        read.Upsampling.Should().Be("interpolation");
        read.Orientation.Should().Be("LPS");
        read.Spacing.Should().Equal(1f, 1f, 2f);
        read.IntensityNormalization!.NonZero.Should().BeTrue();
        read.WindowSize.Should().Equal(8, 8, 8);
        read.Overlap.Should().Be(0.25);
        read.Modalities.Should().Equal("MRI", "PET");
        read.Metrics!["val_dice"].Should().Be(0.5);

        var subject = new PhantomGenerator(size: 16, seed: 2).Generate(1);
        NiftiImage[] scan = [new NiftiImage(subject.Mri, [16, 16, 16], [1f, 1f, 1.5f]), new NiftiImage(subject.Pet, [16, 16, 16], [1f, 1f, 1.5f])];
        var direct = new SegmentationPredictor(model, Preparation, window).Predict(scan);
        using var loaded = SegmentationPredictor.Load(path);
        loaded.ClassNames.Should().Equal("background", "lesion");
        loaded.Predict(scan).Voxels.Should().Equal(direct.Voxels, "the same network, preparation and window");
    }

    [Fact]
    public void Describe_RefusesWhatTheFileCouldNotReproduce()
    {
        using var model = Network();
        var window = new SlidingWindowInferer([8, 8, 8]);
        var act = () => SegmentationModelFile.Describe(model, Preparation, ["background"], window);
        act.Should().Throw<ArgumentException>().WithMessage("*2 outputs but 1 class names*");
        act = () => SegmentationModelFile.Describe(model, Preparation, ["a", "b"], new SlidingWindowInferer([8, 8, 7]));
        act.Should().Throw<ArgumentException>().WithMessage("*multiple of the network's 2*");
        act = () => SegmentationModelFile.Describe(model, new NiftiSegmentationOptions { Normalization = new Normalize([0.5f], [0.5f]) }, ["a", "b"], window);
        act.Should().Throw<ArgumentException>().WithMessage("*NormalizeIntensity normalisation, not Normalize*");
        act = () => SegmentationModelFile.Describe(model, Preparation, ["a", "b"], window, ["MRI"]);
        act.Should().Throw<ArgumentException>().WithMessage("*2 channels but 1 modalities*");
        using var sigmoid = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(1).Build();
        act = () => SegmentationModelFile.Describe(sigmoid, Preparation, ["lesion"], window);
        act.Should().Throw<ArgumentException>().WithMessage("*single output channel*WithClasses(2)*").Which.ParamName.Should().Be("model");
        using var other = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(2).Build();
        var card = SegmentationModelFile.Describe(model, Preparation, ["a", "b"], window);
        var save = () => SegmentationModelFile.Save(Path.Combine(_folder, "x.safetensors"), other, card);
        save.Should().Throw<ArgumentException>().WithMessage("*does not describe this network*");
        File.Exists(Path.Combine(_folder, "x.safetensors")).Should().BeFalse();
    }

    [Fact]
    public void BadFiles_AreRefusedByName()
    {
        using var model = Network();
        var card = SegmentationModelFile.Describe(model, Preparation, ["a", "b"], new SlidingWindowInferer([8, 8, 8]));
        string Write(string name, string? json, IReadOnlyDictionary<string, Tensor>? weights = null)
        {
            var path = Path.Combine(_folder, name);
            var metadata = new Dictionary<string, string> { ["format"] = "pt" };
            if (json is not null) metadata[SegmentationModelFile.MetadataKey] = json;
            SafeTensors.Save(path, weights ?? model.StateDict(), metadata);
            return path;
        }
        string Edited(Action<SegmentationCard> edit)
        {
            var copy = JsonSerializer.Deserialize<SegmentationCard>(JsonSerializer.Serialize(card))!;
            edit(copy);
            return JsonSerializer.Serialize(copy);
        }

        var plain = Write("plain.safetensors", null);
        var act = () => SegmentationPredictor.Load(plain);
        act.Should().Throw<ModelFormatException>().WithMessage("*plain.safetensors holds no segmentation card*");
        act = () => SegmentationPredictor.Load(Write("json.safetensors", "{ not json"));
        act.Should().Throw<ModelFormatException>().WithMessage("*json.safetensors is not valid JSON*");
        act = () => SegmentationPredictor.Load(Write("future.safetensors", Edited(c => c.FormatVersion = 9)));
        act.Should().Throw<ModelFormatException>().WithMessage("*format version 9 is newer*");
        act = () => SegmentationPredictor.Load(Write("arch.safetensors", Edited(c => c.Architecture = "resnet")));
        act.Should().Throw<ModelFormatException>().WithMessage("*architecture 'resnet'*");
        act = () => SegmentationPredictor.Load(Write("window.safetensors", Edited(c => c.WindowSize = [8, 8])));
        act.Should().Throw<ModelFormatException>().WithMessage("*window_size needs 3 positive sizes*");
        act = () => SegmentationPredictor.Load(Write("odd.safetensors", Edited(c => c.WindowSize = [8, 8, 5])));
        act.Should().Throw<ModelFormatException>().WithMessage("*not a multiple of the network's 2*");
        act = () => SegmentationPredictor.Load(Write("orient.safetensors", Edited(c => c.Orientation = "QQQ")));
        act.Should().Throw<ModelFormatException>().WithMessage("*'QQQ' is not a set of axis codes*");
        act = () => SegmentationPredictor.Load(Write("features.safetensors", Edited(c => c.Features = [4, 16])));
        act.Should().Throw<ModelFormatException>().WithMessage("*weights in*features.safetensors do not fit the U-Net*");
        act = () => SegmentationPredictor.Load(Write("nullfeatures.safetensors", Edited(c => c.Features = null!)));
        act.Should().Throw<ModelFormatException>().WithMessage("*lists no features*");
        act = () => SegmentationPredictor.Load(Path.Combine(_folder, "missing.safetensors"));
        act.Should().Throw<FileNotFoundException>();
    }
}
