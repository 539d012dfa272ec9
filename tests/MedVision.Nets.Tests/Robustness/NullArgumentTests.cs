using MedVision.Nets.Data.Download;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Models;
using MedVision.Nets.Plotting;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Robustness;

/// <summary>
/// Null where the API does not allow it gives ArgumentNullException naming the argument, thrown by the call itself
/// (not by the task it returns). The FormatFuzzer "nulls" check covers every public member (see FormatFuzzTests);
/// these pin the forms that needed more than a check at the top of a method.
/// </summary>
public class NullArgumentTests
{
    private static void ThrowsFor(Action call, string parameter) =>
        call.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be(parameter);

    [Fact]
    public void Async_downloads_validate_when_called_not_when_awaited()
    {
        var downloader = new VerifiedDownloader();
        // Each call returns no task: it throws.
        ThrowsFor(() => downloader.DownloadAsync(null!, "x.npz", null), "source");
        ThrowsFor(() => MedVision.Nets.Data.Md5.OfFileAsync(null!), "path");
        var medmnist = new MedMnistDownloader { CacheDirectory = Path.GetTempPath() };
        ThrowsFor(() => medmnist.DownloadAsync(null!), "dataset");
        ThrowsFor(() => medmnist.LoadAsync(null!), "dataset");
        // An unknown name is reported against the caller's parameter too.
        var unknown = () => medmnist.GetCachePath("nosuchmnist");
        unknown.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("dataset");
    }

    [Fact]
    public void Transforms_check_both_arguments()
    {
        var image = new FloatImage(new float[12], 3, 2, 2);
        ThrowsFor(() => new Normalize(new[] { 0.5f }, new[] { 0.5f }).Apply(image, null!), "random");
        ThrowsFor(() => new Resize(2, 2).Apply(null!, new Random(0)), "image");
    }

    [Fact]
    public void Records_that_own_tensors_refuse_null_so_they_can_always_be_disposed()
    {
        using var scope = Tensors.NewDisposeScope();
        ThrowsFor(() => _ = new SiameseOutput(Tensors.Ones(2), null!, Tensors.Ones(2)), "Second");
        ThrowsFor(() => _ = new MtcsnnLoss(null!, Tensors.Ones(1), Tensors.Ones(1), Tensors.Ones(2, 2), 1), "Total");
    }

    [Fact]
    public void Options_setters_refuse_null()
    {
        ThrowsFor(() => _ = new ResNetOptions { Layers = null! }, "Layers");
        ThrowsFor(() => new MedMnistDownloader().CacheDirectory = null!, "CacheDirectory");
    }

    [Fact]
    public void Chart_titles_may_be_null_but_series_may_not()
    {
        new LineChart(null, null, null).Title.Should().BeEmpty();
        ThrowsFor(() => new LineChart("t", "x", "y").Add("s", null!, new double[] { 1 }), "x");
        ThrowsFor(() => _ = new PlotSeries("s", new double[] { 1 }, null!), "Y");
    }
}
