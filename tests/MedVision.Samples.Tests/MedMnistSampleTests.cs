using System.Text.RegularExpressions;
using System.Globalization;
using MedVision.Nets.Inference;
using MedVision.Torch.TensorBoard;

namespace MedVision.Samples.Tests;

/// <summary>One ResNet-18 training run of the MedMnist sample on a small RetinaMNIST file, shared by the tests that use its model.</summary>
public sealed class MedMnistTrainedRun : IAsyncLifetime, IDisposable
{
    public TempFolder Folder { get; } = new();

    public string DataFile => Folder["retinamnist.npz"];

    public string RunFolder => Folder["run"];

    public SampleRun Train { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        TinyRetinaMnist.Write(DataFile);
        Train = await SampleApp.RunAsync("medmnist", Folder.Path,
            "train", "--data-file", DataFile, "--epochs", "1", "--batch", "16", "--threads", "1", "--output", RunFolder,
            "--tensorboard", Folder["board"], "--tensorboard-histograms");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => Folder.Dispose();
}

public sealed class MedMnistSampleTests(MedMnistTrainedRun run) : IClassFixture<MedMnistTrainedRun>
{
    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    // Fold f's rows of out-of-fold.csv (index, fold, label, p_0 … p_4): their labels (N, 1) and grade probabilities (N, 5).
    private static (int[,] Labels, double[,] Scores) FoldRows(string[][] rows, int f)
    {
        var mine = rows.Where(r => r[1] == f.ToString(CultureInfo.InvariantCulture)).ToArray();
        var labels = new int[mine.Length, 1];
        var scores = new double[mine.Length, 5];
        for (int i = 0; i < mine.Length; i++)
        {
            labels[i, 0] = int.Parse(mine[i][2], CultureInfo.InvariantCulture);
            for (int k = 0; k < 5; k++) scores[i, k] = D(mine[i][3 + k]);
        }
        return (labels, scores);
    }

    [Fact]
    public void Train_WritesTheModelFileCheckpointsHistoryAndAResultLine()
    {
        run.Train.ExitCode.Should().Be(0, run.Train.ToString());
        var result = run.Train.Lines().Should().ContainSingle().Subject;
        result["#0"].Should().Be("resnet18");
        result["#1"].Should().Be("retinamnist");
        result["epochs"].Should().Be("1");
        D(result["test_auc"]).Should().BeInRange(0, 1);
        D(result["test_acc"]).Should().BeInRange(0, 1);
        run.Train.Text.Should().Contain("train 48, val 16, test 16");
        // The banner names the libtorch, with the CUDA it was built with for a CUDA build.
        var cuda = MedVision.Torch.Tensors.Cuda.CompiledVersion;
        run.Train.Text.Should().Contain($"libtorch {MedVision.Torch.Tensors.Version}{(cuda is null ? "" : $" (CUDA {cuda})")} · ");
        // The banner warns exactly when this libtorch's oneDNN failed the gradient check (e.g. Debian 13's libtorch 2.6).
        run.Train.Text.Contains("oneDNN off", StringComparison.Ordinal).Should().Be(
            MedVision.Torch.Tensors.OneDnnSelfCheck == MedVision.Torch.OneDnnCheckResult.Failed, run.Train.Text[..Math.Min(300, run.Train.Text.Length)]);

        foreach (var file in new[] { "model.safetensors", "best.safetensors", "last.safetensors", "result.json", "test-evaluation.csv", "training-curves.svg" })
        {
            File.Exists(Path.Combine(run.RunFolder, file)).Should().BeTrue(file);
        }
        var history = File.ReadAllLines(Path.Combine(run.RunFolder, "history.csv"));
        history.Should().HaveCount(2, "a header and one epoch");
        history[0].Should().StartWith("epoch,train_loss");
        double.IsFinite(D(history[1].Split(',')[1])).Should().BeTrue("the training loss is a number");
        Directory.EnumerateFiles(run.RunFolder, "*.tmp*").Should().BeEmpty("every file is written whole");
    }

    [Fact]
    public void Train_WithTensorBoard_WritesTheRunsSummariesAndItsHyperparameters()
    {
        run.Train.ExitCode.Should().Be(0, run.Train.ToString());
        var result = run.Train.Lines().Should().ContainSingle().Subject;
        var board = run.Folder["board"];
        var scalars = EventFileReader.ReadScalars(board);
        // 48 training images in batches of 16: three steps, one epoch.
        scalars.Where(p => p.Tag == "train/batch_loss").Select(p => p.Step).Should().Equal(0L, 1, 2);
        var history = File.ReadAllLines(Path.Combine(run.RunFolder, "history.csv"))[1].Split(',');
        scalars.Single(p => p.Tag == "train/loss").Value.Should().BeApproximately(D(history[1]), 1e-4);
        scalars.Select(p => p.Tag).Should().Contain(["validation/auc", "validation/acc", "train/learning_rate", "selected/validation/auc", "selected/train/auc"]);
        var events = Directory.GetFiles(board, "events.out.tfevents.*").SelectMany(EventFileReader.Read).SelectMany(e => e.Values).ToList();
        events.Where(v => v.Kind == SummaryValueKind.Histogram).Select(v => v.Tag).Should().Contain("parameters/conv1.weight").And.Contain("parameters/fc.bias");

        var hparams = Path.Combine(board, "hparams");
        EventFileReader.ReadScalars(hparams).Single(p => p.Tag == "hparam/test_auc").Value.Should().BeApproximately(D(result["test_auc"]), 1e-4);
        var plugin = Directory.GetFiles(hparams).SelectMany(EventFileReader.Read).SelectMany(e => e.Values).Where(v => v.PluginName == "hparams").ToList();
        plugin.Select(v => v.Tag).Should().Equal("_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info");
        System.Text.Encoding.UTF8.GetString(plugin[1].PluginContent.Span).Should().Contain("resnet18").And.Contain("retinamnist");
    }

    [Fact]
    public async Task Predict_PrintsEachImageWithTheLabelThePredictorGives()
    {
        var names = TinyRetinaMnist.WritePngs(run.Folder.Path, 4);
        var modelFile = Path.Combine(run.RunFolder, "model.safetensors");
        var predict = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", modelFile, .. names]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("task OrdinalRegression, classes 5, input 28×28");

        using var predictor = Predictor.Load(modelFile);
        var rows = predict.Output.Split('\n');
        foreach (var name in names)
        {
            var expected = predictor.PredictFile(Path.Combine(run.Folder.Path, name));
            var row = rows.Should().ContainSingle(r => r.Contains(name)).Subject;
            row.Should().Contain($"{expected.Label}: {expected.LabelName}")
                .And.Contain(expected.Probabilities[expected.Label].ToString("F3", CultureInfo.InvariantCulture))
                .And.Contain(expected.ExpectedGrade!.Value.ToString("F2", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>A model file's network (evaluation mode) and its predictor's batch of the first test images.</summary>
    private sealed record Explaining(Predictor Predictor, MedVision.Torch.Nn.Module<MedVision.Torch.Tensor, MedVision.Torch.Tensor> Network, MedVision.Torch.Tensor Input) : IDisposable
    {
        public void Dispose()
        {
            Network.Dispose();
            Predictor.Dispose();
        }
    }

    // The batch is registered in the caller's dispose scope, as the commands under test prepare theirs.
    private Explaining LoadForExplaining(string modelFile, int images)
    {
        var predictor = Predictor.Load(modelFile);
        var (network, _) = MedVision.Nets.Inference.ModelFile.Load(modelFile);
        network.Eval();
        var test = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile).Test;
        var input = predictor.Preprocess(Enumerable.Range(0, images).Select(i => MedVision.Nets.Transforms.FloatImage.FromBytesHwc(test.GetImage(i).ToArray(), 28, 28, 3)).ToArray());
        return new Explaining(predictor, network, input);
    }

    [Fact]
    public async Task Faithfulness_ScoresEveryMethodsMapsByDeletionAndInsertion_AsTheLibraryDoes()
    {
        var modelFile = Path.Combine(run.RunFolder, "model.safetensors");
        var csv = run.Folder["faithfulness.csv"];
        var scored = await SampleApp.RunAsync("medmnist", run.Folder.Path, "faithfulness", "--model", modelFile, "--data-file", run.DataFile, "--images", "3", "--steps", "7", "--csv", csv);
        scored.ExitCode.Should().Be(0, scored.ToString());
        scored.Lines("FAITHFULNESS").Select(l => l["method"]).Should().Equal("Grad-CAM", "Grad-CAM++", "integrated-gradients", "GradientSHAP", "DeepLIFT", "DeepLIFT-SHAP", "SmoothGrad", "saliency", "guided-backprop", "guided-Grad-CAM", "occlusion", "random");
        var rows = File.ReadAllLines(csv);
        rows.Should().HaveCount(4);
        rows[0].Should().StartWith("image,Grad-CAM deletion,Grad-CAM insertion,Grad-CAM++ deletion");
        var rollout = await SampleApp.RunAsync("medmnist", run.Folder.Path, "faithfulness", "--model", modelFile, "--data-file", run.DataFile, "--images", "1", "--methods", "attention-rollout,saliency");
        rollout.ExitCode.Should().Be(2, rollout.ToString());
        rollout.Error.Should().Contain("--methods attention-rollout maps a vision transformer's attention; this model is a ResNet.");

        // Image 0's Grad-CAM and integrated-gradients areas, recomputed with the library on the predictor's batch.
        using var scope = MedVision.Torch.Tensors.NewDisposeScope();
        using var loaded = LoadForExplaining(modelFile, images: 1);
        var (network, input) = (loaded.Network, loaded.Input);
        long target;
        using (MedVision.Torch.Tensors.NoGrad()) target = network.Call(input).ArgMax(1).Item<long>();
        var gradCam = MedVision.Nets.Explainability.GradCam.ForResNet((MedVision.Nets.Models.ResNet)network).Compute(input, [target]).ToArray(0);
        var integrated = new MedVision.Nets.Explainability.IntegratedGradients(network).Compute(input, [target]).ToMaps().ToArray(0);
        var fields = rows[1].Split(',').Skip(1).Select(D).ToArray();
        fields[0].Should().BeApproximately(MedVision.Nets.Explainability.Faithfulness.Deletion(network, input, gradCam, target, steps: 7).Area, 1e-9);
        fields[1].Should().BeApproximately(MedVision.Nets.Explainability.Faithfulness.Insertion(network, input, gradCam, target, steps: 7).Area, 1e-9);
        fields[4].Should().BeApproximately(MedVision.Nets.Explainability.Faithfulness.Deletion(network, input, integrated, target, steps: 7).Area, 1e-9);
        fields.Should().AllSatisfy(v => v.Should().BeInRange(0, 1));
    }

    [Fact]
    public async Task Faithfulness_CanStartInsertionFromTheBlurredImage_AsRiseDoes()
    {
        var modelFile = Path.Combine(run.RunFolder, "model.safetensors");
        var csv = run.Folder["faithfulness-blur.csv"];
        var scored = await SampleApp.RunAsync("medmnist", run.Folder.Path, "faithfulness", "--model", modelFile, "--data-file", run.DataFile, "--images", "1", "--steps", "5",
            "--insertion-start", "blur", "--methods", "Grad-CAM", "--csv", csv);
        scored.ExitCode.Should().Be(0, scored.ToString());
        scored.Lines("FAITHFULNESS").Select(l => l["method"]).Should().Equal(["Grad-CAM", "random"], "--methods chooses; the random map is always there");
        scored.Text.Should().Contain("insertion from the blurred image (σ 5, 11 taps)").And.Contain("class's softmax probability");

        using var scope = MedVision.Torch.Tensors.NewDisposeScope();
        using var loaded = LoadForExplaining(modelFile, images: 1);
        var (network, input) = (loaded.Network, loaded.Input);
        long target;
        using (MedVision.Torch.Tensors.NoGrad()) target = network.Call(input).ArgMax(1).Item<long>();
        var gradCam = MedVision.Nets.Explainability.GradCam.ForResNet((MedVision.Nets.Models.ResNet)network).Compute(input, [target]).ToArray(0);
        var fields = File.ReadAllLines(csv)[1].Split(',').Skip(1).Select(D).ToArray();
        var blurred = MedVision.Nets.Explainability.Faithfulness.Blur(input);
        fields[1].Should().BeApproximately(MedVision.Nets.Explainability.Faithfulness.Insertion(network, input, gradCam, target, blurred, steps: 5).Area, 1e-9, "insertion from the blurred image");
        fields[1].Should().NotBeApproximately(MedVision.Nets.Explainability.Faithfulness.Insertion(network, input, gradCam, target, steps: 5).Area, 1e-9, "not from zeros");
        fields[0].Should().BeApproximately(MedVision.Nets.Explainability.Faithfulness.Deletion(network, input, gradCam, target, steps: 5).Area, 1e-9, "deletion still goes towards zeros");
    }

    [Fact]
    public async Task SanityCheck_RandomisesTheModelBlockByBlock_AsTheLibraryDoes_AndTheInputControlNeverChanges()
    {
        var modelFile = Path.Combine(run.RunFolder, "model.safetensors");
        var csv = run.Folder["sanity.csv"];
        var checkedRun = await SampleApp.RunAsync("medmnist", run.Folder.Path, "sanity-check", "--model", modelFile, "--data-file", run.DataFile, "--images", "2", "--block-depth", "1",
            "--seed", "3", "--csv", csv);
        checkedRun.ExitCode.Should().Be(0, checkedRun.ToString());
        var lines = checkedRun.Lines("SANITY");
        lines.Select(l => l["method"]).Should().Equal("Grad-CAM", "Grad-CAM++", "integrated-gradients", "GradientSHAP", "DeepLIFT", "DeepLIFT-SHAP", "SmoothGrad", "saliency", "guided-backprop", "guided-Grad-CAM", "occlusion", "input");
        lines.Should().OnlyContain(l => l["steps"] == "7", "ResNet-18's stem conv and norm, four stages and head");
        lines[^1]["final_spearman"].Should().Be("1.0000", "the input does not depend on the weights");
        var rows = File.ReadAllLines(csv);
        rows.Should().HaveCount(1 + (12 * 7 * 2));
        rows[0].Should().Be("method,step,block,image,spearman,ssim");
        rows.Skip(1).Select(r => r.Split(',')[2]).Distinct().Should().Equal("fc", "layer4", "layer3", "layer2", "layer1", "bn1", "conv1");

        // Grad-CAM's rank correlations for both images at every step, recomputed with the library.
        using var scope = MedVision.Torch.Tensors.NewDisposeScope();
        using var loaded = LoadForExplaining(modelFile, images: 2);
        var (network, input) = (loaded.Network, loaded.Input);
        var gradCam = MedVision.Nets.Explainability.GradCam.ForResNet((MedVision.Nets.Models.ResNet)network);
        var expected = MedVision.Nets.Explainability.ParameterRandomization.Run(network, input, (x, t) => gradCam.Compute(x, t), blockDepth: 1, seed: 3);
        ShouldHoldTheRankCorrelations(rows.Skip(1).Select(r => r.Split(',')).ToArray(), "Grad-CAM", expected, 14);
    }

    // The sanity-check CSV's rows of one method (method,step,block,image,spearman,ssim) against the library's result.
    private static void ShouldHoldTheRankCorrelations(string[][] rows, string method, MedVision.Nets.Explainability.ParameterRandomizationResult expected, int count)
    {
        var methodRows = rows.Where(r => r[0] == method).ToArray();
        methodRows.Should().HaveCount(count);
        foreach (var r in methodRows)
        {
            int step = int.Parse(r[1], CultureInfo.InvariantCulture) - 1, image = int.Parse(r[3], CultureInfo.InvariantCulture);
            var rank = expected.Steps[step].RankCorrelations[image];
            if (double.IsNaN(rank)) r[4].Should().Be("NaN");
            else D(r[4]).Should().BeApproximately(rank, 1e-12, $"{method}, step {step + 1}, image {image}");
        }
    }

    [Fact]
    public async Task CrossValidate_SavesEveryFoldsModel_TheirOutOfFoldPredictions_AndAManifestOfTheirEnsemble()
    {
        var folder = run.Folder["cv"];
        string[] arguments = ["cross-validate", "--data-file", run.DataFile, "--folds", "3", "--epochs", "1", "--batch", "16", "--threads", "1", "--output", folder,
            "--tensorboard", run.Folder["cv-board"]];
        var cv = await SampleApp.RunAsync("medmnist", run.Folder.Path, arguments);
        cv.ExitCode.Should().Be(0, cv.ToString());
        // A TensorBoard run per fold, each with its one epoch's validation AUC.
        Directory.GetDirectories(run.Folder["cv-board"]).Select(Path.GetFileName).Should().BeEquivalentTo(["fold-1", "fold-2", "fold-3"]);
        foreach (var board in Directory.GetDirectories(run.Folder["cv-board"]))
            EventFileReader.ReadScalars(board).Where(p => p.Tag == "validation/auc").Should().ContainSingle(board);
        cv.Text.Should().Contain("3-fold cross-validation of the 48 training and 16 validation images pooled (64)");
        var line = cv.Lines().Should().ContainSingle().Subject;
        line["folds"].Should().Be("3");
        line["epochs"].Should().Be("1");

        // Every out-of-fold score is the prediction of the model file of the sample's fold (an independent path:
        // the deployable file through the Predictor) on the pooled image: training images first, then validation.
        var data = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile);
        var train = new MedVision.Nets.Data.Loading.MedMnistImageSource(data.Train);
        var validation = new MedVision.Nets.Data.Loading.MedMnistImageSource(data.Validation);
        var rows = File.ReadAllLines(Path.Combine(folder, "out-of-fold.csv")).Skip(1).Select(r => r.Split(',')).ToArray();
        rows.Should().HaveCount(64);
        var predictors = Enumerable.Range(1, 3).Select(f => Predictor.Load(Path.Combine(folder, $"fold-{f}", "model.safetensors"))).ToArray();
        try
        {
            var oofScores = new double[64, 5];
            var oofLabels = new int[64, 1];
            for (int i = 0; i < 64; i++)
            {
                int fold = int.Parse(rows[i][1], CultureInfo.InvariantCulture);
                var (image, labels) = i < 48 ? train.Load(i) : validation.Load(i - 48);
                rows[i][2].Should().Be(labels[0].ToString(CultureInfo.InvariantCulture));
                var expected = predictors[fold - 1].Predict(image);
                for (int k = 0; k < 5; k++)
                {
                    oofScores[i, k] = D(rows[i][3 + k]);
                    oofScores[i, k].Should().BeApproximately(expected.Probabilities[k], 1e-5, "sample {0}, fold {1}, class {2}", i, fold, k);
                }
                oofLabels[i, 0] = labels[0];
            }
            rows.Select(r => r[1]).Distinct().Should().BeEquivalentTo("1", "2", "3");
            var oofAuc = MedVision.Nets.Metrics.MedMnistEvaluator.GetAuc(MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, oofLabels, oofScores).Value;
            line["oof_auc"].Should().Be(oofAuc.ToString("F4", CultureInfo.InvariantCulture));
        }
        finally
        {
            foreach (var p in predictors) p.Dispose();
        }

        // The manifest lists the three fold models; as an ensemble they score on the test split what the run printed.
        var manifest = Path.Combine(folder, "ensemble.json");
        EnsemblePredictor.ReadManifest(manifest).ModelPaths.Select(Path.GetFullPath).Should()
            .Equal(Enumerable.Range(1, 3).Select(f => Path.GetFullPath(Path.Combine(folder, $"fold-{f}", "model.safetensors"))));
        var test = new MedVision.Nets.Data.Loading.MedMnistImageSource(data.Test);
        using (var ensemble = EnsemblePredictor.LoadManifest(manifest))
        {
            var predictions = ensemble.Predict(Enumerable.Range(0, data.Test.Count).Select(i => test.Load(i).Image).ToList());
            var scores = new double[data.Test.Count, 5];
            for (int i = 0; i < data.Test.Count; i++) for (int k = 0; k < 5; k++) scores[i, k] = predictions[i].Probabilities[k];
            var auc = MedVision.Nets.Metrics.MedMnistEvaluator.GetAuc(MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, data.Test.Labels, scores).Value;
            D(line["ensemble_test_auc"]).Should().BeApproximately(auc, 1e-4 + 5e-5);
        }
        using (var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "cross-validation.json"))))
            summary.RootElement.GetProperty("ensemble_test").GetProperty("acc").GetDouble().ToString("F4", CultureInfo.InvariantCulture).Should().Be(line["ensemble_test_acc"]);

