using System.Text.Json;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Metrics;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Nets.Tests.Inference;

/// <summary>
/// A model trained on an image folder resizes photographs as 8-bit pixels (ImageFolderSource); its model file says so
/// (<see cref="PreprocessingCard.ResizeEightBit"/>, format 7), and the predictor prepares a photograph exactly as training
/// did — not by resizing the [0, 1] floats, which rounds differently.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class EightBitResizeTests : IDisposable
{
    private static readonly string[] Classes = { "normal", "myopia" };
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-resize8-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A 57×43 photograph of smooth gradients and noise, so both resizes have work to do and round differently.
    private static RasterImage Photograph(int seed)
    {
        var rng = new Random(seed);
        int width = 57, height = 43;
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < 3; c++) pixels[(((y * width) + x) * 3) + c] = (byte)Math.Clamp((x * 4) + (y * (c + 1)) + rng.Next(-40, 41), 0, 255);
            }
        }
        return new RasterImage(width, height, 3, pixels);
    }

    private (ImageFolderSource Source, string[] Files) Folder()
    {
        var files = new string[3];
        for (int i = 0; i < files.Length; i++)
        {
            var folder = Path.Combine(_dir, "photos", Classes[i % 2]);
            Directory.CreateDirectory(folder);
            files[i] = Path.Combine(folder, $"eye{i}.png");
            ImageCodec.Save(files[i], Photograph(i));
        }
        var dataset = ImageFolderDataset.FromSubfolders(Path.Combine(_dir, "photos"));
        return (new ImageFolderSource(dataset, width: 20, height: 24), dataset.Samples.Select(s => s.FilePath).ToArray());
    }

    private string Save(ResNet model, PreprocessingCard preprocessing, string name)
    {
        var path = Path.Combine(_dir, name);
        ModelFile.Save(path, model, ModelFile.Describe(model, preprocessing, Classes, MedMnistTask.Binary));
        return path;
    }

    private static ResNet Tiny()
    {
        Tensors.ManualSeed(11);
        return ResNet.Builder().WithDepth(18).WithWidths(4, 8, 16, 32).ForInput(channels: 3).WithSmallInputStem().WithClasses(2).Build();
    }

    [Fact]
    public void APhotograph_IsPredictedFromTheImageItsTrainingSourceMade()
    {
        var (source, files) = Folder();
        float[] mean = { 0.485f, 0.456f, 0.406f }, std = { 0.229f, 0.224f, 0.225f };
        var preprocessing = source.DescribePreprocessing(mean, std);
        preprocessing.ResizeEightBit.Should().BeTrue();
        preprocessing.InputSize.Should().Equal(24, 20);
        using var model = Tiny();
        var path = Save(model, preprocessing, "folder.safetensors");
        using var predictor = Predictor.Load(path);
        predictor.Card.FormatVersion.Should().Be(7, "a format-6 reader would resize the floats and predict differently");
        predictor.Card.Preprocessing.ResizeEightBit.Should().BeTrue();

        for (int i = 0; i < files.Length; i++)
        {
            // The training pipeline's image (ImageFolderSource.Load), already at the input size: the predictor's resize leaves it as is.
            var trained = predictor.Predict(source.Load(i).Image).Probabilities;
            predictor.PredictFile(files[i]).Probabilities.Should().Equal(trained, "file {0} is prepared as training prepared it", i);
            var raster = ImageCodec.DecodeFile(files[i]);
            predictor.PredictPixels(raster.Pixels, raster.Width, raster.Height, 3).Probabilities.Should().Equal(trained);
            using var stream = File.OpenRead(files[i]);
            predictor.Predict(stream).Probabilities.Should().Equal(trained);
        }

        // Without the field the same weights resize the [0, 1] image instead: a different input, so (for these
        // photographs) different probabilities — the skew the field removes.
        var floats = JsonSerializer.Deserialize<PreprocessingCard>(JsonSerializer.Serialize(preprocessing))!;
        floats.ResizeEightBit = null;
        using var old = Predictor.Load(Save(model, floats, "floats.safetensors"));
        old.Card.FormatVersion.Should().Be(1);
        var differ = Enumerable.Range(0, files.Length).Count(i => !old.PredictFile(files[i]).Probabilities.SequenceEqual(predictor.PredictFile(files[i]).Probabilities));
        differ.Should().BeGreaterThan(0);

        // A [0, 1] image made from the photograph's bytes (k / 255) is resized as those bytes, as training resized them;
        // an image of other values has no bytes to resize, and is resized as floats (as the card without the field does).
        for (int i = 0; i < files.Length; i++)
        {
            var raster = ImageCodec.DecodeFile(files[i]);
            var fromBytes = MedVision.Nets.Transforms.FloatImage.FromBytesHwc(raster.Pixels, raster.Height, raster.Width, 3);
            predictor.Predict(fromBytes).Probabilities.Should().Equal(predictor.Predict(source.Load(i).Image).Probabilities, "image {0} holds 8-bit values", i);
            var shifted = new MedVision.Nets.Transforms.FloatImage(fromBytes.Data.Select(v => Math.Min(1f, v + 0.001f)).ToArray(), 3, raster.Height, raster.Width);
            predictor.Predict(shifted).Probabilities.Should().Equal(old.Predict(shifted).Probabilities, "image {0}'s values are not 8-bit ones", i);
        }
    }

    [Fact]
    public void AnEnsemble_PreparesEachMemberAsItsOwnCardSays()
    {
        var (source, files) = Folder();
        using var model = Tiny();
        var eightBit = Save(model, source.DescribePreprocessing([0.5f], [0.5f]), "eight.safetensors");
        var floats = source.DescribePreprocessing([0.5f], [0.5f]);
        floats.ResizeEightBit = null;
        var floatPath = Save(model, floats, "floats.safetensors");
        using var ensemble = EnsemblePredictor.Load([eightBit, floatPath]);
        using var a = Predictor.Load(eightBit);
        using var b = Predictor.Load(floatPath);
        foreach (var file in files)
        {
            var members = ensemble.PredictFile(file).Members;
            members[0].Probabilities.Should().Equal(a.PredictFile(file).Probabilities);
            members[1].Probabilities.Should().Equal(b.PredictFile(file).Probabilities);
        }
    }

    [Fact]
    public void ACardThatCannotResizeEightBit_IsRefused()
    {
        using var model = Tiny();
        var nearest = new PreprocessingCard { InputSize = [24, 20], Channels = 3, Resize = "nearest", ResizeEightBit = true };
        var act = () => Save(model, nearest, "nearest.safetensors");
        act.Should().Throw<ModelFormatException>().WithMessage("*resize_8bit*resize 'nearest'*");

        using var volumes = ResNet.Builder().WithDepth(18).WithWidths(2, 4, 8, 8).ForInput(channels: 1, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build();
        var card = ModelFile.Describe(volumes, new PreprocessingCard { InputSize = [8, 8, 8], Channels = 1, ResizeEightBit = true }, Classes, MedMnistTask.Binary);
        var read = () => ModelFile.ParseCard(JsonSerializer.Serialize(card), "card.json");
        read.Should().Throw<ModelFormatException>().WithMessage("card.json: resize_8bit*3-D*");

        // A false value is the default: format 1, and the field is written only when set.
        ModelFile.RequiredFormatVersion(new ModelCard { Preprocessing = new PreprocessingCard { ResizeEightBit = false } }).Should().Be(1);
        JsonSerializer.Serialize(new PreprocessingCard()).Should().NotContain("resize_8bit");
    }

    [Fact]
    public void DescribePreprocessing_RefusesNormalisationsThatDoNotFit()
    {
        var (source, _) = Folder();
        source.Invoking(s => s.DescribePreprocessing([], [])).Should().Throw<ArgumentException>().WithMessage("*one per channel (3)*");
        source.Invoking(s => s.DescribePreprocessing([0.5f, 0.5f], [0.5f, 0.5f])).Should().Throw<ArgumentException>().WithMessage("*got 2 and 2*");
        source.Invoking(s => s.DescribePreprocessing([0.5f], [0f])).Should().Throw<ArgumentException>().WithMessage("*positive*");
        source.Invoking(s => s.DescribePreprocessing([float.NaN], [1f])).Should().Throw<ArgumentException>().WithMessage("*finite*");
    }
}
