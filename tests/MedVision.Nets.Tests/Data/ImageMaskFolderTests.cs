using MedVision.Nets.Data;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Segmentation;

namespace MedVision.Nets.Tests.Data;

public sealed class ImageMaskFolderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mv-masks-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Images => Directory.CreateDirectory(Path.Combine(_folder, "images")).FullName;

    private string Masks => Directory.CreateDirectory(Path.Combine(_folder, "masks")).FullName;

    // An RGB image whose red channel is 80 × its class, and its mask (class indices, or ×255 for black and white).
    private void Write(string name, int width, int height, Func<int, int, int> classOf, bool blackAndWhite = false, string suffix = "", int maskWidth = 0)
    {
        var rgb = new byte[width * height * 3];
        var mask = new byte[(maskWidth == 0 ? width : maskWidth) * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int k = classOf(x, y);
                rgb[3 * ((y * width) + x)] = (byte)(80 * k);
                rgb[(3 * ((y * width) + x)) + 1] = 30;
                if (maskWidth == 0) mask[(y * width) + x] = (byte)(blackAndWhite ? 255 * k : k);
            }
        File.WriteAllBytes(Path.Combine(Images, name + ".png"), ImageCodec.EncodePng(new RasterImage(width, height, 3, rgb)));
        File.WriteAllBytes(Path.Combine(Masks, name + suffix + ".png"), ImageCodec.EncodePng(new RasterImage(maskWidth == 0 ? width : maskWidth, height, 1, mask)));
    }

    [Fact]
    public void Pairs_AreLoadedAsImagesInZeroToOne_AndClassIndices()
    {
        Write("b", 6, 4, (x, y) => x < 2 ? 2 : y < 2 ? 1 : 0);
        Write("a", 5, 3, (x, y) => x == y ? 1 : 0);
        var source = ImageMaskFolderSource.FromFolders(Images, Masks, ["background", "disc", "cup"]);
        source.Count.Should().Be(2);
        source.Pairs.Select(p => Path.GetFileName(p.Image)).Should().Equal("a.png", "b.png");
        var sample = source.Load(1);
        sample.Image.Shape.Should().Equal(3, 4, 6);
        sample.Labels.Shape.Should().Equal(1, 4, 6);
        sample.Labels.Data.Should().Equal(Enumerable.Range(0, 24).Select(i => (float)(i % 6 < 2 ? 2 : i / 6 < 2 ? 1 : 0)));
        sample.Image.Data.AsSpan(0, 24).ToArray().Should().Equal(sample.Labels.Data.Select(k => 80 * k / 255f), "red = 80 × class, scaled to [0, 1]");

        // Resized together: the image bilinearly, the mask by nearest neighbour (classes stay whole).
        var resized = ImageMaskFolderSource.FromFolders(Images, Masks, ["background", "disc", "cup"], channels: 1, size: (8, 12)).Load(1);
        resized.Image.Shape.Should().Equal(1, 8, 12);
        resized.Labels.Data.Should().Equal(Enumerable.Range(0, 96).Select(i => (float)(i % 12 < 4 ? 2 : i / 12 < 4 ? 1 : 0)), "a 2× nearest enlargement");
    }

    [Fact]
    public void BlackAndWhiteMasks_WithASuffix_AreOneStructure()
    {
        Write("img01", 4, 4, (x, y) => x + y > 3 ? 1 : 0, blackAndWhite: true, suffix: "_mask");
        var source = ImageMaskFolderSource.FromFolders(Images, Masks, ["background", "vessel"], MaskEncoding.Binary, maskSuffix: "_mask");
        source.Load(0).Labels.Data.Should().Equal(Enumerable.Range(0, 16).Select(i => (float)((i % 4) + (i / 4) > 3 ? 1 : 0)));
        var asIndices = () => ImageMaskFolderSource.FromFolders(Images, Masks, ["background", "vessel"], maskSuffix: "_mask").Load(0);
        asIndices.Should().Throw<DataFormatException>().WithMessage("*img01_mask.png*value 255*MaskEncoding.Binary*");
    }

    [Fact]
    public void BadFolders_AreRefusedByName()
    {
        Write("a", 4, 4, (x, y) => 0);
        File.WriteAllBytes(Path.Combine(Images, "lonely.png"), ImageCodec.EncodePng(new RasterImage(2, 2, 1, new byte[4])));
        var act = () => ImageMaskFolderSource.FromFolders(Images, Masks, ["background", "x"]);
        act.Should().Throw<DataFormatException>().WithMessage("*lonely.png*has no mask lonely.png*");
        File.Delete(Path.Combine(Images, "lonely.png"));
        Write("b", 4, 4, (x, y) => 0, maskWidth: 5);
        var load = () => ImageMaskFolderSource.FromFolders(Images, Masks, ["background", "x"]).Load(1);
        load.Should().Throw<DataFormatException>().WithMessage("*b.png*mask is 5×4 pixels, its image b.png 4×4*");
        File.Delete(Path.Combine(Masks, "b.png"));
        File.WriteAllBytes(Path.Combine(Masks, "b.png"), ImageCodec.EncodePng(new RasterImage(4, 4, 3, Enumerable.Range(0, 48).Select(i => (byte)(i % 3)).ToArray())));
        load.Should().Throw<DataFormatException>().WithMessage("*b.png*coloured*");
        var classes = () => ImageMaskFolderSource.FromFolders(Images, Masks, ["background"]);
        classes.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("classNames");
        var binary = () => ImageMaskFolderSource.FromFolders(Images, Masks, ["background", "a", "b"], MaskEncoding.Binary);
        binary.Should().Throw<ArgumentException>().WithMessage("*two classes, not 3*");
        var missing = () => ImageMaskFolderSource.FromFolders(Path.Combine(_folder, "nowhere"), Masks, ["background", "x"]);
        missing.Should().Throw<DirectoryNotFoundException>();
        var empty = () => ImageMaskFolderSource.FromFolders(Directory.CreateDirectory(Path.Combine(_folder, "empty")).FullName, Masks, ["background", "x"]);
        empty.Should().Throw<DataFormatException>().WithMessage("*holds no .png, .jpg or .jpeg images*");
    }
}
