using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Quality;

namespace MedVision.Samples.Tests;

/// <summary>
/// The MedMnist sample's <c>audit</c> command on the shipped RetinaMNIST and on a file with planted leaks, and
/// <c>cross-validate --group-near-duplicates</c>: every figure printed is the library's on the same images.
/// </summary>
public sealed class MedMnistAuditSampleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Audit_OfTheShippedRetinaMnist_ReportsTheLibrarysPairsAndNearestImages()
    {
        var output = _folder["audit"];
        var run = await SampleApp.RunAsync("medmnist", _folder.Path, "audit", "--output", output);
        run.ExitCode.Should().Be(0, run.ToString());
        var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
        var audit = SplitAudit.Create().AddSplit("train", new MedMnistImageSource(data.Train)).AddSplit("val", new MedMnistImageSource(data.Validation))
            .AddSplit("test", new MedMnistImageSource(data.Test)).Run();
        var line = run.Lines().Should().ContainSingle().Subject;
        line["#1"].Should().Be("retinamnist");
        line["pairs"].Should().Be(audit.Duplicates.Count.ToString(CultureInfo.InvariantCulture));
        line["within_train"].Should().Be(audit.Between("train", "train").Count.ToString(CultureInfo.InvariantCulture));
        line["cross_split"].Should().Be("0");
        line["label_conflicts"].Should().Be(audit.LabelConflicts.Count.ToString(CultureInfo.InvariantCulture));
        var nearest = NearDuplicates.Nearest(new MedMnistImageSource(data.Test), new MedMnistImageSource(data.Train));
        D(line["test_nearest_train_min"]).Should().BeApproximately(nearest.Min(n => n.Difference), 5e-5);
        run.Text.Should().Contain("No near-duplicate crosses splits.");
        File.ReadAllLines(Path.Combine(output, "near-duplicates.csv")).Should().HaveCount(audit.Duplicates.Count + 1);
        var rows = File.ReadAllLines(Path.Combine(output, "nearest-training.csv"));
        rows.Should().HaveCount(1 + 120 + 400);
        rows.Should().Contain(string.Create(CultureInfo.InvariantCulture, $"test,7,{nearest[7].Index},{nearest[7].Difference:R}"));
    }

    [Fact]
    public async Task Audit_FindsPlantedLeaksAndLabelConflicts_AndFailsOnLeakageWhenAsked()
    {
        // val 0 is train 3 again (with another label), test 2 is train 5 again; the rest are distinct images.
        var file = Path.Combine(Directory.CreateDirectory(_folder["leaky-data"]).FullName, "retinamnist.npz");
        var train = Enumerable.Range(0, 20).Select(i => ("train", i)).ToArray();
        var val = new[] { ("train", 3) }.Concat(Enumerable.Range(0, 5).Select(i => ("val", i))).ToArray();
        var test = new[] { ("test", 0), ("test", 1), ("train", 5) };
        var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
        int otherLabel = (data.Train.Labels[3, 0] + 1) % 5;
        TinyRetinaMnist.WriteFrom(file, train, val, test, (split, i) => split == "val" && i == 0 ? otherLabel : null);

        var run = await SampleApp.RunAsync("medmnist", _folder.Path, "audit", "--data-file", file, "--max-difference", "0", "--output", _folder["leaky"], "--fail-on-leakage");
        run.ExitCode.Should().Be(1, run.ToString());
        var line = run.Lines().Should().ContainSingle().Subject;
        line["cross_split"].Should().Be("2");
        line["label_conflicts"].Should().Be("1");
        line["max_difference"].Should().Be("0");
        run.Text.Should().Contain("2 near-duplicate pair(s) cross splits").And.Contain("Near-duplicates with different labels").And.Contain($"{data.Train.Labels[3, 0]} vs {otherLabel}");
        var csv = File.ReadAllLines(Path.Combine(_folder["leaky"], "near-duplicates.csv"));
        csv.Should().Contain($"train,3,val,0,0,{data.Train.Labels[3, 0]},{otherLabel},false").And.Contain($"train,5,test,2,0,{data.Train.Labels[5, 0]},{data.Train.Labels[5, 0]},true");

        var lenient = await SampleApp.RunAsync("medmnist", _folder.Path, "audit", "--data-file", file, "--output", _folder["leaky2"]);
        lenient.ExitCode.Should().Be(0, "without --fail-on-leakage the audit only reports");
        var negative = await SampleApp.RunAsync("medmnist", _folder.Path, "audit", "--max-difference", "-1");
        negative.ExitCode.Should().Be(2, negative.ToString());
        negative.Error.Should().Contain("--max-difference must be finite and at least 0");
    }

    [Fact]
    public async Task CrossValidate_GroupNearDuplicates_KeepsEachCopyInTheFoldOfItsOriginal()
    {
        // 40 training images, four of them twice (exact copies), and 12 validation images; the test split is small.
        var file = Path.Combine(Directory.CreateDirectory(_folder["copies"]).FullName, "retinamnist.npz");
        var train = Enumerable.Range(0, 40).Select(i => ("train", i)).Concat(Enumerable.Range(0, 4).Select(i => ("train", i * 7))).ToArray();
        var val = Enumerable.Range(0, 12).Select(i => ("val", i)).ToArray();
        TinyRetinaMnist.WriteFrom(file, train, val, Enumerable.Range(0, 8).Select(i => ("test", i)).ToArray());
        var output = _folder["cv-grouped"];
        var cv = await SampleApp.RunAsync("medmnist", _folder.Path, "cross-validate", "--data-file", file, "--folds", "3", "--epochs", "1", "--batch", "16", "--threads", "1",
            "--group-near-duplicates", "0", "--output", output);
        cv.ExitCode.Should().Be(0, cv.ToString());
        cv.Text.Should().Contain("Near-duplicates (mean absolute difference ≤ 0) kept in one fold: 8 of the 56 images in 4 groups");
        cv.Lines().Should().ContainSingle().Which["group_near_duplicates"].Should().Be("0");
        using var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "folds.json")));
        var folds = record.RootElement.GetProperty("Validation").EnumerateArray().Select(f => f.EnumerateArray().Select(e => e.GetInt32()).ToHashSet()).ToArray();
        for (int copy = 0; copy < 4; copy++)
            folds.Should().ContainSingle(f => f.Contains(copy * 7) && f.Contains(40 + copy), $"train {copy * 7} and its copy (pooled index {40 + copy}) share a fold");
        folds.Sum(f => f.Count).Should().Be(56);
    }
}
