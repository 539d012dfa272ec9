using System.Text.RegularExpressions;

namespace MedVision.Samples.Tests;

public sealed class LaunchSampleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static string App(string name) => Path.Combine(AppContext.BaseDirectory, name + ".dll");

    [Fact]
    public async Task TwoProcesses_TrainTheMedMnistSampleDataParallel_AndOnlyRankZeroReportsAndWrites()
    {
        var data = _folder["retinamnist.npz"];
        TinyRetinaMnist.Write(data, train: 32, val: 16, test: 16);
        var run = await SampleApp.RunAsync("mvlaunch", _folder.Path,
            "--nproc-per-node", "2", "--master-port", "0", "--threads-per-process", "1", "--",
            "dotnet", App("medmnist"), "train", "--data-file", data, "--epochs", "1", "--batch", "16", "--output", _folder["run"]);
        run.ExitCode.Should().Be(0, run.ToString());
        run.Text.Should().Contain("[launcher] 2 processes finished");
        // The launcher prefixes every line with its rank; a long banner (e.g. with the oneDNN warning) wraps.
        Regex.Replace(run.Text, @"\[rank \d+\] ", "").Should().Contain("Gloo, 8 images each per step", "the batch of 16 is split over the two ranks");
        var results = run.Output.Split('\n').Where(l => l.Contains("RESULT resnet18 retinamnist", StringComparison.Ordinal)).ToList();
        results.Should().ContainSingle("only rank 0 prints the result").Which.Should().Contain("[rank 0]");
        File.Exists(_folder["run/model.safetensors"]).Should().BeTrue();
        File.ReadAllLines(_folder["run/history.csv"]).Should().HaveCount(2);
    }

    [Fact]
    public async Task AFailingCommand_StopsTheRun_AndTheLauncherSaysWhichRankFailed()
    {
        var run = await SampleApp.RunAsync("mvlaunch", _folder.Path,
            "--nproc-per-node", "2", "--master-port", "0", "--", "dotnet", App("medmnist"), "train", "--epochs", "0", "--output", _folder["run"]);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Text.Should().MatchRegex(@"\[launcher\] rank [01] failed with exit code 2");
        run.Text.Should().Contain("--epochs must be at least 1");
    }
}