        // Resumed, the finished folds are only re-predicted: the same result line.
        var resumed = await SampleApp.RunAsync("medmnist", run.Folder.Path, [.. arguments, "--resume"]);
        resumed.ExitCode.Should().Be(0, resumed.ToString());
        resumed.Lines().Should().ContainSingle().Which.Should().BeEquivalentTo(line);
        resumed.Text.Should().NotContain("epoch 1:", "no fold trains again");
        // --calibrate (here on resuming) stores in each fold's model file the temperature fitted on its own fold's
        // out-of-fold rows; evaluate knows the fold models trained on the validation split and fits nothing on it.
        var calibrated = await SampleApp.RunAsync("medmnist", run.Folder.Path, [.. arguments, "--resume", "--calibrate"]);
        calibrated.ExitCode.Should().Be(0, calibrated.ToString());
        for (int f = 1; f <= 3; f++)
        {
            var (labels, scores) = FoldRows(rows, f);
            var expected = MedVision.Nets.Metrics.TemperatureScaling.FitFromProbabilities(labels, scores).Temperature;
            ModelFile.ReadCard(Path.Combine(folder, $"fold-{f}", "model.safetensors")).Temperature.Should().BeApproximately(expected, 1e-6, "fold {0}", f);
        }
        var evaluate = await SampleApp.RunAsync("medmnist", run.Folder.Path, "evaluate", "--model", manifest, "--data-file", run.DataFile, "--output", run.Folder["cv-evaluation"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        evaluate.Text.Should().Contain("these models come from a cross-validation").And.Contain("val (trained on)").And.NotContain("after temperature scaling");
        evaluate.Lines("EVALUATION").Should().ContainSingle().Which.Should().ContainKey("test_ece").And.NotContainKey("temperature");

        var otherFolds = await SampleApp.RunAsync("medmnist", run.Folder.Path, [.. arguments, "--resume", "--seed", "3"]);
        otherFolds.ExitCode.Should().Be(2, "a resume that conflicts with the folder is reported, not a crash: {0}", otherFolds);
        otherFolds.Error.Should().Contain("folds of this configuration differ from those of the run in").And.NotContain("Unhandled exception");
        var tooMany = await SampleApp.RunAsync("medmnist", run.Folder.Path, "cross-validate", "--data-file", run.DataFile, "--folds", "65", "--output", run.Folder["cv-65"]);
        tooMany.ExitCode.Should().Be(2, tooMany.ToString());
        tooMany.Error.Should().Contain("--folds 65 exceeds the 64 pooled training and validation images.");
        Directory.Exists(run.Folder["cv-65"]).Should().BeFalse("nothing is written for a run that cannot start");
    }

    [Fact]
    public async Task Train_WithBalancedClassWeightsAndLabelSmoothing_SaysWhichLoss()
    {
        // The first 48 training images (the shared tiny file): weights n / (K · n_k) of their labels.
        var labels = MedVision.Nets.Data.MedMnist.MedMnistDataset.LoadEmbeddedRetinaMnist().Train.Labels;
        var counts = Enumerable.Range(0, 5).Select(k => Enumerable.Range(0, 48).Count(i => labels[i, 0] == k)).ToArray();
        var expected = string.Join(", ", counts.Select(n => (48.0 / (5 * n)).ToString("0.###", CultureInfo.InvariantCulture)));
        var weighted = await SampleApp.RunAsync("medmnist", run.Folder.Path, "train", "--data-file", run.DataFile, "--epochs", "1", "--batch", "16", "--threads", "1",
            "--class-weights", "balanced", "--label-smoothing", "0.1", "--output", run.Folder["weighted"]);
        weighted.ExitCode.Should().Be(0, weighted.ToString());
        weighted.Text.Should().Contain($"Loss: cross-entropy, balanced class weights {expected}, label smoothing 0.1 (not part of the MedMNIST recipe)");
        run.Train.Text.Should().NotContain("Loss:", "the recipe's plain cross-entropy needs no line");

        // A class missing from the training split has no balanced weight.
        var file = run.Folder["no-grade-4/retinamnist.npz"];
        var firstWithout4 = Enumerable.Range(0, labels.GetLength(0)).Where(i => labels[i, 0] != 4).Take(24).Select(i => ("train", i)).ToArray();
        TinyRetinaMnist.WriteFrom(file, firstWithout4, [("val", 0), ("val", 1)], [("test", 0), ("test", 1)]);
        var missing = await SampleApp.RunAsync("medmnist", run.Folder.Path, "train", "--data-file", file, "--epochs", "1", "--class-weights", "balanced", "--output", run.Folder["no-grade-4/run"]);
        missing.ExitCode.Should().Be(2, missing.ToString());
        missing.Error.Should().Contain("--class-weights balanced: Class 4 has no label among the 24");
    }

    [Fact]
    public async Task Train_WithACoralHead_WritesACoralModelFile_ThatPredictAndEvaluateRead()
    {
        var coral = await SampleApp.RunAsync("medmnist", run.Folder.Path, "train", "--data-file", run.DataFile, "--epochs", "1", "--batch", "16", "--threads", "1",
            "--head", "coral", "--mixup", "0.2", "--output", run.Folder["coral"]);
        coral.ExitCode.Should().Be(0, coral.ToString());
        coral.Text.Should().Contain("(small-input stem, 28×28, CORAL head)")
            .And.Contain("Loss: CORAL (a binary cross-entropy for each of the 4 thresholds grade > k)")
            .And.Contain("Training batches are mixed: Mixup");
        var result = coral.Lines().Should().ContainSingle().Subject;
        result["head"].Should().Be("coral");
        File.ReadAllLines(run.Folder["coral/history.csv"])[0].Should().StartWith("epoch,train_loss,train_coral,");
        var modelFile = run.Folder["coral/model.safetensors"];
        var card = ModelFile.ReadCard(modelFile);
        card.HasCoralHead.Should().BeTrue();
        card.FormatVersion.Should().Be(9);
        card.OrdinalDecision.Should().Be(MedVision.Nets.Metrics.OrdinalDecision.Median);
        // The test ACC is that of CORAL's prediction, the median grade: the report's confusion matrix counts the same grades.
        double.Parse(File.ReadAllLines(run.Folder["coral/test-evaluation.csv"]).Single(l => l.StartsWith("ACC,", StringComparison.Ordinal)).Split(',')[1], CultureInfo.InvariantCulture)
            .ToString("F4", CultureInfo.InvariantCulture).Should().Be(result["test_acc"]);

        // evaluate reads the file through the predictor (the grades' probabilities of the cumulative logits) and gets train's test measures.
        var evaluate = await SampleApp.RunAsync("medmnist", run.Folder.Path, "evaluate", "--model", modelFile, "--data-file", run.DataFile, "--output", run.Folder["coral-evaluation"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var line = evaluate.Lines("EVALUATION").Should().ContainSingle().Subject;
        line["test_auc"].Should().Be(result["test_auc"]);
        line["test_acc"].Should().Be(result["test_acc"]);
        // Selective prediction ranks the median grades by their probabilities and counts their errors.
        var testData = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile).Test;
        using var scorer = Predictor.Load(modelFile);
        var testScores = new double[testData.Count, 5];
        for (int i = 0; i < testData.Count; i++)
        {
            var p = scorer.PredictPixels(testData.GetImage(i).ToArray(), 28, 28, 3).Probabilities;
            for (int k = 0; k < 5; k++) testScores[i, k] = p[k];
        }
        // test-predictions.csv: each test image's label, its predicted (median) grade and the grades' probabilities.
        var written = File.ReadAllLines(run.Folder["coral-evaluation/test-predictions.csv"]);
        written[0].Should().Be("index,label,predicted,p_0,p_1,p_2,p_3,p_4");
        written.Should().HaveCount(testData.Count + 1);
        var medians = MedVision.Nets.Losses.OrdinalDecoding.MedianGrades(testScores);
        for (int i = 0; i < testData.Count; i++)
        {
            var cells = written[i + 1].Split(',');
            (cells[0], cells[1], cells[2]).Should().Be((i.ToString(CultureInfo.InvariantCulture), testData.Labels[i, 0].ToString(CultureInfo.InvariantCulture), medians[i].ToString(CultureInfo.InvariantCulture)));
            for (int k = 0; k < 5; k++) double.Parse(cells[3 + k], CultureInfo.InvariantCulture).Should().BeApproximately(testScores[i, k], 1e-6);
        }
        var curve = MedVision.Nets.Metrics.Selective.RiskCoverageCurve.Compute(testData.Labels, testScores, MedVision.Nets.Metrics.OrdinalDecision.Median);
        evaluate.Text.Should().Contain("Selective prediction (test, by the median grade's probability)");
        line["test_aurc"].Should().Be(curve.Aurc.ToString("F4", CultureInfo.InvariantCulture));
        (1 - curve.FullCoverageRisk).ToString("F4", CultureInfo.InvariantCulture).Should().Be(result["test_acc"], "the curve's errors are the median grades'");

        // compare counts each side's own grades: the CORAL model's median ones against the softmax model's most probable ones.
        var linearModel = Path.Combine(run.RunFolder, "model.safetensors");
        var compare = await SampleApp.RunAsync("medmnist", run.Folder.Path, "compare", "--model", modelFile, "--against", linearModel, "--data-file", run.DataFile, "--threads", "1", "--resamples", "100");
        compare.ExitCode.Should().Be(0, compare.ToString());
        compare.Text.Should().Contain("A decides by the median grade (a CORAL head's rule)").And.NotContain("B decides by the median");
        var comparison = compare.Lines("COMPARISON").Should().ContainSingle().Subject;
        comparison["acc_a"].Should().Be(result["test_acc"]);
        comparison["acc_b"].Should().Be(run.Train.Lines().Single()["test_acc"]);

        // faithfulness follows the median grade's probability (a softmax over the cumulative logits would never move).
        var faithfulness = await SampleApp.RunAsync("medmnist", run.Folder.Path, "faithfulness", "--model", modelFile, "--data-file", run.DataFile, "--images", "2", "--steps", "4",
            "--methods", "grad-cam,occlusion", "--threads", "1");
        faithfulness.ExitCode.Should().Be(0, faithfulness.ToString());
        faithfulness.Text.Should().Contain("median grade's probability under the CORAL head");
        faithfulness.Lines("FAITHFULNESS").Should().HaveCount(3);

        var names = TinyRetinaMnist.WritePngs(run.Folder.Path, 3);
        var predict = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", modelFile, .. names]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("resnet basic 2-2-2-2, CORAL head, task OrdinalRegression (median grade), classes 5");
        using var predictor = Predictor.Load(modelFile);
        var rows = predict.Output.Split('\n');
        foreach (var name in names)
        {
            var expected = predictor.PredictFile(Path.Combine(run.Folder.Path, name));
            expected.Probabilities.Should().HaveCount(5);
            var row = new double[1, 5];
            for (int k = 0; k < 5; k++) row[0, k] = expected.Probabilities[k];
            expected.Label.Should().Be(MedVision.Nets.Losses.OrdinalDecoding.MedianGrades(row)[0], "a CORAL model predicts its median grade");
            rows.Should().ContainSingle(r => r.Contains(name)).Which.Should().Contain($"{expected.Label}: {expected.LabelName}")
                .And.Contain(expected.ExpectedGrade!.Value.ToString("F2", CultureInfo.InvariantCulture));
        }

        // conformal's table of test predictions names each image's median grade too.
        var conformal = await SampleApp.RunAsync("medmnist", run.Folder.Path, "conformal", "--model", modelFile, "--data-file", run.DataFile, "--coverage", "0.8", "--trials", "0",
            "--threads", "1", "--output", run.Folder["coral-conformal"]);
        conformal.ExitCode.Should().Be(0, conformal.ToString());
        var test = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile).Test;
        var sets = File.ReadAllLines(run.Folder["coral-conformal/test-sets.csv"]).Skip(1).ToArray();
        sets.Should().HaveCount(test.Count);
        for (int i = 0; i < test.Count; i++)
            sets[i].Split(',')[2].Should().Be(predictor.PredictPixels(test.GetImage(i).ToArray(), 28, 28, 3).Label.ToString(CultureInfo.InvariantCulture), $"test image {i}");

        // evaluate's temperature for a median-deciding model is fitted on the cumulative logits of the validation split's
        // probabilities, which keeps the median grades; --calibrate (here on resuming the finished run) stores one fitted on
        // the validation split's cumulative logits themselves: the same temperature, the same grades, other probabilities.
        var validation = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile).Validation;
        var valScores = new double[validation.Count, 5];
        for (int i = 0; i < validation.Count; i++)
        {
            var p = scorer.PredictPixels(validation.GetImage(i).ToArray(), 28, 28, 3).Probabilities;
            for (int k = 0; k < 5; k++) valScores[i, k] = p[k];
        }
        var fitted = MedVision.Nets.Metrics.TemperatureScaling.FitCumulative(validation.Labels, MedVision.Nets.Losses.OrdinalDecoding.ToCumulativeLogits(valScores)).Temperature;
        evaluate.Text.Should().Contain("on the cumulative logits, fitted on val");
        D(line["temperature"]).Should().BeApproximately(fitted, 1e-4 + 5e-5);
        var calibrated = await SampleApp.RunAsync("medmnist", run.Folder.Path, "train", "--data-file", run.DataFile, "--epochs", "1", "--batch", "16", "--threads", "1",
            "--head", "coral", "--mixup", "0.2", "--output", run.Folder["coral"], "--resume", "--calibrate");
        calibrated.ExitCode.Should().Be(0, calibrated.ToString());
        calibrated.Text.Should().Contain("on the CORAL head's cumulative logits");
        var calibratedCard = ModelFile.ReadCard(modelFile);
        calibratedCard.CoralTemperature.Should().Be(MedVision.Nets.Losses.CoralTemperature.CumulativeLogits);
        calibratedCard.FormatVersion.Should().Be(10);
        calibratedCard.OrdinalDecision.Should().Be(MedVision.Nets.Metrics.OrdinalDecision.Median);
        calibratedCard.Temperature.Should().BeApproximately(fitted, 1e-3 * fitted).And.NotBe(1);
        using (var calibratedPredictor = Predictor.Load(modelFile))
        {
            double moved = 0;
            for (int i = 0; i < testData.Count; i++)
            {
                var prediction = calibratedPredictor.PredictPixels(testData.GetImage(i).ToArray(), 28, 28, 3);
                prediction.Label.Should().Be(medians[i], $"test image {i} keeps its median grade");
                for (int k = 0; k < 5; k++) moved = Math.Max(moved, Math.Abs(prediction.Probabilities[k] - testScores[i, k]));
            }
            moved.Should().BeGreaterThan(1e-4, "the temperature changes the probabilities");
        }
        var calibratedPredict = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", modelFile, .. names]);
        calibratedPredict.ExitCode.Should().Be(0, calibratedPredict.ToString());
        calibratedPredict.Text.Should().Contain(string.Create(CultureInfo.InvariantCulture, $"(median grade), classes 5, input 28×28, temperature {calibratedCard.Temperature:G4} on the cumulative logits"));
        // evaluate of the calibrated file: its test calibration, and at temperature 1 that of the file before --calibrate.
        var calibratedEvaluate = await SampleApp.RunAsync("medmnist", run.Folder.Path, "evaluate", "--model", modelFile, "--data-file", run.DataFile, "--output", run.Folder["coral-calibrated-evaluation"]);
        calibratedEvaluate.ExitCode.Should().Be(0, calibratedEvaluate.ToString());
        calibratedEvaluate.Text.Should().Contain("at the model file's temperature (T = ").And.Contain("on the cumulative logits) — at temperature 1 it would be");
        var calibratedLine = calibratedEvaluate.Lines("EVALUATION").Should().ContainSingle().Subject;
        calibratedLine["card_temperature"].Should().Be(calibratedCard.Temperature.ToString("F4", CultureInfo.InvariantCulture));
        D(calibratedLine["test_ece_uncalibrated"]).Should().BeApproximately(D(line["test_ece"]), 1e-3, "the uncalibrated model's test ECE, as evaluate measured it before");
        D(calibratedLine["test_nll_uncalibrated"]).Should().BeApproximately(D(line["test_nll"]), 1e-3);
        calibratedLine["test_acc"].Should().Be(line["test_acc"], "the temperature keeps the median grades");

        // What a CORAL head cannot do is refused before anything runs.
        var vit = await SampleApp.RunAsync("medmnist", run.Folder.Path, "train", "--data-file", run.DataFile, "--head", "coral", "--model", "vit-tiny", "--output", run.Folder["coral-vit"]);
        vit.ExitCode.Should().Be(2, vit.ToString());
        vit.Error.Should().Contain("--head coral ends a ResNet; a vision transformer keeps its linear head.");
        var weighted = await SampleApp.RunAsync("medmnist", run.Folder.Path, "train", "--data-file", run.DataFile, "--head", "coral", "--class-weights", "balanced", "--epochs", "1", "--output", run.Folder["coral-weighted"]);
        weighted.ExitCode.Should().Be(2, weighted.ToString());
        weighted.Error.Should().Contain("--head coral trains a binary cross-entropy per grade threshold");
    }

