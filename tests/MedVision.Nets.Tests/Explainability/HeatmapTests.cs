using MedVision.Nets.Data.Images;
using MedVision.Nets.Explainability;

namespace MedVision.Nets.Tests.Explainability;

public class HeatmapTests
{
    [Fact]
    public void Jet_RunsFromDarkBlueThroughGreenToDarkRed()
    {
        Heatmap.Color(0).Should().Be(((byte)0, (byte)0, (byte)128));
        Heatmap.Color(0.5).Should().Be(((byte)128, (byte)255, (byte)128));
        Heatmap.Color(1).Should().Be(((byte)128, (byte)0, (byte)0));
        Heatmap.Color(-3).Should().Be(Heatmap.Color(0), "values are clamped");
        Heatmap.Color(double.NaN).Should().Be(Heatmap.Color(0));
    }

    [Fact]
    public void Viridis_HitsMatplotlibsEndsAndMiddle_AndGreyIsLinear()
    {
        Heatmap.Color(0, Colormap.Viridis).Should().Be(((byte)68, (byte)1, (byte)84));
        Heatmap.Color(0.5, Colormap.Viridis).Should().Be(((byte)33, (byte)145, (byte)140));
        Heatmap.Color(1, Colormap.Viridis).Should().Be(((byte)253, (byte)231, (byte)37));
        Heatmap.Color(0.0625, Colormap.Viridis).Should().Be(((byte)70, (byte)23, (byte)103), "halfway between the first two anchors");
        Heatmap.Color(0.2, Colormap.Grey).Should().Be(((byte)51, (byte)51, (byte)51));
    }

    [Fact]
    public void Render_ColoursEachValueInRowMajorOrder()
    {
        var image = Heatmap.Render(new[] { 0f, 1f, 0.5f, 0.25f, 0.75f, 1f }, width: 3, height: 2);
        image.Width.Should().Be(3);
        image.Height.Should().Be(2);
        image.Channels.Should().Be(3);
        var (r, g, b) = Heatmap.Color(0.25);
        (image[0, 1, 0], image[0, 1, 1], image[0, 1, 2]).Should().Be((r, g, b));
        FluentActions.Invoking(() => Heatmap.Render(new float[5], 3, 2)).Should().Throw<ArgumentException>().WithMessage("*5 values, not 2×3*");
    }

    [Fact]
    public void Overlay_BlendsAtTheImageSize_ResizingTheMapBilinearly()
    {
        var grey = new RasterImage(4, 2, 1, Enumerable.Repeat((byte)100, 8).ToArray());
        // A 2×1 map [0, 1] resized to width 4: pixel centres at source x = -0.25, 0.25, 0.75, 1.25 → 0, 0.25, 0.75, 1.
        var overlay = Heatmap.Overlay(grey, new[] { 0f, 1f }, mapWidth: 2, mapHeight: 1, alpha: 0.5, Colormap.Grey);
        overlay.Width.Should().Be(4);
        overlay.Height.Should().Be(2);
        overlay.Channels.Should().Be(3);
        var row = Enumerable.Range(0, 4).Select(x => overlay[x, 1, 0]).ToArray();
        row.Should().Equal(50, 82, 146, 178); // round(0.5·100 + 0.5·255·v)
        Heatmap.Overlay(grey, new float[8], 4, 2, alpha: 0).Pixels.Should().OnlyContain(p => p == 100, "alpha 0 keeps the image");
        FluentActions.Invoking(() => Heatmap.Overlay(grey, new float[8], 4, 2, alpha: 1.5)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*alpha*");
        FluentActions.Invoking(() => Heatmap.Overlay(grey, new float[3], 2, 2)).Should().Throw<ArgumentException>().WithMessage("*3 values*");
    }
}
