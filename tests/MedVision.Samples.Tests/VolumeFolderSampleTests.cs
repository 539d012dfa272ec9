using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;

namespace MedVision.Samples.Tests;

/// <summary>
/// The volume-folder sample on NIfTI volumes in class folders (the library's brain phantoms): MedicalNet's network from
/// scratch and fine-tuned from a MedicalNet checkpoint (a small one written as MedicalNet's training writes them), the
/// model file it leaves for the predictor, and its refusals.
/// </summary>
public sealed class VolumeFolderSampleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string WriteVolumes(int subjects)
    {
        var root = _folder["volumes"];
        foreach (var subject in new PhantomGenerator(size: 28, seed: 3).Generate(0, subjects))
        {
            var folder = Directory.CreateDirectory(Path.Combine(root, subject.Label == 1 ? "lesion" : "healthy")).FullName;
            NiftiWriter.Write(Path.Combine(folder, $"s{subject.Index:D2}.nii.gz"), new NiftiImage(subject.Mri, new[] { 28, 28, 28 }));
        }
        return root;
    }

    [Fact]
    public async Task GradeFolders_TrainAnOrdinalModel_WithTaskOrdinal()
    {
        // Three grade folders named by word (as tumour grades often are): ordinal only when --task says so.
        var data = _folder["grades"];
        foreach (var subject in new PhantomGenerator(size: 16, seed: 5).Generate(0, 9))
        {
            var folder = Directory.CreateDirectory(Path.Combine(data, $"grade{2 + subject.Index % 3}")).FullName;
            NiftiWriter.Write(Path.Combine(folder, $"s{subject.Index:D2}.nii.gz"), new NiftiImage(subject.Mri, new[] { 16, 16, 16 }));
        }
        var run = _folder["grades-run"];
        var train = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--size", "16", "16", "16", "--depth", "10", "--epochs", "1", "--batch", "3", "--threads", "2", "--task", "ordinal", "--output", run);
        train.ExitCode.Should().Be(0, train.ToString());
        var modelFile = Path.Combine(run, "model.safetensors");
        var card = ModelFile.ReadCard(modelFile);
        (card.Task, string.Join(",", card.ClassNames)).Should().Be(("OrdinalRegression", "grade2,grade3,grade4"));
        var predict = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", modelFile, Path.Combine(data, "grade3", "s01.nii.gz"));
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("expected");

        var unordered = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--size", "16", "16", "16", "--depth", "10", "--epochs", "1", "--batch", "3", "--threads", "2", "--output", _folder["grades-auto"]);
        unordered.ExitCode.Should().Be(0, unordered.ToString());
        ModelFile.ReadCard(Path.Combine(_folder["grades-auto"], "model.safetensors")).Task.Should().Be("MultiClass", "folders named by word are not read as grades unless --task says so");
        var two = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", WriteVolumes(4), "--task", "ordinal", "--epochs", "1", "--output", _folder["two-out"]);
        two.ExitCode.Should().Be(2, two.ToString());
        two.Error.Should().Contain("--task ordinal applies to three or more classes");

        // A CORAL head on the grades, from MedicalNet's weights: two cumulative logits, the median grade decides.
        var checkpoint = Path.Combine(AppContext.BaseDirectory, "Fixtures", "medicalnet_tiny_resnet18a.pth");
        var coralRun = _folder["grades-coral"];
        var coral = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--size", "16", "16", "16", "--init-weights", checkpoint, "--epochs", "1", "--batch", "3", "--threads", "2", "--task", "ordinal", "--head", "coral",
            "--val-fraction", "0.34", "--min-sensitivity", "1", "--calibrate", "--output", coralRun);
        coral.ExitCode.Should().Be(0, coral.ToString());
        coral.Text.Should().Contain("ending in a CORAL head (2 cumulative logits; predicted grade: the median)").And.Contain("Loss: CORAL");
        var result = coral.Lines().Should().ContainSingle().Subject;
        result["head"].Should().Be("coral");
        var coralFile = Path.Combine(coralRun, "model.safetensors");
        var coralCard = ModelFile.ReadCard(coralFile);
        coralCard.HasCoralHead.Should().BeTrue();
        coralCard.OrdinalDecision.Should().Be(MedVision.Nets.Metrics.OrdinalDecision.Median);
        // --calibrate: a temperature on the cumulative logits (which keeps the median grades), fitted on the validation
        // volumes: the predictor's cumulative logits there are z / T, and the fit on z gives T back.
        coralCard.CoralTemperature.Should().Be(MedVision.Nets.Losses.CoralTemperature.CumulativeLogits);
        result["temperature"].Should().Be(coralCard.Temperature.ToString("F4", CultureInfo.InvariantCulture));
        coralCard.Referral!.CoralTemperatureName.Should().Be("cumulative_logits", "the operating point was chosen on the calibrated probabilities");
        coralCard.Referral.Temperature.Should().Be(coralCard.Temperature);
        using (var predictor = Predictor.Load(coralFile))
        {
            var validation = File.ReadAllLines(Path.Combine(coralRun, "split.csv")).Skip(1).Select(l => l.Split(',')).Where(c => c[3] == "validation").ToArray();
            var labels = new int[validation.Length];
            var logits = new double[validation.Length, 2];
            for (int i = 0; i < validation.Length; i++)
            {
                labels[i] = Array.IndexOf(coralCard.ClassNames.ToArray(), validation[i][1]);
                var p = predictor.PredictFile(Path.Combine(data, validation[i][0])).Probabilities.Select(v => (double)v).ToArray();
                var z = MedVision.Nets.Losses.OrdinalDecoding.ToCumulativeLogits(new double[,] { { p[0], p[1], p[2] } });
                for (int k = 0; k < 2; k++) logits[i, k] = coralCard.Temperature * z[0, k];
            }
            MedVision.Nets.Metrics.TemperatureScaling.FitCumulative(labels, logits).Temperature.Should().BeApproximately(coralCard.Temperature, 1e-3 * coralCard.Temperature);
        }
        // The validation ACC is the median grades': the predictor's labels of the validation volumes (split.csv).
        using (var predictor = Predictor.Load(coralFile))
        {
            var validation = File.ReadAllLines(Path.Combine(coralRun, "split.csv")).Skip(1).Select(l => l.Split(',')).Where(c => c[3] == "validation").ToArray();
            int right = validation.Count(c => predictor.PredictFile(Path.Combine(data, c[0])).LabelName == c[1]);
            result["val_acc"].Should().Be(((double)right / validation.Length).ToString("F4", CultureInfo.InvariantCulture));
        }
        // --min-sensitivity 1: the operating point refers every validation volume of grade ≥ 2 (grade4), at the lowest
        // P(grade ≥ 2) among them, and is recorded for predict.
        coral.Text.Should().Contain("Operating point (").And.Contain("refer when P(grade ≥ 2: grade4) ≥ ");
        result["op_val_sensitivity"].Should().Be("1.0000");
        coralCard.Referral.Should().NotBeNull();
        coralCard.Referral!.ReferableFrom.Should().Be(2);
        using (var predictor = Predictor.Load(coralFile))
        {
            var referable = File.ReadAllLines(Path.Combine(coralRun, "split.csv")).Skip(1).Select(l => l.Split(',')).Where(c => c[3] == "validation" && c[1] == "grade4").ToArray();
            referable.Should().NotBeEmpty();
            double lowest = referable.Min(c => predictor.PredictFile(Path.Combine(data, c[0])).ReferralRisk!.Value);
            result["op_threshold"].Should().Be(lowest.ToString("F4", CultureInfo.InvariantCulture));
        }
        // evaluate on labelled class folders (here all nine scans): the measures of the predictor's own predictions, its
        // calibration at the model file's temperature and at 1, and the recorded operating point's decisions.
        var evaluate = await SampleApp.RunAsync("volume-folder", _folder.Path, "evaluate", "--model", coralFile, "--test-data", data, "--bootstrap", "50", "--output", _folder["grades-coral-eval"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        evaluate.Text.Should().Contain("Calibration (T = ").And.Contain("at temperature 1 (uncalibrated)").And.Contain("Referral (refer when P(class ≥ 2 (grade4)) ≥");
        var evaluation = evaluate.Lines("EVALUATION").Should().ContainSingle().Subject;
        (evaluation["scans"], evaluation["task"], evaluation["classes"], evaluation["referable_from"]).Should().Be(("9", "OrdinalRegression", "3", "2"));
        evaluation["temperature"].Should().Be(result["temperature"]);
        using (var predictor = Predictor.Load(coralFile))
        {
            var scans = coralCard.ClassNames.SelectMany((name, k) => Directory.GetFiles(Path.Combine(data, name)).Order(StringComparer.Ordinal).Select(f => (File: f, Label: k))).ToArray();
            var predicted = scans.Select(x => predictor.PredictFile(x.File)).ToArray();
            evaluation["test_acc"].Should().Be(((double)scans.Zip(predicted).Count(p => p.First.Label == p.Second.Label) / scans.Length).ToString("F4", CultureInfo.InvariantCulture));
            evaluation["referred"].Should().Be(predicted.Count(p => p.Referred == true).ToString(CultureInfo.InvariantCulture));
            var probabilities = new double[scans.Length, 3];
            for (int i = 0; i < scans.Length; i++)
                for (int k = 0; k < 3; k++) probabilities[i, k] = predicted[i].Probabilities[k];
            double.Parse(evaluation["test_ece"], CultureInfo.InvariantCulture).Should().BeApproximately(
                MedVision.Nets.Metrics.Calibration.Evaluate(MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression, scans.Select(x => x.Label).ToArray(), probabilities).ExpectedCalibrationError, 1e-3);
            File.ReadAllLines(Path.Combine(_folder["grades-coral-eval"], "test-predictions.csv")).Should().HaveCount(10);
        }
        var otherClasses = await SampleApp.RunAsync("volume-folder", _folder.Path, "evaluate", "--model", coralFile, "--test-data", WriteVolumes(4), "--output", _folder["grades-coral-eval-2"]);
        otherClasses.ExitCode.Should().Be(2, otherClasses.ToString());
        otherClasses.Error.Should().Contain("are not the model's classes (grade2, grade3, grade4)");
        var coralPredict = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", coralFile, Path.Combine(data, "grade3", "s01.nii.gz"));
        coralPredict.ExitCode.Should().Be(0, coralPredict.ToString());
        coralPredict.Text.Should().Contain("expected").And.Contain("Referral: refer when")
            .And.Contain(string.Create(CultureInfo.InvariantCulture, $"temperature {coralCard.Temperature:G4} on the cumulative logits"));
        // An operating point needs a held-out validation split of both kinds, a grade that exists, and ordered grades.
        var folded = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--folds", "3", "--min-sensitivity", "0.9", "--output", _folder["op-folds"]);
        folded.ExitCode.Should().Be(2, folded.ToString());
        folded.Error.Should().Contain("--min-sensitivity records an operating point chosen on the held-out validation volumes");
        var beyond = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--task", "ordinal", "--min-sensitivity", "0.9", "--referable-from", "3", "--output", _folder["op-beyond"]);
        beyond.ExitCode.Should().Be(2, beyond.ToString());
        beyond.Error.Should().Contain("--referable-from 3: the grades run from 0 to 2 (grade2, grade3, grade4)");
        var unorderedPoint = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--min-sensitivity", "0.9", "--output", _folder["op-unordered"]);
        unorderedPoint.ExitCode.Should().Be(2, unorderedPoint.ToString());
        unorderedPoint.Error.Should().Contain("--min-sensitivity chooses a referral threshold, which needs a binary or graded (ordinal) model; these classes (grade2, grade3, grade4) are unordered (multi-class). Give --task ordinal")
            .And.NotContain("multi-label");
        // Grades are needed: unordered folders and --task multi-class are refused.
        var words = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--head", "coral", "--epochs", "1", "--output", _folder["coral-words"]);
        words.ExitCode.Should().Be(2, words.ToString());
        words.Error.Should().Contain("--head coral ranks ordered grades").And.Contain("give --task ordinal");
        var unorderedCoral = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--head", "coral", "--task", "multi-class", "--output", _folder["coral-mc"]);
        unorderedCoral.ExitCode.Should().Be(2, unorderedCoral.ToString());
        unorderedCoral.Error.Should().Contain("--head coral ranks ordered grades; --task multi-class trains unordered classes.");
    }

    [Fact]
    public async Task MultiContrastFiles_TrainAsOneChannelPerVolume()
    {
        // The nibabel fixture holding three volumes, as eight subjects' files in two classes.
        var multi = Path.Combine(AppContext.BaseDirectory, "Fixtures", "multi_4d.nii.gz");
        var data = _folder["contrasts"];
        for (int i = 0; i < 8; i++)
        {
            var folder = Directory.CreateDirectory(Path.Combine(data, i % 2 == 0 ? "hgg" : "lgg")).FullName;
            File.Copy(multi, Path.Combine(folder, $"s{i}.nii.gz"));
        }
        var run = _folder["contrasts-run"];
        var train = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--size", "16", "16", "16", "--depth", "10", "--epochs", "1", "--batch", "2", "--threads", "2", "--output", run,
            "--tensorboard", _folder["board"]);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("3 channels per sample");
        MedVision.Torch.TensorBoard.EventFileReader.ReadScalars(_folder["board"]).Select(p => p.Tag).Should().Contain(["train/loss", "validation/auc"]);
        var card = ModelFile.ReadCard(Path.Combine(run, "model.safetensors"));
        card.Preprocessing.Channels.Should().Be(3);
        card.Preprocessing.Mean.Should().HaveCount(3);
        card.ResNet!.InChannels.Should().Be(3);
        var predict = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--csv", _folder["scans.csv"], Path.Combine(data, "hgg", "s0.nii.gz"));
        predict.ExitCode.Should().Be(0, predict.ToString());
        using (var predictor = Predictor.Load(Path.Combine(run, "model.safetensors")))
        {
            var expected = predictor.PredictFile(Path.Combine(data, "hgg", "s0.nii.gz"));
            predict.Text.Should().Contain($"{expected.Label}: {expected.LabelName}");
            var rows = File.ReadAllLines(_folder["scans.csv"]);
            rows[0].Should().Be($"input,label,label_name,{string.Join(",", card.ClassNames.Select(c => "p_" + c))}", "one model (an ensemble of one) has no agreement to report");
            var fields = rows[1].Split(',');
            fields[..3].Should().Equal(Path.Combine(data, "hgg", "s0.nii.gz"), expected.Label.ToString(CultureInfo.InvariantCulture), expected.LabelName);
            fields[3..].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).Should().Equal(expected.Probabilities.Select(p => (double)p), (a, b) => Math.Abs(a - b) < 1e-6);
        }
        // A conformal calibration and a referral point stored in the model file (as the MedMnist sample's conformal
        // --store and evaluate --store-referral store them): the table shows each scan's set, risk and decision.
        var modelFile = Path.Combine(run, "model.safetensors");
        var calibration = MedVision.Nets.Metrics.Conformal.ConformalClassifier.Create().WithCoverage(0.8)
            .Calibrate([0, 1, 0, 1, 1], new double[,] { { 0.6, 0.4 }, { 0.3, 0.7 }, { 0.55, 0.45 }, { 0.45, 0.55 }, { 0.2, 0.8 } });
        ModelFile.UpdateCard(modelFile, c =>
        {
            c.Conformal = ConformalCard.From(calibration);
            c.Referral = ReferralCard.From(MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivity([0, 1, 0, 1, 1], [0.2, 0.8, 0.3, 0.6, 0.4], 0.6), referableFrom: 1);
        });
        var decided = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", modelFile, Path.Combine(data, "hgg", "s0.nii.gz"));
        decided.ExitCode.Should().Be(0, decided.ToString());
        using (var predictor = Predictor.Load(modelFile))
        {
            var expected = predictor.PredictFile(Path.Combine(data, "hgg", "s0.nii.gz"));
            expected.Referred.Should().NotBeNull();
            decided.Text.Should().Contain("conformal").And.Contain("referred").And.Contain(expected.ReferralRisk!.Value.ToString("F3", CultureInfo.InvariantCulture))
                .And.Contain(expected.Referred == true ? "refer" : "no").And.Contain(string.Join(", ", expected.ConformalSetNames!));
            decided.Text.Should().Contain($"Referral: refer when P(class ≥ 1 ({card.ClassNames[1]})) ≥ {predictor.Referral!.Threshold.ToString("F4", CultureInfo.InvariantCulture)}")
                .And.Contain("Conformal sets: ").And.Contain("calibrated on 5 scans");
        }

        var checkpoint = Path.Combine(AppContext.BaseDirectory, "Fixtures", "medicalnet_tiny_resnet18a.pth");
        // MedicalNet's one-channel weights for the three volumes of each file: the stem is adapted.
        var tuned = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--size", "16", "16", "16", "--init-weights", checkpoint, "--epochs", "1", "--output", _folder["tuned"]);
        tuned.ExitCode.Should().Be(0, tuned.ToString());
        tuned.Text.Should().Contain("pretrained weights from").And.Contain("(its 1-channel stem adapted to the 3 channels: kernels repeated over them and scaled by 1/3)").And.Contain("pretrained=yes");
        using (var weights = MedicalNet.LoadStateDict(checkpoint))
        {
            var tunedCard = ModelFile.ReadCard(Path.Combine(_folder["tuned"], "model.safetensors")).ResNet!;
            tunedCard.InChannels.Should().Be(3);
            tunedCard.Widths.Should().Equal(Enumerable.Range(1, 4).Select(i => (int)weights[$"layer{i}.0.conv1.weight"].Size(0)));
        }
    }

    [Fact]
    public async Task KineticsWeights_FineTuneTorchvisionsR3D18_WithItsStemAdaptedToOneChannel()
    {
        // torchvision's r3d_18 file (its keys and shapes, random values) planted in the weights cache under its own name.
        var cache = _folder["weights-cache"];
        Directory.CreateDirectory(Path.Combine(cache, "weights"));
        var rows = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "r3d_18_state_dict_shapes.txt")).Select(l => l.Split(' ')).ToList();
        using (var scope = MedVision.Torch.Tensors.NewDisposeScope())
        {
            MedVision.Torch.Tensors.ManualSeed(2);
            var tensors = rows.ToDictionary(r => r[0], r =>
            {
                var shape = r.Length > 1 && r[1].Length > 0 ? r[1].Split(',').Select(long.Parse).ToArray() : Array.Empty<long>();
                return r[0].EndsWith("num_batches_tracked", StringComparison.Ordinal) ? MedVision.Torch.Tensors.Zeros(shape, MedVision.Torch.ScalarType.Int64)
                    : r[0].EndsWith("running_var", StringComparison.Ordinal) ? MedVision.Torch.Tensors.Ones(shape)
                    : MedVision.Torch.Tensors.Randn(shape) * 0.05;
            });
            MedVision.Torch.Serialization.PyTorchFile.SaveStateDict(Path.Combine(cache, "weights", PretrainedWeights.R3D18Kinetics400V1.FileName), tensors);
        }
        var run = await SampleApp.RunAsync("volume-folder", _folder.Path, new Dictionary<string, string> { ["MEDVISION_DATA"] = cache },
            "--demo", "--init-weights", "kinetics", "--size", "16", "16", "16", "--epochs", "1", "--threads", "2", "--head-lr-mult", "10", "--output", _folder["kinetics"]);
        run.ExitCode.Should().Be(0, run.ToString());
        var text = System.Text.RegularExpressions.Regex.Replace(run.Text, @"\s+", " ");
        text.Should().Contain("R3D_18_Weights.KINETICS400_V1").And.Contain("torchvision's R3D-18 (basic blocks [2, 2, 2, 2], 3×7×7 stem of stride 1×2×2, no max pool), pretrained on Kinetics-400 (its RGB stem adapted to the 1 channel(s): kernels summed over R, G and B): 33,148,482 parameters")
            .And.Contain("the new classifier at 10×");
        run.Lines().Single()["#0"].Should().Be("r3d18-kinetics");
        var modelFile = Path.Combine(_folder["kinetics"], "model.safetensors");
        var card = ModelFile.ReadCard(modelFile).ResNet!;
        card.InChannels.Should().Be(1);
        card.StemKernelSize.Should().Equal(3, 7, 7);
        card.StemStride.Should().Equal(1, 2, 2);
        // The predictor rebuilds R3D-18's stem from the card and classifies a scan.
        var scan = Directory.GetFiles(WriteVolumes(2), "*.nii.gz", SearchOption.AllDirectories).First();
        using var predictor = Predictor.Load(modelFile);
        var prediction = predictor.PredictFile(scan);
        prediction.Probabilities.Should().HaveCount(2);
        prediction.Probabilities.Sum().Should().BeApproximately(1f, 1e-5f);
    }

    [Fact]
    public async Task SubjectFoldersWithModalities_TrainAndPredictFromSubjectFolders()
    {
        // BraTS-like subject folders: one file per modality, named <subject>_<modality>.nii.gz, in two classes.
        var data = _folder["subjects"];
        var random = new Random(11);
        for (int i = 0; i < 8; i++)
        {
            var folder = Directory.CreateDirectory(Path.Combine(data, i % 2 == 0 ? "hgg" : "lgg", $"BraTS_{i:D3}")).FullName;
            foreach (var modality in new[] { "flair", "t1" })
                NiftiWriter.Write(Path.Combine(folder, $"BraTS_{i:D3}_{modality}.nii.gz"),
                    new NiftiImage(Enumerable.Range(0, 6 * 6 * 6).Select(_ => (float)random.NextDouble() * (i % 2 + 1)).ToArray(), new[] { 6, 6, 6 }));
        }
        var run = _folder["subjects-run"];
        var train = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--modalities", "flair", "t1", "--size", "16", "16", "16", "--depth", "10", "--epochs", "1", "--batch", "2", "--threads", "2", "--output", run);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("8 subjects in 2 classes").And.Contain("2 channels per sample: the subject folder's flair, t1");
        var modelFile = Path.Combine(run, "model.safetensors");
        var card = ModelFile.ReadCard(modelFile);
        card.FormatVersion.Should().Be(4);
        card.Preprocessing.Modalities.Should().Equal("flair", "t1");
        var subject = Path.Combine(data, "lgg", "BraTS_001");
        var predict = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", modelFile, subject);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("subject folders of flair, t1");
        using var predictor = Predictor.Load(modelFile);
        var expected = predictor.PredictFile(subject);
        predict.Text.Should().Contain($"{expected.Label}: {expected.LabelName}");

        // A second model of another seed and input size: the two predict and explain as an ensemble.
        var second = _folder["subjects-run-2"];
        var train2 = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--modalities", "flair", "t1", "--size", "12", "12", "12", "--depth", "10", "--epochs", "1", "--batch", "2", "--threads", "2", "--seed", "1", "--output", second);
        train2.ExitCode.Should().Be(0, train2.ToString());
        var models = new[] { modelFile, Path.Combine(second, "model.safetensors") };
        var maps = _folder["subjects-maps"];
        var ensemble = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", models[0], "--model", models[1], "--explain", maps, subject);
        ensemble.ExitCode.Should().Be(0, ensemble.ToString());
        ensemble.Text.Should().Contain("Ensemble of 2 models").And.Contain("2. model.safetensors: classes hgg, lgg, input 12×12×12").And.Contain("agreement");
        using var both = EnsemblePredictor.Load(models);
        var combined = both.ExplainFile(subject);
        ensemble.Text.Should().Contain($"{combined.Prediction.Label}: {combined.Prediction.LabelName}").And.Contain($"Grad-CAM of {combined.TargetClass}: {combined.TargetClassName}");
        var map = NiftiReader.Read(Path.Combine(maps, "BraTS_001.cam.nii.gz"));
        map.Shape.Should().Equal(6, 6, 6);
        map.Voxels.Should().Equal(combined.ToSourceVolume().Voxels, (a, e) => Math.Abs(a - e) < 1e-6);
        // --attribution: the members' integrated-gradients maps on the scan's grid, <scan>.integratedgradients.nii.gz.
        var attributed = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", models[0], "--model", models[1], "--explain", maps, "--attribution", "IntegratedGradients", subject);
        attributed.ExitCode.Should().Be(0, attributed.ToString());
        var integrated = both.ExplainFile(subject, MedVision.Nets.Explainability.AttributionMethod.IntegratedGradients);
        attributed.Text.Should().Contain($"IntegratedGradients of {integrated.TargetClass}: {integrated.TargetClassName}");
        var attributionMap = NiftiReader.Read(Path.Combine(maps, "BraTS_001.integratedgradients.nii.gz"));
        attributionMap.Voxels.Should().Equal(integrated.ToSourceVolume().Voxels, (a, e) => Math.Abs(a - e) < 1e-6);
        attributionMap.Voxels.Should().NotEqual(map.Voxels);
        // --attribution DeepLiftShap against --references subject folders (read whole, as the scans are): the members' maps averaged.
        var references = new[] { Path.Combine(data, "hgg", "BraTS_000"), Path.Combine(data, "hgg", "BraTS_002") };
        var shap = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", models[0], "--model", models[1], "--explain", maps, "--attribution", "DeepLiftShap", "--references", references[0], "--references", references[1], subject);
        shap.ExitCode.Should().Be(0, shap.ToString());
        var deepLiftShap = both.ExplainFile(subject, MedVision.Nets.Explainability.AttributionMethod.DeepLiftShap,
            options: MedVision.Nets.Explainability.AttributionOptions.Default with { ReferenceFiles = references });
        NiftiReader.Read(Path.Combine(maps, "BraTS_001.deepliftshap.nii.gz")).Voxels.Should().Equal(deepLiftShap.ToSourceVolume().Voxels, (a, e) => Math.Abs(a - e) < 1e-6);
        shap.Text.Should().NotContain("Convergence delta", "an ensemble's averaged map has none");
        // one model reports its convergence delta
        var alone = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", models[0], "--explain", maps, "--attribution", "DeepLiftShap", "--references", references[0], subject);
        alone.ExitCode.Should().Be(0, alone.ToString());
        alone.Text.Should().Contain("Convergence delta").And.Contain("(BraTS_001; 1 input(s))");
        var manifest = Path.Combine(_folder.Path, "ensemble.json");
        EnsemblePredictor.SaveManifest(manifest, models);
        var fromManifest = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", manifest, subject);
        fromManifest.ExitCode.Should().Be(0, fromManifest.ToString());
        fromManifest.Text.Should().Contain("Ensemble of 2 models").And.Contain($"{combined.Prediction.Label}: {combined.Prediction.LabelName}");
        var twice = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", models[0], "--model", models[0], subject);
        twice.ExitCode.Should().Be(2, twice.ToString());
        twice.Error.Should().Contain("is listed twice (members 0 and 1)");
    }

    [Fact]
    public async Task SpacingAlignmentAndCropOrPad_AreAppliedAndRecordedInTheModelFile()
    {
        // A 1 mm flair and a 2 mm t1 over twice the field of view per subject (both with their orientation).
        var data = _folder["spaced"];
        var random = new Random(12);
        var fine = new NiftiAffine(new double[,] { { 1, 0, 0, -4 }, { 0, 1, 0, -4 }, { 0, 0, 1, -4 } });
        var coarse = new NiftiAffine(new double[,] { { 2, 0, 0, -8 }, { 0, 2, 0, -8 }, { 0, 0, 2, -8 } });
        for (int i = 0; i < 8; i++)
        {
            var folder = Directory.CreateDirectory(Path.Combine(data, i % 2 == 0 ? "hgg" : "lgg", $"sub-{i:D2}")).FullName;
            foreach (var (modality, affine) in new[] { ("flair", fine), ("t1", coarse) })
                NiftiWriter.Write(Path.Combine(folder, $"{modality}.nii.gz"),
                    new NiftiImage(Enumerable.Range(0, 9 * 9 * 9).Select(_ => (float)random.NextDouble() * (i % 2 + 1)).ToArray(), new[] { 9, 9, 9 }, null, NiftiDataType.Float32, affine));
        }
        var run = _folder["spaced-run"];
        var train = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--modalities", "flair", "t1", "--spacing", "1.5", "--align-modalities", "--fit", "crop-or-pad", "--percentiles", "1", "99", "--channel-wise", "--affine", "10", "0.1", "0.05",
            "--intensity-augment", "--mri-artifacts", "--size", "8", "8", "8", "--depth", "10", "--epochs", "1", "--batch", "2", "--threads", "2", "--output", run);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("8×8×8 after cropping or padding, reoriented to RAS, 1.5 × 1.5 × 1.5 mm voxels, modalities aligned on the first's grid");
        var modelFile = Path.Combine(run, "model.safetensors");
        var card = ModelFile.ReadCard(modelFile);
        card.FormatVersion.Should().Be(6, "each modality is scaled by its own percentiles");
        card.Preprocessing.IntensityChannelWise.Should().BeTrue();
        card.Preprocessing.Spacing.Should().Equal(1.5f, 1.5f, 1.5f);
        card.Preprocessing.AlignModalities.Should().BeTrue();
        card.Preprocessing.Fit.Should().Be("crop_or_pad");
        card.Preprocessing.IntensityPercentiles.Should().Equal(1d, 99d);
        train.Text.Should().Contain("intensities by each channel's percentiles 1–99");
        train.Text.Should().Contain("random affine on half the volumes (±10° about each axis, scale ±0.1, shift ±0.05), a bias field, a gamma contrast change, blur and an intensity shift each on one volume in ten, Rician noise, Gibbs ringing and a lower resolution each on one volume in ten");
        var subject = Path.Combine(data, "lgg", "sub-01");
        var maps = _folder["spaced-maps"];
        var predict = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", modelFile, "--explain", maps, subject, subject);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("1.5 × 1.5 × 1.5 mm voxels, modalities aligned, cropped or padded to the input size, intensities by each channel's percentiles 1–99");
        // The map of the subject on its first modality's grid (the flair's), to overlay in a viewer.
        var map = NiftiReader.Read(Path.Combine(maps, "sub-01.cam.nii.gz"));
        map.Shape.Should().Equal(9, 9, 9);
        map.Affine.Should().Be(NiftiReader.Read(Path.Combine(subject, "flair.nii.gz")).Affine);
        predict.Text.Should().Contain("Grad-CAM of").And.Contain("sub-01.cam.nii.gz");
        File.Exists(Path.Combine(maps, "sub-01-2.cam.nii.gz")).Should().BeTrue("a second scan of the same name does not overwrite the first's map");
        using var predictor = Predictor.Load(modelFile);
        var expected = predictor.PredictFile(subject);
        predict.Text.Should().Contain($"{expected.Label}: {expected.LabelName}");

        var refused = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--align-modalities", "--epochs", "1", "--output", run);
        refused.ExitCode.Should().Be(2, refused.ToString());
        refused.Error.Should().Contain("--align-modalities aligns the modalities of subject folders: give --modalities too.");
        var both = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--window", "40", "400", "--percentiles", "1", "99", "--epochs", "1", "--output", run);
        both.ExitCode.Should().Be(2, both.ToString());
        both.Error.Should().Contain("--window and --percentiles both set how intensities map to [0, 1]: choose one.");
        var windowed = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--window", "40", "400", "--channel-wise", "--epochs", "1", "--output", run);
        windowed.ExitCode.Should().Be(2, windowed.ToString());
        windowed.Error.Should().Contain("--window maps every channel alike; --channel-wise applies to the minimum–maximum and --percentiles scalings.");
    }

    [Fact]
    public async Task Resume_ContinuesARunFromItsLastCheckpoint()
    {
        var data = WriteVolumes(8);
        var run = _folder["resumed"];
        string[] arguments = ["--data", data, "--size", "16", "16", "16", "--depth", "10", "--batch", "3", "--threads", "2", "--output", run];
        var first = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. arguments, "--epochs", "1"]);
        first.ExitCode.Should().Be(0, first.ToString());
        var firstEpoch = File.ReadAllLines(Path.Combine(run, "history.csv"))[1];
        var resumed = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. arguments, "--epochs", "2", "--resume"]);
        resumed.ExitCode.Should().Be(0, resumed.ToString());
        var history = File.ReadAllLines(Path.Combine(run, "history.csv"));
        history.Should().HaveCount(3, "the first epoch is kept and the second is added");
        history[1].Should().Be(firstEpoch);

        // Resumed with options that split the volumes otherwise: refused before training, naming a volume that moved.
        var split = File.ReadAllText(Path.Combine(run, "split.csv"));
        var moved = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. arguments, "--epochs", "3", "--resume", "--calibrate", "--calibration-fraction", "0.5"]);
        moved.ExitCode.Should().Be(2, moved.ToString());
        moved.Error.Should().Contain($"--resume continues the run in {run}, whose split.csv differs from this split (it records train for ")
            .And.Contain(", these options calibration): resume with the options it was started with (--data, --val-fraction, --calibration-fraction, --group-by, --seed).");
        File.ReadAllText(Path.Combine(run, "split.csv")).Should().Be(split, "the refused run changes nothing");
        File.ReadAllLines(Path.Combine(run, "history.csv")).Should().Equal(history);
    }

    [Fact]
    public async Task Folds_CrossValidateWithEachFoldNormalisedByItsOwnTrainingVolumes()
    {
        var data = WriteVolumes(12);
        var run = _folder["cv"];
        var cv = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--size", "16", "16", "16", "--depth", "10", "--folds", "3", "--epochs", "1", "--batch", "3", "--threads", "2", "--output", run,
            "--tensorboard", _folder["cv-board"], "--class-weights", "balanced", "--label-smoothing", "0.1");
        cv.ExitCode.Should().Be(0, cv.ToString());
        // Stratified folds of 6 + 6 volumes train on 4 + 4: equal weights, announced once.
        System.Text.RegularExpressions.Regex.Matches(cv.Text, "Loss: cross-entropy, balanced class weights 1, 1, label smoothing 0.1 \\(the first fold's; each fold weighs by its own training volumes\\)")
            .Should().ContainSingle();
        Directory.GetDirectories(_folder["cv-board"]).Select(Path.GetFileName).Should().BeEquivalentTo(["fold-1", "fold-2", "fold-3"], "a TensorBoard run per fold");
        foreach (var board in Directory.GetDirectories(_folder["cv-board"]))
            MedVision.Torch.TensorBoard.EventFileReader.ReadScalars(board).Should().Contain(p => p.Tag == "validation/auc" && p.Step == 0);
        cv.Text.Should().Contain("6 healthy, 6 lesion, 3-fold cross-validation (stratified)").And.Contain("Fold 3/3: training on 8 volumes, selecting on 4");
        var line = cv.Lines().Should().ContainSingle().Subject;
        line["folds"].Should().Be("3");

        // The folds are the library's stratified ones over the source in its order; each fold's model file records the
        // mean of its own training volumes, and predicts from the scan file what the cross-validation's out-of-fold
        // row says (the file through the Predictor: an independent path).
        var source = MedVision.Nets.Data.Loading.VolumeFolderSource.FromSubfolders(data, 16, 16, 16);
        var splits = MedVision.Nets.Data.Loading.DataSplits.StratifiedKFold(source.Samples.Select(x => x.Label).ToArray(), 3, seed: 0);
        var rows = File.ReadAllLines(Path.Combine(run, "out-of-fold.csv")).Skip(1).Select(r => r.Split(',')).ToArray();
        rows.Should().HaveCount(12);
        var means = new List<float>();
        for (int f = 0; f < 3; f++)
        {
            var modelFile = Path.Combine(run, $"fold-{f + 1}", "model.safetensors");
            var card = ModelFile.ReadCard(modelFile);
            double mean = splits[f].Train.SelectMany(i => source.Load(i).Image.Data).Average(v => (double)v);
            card.Preprocessing.Mean.Single().Should().BeApproximately((float)mean, 1e-5f, "fold {0} is normalised by its own training volumes", f + 1);
            means.Add(card.Preprocessing.Mean.Single());
            using var predictor = Predictor.Load(modelFile);
            foreach (var i in splits[f].Validation)
            {
                rows[i][1].Should().Be((f + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                var expected = predictor.PredictFile(source.Samples[i].Path);
                for (int k = 0; k < 2; k++)
                    double.Parse(rows[i][3 + k], System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(expected.Probabilities[k], 1e-4, "volume {0}, class {1}", i, k);
            }
        }
        means.Distinct().Should().HaveCount(3, "every fold has its own statistics");
        EnsemblePredictor.ReadManifest(Path.Combine(run, "ensemble.json")).ModelPaths.Should().HaveCount(3);
        var predict = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", Path.Combine(run, "ensemble.json"), source.Samples[0].Path);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("Ensemble of 3 models");
        var ensembleEvaluation = await SampleApp.RunAsync("volume-folder", _folder.Path, "evaluate", "--model", Path.Combine(run, "ensemble.json"), "--test-data", data, "--bootstrap", "0", "--output", _folder["cv-eval"]);
        ensembleEvaluation.ExitCode.Should().Be(0, ensembleEvaluation.ToString());
        ensembleEvaluation.Text.Should().Contain("Ensemble of 3 models");
        ensembleEvaluation.Lines("EVALUATION").Should().ContainSingle().Which["models"].Should().Be("3");

        // The folds run apart (fold 2, then folds 1 and 3) into one folder, gathered by --resume: the one run's result.
        string[] Arguments(string output) => ["--data", data, "--size", "16", "16", "16", "--depth", "10", "--folds", "3", "--epochs", "1", "--batch", "3", "--threads", "2", "--output", output];
        var apart = _folder["cv-apart"];
        var second = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. Arguments(apart), "--only-folds", "2"]);
        second.ExitCode.Should().Be(0, second.ToString());
        second.Lines().Single()["trained"].Should().Be("2");
        File.Exists(Path.Combine(apart, "ensemble.json")).Should().BeFalse("nothing is gathered from some folds");
        var rest = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. Arguments(apart), "--only-folds", "1", "3"]);
        rest.ExitCode.Should().Be(0, rest.ToString());
        var gathered = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. Arguments(apart), "--resume", "--calibrate"]);
        gathered.ExitCode.Should().Be(0, gathered.ToString());
        gathered.Lines().Single().Should().BeEquivalentTo(line, "the folds trained apart are those of one run");
        // --calibrate (here on gathering): each fold's model file holds the temperature fitted on its own fold's
        // out-of-fold rows, which it did not train on.
        var apartRows = File.ReadAllLines(Path.Combine(apart, "out-of-fold.csv")).Skip(1).Select(r => r.Split(',')).ToArray();
        for (int f = 1; f <= 3; f++)
        {
            var mine = apartRows.Where(r => r[1] == f.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            var labels = new int[mine.Length, 1];
            var scores = new double[mine.Length, 2];
            for (int i = 0; i < mine.Length; i++)
            {
                labels[i, 0] = int.Parse(mine[i][2], System.Globalization.CultureInfo.InvariantCulture);
                for (int k = 0; k < 2; k++) scores[i, k] = double.Parse(mine[i][3 + k], System.Globalization.CultureInfo.InvariantCulture);
            }
            var fitted = MedVision.Nets.Metrics.TemperatureScaling.FitFromProbabilities(labels, scores).Temperature;
            ModelFile.ReadCard(Path.Combine(apart, $"fold-{f}", "model.safetensors")).Temperature.Should().BeApproximately(fitted, 1e-6, "fold {0}", f);
            gathered.Text.Should().Contain($"Fold {f}: temperature T = ");
        }
        var noFolds = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--only-folds", "2", "--output", _folder["no-folds"]);
        noFolds.ExitCode.Should().Be(2);
        noFolds.Error.Should().Contain("--only-folds trains some folds of a cross-validation: give --folds K too.");
        var demo = await SampleApp.RunAsync("volume-folder", _folder.Path, "--demo", "--folds", "3", "--only-folds", "2", "--output", _folder["demo-folds"]);
        demo.ExitCode.Should().Be(2);
        demo.Error.Should().Contain("--demo writes its volumes to a new temporary folder each run");

        var both = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--folds", "3", "--val-fraction", "0.3", "--output", _folder["both"]);
        both.ExitCode.Should().Be(2);
        both.Error.Should().Contain("--folds validates every volume once, by its fold; --val-fraction holds one part out: choose one.");
        var tooMany = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--folds", "13", "--size", "16", "16", "16", "--output", _folder["too-many"]);
        tooMany.ExitCode.Should().Be(2, tooMany.ToString());
        tooMany.Error.Should().Contain("--folds 13 exceeds the 12 samples of --data");
    }

    [Fact]
    public async Task FromScratchAndFromMedicalNetWeights_TrainsAndLeavesAModelFileForThePredictor()
    {
        var data = WriteVolumes(12);
        var run = _folder["scratch"];
        var scratch = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--size", "24", "24", "24", "--depth", "10", "--epochs", "1", "--batch", "3", "--threads", "2", "--output", run);
        scratch.ExitCode.Should().Be(0, scratch.ToString());
        scratch.Text.Should().Contain("12 volumes in 2 classes, 24×24×24 after resizing, reoriented to RAS").And.Contain("training 4 healthy, 4 lesion · validation 2 healthy, 2 lesion")
            .And.Contain("from scratch").And.Contain("normalised by the training volumes' mean");
        var result = scratch.Lines().Should().ContainSingle().Subject;
        result["#0"].Should().Be("medicalnet-resnet10");
        result["pretrained"].Should().Be("no");

        var modelFile = Path.Combine(run, "model.safetensors");
        var card = ModelFile.ReadCard(modelFile);
        card.FormatVersion.Should().Be(2, "MedicalNet's layout needs format 2");
        card.Preprocessing.InputSize.Should().Equal(24, 24, 24);
        card.Preprocessing.Orientation.Should().Be("RAS");
        card.Preprocessing.IntensityWindow.Should().BeNull();
        card.Preprocessing.IntensityNormalization.Should().BeNull("from scratch, volumes are normalised by the training set's statistics");
        card.Preprocessing.Std.Single().Should().BeLessThan(1f).And.BeGreaterThan(0f);
        card.ClassNames.Should().Equal("healthy", "lesion");
        // predict prints what the predictor gives for each scan.
        var scans = new[] { "volumes/lesion/s01.nii.gz", "volumes/healthy/s02.nii.gz" };   // relative: short table rows
        var predict = await SampleApp.RunAsync("volume-folder", _folder.Path, ["predict", "--model", modelFile, .. scans]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("classes healthy, lesion, input 24×24×24, reoriented to RAS");
        using (var predictor = Predictor.Load(modelFile))
        {
            foreach (var scan in scans)
            {
                var expected = predictor.PredictFile(Path.Combine(_folder.Path, scan));
                expected.Probabilities.Sum().Should().BeApproximately(1f, 1e-5f);
                predict.Output.Split('\n').Should().ContainSingle(r => r.Contains(Path.GetFileName(scan))).Which.Should()
                    .Contain($"{expected.Label}: {expected.LabelName}").And.Contain(expected.Probabilities[expected.Label].ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        // Fine-tuning a MedicalNet checkpoint (ResNet-18 layout, zero-padding shortcut, widths 3–24) through a CT-like window.
        var checkpoint = Path.Combine(AppContext.BaseDirectory, "Fixtures", "medicalnet_tiny_resnet18a.pth");
        var tuned = await SampleApp.RunAsync("volume-folder", _folder.Path,
            "--data", data, "--size", "24", "24", "24", "--init-weights", checkpoint, "--window", "0.5", "1", "--crop-foreground", "0", "1", "--head-lr-mult", "10", "--intensity-augment", "--epochs", "1", "--batch", "3", "--threads", "2", "--output", _folder["tuned"]);
        tuned.ExitCode.Should().Be(0, tuned.ToString());
        tuned.Text.Should().Contain("zero-padding shortcut").And.Contain("pretrained weights from").And.Contain("cropped to values above 0 (margin 1), intensities through the window 0.5 ± 0.5");
        tuned.Lines().Should().ContainSingle().Which["pretrained"].Should().Be("yes");
        var tunedCard = ModelFile.ReadCard(Path.Combine(_folder["tuned"], "model.safetensors"));
        tunedCard.ResNet!.Widths.Should().Equal(3, 6, 12, 24);
        tunedCard.ResNet.Shortcut.Should().Be("zero_padding");
        tunedCard.Preprocessing.IntensityWindow.Should().Equal(0.5, 1);
        // MedicalNet's preparation by default when fine-tuning its weights: each volume over its own non-zero voxels.
        tuned.Text.Should().Contain("each volume normalised over its non-zero voxels")
            .And.Contain("a bias field, a gamma contrast change, blur each on one volume in ten (the zero background kept at 0)");
        tunedCard.Preprocessing.IntensityNormalization.Should().BeEquivalentTo(new IntensityNormalizationCard { NonZero = true });
        tunedCard.Preprocessing.Mean.Should().Equal(0f);
        tunedCard.Preprocessing.Std.Should().Equal(1f);
        tunedCard.FormatVersion.Should().Be(3);
        tunedCard.Preprocessing.CropForeground.Should().BeEquivalentTo(new ForegroundCropCard { Threshold = 0, Margin = 1 });
        var tunedModel = Path.Combine(_folder["tuned"], "model.safetensors");
        var tunedPredict = await SampleApp.RunAsync("volume-folder", _folder.Path, "predict", "--model", tunedModel, scans[0]);
        tunedPredict.ExitCode.Should().Be(0, tunedPredict.ToString());
        tunedPredict.Text.Should().Contain("cropped to values above 0 (margin 1), window 0.5 ± 0.5, each volume normalised over its non-zero voxels");
        using (var predictor = Predictor.Load(tunedModel))
        {
            var expected = predictor.PredictFile(Path.Combine(_folder.Path, scans[0]));
            tunedPredict.Text.Should().Contain($"{expected.Label}: {expected.LabelName}").And.Contain(expected.Probabilities[expected.Label].ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
        }
        // The new classifier (fc.weight, fc.bias) in a group of its own at 10× the rate of the pretrained network.
        tuned.Text.Should().Contain("the new classifier at 10× (lr 0.001)");
        var optimizer = MedVision.Torch.Optim.OptimizerState.Load(Path.Combine(_folder["tuned"], "last.optimizer.safetensors"));
        optimizer.GroupSizes.Should().HaveCount(2).And.EndWith(2);
        optimizer.Groups[1]["initial_lr"].Should().BeApproximately(10 * optimizer.Groups[0]["initial_lr"], 1e-12);
    }

    [Fact]
    public async Task GroupBy_KeepsEachPatientsScansOnOneSideAndInOneFold()
    {
        // Seven patients with two scans each (BIDS-like names), the class folder by patient.
        var data = _folder["patients"];
        var generator = new PhantomGenerator(size: 12, seed: 5);
        foreach (var subject in generator.Generate(0, 14))
        {
            int patient = subject.Index / 2;
            var folder = Directory.CreateDirectory(Path.Combine(data, patient % 2 == 0 ? "healthy" : "lesion")).FullName;
            NiftiWriter.Write(Path.Combine(folder, $"sub-{patient:D2}_ses-{subject.Index % 2 + 1}.nii.gz"), new NiftiImage(subject.Mri, new[] { 12, 12, 12 }));
        }
        string[] Common(string output) => ["--data", data, "--size", "12", "12", "12", "--depth", "10", "--epochs", "1", "--batch", "4", "--threads", "2", "--group-by", "(sub-[0-9]+)_ses", "--output", output];

        var holdout = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. Common(_folder["grouped"]), "--val-fraction", "0.3"]);
        holdout.ExitCode.Should().Be(0, holdout.ToString());
        var rows = File.ReadAllLines(Path.Combine(_folder["grouped"], "split.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        rows.Should().HaveCount(14);
        rows.Select(r => r[2]).Distinct().Should().HaveCount(7);
        rows.GroupBy(r => r[2]).Should().OnlyContain(g => g.Select(r => r[3]).Distinct().Count() == 1, "a patient's two scans are on one side");
        // The split is the library's stratified grouped hold-out, in the source's order (class folders, then files).
        var labels = rows.Select(r => r[1] == "healthy" ? 0 : 1).ToArray();
        var expected = DataSplits.StratifiedGroupHoldout(labels, rows.Select(r => r[2]).ToArray(), 0.3, seed: 0).Validation;
        Enumerable.Range(0, 14).Where(i => rows[i][3] == "validation").Should().Equal(expected);
        holdout.Text.Should().Contain($"validation {expected.Count(i => labels[i] == 0)} healthy, {expected.Count(i => labels[i] == 1)} lesion ({expected.Length / 2} patients)");

        // --calibration-fraction: whole patients of the training part held out for --calibrate's temperature, as the
        // library's grouped hold-out of that part chooses them; the validation patients stay as they were.
        var calibrated = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. Common(_folder["grouped-calibrated"]), "--val-fraction", "0.3", "--calibrate", "--calibration-fraction", "0.4"]);
        calibrated.ExitCode.Should().Be(0, calibrated.ToString());
        var parts = File.ReadAllLines(Path.Combine(_folder["grouped-calibrated"], "split.csv")).Skip(1).Select(l => l.Split(',')[3]).ToArray();
        Enumerable.Range(0, 14).Where(i => parts[i] == "validation").Should().Equal(expected);
        var trainingPart = Enumerable.Range(0, 14).Where(i => rows[i][3] == "train").ToArray();
        var held = DataSplits.StratifiedGroupHoldout(trainingPart.Select(i => labels[i]).ToArray(), trainingPart.Select(i => rows[i][2]).ToArray(), 0.4, seed: 0).Validation.Select(k => trainingPart[k]).ToArray();
        held.Should().NotBeEmpty();
        Enumerable.Range(0, 14).Where(i => parts[i] == "calibration").Should().Equal(held);
        Enumerable.Range(0, 14).GroupBy(i => rows[i][2]).Should().OnlyContain(g => g.Select(i => parts[i]).Distinct().Count() == 1, "a patient's two scans are in one part");
        calibrated.Text.Should().Contain($"calibration {held.Count(i => labels[i] == 0)} healthy, {held.Count(i => labels[i] == 1)} lesion ({held.Length / 2} patients) (held out of training for --calibrate)")
            .And.Contain($"Calibration volumes ({held.Length}, held out of training): ECE");
        var fields = calibrated.Lines().Single();
        fields["calibration_images"].Should().Be(held.Length.ToString(CultureInfo.InvariantCulture));
        fields["temperature"].Should().Be(ModelFile.ReadCard(Path.Combine(_folder["grouped-calibrated"], "model.safetensors")).Temperature.ToString("F4", CultureInfo.InvariantCulture));
        fields.Should().ContainKeys("cal_ece_uncalibrated", "cal_ece", "val_ece_uncalibrated", "val_ece", "val_nll");
        var withFolds = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. Common(_folder["calibrated-folds"]), "--folds", "3", "--calibrate", "--calibration-fraction", "0.2"]);
        withFolds.ExitCode.Should().Be(2, withFolds.ToString());
        withFolds.Error.Should().Contain("--calibration-fraction holds volumes out of one hold-out run's training part; with --folds each fold's model is calibrated on its own held-out fold");

        var folds = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. Common(_folder["grouped-folds"]), "--folds", "3"]);
        folds.ExitCode.Should().Be(0, folds.ToString());
        folds.Text.Should().Contain("(7 patients), 3-fold cross-validation (stratified, each patient in one fold)");
        using var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder["grouped-folds"], "folds.json")));
        var validation = record.RootElement.GetProperty("Validation").EnumerateArray().Select(f => f.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        validation.SelectMany(f => f).Order().Should().Equal(Enumerable.Range(0, 14));
        validation.Should().OnlyContain(f => f.Select(i => rows[i][2]).Distinct().Count() * 2 == f.Length, "every fold holds both scans of its patients");

        var unmatched = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. Common(_folder["unmatched"])[..^4], "--group-by", "(patient-[0-9]+)", "--output", _folder["unmatched"]]);
        unmatched.ExitCode.Should().Be(2, unmatched.ToString());
        unmatched.Error.Should().Contain("--group-by: The group pattern (patient-[0-9]+) does not match healthy/sub-00_ses-1.nii.gz");
        var tooMany = await SampleApp.RunAsync("volume-folder", _folder.Path, [.. Common(_folder["too-many"]), "--folds", "8"]);
        tooMany.ExitCode.Should().Be(2, tooMany.ToString());
        tooMany.Error.Should().Contain("--folds 8 exceeds the 7 patients --group-by (sub-[0-9]+)_ses finds");
        var invalid = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", data, "--group-by", "(unclosed");
        invalid.ExitCode.Should().Be(2, invalid.ToString());
        invalid.Error.Should().Contain("--group-by must be a valid .NET regular expression");
    }

    [Fact]
    public async Task Demo_RunsOnGeneratedVolumes_AndMistakesAreRefusedByName()
    {
        var temp = Directory.CreateDirectory(_folder["tmp"]).FullName;
        var demo = await SampleApp.RunAsync("volume-folder", _folder.Path, new Dictionary<string, string> { ["TMPDIR"] = temp },
            "--demo", "--normalize", "volume", "--rotate", "10", "--noise", "0.1", "--epochs", "1", "--threads", "2", "--output", _folder["demo"]);
        demo.ExitCode.Should().Be(0, demo.ToString());
        demo.Lines().Should().ContainSingle().Which["#1"].Should().Be("volumes-demo");
        demo.Text.Should().Contain("each volume normalised by its own mean and sd")
            .And.Contain("Training augmentation: left–right flips, rotation about the depth axis ±10°, Gaussian noise (sd 0.1) on one volume in ten");
        ModelFile.ReadCard(Path.Combine(_folder["demo"], "model.safetensors")).Preprocessing.IntensityNormalization
            .Should().BeEquivalentTo(new IntensityNormalizationCard { NonZero = false });
        // The generated folder (in the temporary directory) is removed when the run ends.
        demo.Text.Should().Contain($"phantom volumes (not patient data) to {Path.Combine(temp, "medvision-volumes-demo-")}");
        Directory.GetDirectories(temp, "medvision-volumes-demo-*").Should().BeEmpty();

        var noData = await SampleApp.RunAsync("volume-folder", _folder.Path, "--output", _folder["none"]);
        noData.ExitCode.Should().Be(2);
        noData.Error.Should().Contain("No data: give --data").And.Contain("one sub-folder per class");
        var both = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", _folder.Path, "--depth", "50", "--init-weights", "w.pth");
        both.ExitCode.Should().Be(2, both.ToString());
        both.Error.Should().Contain("with --init-weights the weights file decides the depth");
        var oneCycle = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", _folder.Path, "--head-lr-mult", "100", "--schedule", "onecycle");
        oneCycle.ExitCode.Should().Be(2, oneCycle.ToString());
        oneCycle.Error.Should().Contain("--head-lr-mult needs a schedule that scales each rate");
        var normalize = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", _folder.Path, "--normalize", "zscore");
        normalize.ExitCode.Should().Be(2, normalize.ToString());
        normalize.Error.Should().Contain("--normalize must be dataset, volume or volume-nonzero");
        var crop = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", _folder.Path, "--crop-foreground", "0", "1.5");
        crop.ExitCode.Should().Be(2, crop.ToString());
        crop.Error.Should().Contain("--crop-foreground must be a finite threshold and a whole margin of at least 0");
        var window = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", _folder.Path, "--window", "40", "0");
        window.ExitCode.Should().Be(2, window.ToString());
        window.Error.Should().Contain("--window must be a finite center and a positive width");
        Directory.CreateDirectory(_folder["one-class/only"]);
        NiftiWriter.Write(_folder["one-class/only/v.nii.gz"], new NiftiImage(new float[27], new[] { 3, 3, 3 }));
        var oneClass = await SampleApp.RunAsync("volume-folder", _folder.Path, "--data", _folder["one-class"], "--output", _folder["one"]);
        oneClass.ExitCode.Should().Be(2, oneClass.ToString());
        oneClass.Error.Should().Contain("one class folder (only)");
    }

    [Fact]
    public void MriArtifacts_UnderNonZeroNormalisation_KeepTheZeroBackground()
    {
        // Rician noise makes every zero positive; wrapped, the zeros (the background "volume-nonzero" leaves out) stay.
        var values = Enumerable.Range(0, 4 * 4 * 4).Select(i => i % 3 == 0 ? 0f : 0.5f + (i % 5) * 0.1f).ToArray();
        var noise = new RandomRicianNoise(probability: 1, std: 0.05, sampleStd: false);
        var plain = noise.Apply(new FloatImage((float[])values.Clone(), 1, 4, 4, 4), new Random(3));
        plain.Data.Where((_, i) => values[i] == 0).Should().OnlyContain(v => v > 0, "noise lifts the background");
        var kept = new MedVision.Samples.VolumeFolder.ZeroBackgroundKept(noise).Apply(new FloatImage((float[])values.Clone(), 1, 4, 4, 4), new Random(3));
        kept.Data.Where((_, i) => values[i] == 0).Should().OnlyContain(v => v == 0);
        kept.Data.Where((_, i) => values[i] != 0).Should().Equal(plain.Data.Where((_, i) => values[i] != 0), "the foreground gets the same noise");
    }
}