    [Fact]
    public async Task PredictAndEvaluate_WithSeveralModels_AverageThemAsAnEnsemble()
    {
        var second = run.Folder["run-seed7"];
        var train = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "1", "--batch", "16", "--threads", "1", "--seed", "7", "--output", second);
        train.ExitCode.Should().Be(0, train.ToString());
        var models = new[] { Path.Combine(run.RunFolder, "model.safetensors"), Path.Combine(second, "model.safetensors") };

        var names = TinyRetinaMnist.WritePngs(run.Folder.Path, 4);
        var predict = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", models[0], "--model", models[1], "--csv", "predictions.csv", .. names]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("Ensemble of 2 models").And.Contain("1. model.safetensors: resnet").And.Contain("agreement");
        var csv = File.ReadAllLines(run.Folder["predictions.csv"]);
        csv[0].Should().Be("input,label,label_name,p_0,p_1,p_2,p_3,p_4,expected_grade,agreement");
        csv.Should().HaveCount(names.Length + 1);
        using (var ensemble = EnsemblePredictor.Load(models))
        {
            var rows = predict.Output.Split('\n');
            foreach (var (name, i) in names.Select((n, i) => (n, i)))
            {
                var expected = ensemble.PredictFile(Path.Combine(run.Folder.Path, name));
                var fields = csv[i + 1].Split(',');
                fields[0].Should().Be(name);
                fields[1].Should().Be(expected.Label.ToString(CultureInfo.InvariantCulture));
                // predict ran the four images as one batch, PredictFile one: oneDNN may sum in another order per batch size
                fields.Skip(3).Take(5).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).Should().Equal(expected.Probabilities, (a, e) => Math.Abs(a - e) < 1e-6);
                double.Parse(fields[9], CultureInfo.InvariantCulture).Should().Be(expected.Agreement);
                rows.Should().ContainSingle(r => r.Contains(name)).Which.Should().Contain($"{expected.Label}: {expected.LabelName}")
                    .And.Contain(expected.Probabilities[expected.Label].ToString("F3", CultureInfo.InvariantCulture))
                    .And.Contain($"{expected.Members.Count(m => m.Label == expected.Label)}/2")
                    .And.Contain($"{expected.Members[0].Label} {expected.Members[1].Label}");
            }
        }

