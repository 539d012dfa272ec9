using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Npy;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Data.Loading;

/// <summary>
/// The image sources a <see cref="DataLoader"/> batches: a folder of photographs (<see cref="ImageFolderSource"/>) and a
/// 3-D MedMNIST split (<see cref="MedMnistImageSource"/> over (N, D, H, W) volumes), checked value by value.
/// </summary>
public sealed class ImageSourceTests
{
    [Fact]
    public void ImageFolderSource_ServesDecodedResizedImages_ScaledToUnitRange_WithTheirLabels()
    {
        using var temp = new TempFolder();
        // A grey PNG and an RGB PNG whose channels differ, at other sizes than the source's.
        Directory.CreateDirectory(temp.File("myopia"));
        Directory.CreateDirectory(temp.File("normal"));
        File.WriteAllBytes(temp.File("myopia/a.png"), MinimalPng.Encode(6, 4, 1, Enumerable.Repeat((byte)51, 24).ToArray()));
        File.WriteAllBytes(temp.File("normal/b.png"), MinimalPng.Encode(3, 5, 3, Enumerable.Range(0, 15).SelectMany(_ => new byte[] { 0, 102, 255 }).ToArray()));
        var dataset = ImageFolderDataset.FromSubfolders(temp.Path);

        var rgb = new ImageFolderSource(dataset, width: 8, height: 7);
        rgb.Count.Should().Be(2);
        rgb.LabelColumns.Should().Be(1);
        var (grey, greyLabels) = rgb.Load(0);
        greyLabels.Should().Equal(0);
        grey.Shape.Should().Equal(3, 7, 8);
        grey.Data.Should().OnlyContain(v => Math.Abs(v - 0.2f) < 1e-6, "51 / 255, repeated into three channels");
        var (colour, colourLabels) = rgb.Load(1);
        colourLabels.Should().Equal(1);
        colour.Shape.Should().Equal(3, 7, 8);
        colour.Data.Take(56).Should().OnlyContain(v => v == 0f, "channel-first: the red plane");
        colour.Data.Skip(56).Take(56).Should().OnlyContain(v => Math.Abs(v - 0.4f) < 1e-6);
        colour.Data.Skip(112).Should().OnlyContain(v => v == 1f);

        var single = new ImageFolderSource(dataset, 4, 4, channels: 1);
        single.Load(1).Image.Shape.Should().Equal(1, 4, 4);

        using var scope = Tensors.NewDisposeScope();
        var loader = new DataLoader(rgb, new DataLoaderOptions { BatchSize = 2 });
        using var batch = loader.Epoch(0).Single();
        batch.Images.Shape.Should().Equal(2, 3, 7, 8);
        batch.Labels.ToArray<long>().Should().Equal(0, 1);
        batch.Images.ToArray<float>().Should().Equal(grey.Data.Concat(colour.Data));

        FluentActions.Invoking(() => new ImageFolderSource(dataset, 0, 4)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("width");
        FluentActions.Invoking(() => new ImageFolderSource(dataset, 4, 4, channels: 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("channels");
        FluentActions.Invoking(() => new ImageFolderSource(null!, 4, 4)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void MedMnist3DSource_ServesVolumesAsOneChannel_DepthFirst_ScaledToUnitRange()
    {
        using var temp = new TempFolder();
        var path = temp.File("organmnist3d.npz");
        NpzArchive.Write(path, SyntheticMedMnist.Arrays(5, [28, 28, 28], classes: 3, counts: (4, 2, 2)));
        var data = MedMnistDataset.Load(path);
        var source = new MedMnistImageSource(data.Train);
        source.SampleShape.Should().Equal(28, 28, 28);
        source.Count.Should().Be(4);

        var (image, labels) = source.Load(2);
        image.Shape.Should().Equal(1, 28, 28, 28);
        var stored = data.Train.GetImage(2).ToArray();
        image.Data.Should().Equal(stored.Select(b => b / 255f), "(D, H, W) bytes keep their order as the one channel");
        labels.Should().Equal(data.Train.GetLabels(2));

        using var scope = Tensors.NewDisposeScope();
        var loader = new DataLoader(source, new DataLoaderOptions { BatchSize = 4 });
        using var batch = loader.Epoch(0).Single();
        batch.Images.Shape.Should().Equal(4, 1, 28, 28, 28);
        batch.Images.Narrow(0, 2, 1).ToArray<float>().Should().Equal(image.Data);
        FluentActions.Invoking(() => new MedMnistImageSource(data.Train, grayscaleToRgb: true)).Should().Throw<ArgumentException>().WithMessage("*2-D images, not volumes*");
    }
}
