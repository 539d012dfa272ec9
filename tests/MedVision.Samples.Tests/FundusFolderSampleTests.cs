using System.Globalization;
using MedVision.Nets.Data.Images;

namespace MedVision.Samples.Tests;

public sealed class FundusFolderSampleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Demo_KeepsTheOptionsTheUserGave()
    {
        var temp = Directory.CreateDirectory(_folder["tmp"]).FullName;
        var run = await SampleApp.RunAsync("fundus-folder", _folder.Path, new Dictionary<string, string> { ["TMPDIR"] = temp },
            "train", "--demo", "--size", "32", "--batch", "4", "--threads", "1", "--random-resized-crop", "0.5", "--output", _folder["out"]);
        run.ExitCode.Should().Be(0, run.ToString());
        run.Text.Should().Contain("Training augmentation: random resized crops of 0.5–1 of the area, horizontal and vertical flips");
        var result = run.Lines().Should().ContainSingle().Subject;
        result["size"].Should().Be("32", "--size was given");
        result["epochs"].Should().Be("1", "the demo's default");
        result["#0"].Should().Be("resnet18", "the demo's default depth");
        // The generated folder (in the temporary directory) is removed when the run ends.
        run.Text.Should().Contain($"(not fundus data) to {Path.Combine(temp, "medvision-fundus-demo-")}");
        Directory.GetDirectories(temp, "medvision-fundus-demo-*").Should().BeEmpty();
    }

    [Fact]
    public async Task Demo_StartsFromImageNetWeights_WithTheirClassifierReplaced()
    {
        // torchvision's file name planted in the cache (a ResNet-18 with 1000 classes written as torch.save writes it).
        var data = _folder["weights-cache"];
        Directory.CreateDirectory(Path.Combine(data, "weights"));
        using (var imagenet = MedVision.Nets.Models.ResNet.Builder().WithDepth(18).ForInput(3).WithImageNetStem().WithClasses(1000).Build())
            MedVision.Torch.Serialization.PyTorchFile.SaveStateDict(Path.Combine(data, "weights", "resnet18-f37072fd.pth"), imagenet.StateDict());
        var run = await SampleApp.RunAsync("fundus-folder", _folder.Path, new Dictionary<string, string> { ["MEDVISION_DATA"] = data },
            "train", "--demo", "--size", "32", "--batch", "4", "--threads", "1", "--output", _folder["pretrained"], "--init-weights", "imagenet", "--head-lr-mult", "5");
        run.ExitCode.Should().Be(0, run.ToString());
        run.Text.Should().Contain("the new classifier at 5× (lr 0.0005)");
        MedVision.Torch.Optim.OptimizerState.Load(Path.Combine(_folder["pretrained"], "last.optimizer.safetensors")).GroupSizes.Should().HaveCount(2).And.EndWith(2);
        System.Text.RegularExpressions.Regex.Replace(run.Text, @"\s+", " ").Should()
            .Contain("ResNet18_Weights.IMAGENET1K_V1")
            .And.Contain("120 of 122 tensors copied; kept initialised: fc.weight: expected [2, 512], got [1000, 512]; fc.bias");
        var refused = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--init-weights", "imagenet", "--init-entry", "state_dict");
        refused.ExitCode.Should().NotBe(0);
        refused.Error.Should().Contain("--init-entry applies to checkpoint files");
        var alone = await SampleApp.RunAsync("fundus-folder", _folder.Path, "--demo", "--head-lr-mult", "5");   // without "train": the root's checks too
        alone.ExitCode.Should().NotBe(0);
        alone.Error.Should().Contain("--head-lr-mult sets the rate of the classifier that replaces a pretrained one");
    }

    [Fact]
    public async Task Train_OnAnIChallengeLayout_LabelsByFileNameAndCsv()
    {
        // iChallenge-PM layout: training labels from file names (P = pathologic myopia), validation labels from a CSV.
        Directory.CreateDirectory(_folder["train"]);
        Directory.CreateDirectory(_folder["val"]);
        var random = new Random(5);
        RasterImage Photo(bool myopic)
        {
            var pixels = new byte[48 * 48 * 3];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)((myopic ? 160 : 60) + random.Next(60));
            return new RasterImage(48, 48, 3, pixels);
        }
        foreach (var (name, myopic) in new[] { ("P0001", true), ("P0002", true), ("P0003", true), ("N0001", false), ("N0002", false), ("H0001", false) })
        {
            ImageCodec.Save(_folder[$"train/{name}.jpg"], Photo(myopic));
        }
        var csv = new List<string> { "imgName,Label" };
        for (int i = 0; i < 4; i++)
        {
            ImageCodec.Save(_folder[$"val/V{i:D4}.png"], Photo(i % 2 == 1));
            csv.Add($"V{i:D4}.png,{i % 2}");
        }
        File.WriteAllLines(_folder["labels.csv"], csv);

        var run = await SampleApp.RunAsync("fundus-folder", _folder.Path,
            "train", "--train-folder", _folder["train"], "--val-folder", _folder["val"], "--val-csv", _folder["labels.csv"],
            "--depth", "18", "--size", "32", "--epochs", "1", "--batch", "3", "--threads", "1", "--output", _folder["out"]);
        run.ExitCode.Should().Be(0, run.ToString());
        run.Text.Should().Contain("Training 6 images (3 pathologic) · validation 4 images (2 pathologic)");
        run.Text.Should().Contain("0 near-duplicate pair(s) between the training and validation folders").And.NotContain("Warning:");

        // A training photograph copied into the validation folder (as V0004.png, labelled not myopic) is reported.
        ImageCodec.Save(_folder["val/V0004.png"], ImageCodec.DecodeFile(_folder["train/P0002.jpg"]));
        File.AppendAllLines(_folder["labels.csv"], ["V0004.png,0"]);
        var leaky = await SampleApp.RunAsync("fundus-folder", _folder.Path,
            "train", "--train-folder", _folder["train"], "--val-folder", _folder["val"], "--val-csv", _folder["labels.csv"],
            "--depth", "18", "--size", "32", "--epochs", "1", "--batch", "3", "--threads", "1", "--output", _folder["out-leaky"]);
        leaky.ExitCode.Should().Be(0, leaky.ToString());
        var text = System.Text.RegularExpressions.Regex.Replace(leaky.Text, @"\s+", " ");
        text.Should().Contain("1 near-duplicate pair(s) between the training and validation folders, 0 within the training folder, 1 with different labels")
            .And.Contain("Warning: validation photographs that are near-copies of training ones inflate the validation metrics: V0004.png ~ P0002.jpg");
        File.ReadAllLines(_folder["out-leaky/near-duplicates.csv"]).Should().HaveCount(2).And.Contain(l => l.StartsWith("train,", StringComparison.Ordinal) && l.Contains(",val,4,", StringComparison.Ordinal));
        var result = run.Lines().Should().ContainSingle().Subject;
        double.Parse(result["val_auc"], CultureInfo.InvariantCulture).Should().BeInRange(0, 1);
        File.Exists(_folder["out/best.safetensors"]).Should().BeTrue();
        File.ReadAllLines(_folder["out/validation-evaluation.csv"]).Should().NotBeEmpty();
    }

    [Fact]
    public async Task Train_WithoutData_ExplainsTheLayout()
    {
        var run = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--output", _folder["out"]);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Error.Should().Contain("--train-folder").And.Contain("imgName,Label");
    }

    [Fact]
    public async Task WithoutTheTrainCommandName_TheCommandsChecksStillApply()
    {
        // "fundus-folder OPTIONS" runs train: its checks across options must hold there too, not only under "train".
        var run = await SampleApp.RunAsync("fundus-folder", _folder.Path, "--schedule", "cosine", "--restart-mult", "2", "--output", _folder["out"]);
        run.ExitCode.Should().NotBe(0, run.ToString());
        run.Error.Should().Contain("--restart-epochs and --restart-mult apply to --schedule warm-restarts.");
    }
}