        var evaluate = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "evaluate", "--model", models[0], "--model", models[1], "--dataset", "retinamnist", "--data-file", run.DataFile, "--output", run.Folder["evaluation-ensemble"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        evaluate.Text.Should().Contain("test (ensemble)").And.Contain("test, model 2 alone");
        var line = evaluate.Lines("EVALUATION").Should().ContainSingle().Subject;
        line["#0"].Should().Be("ensemble:run,run-seed7");
        line["members"].Should().Be("2");
        line["member_test_auc"].Should().Be($"{run.Train.Lines().Single()["test_auc"]},{train.Lines().Single()["test_auc"]}", "each member alone scores what its training run printed");
        line["member_test_acc"].Should().Be($"{run.Train.Lines().Single()["test_acc"]},{train.Lines().Single()["test_acc"]}");
        var test = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile).Test;
        using (var ensemble = EnsemblePredictor.Load(models))
        {
            var source = new MedVision.Nets.Data.Loading.MedMnistImageSource(test);
            var predictions = ensemble.Predict(Enumerable.Range(0, test.Count).Select(i => source.Load(i).Image).ToList());
            var scores = new double[test.Count, 5];
            for (int i = 0; i < test.Count; i++) for (int k = 0; k < 5; k++) scores[i, k] = predictions[i].Probabilities[k];
            var auc = MedVision.Nets.Metrics.MedMnistEvaluator.GetAuc(MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, test.Labels, scores).Value;
            line["test_auc"].Should().Be(auc.ToString("F4", CultureInfo.InvariantCulture));
            // Against each member: the paired bootstrap's difference and interval.
            var member = new double[test.Count, 5];
            for (int i = 0; i < test.Count; i++) for (int k = 0; k < 5; k++) member[i, k] = predictions[i].Members[1].Probabilities[k];
            var comparison = MedVision.Nets.Metrics.BootstrapEstimator.Compare(MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, test.Labels, scores, member);
            static string Signed(double v) => v.ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture);
            var aucCell = $"{Signed(comparison.AucDifference)} [{Signed(comparison.AucDifferenceInterval.Lower)}, {Signed(comparison.AucDifferenceInterval.Upper)}]";
            var accCell = $"{Signed(comparison.AccDifference)} [{Signed(comparison.AccDifferenceInterval.Lower)}, {Signed(comparison.AccDifferenceInterval.Upper)}]";
            static string P(double p) => double.IsNaN(p) ? "n/a" : p.ToString(p < 1e-4 ? "0.0E+0" : "0.0000", CultureInfo.InvariantCulture);
            var delongP = P(MedVision.Nets.Metrics.DeLong.Compare(MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, test.Labels, scores, member).PValue);
            var mcnemarP = P(MedVision.Nets.Metrics.McNemar.Compare(MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, test.Labels, scores, member).PValue);
            evaluate.Output.Split('\n').Should().ContainSingle(r => r.Contains("model 2") && r.Contains(aucCell)).Which.Should().Contain(accCell);
            evaluate.Output.Split('\n').Should().ContainSingle(r => Regex.IsMatch(r, $"model 2 +│ +{Regex.Escape(delongP)} +│ +{Regex.Escape(mcnemarP)} +│"), "the paired tests' table");
            evaluate.Text.Should().Contain("paired bootstrap");
        }
        File.Exists(run.Folder["evaluation-ensemble/test-reliability.svg"]).Should().BeTrue();
        File.Exists(run.Folder["evaluation-ensemble/test-gradcam.png"]).Should().BeFalse("a Grad-CAM grid explains one model");

        // The two runs as one deployable file: an ensemble manifest, weighted.
        var manifest = run.Folder["ensemble.json"];
        EnsemblePredictor.SaveManifest(manifest, models, new[] { 3.0, 1.0 });
        var fromManifest = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", manifest, .. names]);
        fromManifest.ExitCode.Should().Be(0, fromManifest.ToString());
        fromManifest.Text.Should().Contain("Ensemble of 2 models (probabilities averaged, weights 0.75, 0.25)");
        using (var weighted = EnsemblePredictor.LoadManifest(manifest))
        {
            var rows = fromManifest.Output.Split('\n');
            foreach (var name in names)
            {
                var expected = weighted.PredictFile(Path.Combine(run.Folder.Path, name));
                rows.Should().ContainSingle(r => r.Contains(name)).Which.Should().Contain($"{expected.Label}: {expected.LabelName}")
                    .And.Contain(expected.Probabilities[expected.Label].ToString("F3", CultureInfo.InvariantCulture));
            }
        }
        var evaluateManifest = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "evaluate", "--model", manifest, "--dataset", "retinamnist", "--data-file", run.DataFile, "--output", run.Folder["evaluation-manifest"]);
        evaluateManifest.ExitCode.Should().Be(0, evaluateManifest.ToString());
        evaluateManifest.Lines("EVALUATION").Should().ContainSingle().Which["members"].Should().Be("2");
        var manifestAndMore = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", manifest, "--model", models[0], .. names]);
        manifestAndMore.ExitCode.Should().Be(2, manifestAndMore.ToString());
        manifestAndMore.Error.Should().Contain("is an ensemble manifest, which lists the whole ensemble: give it as the only --model.");

        // --heatmaps: the models' maps of the ensemble's class, averaged, over each image.
        var heatmaps = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", models[0], "--model", models[1], "--heatmaps", run.Folder["maps-ensemble"], .. names]);
        heatmaps.ExitCode.Should().Be(0, heatmaps.ToString());
        heatmaps.Text.Should().Contain("maps of the ensemble's classes");
        using (var ensemble = EnsemblePredictor.Load(models))
        {
            var rows = heatmaps.Output.Split('\n');
            foreach (var name in names)
            {
                var explanation = ensemble.ExplainFile(Path.Combine(run.Folder.Path, name));
                rows.Should().ContainSingle(r => r.Contains(name)).Which.Should().Contain($"{explanation.Prediction.Label}: {explanation.Prediction.LabelName}");
                var written = MedVision.Nets.Data.Images.ImageCodec.DecodeFile(run.Folder[$"maps-ensemble/{Path.GetFileNameWithoutExtension(name)}-gradcam.png"]);
                written.Pixels.Should().Equal(explanation.Overlay(MedVision.Nets.Data.Images.ImageCodec.DecodeFile(Path.Combine(run.Folder.Path, name))).Pixels);
            }
        }
        // --attribution: the members' integrated-gradients maps instead, NAME-integratedgradients.png.
        var attributed = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", models[0], "--model", models[1], "--heatmaps", run.Folder["maps-ig"], "--attribution", "IntegratedGradients", names[0]]);
        attributed.ExitCode.Should().Be(0, attributed.ToString());
        attributed.Text.Should().Contain("IntegratedGradients maps of the ensemble's classes").And.Contain("-integratedgradients.png");
        using (var ensemble = EnsemblePredictor.Load(models))
        {
            var explanation = ensemble.ExplainFile(Path.Combine(run.Folder.Path, names[0]), MedVision.Nets.Explainability.AttributionMethod.IntegratedGradients);
            var written = MedVision.Nets.Data.Images.ImageCodec.DecodeFile(run.Folder[$"maps-ig/{Path.GetFileNameWithoutExtension(names[0])}-integratedgradients.png"]);
            written.Pixels.Should().Equal(explanation.Overlay(MedVision.Nets.Data.Images.ImageCodec.DecodeFile(Path.Combine(run.Folder.Path, names[0]))).Pixels);
        }
        // --attribution DeepLiftShap against --references (a folder, expanded to its images in name order), as the
        // predictor explains against the same reference files; the convergence delta is reported.
        var references = run.Folder["references"];
        Directory.CreateDirectory(references);
        foreach (var name in names.Skip(1)) File.Copy(Path.Combine(run.Folder.Path, name), Path.Combine(references, name));
        var shap = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", models[1], "--heatmaps", run.Folder["maps-dls"], "--attribution", "DeepLiftShap", "--references", references, names[0]]);
        shap.ExitCode.Should().Be(0, shap.ToString());
        shap.Text.Should().Contain("DeepLiftShap maps of the predicted classes").And.Contain("Convergence delta (the attributions' sum minus the logit change they share out)");
        using (var one = Predictor.Load(models[1]))
        {
            var referenceFiles = names.Skip(1).Select(n => Path.Combine(references, n)).Order(StringComparer.Ordinal).ToArray();
            var explanation = one.ExplainFile(Path.Combine(run.Folder.Path, names[0]), MedVision.Nets.Explainability.AttributionMethod.DeepLiftShap,
                options: MedVision.Nets.Explainability.AttributionOptions.Default with { ReferenceFiles = referenceFiles });
            var written = MedVision.Nets.Data.Images.ImageCodec.DecodeFile(run.Folder[$"maps-dls/{Path.GetFileNameWithoutExtension(names[0])}-deepliftshap.png"]);
            written.Pixels.Should().Equal(explanation.Overlay(MedVision.Nets.Data.Images.ImageCodec.DecodeFile(Path.Combine(run.Folder.Path, names[0]))).Pixels);
            shap.Text.Should().Contain(string.Create(CultureInfo.InvariantCulture, $"{explanation.ConvergenceDelta!.Value:G3} of {explanation.ScoreChange!.Value:G4} ({names[0]}; 1 input(s))"));
        }
        var noReferences = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", models[1], "--heatmaps", run.Folder["maps-dls"], "--attribution", "GradientShap", "--references", run.Folder["no-such-folder"], names[0]]);
        noReferences.ExitCode.Should().Be(2, noReferences.ToString());
        noReferences.Error.Should().Contain("--references").And.Contain("no-such-folder: no such file or folder");
        // A TorchScript model gives gradients (saliency maps) but runs its own ReLUs: the guided methods and DeepLIFT are refused by name.
        var script = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny_torchscript_classifier.pt");
        var scriptSaliency = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", script, "--heatmaps", run.Folder["maps-script"], "--attribution", "Saliency", names[0]]);
        scriptSaliency.ExitCode.Should().Be(0, scriptSaliency.ToString());
        File.Exists(run.Folder[$"maps-script/{Path.GetFileNameWithoutExtension(names[0])}-saliency.png"]).Should().BeTrue();
        var scriptGuided = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", script, "--heatmaps", run.Folder["maps-script-guided"], "--attribution", "GuidedBackprop", names[0]]);
        scriptGuided.ExitCode.Should().Be(2, scriptGuided.ToString());
        scriptGuided.Error.Should().Contain("--attribution GuidedBackprop changes the backward pass of the ReLUs this library runs, and a torchscript model runs its own").And.Contain("tiny_torchscript_classifier.pt");
        var scriptDeepLift = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", script, "--heatmaps", run.Folder["maps-script-guided"], "--attribution", "DeepLift", names[0]]);
        scriptDeepLift.ExitCode.Should().Be(2, scriptDeepLift.ToString());
        scriptDeepLift.Error.Should().Contain("--attribution DeepLift changes the backward pass of the ReLUs this library runs, and a torchscript model runs its own");
        var scriptGuidedCam = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", script, "--heatmaps", run.Folder["maps-script-guided"], "--attribution", "GuidedGradCam", names[0]]);
        scriptGuidedCam.ExitCode.Should().Be(2, scriptGuidedCam.ToString());
        scriptGuidedCam.Error.Should().Contain("--attribution GuidedGradCam needs a ResNet model file").And.Contain("holds a torchscript model").And.Contain("tiny_torchscript_classifier.pt");
        Directory.Exists(run.Folder["maps-script-guided"]).Should().BeFalse("nothing is written before the refusal");
        // GradientSHAP needs only gradients: a TorchScript model is explained against the references.
        var scriptShap = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", script, "--heatmaps", run.Folder["maps-script"], "--attribution", "GradientShap", "--references", references, names[0]]);
        scriptShap.ExitCode.Should().Be(0, scriptShap.ToString());
        File.Exists(run.Folder[$"maps-script/{Path.GetFileNameWithoutExtension(names[0])}-gradientshap.png"]).Should().BeTrue();
        var onnx = run.Folder["ensemble-onnx/model.onnx"];
        (await SampleApp.RunAsync("medmnist", run.Folder.Path, "export", "--model", models[1], "--output", onnx)).ExitCode.Should().Be(0);
        var onnxMaps = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", models[0], "--model", onnx, "--heatmaps", run.Folder["maps-onnx"], .. names]);
        onnxMaps.ExitCode.Should().Be(2, onnxMaps.ToString());
        onnxMaps.Error.Should().Contain("--heatmaps needs every model's layers; model.onnx is an ONNX file");
        var onnxAttributions = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", models[0], "--model", onnx, "--heatmaps", run.Folder["maps-onnx"], "--attribution", "Saliency", .. names]);
        onnxAttributions.ExitCode.Should().Be(2, onnxAttributions.ToString());
        onnxAttributions.Error.Should().Contain("--heatmaps needs every model's gradients; model.onnx is an ONNX file");
        var mixed = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", models[0], "--model", onnx, .. names]);
        mixed.ExitCode.Should().Be(0, mixed.ToString());
        var twice = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", models[0], "--model", models[0], .. names]);
        twice.ExitCode.Should().Be(2, twice.ToString());
        twice.Error.Should().Contain("is given twice");
    }

    [Fact]
    public async Task Compare_TestsTwoModelsOnTheSameImages_WithDeLongMcNemarAndAPairedBootstrap()
    {
        var second = run.Folder["run-compare-seed3"];
        var train = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "1", "--batch", "16", "--threads", "1", "--seed", "3", "--output", second);
        train.ExitCode.Should().Be(0, train.ToString());
        string modelA = Path.Combine(run.RunFolder, "model.safetensors"), modelB = Path.Combine(second, "model.safetensors");

        foreach (var split in new[] { "test", "val" })
        {
            var compare = await SampleApp.RunAsync("medmnist", run.Folder.Path,
                "compare", "--model", modelA, "--against", modelB, "--split", split, "--data-file", run.DataFile, "--threads", "1");
            compare.ExitCode.Should().Be(0, compare.ToString());
            compare.Text.Should().Contain($"on the {split} split of retinamnist (16 images, OrdinalRegression)").And.Contain("DeLong's test per class").And.Contain("p (Holm): adjusted for the");
            var line = compare.Lines("COMPARISON").Should().ContainSingle().Subject;
            line["#0"].Should().Be("run");
            line["#1"].Should().Be("run-compare-seed3");
            line["split"].Should().Be(split);

            // The same numbers from the model files through the library, independently of the command.
            var data = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile);
            var images = split == "test" ? data.Test : data.Validation;
            double[,] Scores(string file)
            {
                using var predictor = Predictor.Load(file);
                var source = new MedVision.Nets.Data.Loading.MedMnistImageSource(images);
                var predictions = predictor.Predict(Enumerable.Range(0, images.Count).Select(i => source.Load(i).Image).ToList());
                var scores = new double[images.Count, 5];
                for (int i = 0; i < images.Count; i++) for (int k = 0; k < 5; k++) scores[i, k] = predictions[i].Probabilities[k];
                return scores;
            }

            var (a, b) = (Scores(modelA), Scores(modelB));
            const MedVision.Nets.Metrics.MedMnistTask Task = MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression;
            var delong = MedVision.Nets.Metrics.DeLong.Compare(Task, images.Labels, a, b);
            var mcnemar = MedVision.Nets.Metrics.McNemar.Compare(Task, images.Labels, a, b);
            static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F4", CultureInfo.InvariantCulture);
            static string P(double p) => double.IsNaN(p) ? "n/a" : p.ToString(p < 1e-4 ? "0.0E+0" : "0.0000", CultureInfo.InvariantCulture);
            line["auc_a"].Should().Be(F(delong.AucA));
            line["auc_b"].Should().Be(F(delong.AucB));
            line["auc_a"].Should().Be(F(MedVision.Nets.Metrics.MedMnistEvaluator.GetAuc(Task, images.Labels, a).Value));
            line["auc_se"].Should().Be(F(delong.StandardError));
            line["auc_p"].Should().Be(P(delong.PValue));
            line["only_a"].Should().Be(mcnemar.OnlyACorrect.ToString(CultureInfo.InvariantCulture));
            line["only_b"].Should().Be(mcnemar.OnlyBCorrect.ToString(CultureInfo.InvariantCulture));
            line["mcnemar_p"].Should().Be(P(mcnemar.PValue));
            line["acc_a"].Should().Be(F(mcnemar.AccuracyA));
            if (split == "test")
            {
                line["auc_a"].Should().Be(run.Train.Lines().Single()["test_auc"], "model A scores what its training run printed");
                line["auc_b"].Should().Be(train.Lines().Single()["test_auc"]);
            }

            // 16 images leave some grade with fewer than two images: its DeLong variance, and so the mean's p, is undefined and said so.
            if (double.IsNaN(delong.PValue))
                compare.Text.Should().Contain("has no DeLong variance");
        }

        var itself = await SampleApp.RunAsync("medmnist", run.Folder.Path, "compare", "--model", modelA, "--against", modelA, "--data-file", run.DataFile);
        itself.ExitCode.Should().Be(2, itself.ToString());
        itself.Error.Should().Contain("--model and --against name the same model files");
    }

    [Fact]
    public async Task CrossValidate_WithACoralHead_Calibrate_StoresEachFoldsTemperatureOnItsCumulativeLogits()
    {
        var folder = run.Folder["cv-coral"];
        var cv = await SampleApp.RunAsync("medmnist", run.Folder.Path, "cross-validate", "--data-file", run.DataFile, "--folds", "3", "--epochs", "1", "--batch", "16", "--threads", "1",
            "--head", "coral", "--calibrate", "--output", folder);
        cv.ExitCode.Should().Be(0, cv.ToString());
        // Each fold's temperature is fitted on its own out-of-fold rows' cumulative logits (recovered from their grade
        // probabilities), stored as a temperature on the cumulative logits that keeps the fold model's median grades.
        var rows = File.ReadAllLines(Path.Combine(folder, "out-of-fold.csv")).Skip(1).Select(r => r.Split(',')).ToArray();
        var data = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile);
        for (int f = 1; f <= 3; f++)
        {
            var (labels, scores) = FoldRows(rows, f);
            var expected = MedVision.Nets.Metrics.TemperatureScaling.FitCumulative(labels, MedVision.Nets.Losses.OrdinalDecoding.ToCumulativeLogits(scores)).Temperature;
            var path = Path.Combine(folder, $"fold-{f}", "model.safetensors");
            var card = ModelFile.ReadCard(path);
            card.Temperature.Should().BeApproximately(expected, 1e-6, "fold {0}", f);
            card.CoralTemperature.Should().Be(MedVision.Nets.Losses.CoralTemperature.CumulativeLogits);
            card.OrdinalDecision.Should().Be(MedVision.Nets.Metrics.OrdinalDecision.Median);
            card.FormatVersion.Should().Be(10);
            cv.Text.Should().Contain(string.Create(CultureInfo.InvariantCulture, $"temperature {card.Temperature:F3}"));
            // The calibrated model's grades on the test images are the uncalibrated ones' (every threshold keeps its sign).
            using var predictor = Predictor.Load(path);
            for (int i = 0; i < data.Test.Count; i++)
            {
                var prediction = predictor.PredictPixels(data.Test.GetImage(i).ToArray(), 28, 28, 3);
                var logits = MedVision.Nets.Losses.OrdinalDecoding.ToCumulativeLogits(new double[,] { { prediction.Probabilities[0], prediction.Probabilities[1], prediction.Probabilities[2], prediction.Probabilities[3], prediction.Probabilities[4] } });
                prediction.Label.Should().Be(Enumerable.Range(0, 4).Count(k => logits[0, k] > 0), "test image {0}, fold {1}", i, f);
            }
        }
        // The ensemble of the calibrated folds loads and decides by the median grade.
        using var ensemble = EnsemblePredictor.LoadManifest(Path.Combine(folder, "ensemble.json"));
        ensemble.OrdinalDecision.Should().Be(MedVision.Nets.Metrics.OrdinalDecision.Median);
    }

    [Fact]
    public async Task Compare_TwoCrossValidationsOnTheSameFolds_ComparesTheirRecipesFoldByFold()
    {
        async Task<string> CrossValidate(string name, params string[] recipe)
        {
            var folder = run.Folder[name];
            var cv = await SampleApp.RunAsync("medmnist", run.Folder.Path,
                ["cross-validate", "--data-file", run.DataFile, "--folds", "3", "--epochs", "1", "--batch", "16", "--threads", "1", "--output", folder, .. recipe]);
            cv.ExitCode.Should().Be(0, cv.ToString());
            return Path.Combine(folder, "ensemble.json");
        }

        var a = await CrossValidate("cv-compare-a", "--lr", "0.01");
        var b = await CrossValidate("cv-compare-b", "--lr", "0.001");
        var compare = await SampleApp.RunAsync("medmnist", run.Folder.Path, "compare", "--model", a, "--against", b, "--data-file", run.DataFile, "--threads", "1");
        compare.ExitCode.Should().Be(0, compare.ToString());
        compare.Text.Should().Contain("cross-validations on the same 3 folds (64 pooled training and validation images)").And.Contain("Nadeau and Bengio").And.Contain("corrected").And.Contain("pooled");
        var line = compare.Lines("CROSS_VALIDATION_COMPARISON").Should().ContainSingle().Subject;

        // The same from the two out-of-fold files through the library.
        var oofA = MedVision.Nets.Training.CrossValidationResult.ReadOutOfFoldCsv(Path.Combine(run.Folder["cv-compare-a"], "out-of-fold.csv"));
        var oofB = MedVision.Nets.Training.CrossValidationResult.ReadOutOfFoldCsv(Path.Combine(run.Folder["cv-compare-b"], "out-of-fold.csv"));
        var expected = MedVision.Nets.Training.CrossValidationComparison.FromOutOfFold(
            MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, oofA.Labels, oofA.Scores, oofA.Folds, oofB.Scores, oofB.Folds);
        static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F4", CultureInfo.InvariantCulture);
        static string Signed(double v) => double.IsNaN(v) ? "n/a" : v.ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture);
        static string P(double p) => double.IsNaN(p) ? "n/a" : p.ToString(p < 1e-4 ? "0.0E+0" : "0.0000", CultureInfo.InvariantCulture);
        line["folds"].Should().Be("3");
        line["fold_auc_diff"].Should().Be(Signed(expected.Auc.MeanDifference));
        line["fold_auc_t"].Should().Be(F(expected.Auc.T));
        line["fold_auc_p"].Should().Be(P(expected.Auc.PValue));
        line["fold_acc_diff"].Should().Be(Signed(expected.Acc.MeanDifference));
        line["oof_auc_a"].Should().Be(F(expected.OutOfFold.AucA));
        line["oof_auc_p"].Should().Be(P(expected.OutOfFold.PValue));
        line["oof_mcnemar_p"].Should().Be(P(expected.OutOfFoldAccuracy!.PValue));
        // Each cross-validation's own out-of-fold AUC, as it printed it.
        using (var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Folder["cv-compare-a"], "cross-validation.json"))))
            line["oof_auc_a"].Should().Be(F(summary.RootElement.GetProperty("out_of_fold").GetProperty("auc").GetDouble()));

        // Folds cut with another seed: the ensembles are still compared, the recipes not, and the reason is given.
        var c = await CrossValidate("cv-compare-c", "--seed", "3");
        var otherFolds = await SampleApp.RunAsync("medmnist", run.Folder.Path, "compare", "--model", a, "--against", c, "--data-file", run.DataFile, "--threads", "1");
        otherFolds.ExitCode.Should().Be(0, otherFolds.ToString());
        otherFolds.Lines("COMPARISON").Should().ContainSingle();
        otherFolds.Lines("CROSS_VALIDATION_COMPARISON").Should().BeEmpty();
        otherFolds.Text.Should().Contain("they cut different folds");
    }

    [Fact]
    public async Task Export_WritesAnOnnxFileCarryingTheModelCard()
    {
        var target = run.Folder["exported/model.onnx"];
        var export = await SampleApp.RunAsync("medmnist", run.Folder.Path, "export", "--model", Path.Combine(run.RunFolder, "model.safetensors"), "--output", target);
        export.ExitCode.Should().Be(0, export.ToString());
        export.Text.Should().Contain("input (N, 3, 28, 28)").And.Contain("outputs logits and probabilities over 5 classes (OrdinalRegression)");
        var bytes = File.ReadAllBytes(target);
        bytes.Length.Should().BeGreaterThan((int)new FileInfo(Path.Combine(run.RunFolder, "model.safetensors")).Length / 2, "the weights are in the graph");
        System.Text.Encoding.UTF8.GetString(bytes).Should().Contain("medvision.model_card").And.Contain("probabilities");
        Directory.EnumerateFiles(Path.GetDirectoryName(target)!).Should().Equal(target);

        var fixedBatch = await SampleApp.RunAsync("medmnist", run.Folder.Path, "export", "--model", Path.Combine(run.RunFolder, "model.safetensors"), "--output", target, "--fixed-batch", "8");
        fixedBatch.ExitCode.Should().Be(0, fixedBatch.ToString());
        fixedBatch.Text.Should().Contain("input (8, 3, 28, 28)");
        var dynamicSize = await SampleApp.RunAsync("medmnist", run.Folder.Path, "export", "--model", Path.Combine(run.RunFolder, "model.safetensors"), "--output", target, "--dynamic-size");
        dynamicSize.ExitCode.Should().Be(0, dynamicSize.ToString());
        dynamicSize.Text.Should().Contain("input (N, 3, H, W)");
        var normalized = await SampleApp.RunAsync("medmnist", run.Folder.Path, "export", "--model", Path.Combine(run.RunFolder, "model.safetensors"), "--output", target, "--normalize-in-graph");
        normalized.ExitCode.Should().Be(0, normalized.ToString());
        normalized.Text.Should().Contain("pixels scaled to [0, 1] (the graph normalises them)");
        System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(target)).Should().Contain("unit_range");
        var float32Length = new FileInfo(target).Length;
        var half = await SampleApp.RunAsync("medmnist", run.Folder.Path, "export", "--model", Path.Combine(run.RunFolder, "model.safetensors"), "--output", target, "--float16");
        half.ExitCode.Should().Be(0, half.ToString());
        half.Text.Should().Contain("computes in float16 (weights stored as float16), takes and gives float32");
        new FileInfo(target).Length.Should().BeLessThan(float32Length * 6 / 10, "float16 weights take half the bytes");
        System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(target)).Should().Contain("medvision.precision").And.Contain("float16");
        var bad = await SampleApp.RunAsync("medmnist", run.Folder.Path, "export", "--model", Path.Combine(run.RunFolder, "model.safetensors"), "--fixed-batch", "0");
        bad.ExitCode.Should().Be(2, bad.ToString());
        bad.Error.Should().Contain("--fixed-batch must be at least 1, got 0.");
    }

    [Fact]
    public async Task PredictAndEvaluate_RunAnExportedOnnxFile_WithONNXRuntime()
    {
        var onnx = run.Folder["onnx/model.onnx"];
        var modelFile = Path.Combine(run.RunFolder, "model.safetensors");
        var export = await SampleApp.RunAsync("medmnist", run.Folder.Path, "export", "--model", modelFile, "--output", onnx);
        export.ExitCode.Should().Be(0, export.ToString());

        var names = TinyRetinaMnist.WritePngs(run.Folder.Path, 3);
        var predict = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", onnx, .. names]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("Model model.onnx").And.Contain("task OrdinalRegression, classes 5, input 28×28");
        using var predictor = Predictor.Load(modelFile);
        var rows = predict.Output.Split('\n');
        foreach (var name in names)
        {
            // ONNX Runtime and libtorch agree to about 1e-6: the same label, the probability to the printed digits.
            var expected = predictor.PredictFile(Path.Combine(run.Folder.Path, name));
            var row = rows.Should().ContainSingle(r => r.Contains(name)).Subject;
            row.Should().Contain($"{expected.Label}: {expected.LabelName}");
            var printed = System.Text.RegularExpressions.Regex.Matches(row, @"\d\.\d{3}").Select(m => D(m.Value)).ToList();
            printed.Should().Contain(p => Math.Abs(p - expected.Probabilities[expected.Label]) <= 0.0011, row);
        }

        var evaluate = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "evaluate", "--model", onnx, "--dataset", "retinamnist", "--data-file", run.DataFile, "--output", run.Folder["evaluation-onnx"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var line = evaluate.Lines("EVALUATION").Should().ContainSingle().Subject;
        var result = run.Train.Lines().Single();
        D(line["test_auc"]).Should().BeApproximately(D(result["test_auc"]), 0.00011);
        line["test_acc"].Should().Be(result["test_acc"]);

        var cuda = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", onnx, "--device", "cuda", .. names]);
        cuda.ExitCode.Should().Be(2, cuda.ToString());
        cuda.Error.Should().Contain("--device cuda").And.Contain("ONNX Runtime on the CPU");
        var bf16 = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", onnx, "--mixed-precision", .. names]);
        bf16.ExitCode.Should().Be(2, bf16.ToString());
        bf16.Error.Should().Contain("--mixed-precision").And.Contain("ONNX model file");
        var heatmaps = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", onnx, "--heatmaps", run.Folder["maps"], .. names]);
        heatmaps.ExitCode.Should().Be(2, heatmaps.ToString());
        heatmaps.Error.Should().Contain("--heatmaps needs the network's layers");
    }

    [Fact]
    public async Task Evaluate_ReproducesTheTestMetricsPrintedByTrain()
    {
        var evaluate = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "evaluate", "--model", Path.Combine(run.RunFolder, "model.safetensors"), "--dataset", "retinamnist", "--data-file", run.DataFile, "--output", run.Folder["evaluation"],
            "--target-risk", "0.9", "--delta", "0.2");
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var line = evaluate.Lines("EVALUATION").Should().ContainSingle().Subject;
        var result = run.Train.Lines().Single();
        line["test_auc"].Should().Be(result["test_auc"]);
        line["test_acc"].Should().Be(result["test_acc"]);
        File.Exists(run.Folder["evaluation/test-reliability.svg"]).Should().BeTrue();

        // Selective prediction: the library's curve of the test split, and the threshold fitted on the validation split.
        var data = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile);
        double[,] val, test;
        using (var predictor = Predictor.Load(Path.Combine(run.RunFolder, "model.safetensors")))
            (val, test) = (Probabilities(predictor, data.Validation), Probabilities(predictor, data.Test));
        var curve = MedVision.Nets.Metrics.Selective.RiskCoverageCurve.Compute(data.Test.Labels, test);
        D(line["test_aurc"]).Should().BeApproximately(curve.Aurc, 5e-5);
        D(line["test_eaurc"]).Should().BeApproximately(curve.ExcessAurc, 5e-5);
        D(line["test_risk_half"]).Should().BeApproximately(curve.RiskAtCoverage(0.5), 5e-5);
        var control = MedVision.Nets.Metrics.Selective.SelectiveRiskControl.Fit(MedVision.Nets.Metrics.Selective.SelectivePrediction.Confidence(val),
            MedVision.Nets.Metrics.Selective.SelectivePrediction.Errors(data.Validation.Labels, val), 0.9, 0.2);
        line["sgr_target"].Should().Be("0.9");
        if (control.IsFeasible)
        {
            D(line["sgr_threshold"]).Should().BeApproximately(control.Threshold, 5e-5);
            var outcome = control.Evaluate(MedVision.Nets.Metrics.Selective.SelectivePrediction.Confidence(test), MedVision.Nets.Metrics.Selective.SelectivePrediction.Errors(data.Test.Labels, test));
            D(line["sgr_test_coverage"]).Should().BeApproximately(outcome.Coverage, 5e-5);
            evaluate.Text.Should().Contain($"decides {outcome.Accepted} of 16");
        }
        else
        {
            // A model trained for one epoch on 48 images may be too poor for any threshold (the library's tests cover both).
            line["sgr_threshold"].Should().Be("none");
            evaluate.Text.Should().Contain("every image would be deferred");
        }
        evaluate.Text.Should().Contain("Selective prediction (test, by maximum probability): AURC");

        // Referral of grades 2–4: the library's AUC, net benefit and validation-fitted operating point on the same probabilities.
        var (referable, risk) = MedVision.Nets.Metrics.Clinical.Referral.FromGrades(data.Test.Labels, test, 2);
        referable.Should().Contain(0).And.Contain(1, "the tiny test split holds both sides of grade 2");
        D(line["referral_auc"]).Should().BeApproximately(MedVision.Nets.Metrics.RocAuc.Compute(referable, risk).Value, 5e-5);
        D(line["net_benefit_0.2"]).Should().BeApproximately(MedVision.Nets.Metrics.Clinical.DecisionCurve.Compute(referable, risk, new[] { 0.2 }).NetBenefit[0], 5e-5);
        line["useful_thresholds"].Should().Be(MedVision.Nets.Metrics.Clinical.DecisionCurve.Compute(referable, risk).UsefulThresholds.Count.ToString(CultureInfo.InvariantCulture));
        var (valReferable, valRisk) = MedVision.Nets.Metrics.Clinical.Referral.FromGrades(data.Validation.Labels, val, 2);
        var point = MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivity(valReferable, valRisk, 0.8);
        D(line["op_threshold"]).Should().BeApproximately(point.Threshold, 5e-5);
        D(line["op_test_sensitivity"]).Should().BeApproximately(point.Evaluate(referable, risk).Sensitivity, 5e-5);
        evaluate.Text.Should().Contain("Referral (grade ≥ 2;");
        foreach (var chart in new[] { "test-risk-coverage.svg", "test-decision-curve.svg" })
            File.ReadAllText(run.Folder[$"evaluation/{chart}"]).Should().StartWith("<svg", chart);
        var binaryOnly = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "evaluate", "--model", Path.Combine(run.RunFolder, "model.safetensors"), "--data-file", run.DataFile, "--referable-from", "5", "--output", run.Folder["evaluation-5"]);
        binaryOnly.ExitCode.Should().Be(2, "bad arguments are usage errors");
        binaryOnly.Error.Should().Contain("--referable-from 5 needs an ordinal or binary dataset with a grade 5");
    }

    [Fact]
    public async Task CrossValidate_OnlyFolds_TrainsFoldsApart_ThatResumeGathersIntoTheOneRunsResult()
    {
        string[] Arguments(string folder) => ["cross-validate", "--data-file", run.DataFile, "--folds", "3", "--epochs", "1", "--batch", "16", "--threads", "1", "--output", folder];
        var whole = await SampleApp.RunAsync("medmnist", run.Folder.Path, Arguments(run.Folder["cv-whole"]));
        whole.ExitCode.Should().Be(0, whole.ToString());

        // Two "machines": fold 3, then folds 1 and 2, into one folder; nothing is summed up until the folds are gathered.
        var apart = run.Folder["cv-apart"];
        var third = await SampleApp.RunAsync("medmnist", run.Folder.Path, [.. Arguments(apart), "--only-folds", "3"]);
        third.ExitCode.Should().Be(0, third.ToString());
        third.Text.Should().Contain("Trained fold 3 of 3").And.Contain("the same command with --resume");
        var partial = third.Lines().Should().ContainSingle().Subject;
        partial["trained"].Should().Be("3");
        File.Exists(Path.Combine(apart, "ensemble.json")).Should().BeFalse();
        File.Exists(Path.Combine(apart, "fold-3", "model.safetensors")).Should().BeTrue("each fold's model file is written as it finishes");
        var first = await SampleApp.RunAsync("medmnist", run.Folder.Path, [.. Arguments(apart), "--only-folds", "1", "2"]);
        first.ExitCode.Should().Be(0, first.ToString());
        first.Lines().Single()["trained"].Should().Be("1,2");
        var gathered = await SampleApp.RunAsync("medmnist", run.Folder.Path, [.. Arguments(apart), "--resume"]);
        gathered.ExitCode.Should().Be(0, gathered.ToString());
        gathered.Text.Should().NotContain("epoch 1:", "every fold has run: they are only re-predicted");
        var line = gathered.Lines().Single();
        line.Should().BeEquivalentTo(whole.Lines().Single(), "the folds trained apart are those of one run");
        using (var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(apart, "cross-validation.json"))))
            partial["val_auc"].Should().Be(summary.RootElement.GetProperty("folds")[2].GetProperty("validation").GetProperty("auc").GetDouble().ToString("F4", CultureInfo.InvariantCulture),
                "fold 3 trained alone scored what the gathered summary records for it");

        var bad = await SampleApp.RunAsync("medmnist", run.Folder.Path, [.. Arguments(run.Folder["cv-bad"]), "--only-folds", "4"]);
        bad.ExitCode.Should().Be(2);
        bad.Error.Should().Contain("--only-folds 4: the folds are numbered 1 to --folds (3)");
        var twice = await SampleApp.RunAsync("medmnist", run.Folder.Path, [.. Arguments(run.Folder["cv-bad"]), "--only-folds", "2", "2"]);
        twice.ExitCode.Should().Be(2);
        twice.Error.Should().Contain("--only-folds names a fold twice");
    }

    [Fact]
    public async Task StoreReferral_RecordsTheValidationOperatingPoint_ThatPredictRefersBy()
    {
        // A copy of the run's model file: --store-referral writes into it.
        var model = run.Folder["referral.safetensors"];
        File.Copy(Path.Combine(run.RunFolder, "model.safetensors"), model, overwrite: true);
        var evaluate = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "evaluate", "--model", model, "--dataset", "retinamnist", "--data-file", run.DataFile, "--output", run.Folder["evaluation-referral"],
            "--min-sensitivity", "0.75", "--store-referral");
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var line = evaluate.Lines("EVALUATION").Should().ContainSingle().Subject;
        evaluate.Text.Should().Contain("Stored the operating point in");

        // The card holds the point the library chooses on the validation probabilities, and the predictor refers by it.
        var data = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile);
        var card = ModelFile.ReadCard(model);
        card.Referral.Should().NotBeNull();
        card.Referral!.ReferableFrom.Should().Be(2);
        D(line["op_threshold"]).Should().BeApproximately(card.Referral.Threshold, 5e-5);
        using (var predictor = Predictor.Load(model))
        {
            var (valReferable, valRisk) = MedVision.Nets.Metrics.Clinical.Referral.FromGrades(data.Validation.Labels, Probabilities(predictor, data.Validation), 2);
            var point = MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivity(valReferable, valRisk, 0.75);
            card.Referral.Threshold.Should().Be(point.Threshold);
            card.Referral.Sensitivity.Should().Be(point.Fitted!.Sensitivity);
            card.Referral.HeldOutCount.Should().Be(valReferable.Length);
            card.Referral.SensitivityInterval.Should().Equal(point.Fitted.SensitivityInterval.Lower, point.Fitted.SensitivityInterval.Upper);
        }

        var names = TinyRetinaMnist.WritePngs(run.Folder.Path, 4);
        var csv = run.Folder["referral.csv"];
        var predict = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", model, "--csv", csv, .. names]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("Referral: refer when P(class ≥ 2) ≥").And.Contain("referred");
        var rows = File.ReadAllLines(csv);
        rows[0].Should().EndWith(",expected_grade,referral_risk,referred");
        using (var predictor = Predictor.Load(model))
        {
            for (int i = 0; i < names.Length; i++)
            {
                var expected = predictor.PredictFile(Path.Combine(run.Folder.Path, names[i]));
                var fields = rows[i + 1].Split(',');
                D(fields[^2]).Should().BeApproximately(expected.ReferralRisk!.Value, 1e-6);
                fields[^1].Should().Be(expected.Referred == true ? "1" : "0");
            }
        }
        // Other flips: the threshold does not hold, and predict says why.
        var flipped = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", model, "--flips", "horizontal", .. names]);
        flipped.ExitCode.Should().Be(0, flipped.ToString());
        flipped.Text.Should().Contain("referral threshold was chosen with flips None").And.NotContain("referred");

        var ensemble = await SampleApp.RunAsync("medmnist", run.Folder.Path, "evaluate", "--model", model, "--model", model, "--data-file", run.DataFile, "--store-referral");
        ensemble.ExitCode.Should().Be(2);
        ensemble.Error.Should().Contain("--store-referral records the operating point in one model file or one ensemble manifest");
    }

    [Fact]
    public async Task Ensemble_WritesAManifestOfModelFilesWithTheirWeights_AndRefusesWhatItCannotList()
    {
        var model = Path.Combine(run.RunFolder, "model.safetensors");
        var copy = run.Folder["ensemble-cmd/b.safetensors"];
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(model, copy, overwrite: true);
        var manifest = run.Folder["ensemble-cmd/weighted.json"];
        var written = await SampleApp.RunAsync("medmnist", run.Folder.Path, "ensemble", "--model", model, "--model", copy, "--weight", "3", "1", "--output", manifest);
        written.ExitCode.Should().Be(0, written.ToString());
        var read = EnsemblePredictor.ReadManifest(manifest);
        read.Weights.Should().Equal(3.0, 1.0);
        read.ModelHashes.Should().OnlyContain(h => h != null && h.Length == 64);
        written.Text.Should().Contain("0.750").And.Contain("0.250");

        // Exported as one graph, the ensemble evaluates as the manifest does (ONNX Runtime against libtorch: the same AUC and ACC).
        var onnx = run.Folder["ensemble-cmd/weighted.onnx"];
        var exported = await SampleApp.RunAsync("medmnist", run.Folder.Path, "export", "--model", manifest, "--output", onnx);
        exported.ExitCode.Should().Be(0, exported.ToString());
        exported.Text.Should().Contain("the 2 members' weighted average");
        var byManifest = await SampleApp.RunAsync("medmnist", run.Folder.Path, "evaluate", "--model", manifest, "--data-file", run.DataFile, "--output", run.Folder["ensemble-cmd/eval-json"]);
        var byGraph = await SampleApp.RunAsync("medmnist", run.Folder.Path, "evaluate", "--model", onnx, "--data-file", run.DataFile, "--output", run.Folder["ensemble-cmd/eval-onnx"]);
        byGraph.ExitCode.Should().Be(0, byGraph.ToString());
        var expected = byManifest.Lines("EVALUATION").Single();
        var actual = byGraph.Lines("EVALUATION").Single();
        (actual["test_auc"], actual["test_acc"]).Should().Be((expected["test_auc"], expected["test_acc"]));

        var counts = await SampleApp.RunAsync("medmnist", run.Folder.Path, "ensemble", "--model", model, "--model", copy, "--weight", "3", "--output", manifest);
        counts.ExitCode.Should().Be(2);
        counts.Error.Should().Contain("--weight is given 1 time(s) for 2 --model file(s)");
        var notJson = await SampleApp.RunAsync("medmnist", run.Folder.Path, "ensemble", "--model", model, "--output", run.Folder["ensemble-cmd/out.txt"]);
        notJson.ExitCode.Should().Be(2);
        notJson.Error.Should().Contain("--output names the manifest to write: a .json file");
        var nested = await SampleApp.RunAsync("medmnist", run.Folder.Path, "ensemble", "--model", manifest, "--output", run.Folder["ensemble-cmd/nested.json"]);
        nested.ExitCode.Should().Be(2);
        nested.Error.Should().Contain("is a manifest; list the model files themselves");
        var twice = await SampleApp.RunAsync("medmnist", run.Folder.Path, "ensemble", "--model", model, "--model", model, "--output", run.Folder["ensemble-cmd/twice.json"]);
        twice.ExitCode.Should().Be(2);
        twice.Error.Should().Contain("is listed twice");
        File.Exists(run.Folder["ensemble-cmd/twice.json"]).Should().BeFalse();
    }

    [Fact]
    public async Task SensitivityConfidence_StoresThePointWhoseBoundReachesTheMinimum_AndRefusesOneNoBoundShows()
    {
        var model = run.Folder["bounded.safetensors"];
        File.Copy(Path.Combine(run.RunFolder, "model.safetensors"), model, overwrite: true);
        var evaluate = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "evaluate", "--model", model, "--data-file", run.DataFile, "--output", run.Folder["evaluation-bounded"],
            "--referable-from", "1", "--min-sensitivity", "0.5", "--sensitivity-confidence", "0.9", "--store-referral");
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var line = evaluate.Lines("EVALUATION").Should().ContainSingle().Subject;
        line["op_confidence"].Should().Be("0.9");
        var card = ModelFile.ReadCard(model);
        card.Referral!.Rule.Should().StartWith("sensitivity ≥ 0.5 with 90% confidence (one-sided Clopper–Pearson bound on ");
        var data = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile);
        using (var predictor = Predictor.Load(model))
        {
            var (referable, risk) = MedVision.Nets.Metrics.Clinical.Referral.FromGrades(data.Validation.Labels, Probabilities(predictor, data.Validation), 1);
            var bound = MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivityBound(referable, risk, 0.5, 0.1);
            card.Referral.Threshold.Should().Be(bound.Threshold);
            card.Referral.Threshold.Should().BeLessThanOrEqualTo(MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivity(referable, risk, 0.5).Threshold, "showing the minimum with confidence refers at least as many");
        }
        // A minimum that even referring every validation image cannot show is refused, and the model file keeps its point.
        var unshown = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "evaluate", "--model", model, "--data-file", run.DataFile, "--output", run.Folder["evaluation-bounded"],
            "--referable-from", "1", "--min-sensitivity", "0.99", "--sensitivity-confidence", "0.95", "--store-referral");
        unshown.ExitCode.Should().NotBe(0, unshown.ToString());
        unshown.Error.Should().Contain("not shown even by referring every image").And.Contain("Lower --min-sensitivity or --sensitivity-confidence");
        ModelFile.ReadCard(model).Referral!.Threshold.Should().Be(card.Referral.Threshold);
    }

    [Fact]
    public async Task StoreReferral_IntoAnEnsembleManifest_KeepsItsConformalCalibration_AndPredictRefersByTheAveragedProbabilities()
    {
        // Two members that differ (the second at temperature 2), in a folder of their own with the manifest.
        var folder = run.Folder["referral-ensemble"];
        Directory.CreateDirectory(folder);
        var members = new[] { Path.Combine(folder, "a.safetensors"), Path.Combine(folder, "b.safetensors") };
        foreach (var member in members) File.Copy(Path.Combine(run.RunFolder, "model.safetensors"), member, overwrite: true);
        ModelFile.UpdateCard(members[1], card => card.Temperature = 2);
        var manifest = Path.Combine(folder, "ensemble.json");
        // The whole flow from the command line: the manifest written by the ensemble command.
        var listed = await SampleApp.RunAsync("medmnist", run.Folder.Path, "ensemble", "--model", members[0], "--model", members[1], "--output", manifest);
        listed.ExitCode.Should().Be(0, listed.ToString());
        listed.Text.Should().Contain("2 members with their SHA-256");
        EnsemblePredictor.ReadManifest(manifest).ModelPaths.Should().Equal(members.Select(Path.GetFullPath));
        var conformal = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "conformal", "--model", manifest, "--data-file", run.DataFile, "--coverage", "0.8", "--trials", "0", "--threads", "1", "--store", "--output", Path.Combine(folder, "conformal"));
        conformal.ExitCode.Should().Be(0, conformal.ToString());
        var evaluate = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "evaluate", "--model", manifest, "--data-file", run.DataFile, "--output", Path.Combine(folder, "evaluation"), "--min-sensitivity", "0.75", "--store-referral");
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        evaluate.Text.Should().Contain("Stored the operating point in").And.NotContain("left out");

        // The manifest holds the point the library chooses on the ensemble's validation probabilities, beside the calibration stored before.
        var written = EnsemblePredictor.ReadManifest(manifest);
        written.Conformal.Should().NotBeNull("storing the operating point keeps what still holds");
        written.Referral!.Temperature.Should().Be(1, "the members apply their own temperatures before the average");
        var data = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile);
        using (var ensemble = EnsemblePredictor.Load(members))
        {
            var source = new MedVision.Nets.Data.Loading.MedMnistImageSource(data.Validation);
            var predictions = ensemble.Predict(Enumerable.Range(0, data.Validation.Count).Select(i => source.Load(i).Image).ToList());
            var probabilities = new double[predictions.Count, 5];
            for (int i = 0; i < predictions.Count; i++) for (int k = 0; k < 5; k++) probabilities[i, k] = predictions[i].Probabilities[k];
            var (referable, risk) = MedVision.Nets.Metrics.Clinical.Referral.FromGrades(data.Validation.Labels, probabilities, 2);
            var point = MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivity(referable, risk, 0.75);
            written.Referral.Threshold.Should().Be(point.Threshold);
            written.Referral.Specificity.Should().Be(point.Fitted!.Specificity);
        }
        var names = TinyRetinaMnist.WritePngs(run.Folder.Path, 3);
        var csv = Path.Combine(folder, "predictions.csv");
        var predict = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", manifest, "--csv", csv, .. names]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("Referral: refer when P(class ≥ 2) ≥").And.Contain("Conformal sets:");
        var rows = File.ReadAllLines(csv);
        rows[0].Should().Contain(",referral_risk,referred,agreement");
        using (var loaded = EnsemblePredictor.LoadManifest(manifest))
        {
            for (int i = 0; i < names.Length; i++)
            {
                var expected = loaded.PredictFile(Path.Combine(run.Folder.Path, names[i]));
                var fields = rows[i + 1].Split(',');
                D(fields[^3]).Should().BeApproximately(expected.ReferralRisk!.Value, 1e-6);
                fields[^2].Should().Be(expected.Referred == true ? "1" : "0");
            }
        }
    }

    [Fact]
    public async Task Resume_ContinuesFromTheLastCheckpoint()
    {
        var copy = run.Folder["resumed"];
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.EnumerateFiles(run.RunFolder)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        var resumed = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "2", "--batch", "16", "--threads", "1", "--output", copy, "--resume");
        resumed.ExitCode.Should().Be(0, resumed.ToString());
        var history = File.ReadAllLines(Path.Combine(copy, "history.csv"));
        history.Should().HaveCount(3, "the first epoch is kept and the second is added");
        history[1].Should().Be(File.ReadAllLines(Path.Combine(run.RunFolder, "history.csv"))[1]);
        history[2].Should().StartWith("1,");
        resumed.Lines().Single()["epochs"].Should().Be("2");
    }

    [Fact]
    public async Task OptimizerAndSchedule_AreChosenOnTheCommandLine()
    {
        // 48 training images in batches of 16: 3 optimizer steps per epoch, 6 in the run.
        var trained = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "2", "--batch", "16", "--threads", "1", "--output", run.Folder["one-cycle"],
            "--optimizer", "sgd", "--weight-decay", "1e-4", "--schedule", "onecycle", "--lr", "0.01");
        trained.ExitCode.Should().Be(0, trained.ToString());
        trained.Text.Should().Contain("Optimization: SGD (momentum 0.9), weight decay 0.0001, lr 0.01, 1cycle over every optimizer step");
        var history = File.ReadAllLines(Path.Combine(run.Folder["one-cycle"], "history.csv"));
        int column = Array.IndexOf(history[0].Split(','), "learning_rate");
        var lrs = history.Skip(1).Select(line => D(line.Split(',')[column])).ToArray();
        using (var scope = MedVision.Torch.Tensors.NewDisposeScope())
        using (var sgd = new MedVision.Torch.Optim.Sgd([MedVision.Torch.Tensors.Zeros(1).RequiresGradInPlace()], 0.01, momentum: 0.9))
        {
            var oneCycle = new MedVision.Torch.Optim.OneCycleLR(sgd, 0.01, totalSteps: 6);
            lrs.Should().HaveCount(2);
            lrs[0].Should().BeApproximately(0.01 / 25, 1e-9, "each epoch records the rate it started with");
            lrs[1].Should().BeApproximately(oneCycle.GetLearningRate(0.01 / 25, 3), 1e-9);
        }

        // Warm restarts after every epoch (3 steps each): every epoch starts at --lr.
        var restarts = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "2", "--batch", "16", "--threads", "1", "--output", run.Folder["warm-restarts"],
            "--optimizer", "sgd", "--schedule", "warm-restarts", "--restart-epochs", "1", "--lr", "0.01");
        restarts.ExitCode.Should().Be(0, restarts.ToString());
        restarts.Text.Should().Contain("cosine annealing with warm restarts every epoch, stepped after every optimizer step");
        var restartHistory = File.ReadAllLines(Path.Combine(run.Folder["warm-restarts"], "history.csv"));
        restartHistory.Skip(1).Select(line => D(line.Split(',')[column])).Should().Equal(0.01, 0.01);
        System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run.Folder["warm-restarts"], "last.json")))!["Scheduler"]!["last_epoch"]!
            .GetValue<double>().Should().Be(6, "stepped after each of the 6 optimizer steps");

        var refused = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "2", "--output", run.Folder["warmup"], "--warmup-epochs", "1");
        refused.ExitCode.Should().Be(2, refused.ToString());
        refused.Error.Should().Contain("--warmup-epochs applies to --schedule cosine.");
    }

    [Fact]
    public async Task StochasticWeightAveraging_IsChosenOnTheCommandLine()
    {
        // Three epochs, averaging from the second (⌊0.5 · 3⌋ = 1), the rate moving (by cosine, in one epoch) to 0.002.
        var output = run.Folder["swa"];
        var trained = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "3", "--batch", "16", "--threads", "1", "--output", output,
            "--optimizer", "sgd", "--lr", "0.01", "--schedule", "constant", "--swa-lr", "0.002", "--swa-start", "0.5", "--swa-anneal-epochs", "1");
        trained.ExitCode.Should().Be(0, trained.ToString());
        trained.Text.Should().Contain("Optimization: SGD (momentum 0.9), lr 0.01, constant learning rate; weights averaged from 50% of the epochs at lr 0.002 (reached in 1 epochs)");
        var history = File.ReadAllLines(Path.Combine(output, "history.csv"));
        int column = Array.IndexOf(history[0].Split(','), "learning_rate");
        history.Skip(1).Select(line => D(line.Split(',')[column])).Should().Equal(0.01, 0.01, 0.002);
        File.Exists(Path.Combine(output, "last.average.safetensors")).Should().BeTrue();
        using var average = MedVision.Torch.Serialization.SafeTensors.Load(Path.Combine(output, "last.average.safetensors"));
        average.Keys.Should().NotBeEmpty().And.NotContain(k => k.Contains("running_", StringComparison.Ordinal), "parameters are averaged, statistics recomputed");
        System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(output, "last.json")))!["AverageUpdates"]!.GetValue<long>().Should().Be(2);
    }

    [Fact]
    public async Task AMovingAverageOfTheWeights_WithItsWarmUp_IsChosenOnTheCommandLine()
    {
        var output = run.Folder["ema"];
        var trained = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "2", "--batch", "16", "--threads", "1", "--output", output, "--ema", "0.99", "--ema-warmup");
        trained.ExitCode.Should().Be(0, trained.ToString());
        trained.Text.Should().Contain("; weights averaged (EMA, decay 0.99, warm-up)");
        File.Exists(Path.Combine(output, "last.average.safetensors")).Should().BeTrue();
        var state = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(output, "last.json")))!;
        state["AverageWarmup"]!.GetValue<bool>().Should().BeTrue();
        state["AverageUpdates"]!.GetValue<long>().Should().BeGreaterThan(0);
        // Resuming without the warm-up would not continue the same run.
        var resumed = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "3", "--batch", "16", "--threads", "1", "--output", output, "--ema", "0.99", "--resume");
        resumed.ExitCode.Should().Be(2, "a checkpoint that does not fit the settings is reported, not a crash");
        resumed.Error.Should().Contain("made with the weight average's warm-up").And.NotContain("   at ");
    }

    [Fact]
    public async Task FindLr_SweepsTheLearningRate_WritesTheCurve_AndLeavesNoModelBehind()
    {
        var output = run.Folder["find-lr"];
        var sweep = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "find-lr", "--data-file", run.DataFile, "--batch", "16", "--threads", "1", "--steps", "12", "--start", "1e-4", "--end", "1", "--optimizer", "sgd", "--output", output);
        sweep.ExitCode.Should().Be(0, sweep.ToString());
        var result = sweep.Lines().Should().ContainSingle().Subject;
        result["#0"].Should().Be("find-lr");
        int steps = int.Parse(result["steps"], CultureInfo.InvariantCulture);
        steps.Should().BeInRange(2, 12);
        var csv = File.ReadAllLines(Path.Combine(output, "lr-finder.csv"));
        csv[0].Should().Be("step,learning_rate,loss,smoothed_loss");
        csv.Should().HaveCount(steps + 1);
        D(csv[1].Split(',')[1]).Should().BeApproximately(1e-4, 1e-15);
        if (steps == 12) D(csv[12].Split(',')[1]).Should().BeApproximately(1, 1e-12, "12 geometric steps from 1e-4 end at 1");
        csv.Skip(1).Select(line => D(line.Split(',')[2])).Should().OnlyContain(l => double.IsFinite(l));
        File.ReadAllText(Path.Combine(output, "lr-finder.svg")).Should().StartWith("<svg");
        Directory.EnumerateFiles(output).Select(Path.GetFileName).Should().BeEquivalentTo("lr-finder.csv", "lr-finder.svg");

        var bad = await SampleApp.RunAsync("medmnist", run.Folder.Path, "find-lr", "--data-file", run.DataFile, "--start", "1", "--end", "0.1");
        bad.ExitCode.Should().Be(2, bad.ToString());
        bad.Error.Should().Contain("--end 0.1 must be above --start 1.");
    }

    [Fact]
    public async Task Train_WithAVisionTransformer_WritesAModelFileThatPredicts_AndRefusesResNetWeights()
    {
        var output = run.Folder["vit-run"];
        var train = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--model", "vit-tiny", "--data-file", run.DataFile, "--epochs", "1", "--batch", "16", "--threads", "1", "--optimizer", "adamw", "--lr", "5e-4", "--output", output);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("Model vit-tiny (4×4 patches of 28×28 images): 5,358,917 parameters");
        train.Lines().Should().ContainSingle().Which["#0"].Should().Be("vit-tiny");
        var modelFile = Path.Combine(output, "model.safetensors");
        var card = MedVision.Nets.Inference.ModelFile.ReadCard(modelFile);
        (card.Architecture, card.Vit!.HiddenSize, card.Vit.PatchSize[0], card.FormatVersion).Should().Be(("vit", 192, 4, 8));
        File.Exists(Path.Combine(output, "test-gradcam.png")).Should().BeFalse("Grad-CAM needs a ResNet's last stage");
        File.Exists(Path.Combine(output, "test-rollout.png")).Should().BeTrue("a vision transformer's test images are mapped by attention rollout");
        train.Text.Should().MatchRegex(@"test-rollout\.png\s+\(attention\s+rollout\s+of\s+test\s+images");

        var names = TinyRetinaMnist.WritePngs(run.Folder["vit-images"], 2);
        var images = names.Select(n => $"vit-images/{n}").ToArray();   // relative to the run's folder, so that the table does not wrap them
        var predict = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", modelFile, "--heatmaps", run.Folder["vit-maps"], "--attribution", "IntegratedGradients", .. images]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("vit E 192, 12 layers, 3 heads, 4×4 patches").And.Contain("Convergence delta");
        using (var predictor = Predictor.Load(modelFile))
        {
            var expected = predictor.PredictFile(Path.Combine(run.Folder.Path, images[0]));
            predict.Output.Split('\n').Should().ContainSingle(r => r.Contains(names[0])).Which.Should().Contain($"{expected.Label}: {expected.LabelName}");
        }
        // --heatmaps without --cam or --attribution: the vision transformer's own map, attention rollout
        var rollout = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", modelFile, "--heatmaps", run.Folder["vit-rollout"], images[0]]);
        rollout.ExitCode.Should().Be(0, rollout.ToString());
        rollout.Text.Should().MatchRegex(@"AttentionRollout\s+maps\s+of\s+the\s+predicted\s+classes:").And.Contain("-rollout.png");
        var written = Path.Combine(run.Folder["vit-rollout"], Path.GetFileNameWithoutExtension(names[0]) + "-rollout.png");
        using (var predictor = Predictor.Load(modelFile))
        {
            var original = MedVision.Nets.Data.Images.ImageCodec.DecodeFile(Path.Combine(run.Folder.Path, images[0]));
            var expected = predictor.ExplainFile(Path.Combine(run.Folder.Path, images[0]), MedVision.Nets.Explainability.CamMethod.AttentionRollout).Overlay(original);
            MedVision.Nets.Data.Images.ImageCodec.DecodeFile(written).Pixels.Should().Equal(expected.Pixels, "the file is the predictor's rollout blended over the image");
        }
        // --cam GradientAttentionRollout: the class-specific rollout, NAME-gradrollout.png
        var weighted = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", modelFile, "--heatmaps", run.Folder["vit-gradrollout"], "--cam", "GradientAttentionRollout", images[0]]);
        weighted.ExitCode.Should().Be(0, weighted.ToString());
        var weightedFile = Path.Combine(run.Folder["vit-gradrollout"], Path.GetFileNameWithoutExtension(names[0]) + "-gradrollout.png");
        using (var predictor = Predictor.Load(modelFile))
        {
            var original = MedVision.Nets.Data.Images.ImageCodec.DecodeFile(Path.Combine(run.Folder.Path, images[0]));
            var expected = predictor.ExplainFile(Path.Combine(run.Folder.Path, images[0]), MedVision.Nets.Explainability.CamMethod.GradientAttentionRollout).Overlay(original);
            MedVision.Nets.Data.Images.ImageCodec.DecodeFile(weightedFile).Pixels.Should().Equal(expected.Pixels, "the file is the predictor's gradient-weighted rollout blended over the image");
        }
        var gradCam = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", modelFile, "--heatmaps", run.Folder["vit-maps"], "--cam", "GradCam", images[0]]);
        gradCam.ExitCode.Should().Be(2, gradCam.ToString());
        gradCam.Error.Should().Contain("--cam GradCam needs a ResNet model file").And.Contain("holds a vit model: use --cam AttentionRollout");

        // faithfulness: the methods that apply to a vision transformer, attention rollout scored as the library scores it
        var csv = run.Folder["vit-faithfulness.csv"];
        var scored = await SampleApp.RunAsync("medmnist", run.Folder.Path, "faithfulness", "--model", modelFile, "--data-file", run.DataFile, "--images", "2", "--steps", "5",
            "--methods", "attention-rollout,gradient-rollout,saliency", "--threads", "1", "--csv", csv);
        scored.ExitCode.Should().Be(0, scored.ToString());
        scored.Lines("FAITHFULNESS").Select(l => l["method"]).Should().Equal("attention-rollout", "gradient-rollout", "saliency", "random");
        using (var scope = MedVision.Torch.Tensors.NewDisposeScope())
        using (var loaded = LoadForExplaining(modelFile, images: 1))
        {
            var vit = (MedVision.Nets.Models.VisionTransformer)loaded.Network;
            long target;
            using (MedVision.Torch.Tensors.NoGrad()) target = vit.Call(loaded.Input).ArgMax(1).Item<long>();
            var map = new MedVision.Nets.Explainability.AttentionRollout(vit).Compute(loaded.Input, [target]).ToArray(0);
            var fields = File.ReadAllLines(csv)[1].Split(',').Skip(1).Select(D).ToArray();
            fields[0].Should().BeApproximately(MedVision.Nets.Explainability.Faithfulness.Deletion(vit, loaded.Input, map, target, steps: 5).Area, 1e-9);
            fields[1].Should().BeApproximately(MedVision.Nets.Explainability.Faithfulness.Insertion(vit, loaded.Input, map, target, steps: 5).Area, 1e-9);
            var weightedMap = new MedVision.Nets.Explainability.GradientAttentionRollout(vit).Compute(loaded.Input, [target]).ToArray(0);
            fields[2].Should().BeApproximately(MedVision.Nets.Explainability.Faithfulness.Deletion(vit, loaded.Input, weightedMap, target, steps: 5).Area, 1e-9);
        }
        // sanity-check: by default one step per encoder layer; rollout's rank correlations as the library computes them
        var sanityCsv = run.Folder["vit-sanity.csv"];
        var sanity = await SampleApp.RunAsync("medmnist", run.Folder.Path, "sanity-check", "--model", modelFile, "--data-file", run.DataFile, "--images", "2",
            "--methods", "attention-rollout,saliency", "--seed", "5", "--threads", "1", "--csv", sanityCsv);
        sanity.ExitCode.Should().Be(0, sanity.ToString());
        var sanityLines = sanity.Lines("SANITY");
        sanityLines.Select(l => l["method"]).Should().Equal("attention-rollout", "saliency", "input");
        sanityLines.Should().OnlyContain(l => l["steps"] == "16", "the head, the final norm, twelve encoder layers, the patch projection and the embeddings");
        sanityLines[^1]["final_spearman"].Should().Be("1.0000", "the input does not depend on the weights");
        var sanityRows = File.ReadAllLines(sanityCsv).Skip(1).Select(r => r.Split(',')).ToArray();
        sanityRows.Select(r => r[2]).Distinct().Should().Equal(
            ["head", "encoder.norm", .. Enumerable.Range(0, 12).Reverse().Select(i => $"encoder.layers.{i}"), "conv_proj", "(model)"]);
        using (var scope = MedVision.Torch.Tensors.NewDisposeScope())
        using (var loaded = LoadForExplaining(modelFile, images: 2))
        {
            var vit = (MedVision.Nets.Models.VisionTransformer)loaded.Network;
            var rolloutOf = new MedVision.Nets.Explainability.AttentionRollout(vit);
            var expected = MedVision.Nets.Explainability.ParameterRandomization.Run(vit, loaded.Input, (x, t) => rolloutOf.Compute(x, t), blockDepth: 3, seed: 5);
            ShouldHoldTheRankCorrelations(sanityRows, "attention rollout", expected, 32);
        }

        var resnetOnly = await SampleApp.RunAsync("medmnist", run.Folder.Path, "faithfulness", "--model", modelFile, "--data-file", run.DataFile, "--images", "1", "--methods", "grad-cam");
        resnetOnly.ExitCode.Should().Be(2, resnetOnly.ToString());
        resnetOnly.Error.Should().Contain("--methods grad-cam needs a ResNet; a vision transformer is compared with attention-rollout, gradient-rollout");

        var weights = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--model", "vit-tiny", "--data-file", run.DataFile, "--epochs", "1", "--init-weights", "imagenet", "--output", run.Folder["vit-imagenet"]);
        weights.ExitCode.Should().Be(2, weights.ToString());
        weights.Error.Should().Contain("torchvision has ImageNet weights for ViT-B/16 and ViT-B/32").And.Contain("--model vit-tiny trains from scratch, or from a state dict file");
        // ... but a state dict of its own layout, e.g. the run above's, starts it
        var own = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--model", "vit-tiny", "--data-file", run.DataFile, "--epochs", "1", "--batch", "16", "--threads", "1", "--init-weights", modelFile, "--output", run.Folder["vit-own"]);
        own.ExitCode.Should().Be(0, own.ToString());
        own.Text.Should().MatchRegex(@"Initial\s+weights\s+from\s+.*:\s+152\s+of\s+152\s+tensors\s+copied\.");
    }

    [Fact]
    public async Task VitB32_StartsFromTorchvisionsImageNetWeights_InTheCache_AndNeedsItsOwnResolution()
    {
        // torchvision's vit_b_32 state dict planted under its file name (written with torchvision's names; the library
        // renames them), so no network is needed; a real run downloads it once from download.pytorch.org.
        var data = run.Folder["vit-weights-cache"];
        Directory.CreateDirectory(Path.Combine(data, "weights"));
        int total;
        using (var imagenet = MedVision.Nets.Models.PretrainedVisionTransformerWeights.VitB32ImageNet1KV1.CreateBuilder().Build())
        {
            var state = imagenet.StateDict();
            total = state.Count;
            MedVision.Torch.Serialization.PyTorchFile.SaveStateDict(Path.Combine(data, "weights", "vit_b_32-d86f8d99.pth"), state.ToDictionary(kv => TorchvisionVitKey(kv.Key), kv => kv.Value));
        }
        var file = run.Folder["vit-b32/retinamnist.npz"];
        TinyRetinaMnist.Write(file, train: 8, val: 4, test: 4);
        var started = await SampleApp.RunAsync("medmnist", run.Folder.Path, new Dictionary<string, string> { ["MEDVISION_DATA"] = data },
            "train", "--model", "vit-b32", "--resolution", "224", "--data-file", file, "--epochs", "1", "--batch", "4", "--threads", "1",
            "--optimizer", "adamw", "--lr", "1e-4", "--init-weights", "imagenet", "--head-lr-mult", "10", "--output", run.Folder["vit-b32/run"]);
        started.ExitCode.Should().Be(0, started.ToString());
        var text = Regex.Replace(started.Text, @"\s+", " ");
        text.Should().Contain("Model vit-b32 (32×32 patches of 224×224 images): 87,459,077 parameters")
            .And.Contain("ViT_B_32_Weights.IMAGENET1K_V1").And.Contain("https://download.pytorch.org/models/vit_b_32-d86f8d99.pth");
        text.Should().Contain($"{total - 2} of {total} tensors copied; kept initialised: head.weight: expected [5, 768], got [1000, 768]; head.bias");
        text.Should().Contain("the new classifier at 10×");
        var card = MedVision.Nets.Inference.ModelFile.ReadCard(Path.Combine(run.Folder["vit-b32/run"], "model.safetensors"));
        (card.Architecture, card.Vit!.HiddenSize, card.Vit.PatchSize[0], card.Preprocessing.InputSize[0]).Should().Be(("vit", 768, 32, 224));
        card.Preprocessing.Mean.Should().Equal(0.485f, 0.456f, 0.406f);   // ImageNet's statistics for ImageNet weights

        // A ResNet's state dict does not fit it: refused, naming the file.
        var resnetFile = Path.Combine(run.RunFolder, "model.safetensors");
        var wrong = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--model", "vit-b32", "--resolution", "224", "--data-file", file, "--epochs", "1", "--init-weights", resnetFile, "--output", run.Folder["vit-b32/wrong"]);
        wrong.ExitCode.Should().Be(2, wrong.ToString());
        wrong.Error.Should().Contain("--init-weights: only").And.Contain("model.safetensors").And.Contain("is it a state dict of this vision transformer?");

        // Its patches do not divide 28×28 images: refused, with the resolution it needs.
        var small = await SampleApp.RunAsync("medmnist", run.Folder.Path, "train", "--model", "vit-b16", "--data-file", file, "--epochs", "1", "--output", run.Folder["vit-b16-28"]);
        small.ExitCode.Should().Be(2, small.ToString());
        small.Error.Should().Contain("--model vit-b16 cuts images into 16×16 patches, as torchvision's ViT-B/16: --resolution 28 is not a multiple of 16; give --resolution 224.");
    }

    // torchvision's VisionTransformer name of one of this library's keys (the inverse of VisionTransformer.FromTorchvisionKey).
    private static string TorchvisionVitKey(string key)
    {
        if (key == "pos_embedding") return "encoder.pos_embedding";
        if (key.StartsWith("encoder.norm.", StringComparison.Ordinal)) return "encoder.ln." + key["encoder.norm.".Length..];
        if (key.StartsWith("head.", StringComparison.Ordinal)) return "heads." + key;
        var match = Regex.Match(key, @"^encoder\.layers\.(\d+)\.(norm1|norm2|self_attn|linear1|linear2)\.(.+)$");
        if (!match.Success) return key;
        var part = match.Groups[2].Value switch { "norm1" => "ln_1", "norm2" => "ln_2", "self_attn" => "self_attention", "linear1" => "mlp.0", _ => "mlp.3" };
        var back = $"encoder.layers.encoder_layer_{match.Groups[1].Value}.{part}.{match.Groups[3].Value}";
        MedVision.Nets.Models.VisionTransformer.FromTorchvisionKey(back).Should().Be(key);
        return back;
    }

    [Fact]
    public async Task Profile_TablesTheOperatorsOfTrainingSteps_AndWritesAChromeTrace()
    {
        var trace = run.Folder["profile/trace.json"];
        var training = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "profile", "--data-file", run.DataFile, "--batch", "8", "--threads", "1", "--steps", "2", "--warmup", "0", "--record-shapes", "--profile-memory", "--sort", "memory", "--rows", "6", "--trace", trace);
        training.ExitCode.Should().Be(0, training.ToString());
        var result = training.Lines().Should().ContainSingle().Subject;
        (result["#0"], result["mode"], result["steps"], result["batch"]).Should().Be(("profile", "training", "2", "8"));
        training.Output.Should().Contain("Self CPU %").And.Contain("CPU Mem").And.Contain("Input Shapes").And.Contain("Self CPU time total: ");
        training.Output.Should().Contain("forward").And.Contain("backward").And.Contain("optimizer step");
        // ResNet-18 at 28×28: 0.457 G multiply-adds a sample (ModelSummary), 8 a batch (the console may wrap the line)
        training.Output.Should().MatchRegex(@"Forward:\s+3\.65\s+G\s+multiply-adds\s+per\s+step\s+\(convolutions,\s+linear\s+layers,\s+attention\)\s+in\s+[0-9.]+\s+ms:\s+[0-9.]+\s+GFLOP/s");
        // the rows between the table's rules: at most --rows
        var lines = training.Output.Split('\n');
        int first = Array.FindIndex(lines, l => l.StartsWith("Name", StringComparison.Ordinal)) + 2;
        int last = Array.FindIndex(lines, first, l => l.StartsWith("-----", StringComparison.Ordinal));
        (last - first).Should().Be(6);
        using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(trace)))
        {
            var events = json.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
            events.Count.Should().Be(int.Parse(result["operator_calls"], CultureInfo.InvariantCulture));
            events.Select(e => e.GetProperty("name").GetString()).Should().Contain(["step 1", "step 2", "forward", "backward", "optimizer step"]);
            events.Should().Contain(e => e.GetProperty("name").GetString() == "aten::linear" && e.GetProperty("args").GetProperty("Input Dims").GetString()!.StartsWith("[[8, 512]", StringComparison.Ordinal));
        }
        var inference = await SampleApp.RunAsync("medmnist", run.Folder.Path, "profile", "--data-file", run.DataFile, "--batch", "4", "--threads", "1", "--steps", "1", "--inference");
        inference.ExitCode.Should().Be(0, inference.ToString());
        inference.Lines().Should().ContainSingle().Which["mode"].Should().Be("inference");
        inference.Output.Should().NotContain("backward").And.NotContain("CPU Mem");
    }

    [Fact]
    public async Task InitWeights_StartsANewRunFromAStateDict_AndRefusesOneThatDoesNotFit()
    {
        var started = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "1", "--batch", "16", "--threads", "1", "--output", run.Folder["initialised"],
            "--init-weights", Path.Combine(run.RunFolder, "model.safetensors"));
        started.ExitCode.Should().Be(0, started.ToString());
        started.Text.Should().MatchRegex(@"Initial weights from .*model\.safetensors: (\d+) of \1 tensors\s+copied\.");

        // A torch.save checkpoint of a much narrower torchvision ResNet: the key and DataParallel's prefix are found,
        // but no weight fits, which is refused rather than trained from scratch in silence.
        var narrow = Path.Combine(AppContext.BaseDirectory, "Fixtures", "resnet_tiny_basic_small.pth");
        var refused = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--epochs", "1", "--threads", "1", "--output", run.Folder["refused"], "--init-weights", narrow, "--init-entry", "state_dict");
        refused.ExitCode.Should().Be(2, refused.ToString());
        refused.Error.Should().Contain("only 1 of the model's 102 weight tensors have a counterpart of the same shape among the 74 tensors in").And.Contain("resnet_tiny_basic_small.pth").And.Contain("first keys: conv1.weight");
        var both = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "train", "--data-file", run.DataFile, "--output", run.Folder["both"], "--init-weights", narrow, "--resume");
        both.ExitCode.Should().Be(2, both.ToString());
        both.Error.Should().Contain("--init-weights starts a new run and --resume continues one");
    }

    [Fact]
    public async Task InitWeightsImageNet_TakesTorchvisionsWeightsFromTheCache()
    {
        // The cache already holds torchvision's file name (planted here: a ResNet-18 with 1000 classes written as
        // torch.save writes it), so no network is needed; a real run downloads it once from download.pytorch.org.
        var data = run.Folder["weights-cache"];
        Directory.CreateDirectory(Path.Combine(data, "weights"));
        using (var imagenet = MedVision.Nets.Models.ResNet.Builder().WithDepth(18).ForInput(3).WithImageNetStem().WithClasses(1000).Build())
            MedVision.Torch.Serialization.PyTorchFile.SaveStateDict(Path.Combine(data, "weights", "resnet18-f37072fd.pth"), imagenet.StateDict());
        var started = await SampleApp.RunAsync("medmnist", run.Folder.Path, new Dictionary<string, string> { ["MEDVISION_DATA"] = data },
            "train", "--data-file", run.DataFile, "--epochs", "1", "--batch", "16", "--threads", "1", "--output", run.Folder["imagenet"], "--init-weights", "imagenet",
            "--optimizer", "sgd", "--head-lr-mult", "10");
        started.ExitCode.Should().Be(0, started.ToString());
        started.Text.Should().Contain("ResNet18_Weights.IMAGENET1K_V1").And.Contain("https://download.pytorch.org/models/resnet18-f37072fd.pth");
        // The small-input stem's 3×3 conv1 and the 5-class fc keep their initialisation; everything else is copied.
        System.Text.RegularExpressions.Regex.Replace(started.Text, @"\s+", " ").Should()
            .Contain("119 of 122 tensors copied; kept initialised: conv1.weight: expected [64, 3, 3, 3], got [64, 3, 7, 7]; fc.weight");
        // --head-lr-mult: the new classifier (fc.weight, fc.bias) in a parameter group of its own at 10× the rate.
        started.Text.Should().Contain("SGD (momentum 0.9), lr 0.001, ×0.1 at 50% and 75% of the epochs; the new classifier at 10× (lr 0.01)");
        var optimizer = MedVision.Torch.Optim.OptimizerState.Load(Path.Combine(run.Folder["imagenet"], "last.optimizer.safetensors"));
        optimizer.GroupSizes.Should().HaveCount(2).And.EndWith(2);
        optimizer.Groups[1]["initial_lr"].Should().BeApproximately(10 * optimizer.Groups[0]["initial_lr"], 1e-12);
        // Normalised as the ImageNet weights expect, in training and in the model file the predictor reads.
        System.Text.RegularExpressions.Regex.Replace(started.Text, @"\s+", "").Should().Contain("ImagesnormalisedwithImageNet'sstatisticsforthepretrainedweights:mean[0.485,0.456,0.406],std[0.229,0.224,0.225]");
        var imagenetCard = MedVision.Nets.Inference.ModelFile.ReadCard(Path.Combine(run.Folder["imagenet"], "model.safetensors")).Preprocessing;
        imagenetCard.Mean.Should().Equal(0.485f, 0.456f, 0.406f);
        imagenetCard.Std.Should().Equal(0.229f, 0.224f, 0.225f);

        // It sets the rate of a classifier that replaces a pretrained one, so it needs --init-weights (or --resume).
        var alone = await SampleApp.RunAsync("medmnist", run.Folder.Path, "train", "--data-file", run.DataFile, "--head-lr-mult", "10");
        alone.ExitCode.Should().Be(2, alone.ToString());
        alone.Error.Should().Contain("--head-lr-mult sets the rate of the classifier that replaces a pretrained one: give --init-weights");
        var oneCycle = await SampleApp.RunAsync("medmnist", run.Folder.Path, "train", "--data-file", run.DataFile, "--init-weights", "imagenet", "--head-lr-mult", "10", "--schedule", "onecycle");
        oneCycle.ExitCode.Should().Be(2, oneCycle.ToString());
        oneCycle.Error.Should().Contain("--head-lr-mult needs a schedule that scales each rate");
    }

    [Fact]
    public async Task CrossValidate_StartsEveryFoldFromInitWeights_WithTheHeadMultiplier()
    {
        var folder = run.Folder["cv-init"];
        var cv = await SampleApp.RunAsync("medmnist", run.Folder.Path, "cross-validate", "--data-file", run.DataFile, "--folds", "2", "--epochs", "1", "--batch", "16", "--threads", "1",
            "--init-weights", Path.Combine(run.RunFolder, "model.safetensors"), "--head-lr-mult", "4", "--output", folder);
        cv.ExitCode.Should().Be(0, cv.ToString());
        var text = Regex.Replace(cv.Text, @"\s+", " ");
        Regex.Matches(text, @"Initial weights from \S*model\.safetensors: 122 of 122 tensors copied\.").Should().HaveCount(2, "each of the two folds starts from the file");
        text.Should().Contain("the new classifier at 4×");
        File.Exists(Path.Combine(folder, "fold-2", "model.safetensors")).Should().BeTrue();
        // as in train: the multiplier needs weights to fine-tune, and an entry needs a checkpoint file
        var alone = await SampleApp.RunAsync("medmnist", run.Folder.Path, "cross-validate", "--data-file", run.DataFile, "--head-lr-mult", "4", "--output", run.Folder["cv-alone"]);
        alone.ExitCode.Should().Be(2, alone.ToString());
        alone.Error.Should().Contain("--head-lr-mult sets the rate of the classifier that replaces a pretrained one: give --init-weights");
        var entry = await SampleApp.RunAsync("medmnist", run.Folder.Path, "cross-validate", "--data-file", run.DataFile, "--init-entry", "state_dict", "--output", run.Folder["cv-entry"]);
        entry.ExitCode.Should().Be(2, entry.ToString());
        entry.Error.Should().Contain("--init-entry needs --init-weights.");
    }

    [Fact]
    public async Task InitWeightsImageNet_OnGreyImages_SumsTheStemsRgbKernels_SoTheWholeBackboneStartsPretrained()
    {
        // A BreastMNIST-shaped file (28×28 grey, two classes; the shipped RetinaMNIST's green channel) and torchvision's
        // ResNet-18 file planted in the cache, as in the test above.
        var file = run.Folder["grey/breastmnist.npz"];
        var retina = MedVision.Nets.Data.MedMnist.MedMnistDataset.LoadEmbeddedRetinaMnist();
        var arrays = new Dictionary<string, MedVision.Nets.Data.Npy.NpyArray>();
        foreach (var (prefix, split, count) in new[] { ("train", retina.Train, 16), ("val", retina.Validation, 8), ("test", retina.Test, 8) })
        {
            var pixels = Enumerable.Range(0, count).SelectMany(i => split.GetImage(i).ToArray().Where((_, j) => j % 3 == 1)).ToArray();
            arrays[prefix + "_images"] = MedVision.Nets.Data.Npy.NpyArray.FromBytes(pixels, count, 28, 28);
            arrays[prefix + "_labels"] = MedVision.Nets.Data.Npy.NpyArray.FromBytes(Enumerable.Range(0, count).Select(i => (byte)(split.Labels[i, 0] > 0 ? 1 : 0)).ToArray(), count, 1);
        }
        MedVision.Nets.Data.Npy.NpzArchive.Write(file, arrays);
        var data = run.Folder["grey-weights-cache"];
        Directory.CreateDirectory(Path.Combine(data, "weights"));
        using (var imagenet = MedVision.Nets.Models.ResNet.Builder().WithDepth(18).ForInput(3).WithImageNetStem().WithClasses(1000).Build())
            MedVision.Torch.Serialization.PyTorchFile.SaveStateDict(Path.Combine(data, "weights", "resnet18-f37072fd.pth"), imagenet.StateDict());

        var started = await SampleApp.RunAsync("medmnist", run.Folder.Path, new Dictionary<string, string> { ["MEDVISION_DATA"] = data },
            "train", "--data-file", file, "--resolution", "224", "--epochs", "1", "--batch", "8", "--threads", "1", "--output", run.Folder["grey-imagenet"], "--init-weights", "imagenet");
        started.ExitCode.Should().Be(0, started.ToString());
        started.Text.Should().Contain("breastmnist").And.Contain("1 channel(s)");
        var text = Regex.Replace(started.Text, @"\s+", " ");
        text.Should().Contain("conv1.weight: the RGB kernels summed for the model's 1 input channel (timm's adapt_input_conv)");
        // Everything but the 2-class classifier is copied: the ImageNet stem too, where it used to keep a random initialisation.
        text.Should().Contain("120 of 122 tensors copied; kept initialised: fc.weight: expected [2, 512], got [1000, 512]; fc.bias");
        // Grey images normalised with ImageNet's statistics averaged over R, G and B, in training and in the model file.
        Regex.Replace(started.Text, @"\s+", "").Should().Contain("mean[0.449],std[0.226](theRGBvaluesaveragedforgreyimages)");
        var card = MedVision.Nets.Inference.ModelFile.ReadCard(Path.Combine(run.Folder["grey-imagenet"], "model.safetensors")).Preprocessing;
        card.Mean.Should().ContainSingle().Which.Should().BeApproximately(0.449f, 5e-4f);
        card.Std.Should().ContainSingle().Which.Should().BeApproximately(0.226f, 5e-4f);
    }

    [Fact]
    public async Task PredictingAFileThatIsNotAnImage_NamesTheFile()
    {
        var predict = await SampleApp.RunAsync("medmnist", run.Folder.Path, "predict", "--model", Path.Combine(run.RunFolder, "model.safetensors"), run.DataFile);
        predict.ExitCode.Should().Be(2, predict.ToString());
        predict.Error.Should().Contain("retinamnist.npz").And.Contain("not a JPEG, PNG or DICOM image");
        var missing = await SampleApp.RunAsync("medmnist", run.Folder.Path, "predict", "--model", run.Folder["nothere.safetensors"], "a.png");
        missing.ExitCode.Should().Be(2, missing.ToString());
        missing.Error.Should().Contain("nothere.safetensors");
    }

    // A split's probabilities through a predictor, as the sample's evaluate and conformal commands compute them.
    private static double[,] Probabilities(Predictor predictor, MedVision.Nets.Data.MedMnist.MedMnistSplitData split)
    {
        var source = new MedVision.Nets.Data.Loading.MedMnistImageSource(split);
        var predictions = predictor.Predict(Enumerable.Range(0, split.Count).Select(i => source.Load(i).Image).ToList());
        var m = new double[split.Count, 5];
        for (int i = 0; i < split.Count; i++) for (int k = 0; k < 5; k++) m[i, k] = predictions[i].Probabilities[k];
        return m;
    }

    [Fact]
    public async Task Conformal_PrintsTheLibrarysCoverageForEveryScore_StoresTheCalibration_AndPredictPrintsTheSets()
    {
        // A copy: --store rewrites the model file, which the other tests share.
        var modelFile = run.Folder["conformal-model.safetensors"];
        File.Copy(Path.Combine(run.RunFolder, "model.safetensors"), modelFile, overwrite: true);
        var output = run.Folder["conformal"];
        var conformal = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "conformal", "--model", modelFile, "--data-file", run.DataFile, "--coverage", "0.8", "--trials", "40", "--threads", "1", "--store", "--output", output);
        conformal.ExitCode.Should().Be(0, conformal.ToString());

        // The same calibrations through the library, on the predictor's probabilities of the same splits.
        var data = MedVision.Nets.Data.MedMnist.MedMnistDataset.Load(run.DataFile);
        double[,] val, test;
        using (var predictor = Predictor.Load(Path.Combine(run.RunFolder, "model.safetensors")))
            (val, test) = (Probabilities(predictor, data.Validation), Probabilities(predictor, data.Test));
        var lines = conformal.Lines("CONFORMAL");
        lines.Should().HaveCount(8, "four scores, marginal and per class");
        foreach (var line in lines)
        {
            var name = line["#0"];
            var score = Enum.Parse<MedVision.Nets.Metrics.Conformal.ConformalScore>(name.Replace("-per-class", ""));
            var builder = MedVision.Nets.Metrics.Conformal.ConformalClassifier.Create().WithScore(score).WithCoverage(0.8).ClassConditional(name.EndsWith("-per-class"));
            var expected = builder.Calibrate(data.Validation.Labels, val).Evaluate(data.Test.Labels, test);
            D(line["test_coverage"]).Should().BeApproximately(expected.Coverage, 5e-5, name);
            D(line["test_size"]).Should().BeApproximately(expected.MeanSetSize, 5e-5, name);
            line["coverage_asked"].Should().Be("0.8");
            D(line["splits_coverage"]).Should().BeInRange(0, 1);
        }
        var rows = File.ReadAllLines(Path.Combine(output, "test-sets.csv"));
        rows[0].Should().Be("index,label,predicted,set,covered");
        rows.Should().HaveCount(1 + data.Test.Count);
        var ordinal = MedVision.Nets.Metrics.Conformal.ConformalClassifier.Create().WithScore(MedVision.Nets.Metrics.Conformal.ConformalScore.OrdinalAps).WithCoverage(0.8)
            .Calibrate(data.Validation.Labels, val);
        var sets = ordinal.PredictSets(test);
        for (int i = 0; i < sets.Length; i++) rows[1 + i].Split(',')[3].Should().Be(string.Join(' ', sets[i]), $"test image {i}: ordinal APS is the default score of an ordinal dataset");

        // The stored calibration: the predictor gives the same sets, and predict prints them.
        using (var stored = Predictor.Load(modelFile))
        {
            stored.Conformal!.Score.Should().Be(MedVision.Nets.Metrics.Conformal.ConformalScore.OrdinalAps);
            stored.Conformal.Thresholds.Should().Equal(ordinal.Thresholds);
        }
        var names = TinyRetinaMnist.WritePngs(run.Folder.Path, 3);
        var predict = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", modelFile, .. names]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("conformal set").And.Contain("calibrated on 16 images to hold the true class 80 %");
        using (var predictor = Predictor.Load(modelFile))
            foreach (var name in names)
            {
                var set = predictor.PredictFile(Path.Combine(run.Folder.Path, name)).ConformalSetNames!;
                string text = set.Count > 2 ? $"{set[0]}–{set[^1]}" : string.Join(", ", set);
                predict.Output.Split('\n').Should().ContainSingle(r => r.Contains(name)).Which.Should().Contain($"│ {text} ");
            }
        var flipped = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", modelFile, "--flips", "Horizontal", .. names]);
        flipped.ExitCode.Should().Be(0, flipped.ToString());
        flipped.Text.Should().Contain("predictions carry no sets").And.NotContain("│ conformal set");

        // An ensemble manifest takes the calibration of its averaged probabilities; predict with it prints the sets.
        var manifest = run.Folder["conformal-ensemble/ensemble.json"];
        Directory.CreateDirectory(Path.GetDirectoryName(manifest)!);
        EnsemblePredictor.SaveManifest(manifest, new[] { Path.Combine(run.RunFolder, "model.safetensors") });
        var ensembleStore = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "conformal", "--model", manifest, "--data-file", run.DataFile, "--coverage", "0.8", "--trials", "0", "--threads", "1", "--store", "--output", run.Folder["conformal-ensemble/out"]);
        ensembleStore.ExitCode.Should().Be(0, ensembleStore.ToString());
        EnsemblePredictor.ReadManifest(manifest).Conformal!.Thresholds.Should().Equal(ordinal.Thresholds.Select(t => (double?)t), "an ensemble of one averages nothing");
        var ensemblePredict = await SampleApp.RunAsync("medmnist", run.Folder.Path, ["predict", "--model", manifest, .. names]);
        ensemblePredict.ExitCode.Should().Be(0, ensemblePredict.ToString());
        ensemblePredict.Text.Should().Contain("Conformal sets: OrdinalAps, calibrated on 16 images");

        var two = await SampleApp.RunAsync("medmnist", run.Folder.Path,
            "conformal", "--model", modelFile, "--model", Path.Combine(run.RunFolder, "model.safetensors"), "--data-file", run.DataFile, "--store");
        two.ExitCode.Should().Be(2, two.ToString());
        two.Error.Should().Contain("--store writes the calibration into one .safetensors model file");
        var badCoverage = await SampleApp.RunAsync("medmnist", run.Folder.Path, "conformal", "--model", modelFile, "--data-file", run.DataFile, "--coverage", "1");
        badCoverage.ExitCode.Should().Be(2, "a bad option value is a usage error");
        badCoverage.Error.Should().Contain("--coverage").And.Contain("strictly between 0 and 1");
    }
}

