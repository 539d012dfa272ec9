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
            "compare", "--data-file", data, "--epochs", "1", "--batch", "8", "--seeds", "0,1", "--depth", "18", "--stem", "small", "--threads", "1", "--output", _folder["out"],
            "--tensorboard", _folder["board"]);
        compare.ExitCode.Should().Be(0, compare.ToString());
        // A TensorBoard run per seed and model; MTCSNN's runs carry its two loss terms.
        foreach (var seed in new[] { "seed0", "seed1" })
        {
            MedVision.Torch.TensorBoard.EventFileReader.ReadScalars(Path.Combine(_folder["board"], seed, "mtcsnn")).Select(p => p.Tag).Should().Contain(["train/loss/cross_entropy", "train/loss/difference"]);
            MedVision.Torch.TensorBoard.EventFileReader.ReadScalars(Path.Combine(_folder["board"], seed, "resnet")).Select(p => p.Tag).Should().Contain("validation/auc").And.NotContain("train/loss/difference");
        }
        // The projector's points: MTCSNN's backbone features of the 16 test images, with their grades and a sprite.
        var embedding = Path.Combine(_folder["board"], "seed0", "mtcsnn", "00000", "test_features");
        File.ReadAllLines(Path.Combine(embedding, "tensors.tsv")).Should().HaveCount(16);
        File.ReadAllLines(Path.Combine(embedding, "metadata.tsv")).Should().HaveCount(16).And.OnlyContain(g => g.Length > 0);
        File.Exists(Path.Combine(embedding, "sprite.png")).Should().BeTrue();
        File.ReadAllText(Path.Combine(_folder["board"], "seed0", "mtcsnn", "projector_config.pbtxt")).Should().Contain("single_image_dim: 28");
        compare.Text.Should().Contain("RetinaMNIST (28×28, 5 grades): train 32, val 16, test 16");

        var lines = compare.Lines();
        lines.Where(l => l.ContainsKey("seed") && l["#0"] != "paired").Select(l => (l["#0"], l["seed"])).Should().BeEquivalentTo(new[] { ("resnet", "0"), ("mtcsnn", "0"), ("resnet", "1"), ("mtcsnn", "1") });

        // Per seed, the two models tested against each other on the same test images, from the predictions each wrote.
        var paired = lines.Where(l => l["#0"] == "paired").ToList();
        paired.Select(l => l["seed"]).Should().Equal("0", "1");
        foreach (var line in paired)
        {
            (int[,] Labels, double[,] Scores) Read(string model)
            {
                var rows = File.ReadAllLines(_folder[$"out/seed{line["seed"]}/{model}/test-predictions.csv"]).Skip(1).Where(r => r.Length > 0).Select(r => r.Split(',')).ToArray();
                var labels = new int[rows.Length, 1];
                var scores = new double[rows.Length, 5];
                for (int i = 0; i < rows.Length; i++)
                {
                    labels[i, 0] = int.Parse(rows[i][1], CultureInfo.InvariantCulture);
                    for (int k = 0; k < 5; k++) scores[i, k] = double.Parse(rows[i][2 + k], CultureInfo.InvariantCulture);
                }
                return (labels, scores);
            }
            var (labelsM, mtcsnn) = Read("mtcsnn");
            var (labelsR, resnet) = Read("resnet");
            labelsM.Should().BeEquivalentTo(labelsR);
            var delong = MedVision.Nets.Metrics.DeLong.Compare(MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, labelsM, mtcsnn, resnet);
            var mcnemar = MedVision.Nets.Metrics.McNemar.Compare(MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, labelsM, mtcsnn, resnet);
            static string P(double p) => double.IsNaN(p) ? "n/a" : p.ToString(p < 1e-4 ? "0.0E+0" : "0.0000", CultureInfo.InvariantCulture);
            line["auc_diff"].Should().Be(delong.Difference.ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture));
            line["delong_p"].Should().Be(P(delong.PValue));
            line["only_mtcsnn"].Should().Be(mcnemar.OnlyACorrect.ToString(CultureInfo.InvariantCulture));
            line["mcnemar_p"].Should().Be(P(mcnemar.PValue));
            var seedLines = lines.Where(l => l.ContainsKey("seed") && l["seed"] == line["seed"]).ToList();
            seedLines.Single(l => l["#0"] == "mtcsnn")["test_auc"].Should().Be(delong.AucA.ToString("F4", CultureInfo.InvariantCulture), "the file holds the predictions the model was scored on");
        }
        var summaries = lines.Where(l => l.ContainsKey("seeds")).ToList();
        summaries.Select(l => l["#0"]).Should().BeEquivalentTo("resnet", "mtcsnn");
        foreach (var summary in summaries)
        {
            var perSeed = lines.Where(l => l.ContainsKey("seed") && l["#0"] == summary["#0"]).Select(l => double.Parse(l["test_auc"], CultureInfo.InvariantCulture));
            double.Parse(summary["test_auc_mean"], CultureInfo.InvariantCulture).Should().BeApproximately(perSeed.Average(), 1e-4);
        }
        File.ReadAllLines(_folder["out/results.csv"]).Should().HaveCount(5, "a header and one row per model and seed");
        Directory.Exists(_folder["out/seed1/mtcsnn"]).Should().BeTrue();

        // Each selected model is also a model file (MTCSNN as the ResNet of its classification path) whose predictor
        // gives every test image the probabilities the comparison scored.
        var test = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(data).Test;
        foreach (var model in new[] { "mtcsnn", "resnet" })
        {
            var modelFile = _folder[$"out/seed0/{model}/model.safetensors"];
            var card = MedVision.Nets.Inference.ModelFile.ReadCard(modelFile);
            card.Architecture.Should().Be("resnet");
            card.ClassNames.Should().HaveCount(5);
            card.Task.Should().Be("OrdinalRegression");
            card.Metrics["test_auc"].Should().BeApproximately(double.Parse(lines.Single(l => l["#0"] == model && l.GetValueOrDefault("seed") == "0")["test_auc"], CultureInfo.InvariantCulture), 1e-4);
            var rows = File.ReadAllLines(_folder[$"out/seed0/{model}/test-predictions.csv"]).Skip(1).Where(r => r.Length > 0).Select(r => r.Split(',')).ToArray();
            using var predictor = MedVision.Nets.Inference.Predictor.Load(modelFile);
            for (int i = 0; i < test.Count; i++)
            {
                var prediction = predictor.PredictPixels(test.GetImage(i).ToArray(), 28, 28, 3);
                for (int k = 0; k < 5; k++)
                    ((double)prediction.Probabilities[k]).Should().BeApproximately(double.Parse(rows[i][2 + k], CultureInfo.InvariantCulture), 1e-5, $"{model}, test image {i}, grade {k}");
            }
        }
        compare.Text.Should().Contain("MTCSNN's score head left out");

        var summarize = await SampleApp.RunAsync("mtcsnn", _folder.Path, "summarize", _folder["out"]);
        summarize.ExitCode.Should().Be(0, summarize.ToString());
        summarize.Lines().Where(l => l.ContainsKey("seeds")).Select(l => l["test_auc_mean"])
            .Should().Equal(summaries.Select(l => l["test_auc_mean"]));
    }

    [Fact]
    public async Task Compare_WithCoralHeads_TrainsBothModelsWithThem_AndCountsTheirMedianGrades()
    {
        var data = _folder["retinamnist.npz"];
        TinyRetinaMnist.Write(data, train: 32, val: 16, test: 16);
        var compare = await SampleApp.RunAsync("mtcsnn", _folder.Path,
            "compare", "--data-file", data, "--epochs", "1", "--batch", "8", "--seeds", "0", "--depth", "18", "--stem", "small", "--head", "coral", "--threads", "1", "--output", _folder["coral"]);
        compare.ExitCode.Should().Be(0, compare.ToString());
        compare.Text.Should().Contain("CORAL heads (grades by the median)");
        var lines = compare.Lines();
        lines.Should().OnlyContain(l => l["head"] == "coral");
        File.ReadAllLines(_folder["coral/seed0/mtcsnn/history.csv"])[0].Should().Contain("train_coral").And.Contain("train_difference").And.NotContain("cross_entropy");

        var test = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(data).Test;
        var labels = new int[test.Count, 1];
        for (int i = 0; i < test.Count; i++) labels[i, 0] = test.Labels[i, 0];
        var scores = new Dictionary<string, double[,]>();
        foreach (var model in new[] { "mtcsnn", "resnet" })
        {
            var modelFile = _folder[$"coral/seed0/{model}/model.safetensors"];
            var card = MedVision.Nets.Inference.ModelFile.ReadCard(modelFile);
            card.HasCoralHead.Should().BeTrue(model);
            card.OrdinalDecision.Should().Be(MedVision.Nets.Metrics.OrdinalDecision.Median);
            var rows = File.ReadAllLines(_folder[$"coral/seed0/{model}/test-predictions.csv"]).Skip(1).Where(r => r.Length > 0).Select(r => r.Split(',')).ToArray();
            var table = new double[test.Count, 5];
            for (int i = 0; i < test.Count; i++)
                for (int k = 0; k < 5; k++) table[i, k] = double.Parse(rows[i][2 + k], CultureInfo.InvariantCulture);
            scores[model] = table;
            // The RESULT line's ACC is that of the median grades, which the model file's predictor predicts too.
            var medians = MedVision.Nets.Losses.OrdinalDecoding.MedianGrades(table);
            double acc = Enumerable.Range(0, test.Count).Count(i => medians[i] == labels[i, 0]) / (double)test.Count;
            lines.Single(l => l["#0"] == model && l.ContainsKey("seed"))["test_acc"].Should().Be(acc.ToString("F4", CultureInfo.InvariantCulture), model);
            using var predictor = MedVision.Nets.Inference.Predictor.Load(modelFile);
            for (int i = 0; i < test.Count; i++)
                predictor.PredictPixels(test.GetImage(i).ToArray(), 28, 28, 3).Label.Should().Be(medians[i], $"{model}, test image {i}");
        }
        var mcnemar = MedVision.Nets.Metrics.McNemar.Compare(MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, labels, scores["mtcsnn"], scores["resnet"],
            MedVision.Nets.Metrics.OrdinalDecision.Median, MedVision.Nets.Metrics.OrdinalDecision.Median);
        var paired = lines.Single(l => l["#0"] == "paired");
        paired["only_mtcsnn"].Should().Be(mcnemar.OnlyACorrect.ToString(CultureInfo.InvariantCulture));
        paired["only_resnet"].Should().Be(mcnemar.OnlyBCorrect.ToString(CultureInfo.InvariantCulture));
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
