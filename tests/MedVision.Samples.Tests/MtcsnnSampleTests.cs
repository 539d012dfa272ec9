using System.Globalization;

namespace MedVision.Samples.Tests;

public sealed class MtcsnnSampleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Compare_TrainsBothModelsPerSeed_AndSummarizeAgreesWithIt()
    {
        var data = _folder["retinamnist.npz"];
        TinyRetinaMnist.Write(data, train: 32, val: 16, test: 16);
        var compare = await SampleApp.RunAsync("mtcsnn", _folder.Path,
            "compare", "--data-file", data, "--epochs", "1", "--batch", "8", "--seeds", "0,1", "--depth", "18", "--stem", "small", "--threads", "1", "--output", _folder["out"]);
        compare.ExitCode.Should().Be(0, compare.ToString());
        compare.Text.Should().Contain("RetinaMNIST (28×28, 5 grades): train 32, val 16, test 16");

        var lines = compare.Lines();
        lines.Where(l => l.ContainsKey("seed")).Select(l => (l["#0"], l["seed"])).Should().BeEquivalentTo(new[] { ("resnet", "0"), ("mtcsnn", "0"), ("resnet", "1"), ("mtcsnn", "1") });
        var summaries = lines.Where(l => l.ContainsKey("seeds")).ToList();
        summaries.Select(l => l["#0"]).Should().BeEquivalentTo("resnet", "mtcsnn");
        foreach (var summary in summaries)
        {
            var perSeed = lines.Where(l => l.ContainsKey("seed") && l["#0"] == summary["#0"]).Select(l => double.Parse(l["test_auc"], CultureInfo.InvariantCulture));
            double.Parse(summary["test_auc_mean"], CultureInfo.InvariantCulture).Should().BeApproximately(perSeed.Average(), 1e-4);
        }
        File.ReadAllLines(_folder["out/results.csv"]).Should().HaveCount(5, "a header and one row per model and seed");
        Directory.Exists(_folder["out/seed1/mtcsnn"]).Should().BeTrue();

        var summarize = await SampleApp.RunAsync("mtcsnn", _folder.Path, "summarize", _folder["out"]);
        summarize.ExitCode.Should().Be(0, summarize.ToString());
        summarize.Lines().Where(l => l.ContainsKey("seeds")).Select(l => l["test_auc_mean"])
            .Should().Equal(summaries.Select(l => l["test_auc_mean"]));
    }

    [Fact]
    public async Task Compare_RefusesADataFileOfAnotherDataset()
    {
        var data = _folder["pathmnist.npz"];
        TinyRetinaMnist.Write(data, train: 8, val: 4, test: 4);
        var run = await SampleApp.RunAsync("mtcsnn", _folder.Path, "compare", "--data-file", data, "--epochs", "1", "--output", _folder["out"]);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Error.Should().Contain("pathmnist.npz").And.Contain("MTCSNN grades RetinaMNIST");
    }
}