public sealed class MedMnistSampleInputTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ImagesOfAnotherSize_AreResizedToTheResolutionTheModelFileRecords()
    {
        // A 56×56 file trained at --resolution 28: training, the model file and the predictor must all use 28×28, so
        // evaluate (which runs the predictor) reproduces the test metrics training printed.
        var data = _folder["retinamnist_56.npz"];
        TinyRetinaMnist.Write(data, train: 32, val: 16, test: 16, upsample: 2);
        var train = await SampleApp.RunAsync("medmnist", _folder.Path,
            "train", "--dataset", "retinamnist", "--data-file", data, "--epochs", "1", "--batch", "16", "--threads", "1", "--output", _folder["run"]);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("Images 56×56 are resized to 28×28 (bilinear).");
        var evaluate = await SampleApp.RunAsync("medmnist", _folder.Path,
            "evaluate", "--model", _folder["run/model.safetensors"], "--dataset", "retinamnist", "--data-file", data, "--output", _folder["evaluation"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        evaluate.Lines("EVALUATION").Single()["test_auc"].Should().Be(train.Lines().Single()["test_auc"]);
    }

    [Theory]
    [InlineData("--epochs", "0", "--epochs must be at least 1")]
    [InlineData("--batch", "0", "--batch must be at least 1")]
    [InlineData("--lr", "-1", "--lr must be a positive number")]
    [InlineData("--resolution", "64", "--resolution must be 28 or 224")]
    [InlineData("--model", "vgg16", "--model must be resnet18, resnet50, vit-tiny, vit-small, vit-b16 or vit-b32")]
    [InlineData("--dataset", "nosuchmnist", "nosuchmnist")]
    public async Task BadOptions_EndWithExitCode2AndAMessageNamingTheOption(string option, string value, string message)
    {
        string[] epochs = option == "--epochs" ? [] : ["--epochs", "1"];
        var run = await SampleApp.RunAsync("medmnist", _folder.Path, ["train", option, value, .. epochs, "--output", _folder["run"]]);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Error.Should().StartWith("error: ").And.Contain(message);
        run.Error.Should().NotContain("   at ", "bad input gets a message, not a stack trace");
    }

    [Fact]
    public async Task ADivergingRun_EndsWithExitCode2AndSaysWhereTheLossBecameNaN()
    {
        var data = _folder["retinamnist.npz"];
        TinyRetinaMnist.Write(data, train: 32, val: 8, test: 8);
        var run = await SampleApp.RunAsync("medmnist", _folder.Path,
            "train", "--data-file", data, "--lr", "1e30", "--epochs", "1", "--batch", "8", "--threads", "1", "--output", _folder["diverged"]);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Error.Should().MatchRegex(@"^error: The loss became (NaN|∞|-∞|Infinity|-Infinity) at epoch 0, step \d+ \(terms: cross_entropy=.*\)\. Lower the learning rate or check the inputs\.");
        run.Error.Should().NotContain("   at ", "a diverged run is reported, not a crash");
    }

    [Fact]
    public async Task MixedPrecision_TrainsAndEvaluatesUnderBFloat16Autocast()
    {
        var data = _folder["retinamnist.npz"];
        TinyRetinaMnist.Write(data, train: 32, val: 16, test: 16);
        var train = await SampleApp.RunAsync("medmnist", _folder.Path,
            "train", "--data-file", data, "--mixed-precision", "--epochs", "1", "--batch", "16", "--threads", "1", "--output", _folder["amp"]);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("Mixed precision: forward passes in bfloat16 autocast");
        var result = train.Lines().Single();
        double.Parse(result["test_auc"], CultureInfo.InvariantCulture).Should().BeInRange(0, 1);
        var evaluate = await SampleApp.RunAsync("medmnist", _folder.Path,
            "evaluate", "--model", _folder["amp/model.safetensors"], "--data-file", data, "--dataset", "retinamnist", "--mixed-precision", "--output", _folder["amp-eval"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        evaluate.Text.Should().Contain("bfloat16 autocast");
        // the same weights and the same autocast evaluation as the end of training
        evaluate.Lines("EVALUATION").Should().ContainSingle().Which["test_auc"].Should().Be(result["test_auc"]);
    }

    [Fact]
    public async Task ACorruptDataFile_IsNamedAndNothingIsWritten()
    {
        var data = _folder["retinamnist.npz"];
        TinyRetinaMnist.Write(data);
        var bytes = File.ReadAllBytes(data);
        File.WriteAllBytes(data, bytes[..(bytes.Length / 2)]);
        var run = await SampleApp.RunAsync("medmnist", _folder.Path, "train", "--data-file", data, "--epochs", "1", "--output", _folder["run"]);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Error.Should().StartWith("error: ").And.Contain("retinamnist.npz");
        Directory.Exists(_folder["run"]).Should().BeFalse("nothing is written for a run that cannot start");
    }
}
