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
            "train", "--demo", "--size", "32", "--batch", "4", "--threads", "1", "--random-resized-crop", "0.5", "--output", _folder["out"],
            "--tensorboard", _folder["board"]);
        run.ExitCode.Should().Be(0, run.ToString());
        MedVision.Torch.TensorBoard.EventFileReader.ReadScalars(_folder["board"]).Where(p => p.Tag == "validation/auc").Should().ContainSingle("one epoch");
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
        refused.ExitCode.Should().Be(2, refused.ToString());
        refused.Error.Should().Contain("--init-entry applies to checkpoint files");
        var alone = await SampleApp.RunAsync("fundus-folder", _folder.Path, "--demo", "--head-lr-mult", "5");   // without "train": the root's checks too
        alone.ExitCode.Should().Be(2, alone.ToString());
        alone.Error.Should().Contain("--head-lr-mult sets the rate of the classifier that replaces a pretrained one");
    }

    [Fact]
    public async Task VisionTransformer_TrainsWritesRolloutMaps_AndPredictScreensWithIt()
    {
        var run = _folder["vit"];
        var train = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--model", "vit-b32", "--batch", "4", "--threads", "2", "--output", run);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("ViT-B/32 (32×32 patches, 64×64): 87,422,210 parameters").And.Contain("gradient-weighted attention rollout of");
        var result = train.Lines().Single();
        result["#0"].Should().Be("vit-b32");
        result["size"].Should().Be("64", "the demo's default");
        var modelPath = Path.Combine(run, "model.safetensors");
        var card = MedVision.Nets.Inference.ModelFile.ReadCard(modelPath);
        card.Architecture.Should().Be("vit");
        card.Vit!.PatchSize.Should().Equal(32, 32);
        card.Vit.ImageSize.Should().Equal(64, 64);
        card.Vit.HiddenSize.Should().Be(768);
        var maps = Directory.GetFiles(Path.Combine(run, "validation-gradrollout"), "*.png").Select(Path.GetFileName);
        maps.Should().BeEquivalentTo("V0001-gradrollout.png", "V0002-gradrollout.png", "V0003-gradrollout.png", "V0004-gradrollout.png");

        // predict: the probability is the predictor's, the map the gradient-weighted rollout of pathologic myopia.
        var photo = Path.Combine(run, "validation-gradrollout", "V0001-gradrollout.png");
        var predict = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", modelPath, "--csv", _folder["vit.csv"], "--heatmaps", _folder["vit-maps"], photo);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("Gradient-weighted attention rollout of pathologic myopia");
        File.Exists(Path.Combine(_folder["vit-maps"], "V0001-gradrollout-gradrollout.png")).Should().BeTrue();
        using (var predictor = MedVision.Nets.Inference.Predictor.Load(modelPath))
        {
            double expected = predictor.PredictFile(photo).Probabilities[1];
            double.Parse(File.ReadAllLines(_folder["vit.csv"])[1].Split(',')[1], CultureInfo.InvariantCulture).Should().BeApproximately(expected, 1e-6);
        }

        // The model's own weights as a start (this library's names): every tensor fits.
        var again = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--model", "vit-b32", "--batch", "4", "--threads", "2", "--output", _folder["vit-again"],
            "--init-weights", modelPath, "--head-lr-mult", "4");
        again.ExitCode.Should().Be(0, again.ToString());
        System.Text.RegularExpressions.Regex.Match(System.Text.RegularExpressions.Regex.Replace(again.Text, @"\s+", " "), @"(\d+) of (\d+) tensors copied\.")
            .Should().Match<System.Text.RegularExpressions.Match>(m => m.Success && m.Groups[1].Value == m.Groups[2].Value && m.Groups[1].Value != "0");
        again.Text.Should().Contain("the new classifier at 4×");

        var depth = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--model", "vit-b16", "--depth", "50");
        depth.ExitCode.Should().Be(2, depth.ToString());
        depth.Error.Should().Contain("--depth sets a ResNet's depth; --model vit-b16 is a vision transformer");
        var size = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--model", "vit-b16", "--size", "100", "--output", _folder["vit-size"]);
        size.ExitCode.Should().Be(2, size.ToString());
        size.Error.Should().Contain("--model vit-b16 cuts photographs into 16×16 patches: --size 100 is not a multiple of 16");
    }

    [Fact]
    public async Task ClassSubfolders_TrainABinaryScreeningModel_NamedByItsFolders()
    {
        var run = _folder["subfolders"];
        var train = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--labels", "subfolders", "--size", "32", "--batch", "4", "--threads", "1", "--output", run, "--min-sensitivity", "0.5");
        train.ExitCode.Should().Be(0, train.ToString());
        var text = System.Text.RegularExpressions.Regex.Replace(train.Text, @"\s+", " ");
        text.Should().Contain("Training 12 images (6 pathologic) · validation 12 images (6 pathologic) · classes normal (0) and pathologic (1, referable)")
            .And.Contain("refer when P(pathologic) ≥");
        var card = MedVision.Nets.Inference.ModelFile.ReadCard(Path.Combine(run, "model.safetensors"));
        card.ClassNames.Should().Equal("normal", "pathologic");
        card.Referral!.ReferableFrom.Should().Be(1);
        // Maps are named by the path below the validation folder: class folders may repeat file names.
        Directory.GetFiles(Path.Combine(run, "validation-gradcam")).Select(Path.GetFileName).Should().HaveCount(4).And.OnlyContain(f => f!.StartsWith("normal_", StringComparison.Ordinal));

        // Refusals: a CSV beside class folders, different classes in the validation folder, one class, --task with two classes.
        var csv = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder.Path, "--val-folder", _folder.Path, "--val-csv", "labels.csv");
        csv.ExitCode.Should().Be(2, csv.ToString());
        csv.Error.Should().Contain("--labels subfolders takes the labels from the class sub-folders");
        foreach (var name in new[] { "a", "b", "c" }) Photo(_folder[$"three/train/{name}/x.png"], 0, new Random(1));
        foreach (var name in new[] { "a", "c" }) Photo(_folder[$"three/val/{name}/x.png"], 0, new Random(1));
        var mismatch = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["three/train"], "--val-folder", _folder["three/val"], "--output", _folder["three/out"]);
        mismatch.ExitCode.Should().Be(2, mismatch.ToString());
        mismatch.Error.Should().Contain("The validation folder's classes (a, c) are not the training folder's (a, b, c)");
        Photo(_folder["one/a/x.png"], 0, new Random(1));
        var one = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["one"], "--val-folder", _folder["one"], "--output", _folder["one-out"]);
        one.ExitCode.Should().Be(2, one.ToString());
        one.Error.Should().Contain("A classifier needs at least two classes; the class folders of").And.Contain("give 1 (a)");
        var two = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--task", "ordinal", "--train-folder", _folder["three/val"], "--val-folder", _folder["three/val"], "--output", _folder["two-out"]);
        two.ExitCode.Should().Be(2, two.ToString());
        two.Error.Should().Contain("--task ordinal applies to three or more classes").And.Contain("(a, c) train a binary model");
        var fileNames = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--referable-from", "2");
        fileNames.ExitCode.Should().Be(2, fileNames.ToString());
        fileNames.Error.Should().Contain("--task and --referable-from apply to class sub-folders");
    }

    // A 16×16 RGB photograph of brightness about `level` (0–200) with noise.
    private static void Photo(string path, int level, Random random)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var pixels = new byte[16 * 16 * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(level + random.Next(56));
        ImageCodec.Save(path, new RasterImage(16, 16, 3, pixels));
    }

    // The model file's predictor's (calibrated) probabilities of binary photographs (labelled 1 when "pathologic" is in
    // the path), and the probabilities at temperature 1 behind them (softmax(T · log p)).
    private static (int[,] Labels, double[,] Calibrated, double[,] Plain) BinaryProbabilities(string modelFile, double temperature, string[] files)
    {
        var (labels, calibrated, plain) = (new int[files.Length, 1], new double[files.Length, 2], new double[files.Length, 2]);
        using var predictor = MedVision.Nets.Inference.Predictor.Load(modelFile);
        for (int i = 0; i < files.Length; i++)
        {
            labels[i, 0] = files[i].Contains("pathologic", StringComparison.Ordinal) ? 1 : 0;
            var p = predictor.PredictFile(files[i]).Probabilities;
            double z0 = temperature * Math.Log(p[0]), z1 = temperature * Math.Log(p[1]), max = Math.Max(z0, z1);
            double e0 = Math.Exp(z0 - max), e1 = Math.Exp(z1 - max);
            (calibrated[i, 0], calibrated[i, 1], plain[i, 0], plain[i, 1]) = (p[0], p[1], e0 / (e0 + e1), e1 / (e0 + e1));
        }
        return (labels, calibrated, plain);
    }

    [Fact]
    public async Task Calibrate_StoresTheTemperatureFittedOnTheValidationPhotographs_WhoseCalibratedRisksTheOperatingPointReads()
    {
        // Two overlapping classes of photographs (pathologic a little brighter), in class sub-folders.
        var random = new Random(4);
        foreach (var (split, count) in new[] { ("train", 8), ("val", 8) })
            foreach (var (name, level) in new[] { ("normal", 40), ("pathologic", 110) })
                for (int i = 0; i < count; i++) Photo(_folder[$"cal/{split}/{name}/{split}{i}.png"], level + random.Next(-30, 31), random);
        var run = _folder["cal-out"];
        var train = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["cal/train"], "--val-folder", _folder["cal/val"],
            "--depth", "18", "--size", "32", "--epochs", "2", "--batch", "4", "--threads", "1", "--calibrate", "--min-sensitivity", "0.75", "--output", run);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("Validation calibration: ECE").And.Contain("after temperature scaling (T = ");
        var result = train.Lines().Single();
        var modelFile = Path.Combine(run, "model.safetensors");
        var card = MedVision.Nets.Inference.ModelFile.ReadCard(modelFile);
        double temperature = card.Temperature;
        temperature.Should().NotBe(1);
        result["temperature"].Should().Be(temperature.ToString("F4", CultureInfo.InvariantCulture));
        card.Referral!.Temperature.Should().Be(temperature, "the operating point was chosen on the calibrated probabilities");

        // The predictor's (calibrated) probabilities of the validation photographs, and those at temperature 1 they come
        // from (softmax(T · log p)): the card's temperature is the fit on the latter, the ECEs are theirs.
        var files = Directory.GetFiles(_folder["cal/val"], "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        var (labels, calibrated, plain) = BinaryProbabilities(modelFile, temperature, files);
        MedVision.Nets.Metrics.TemperatureScaling.FitFromProbabilities(labels, plain).Temperature.Should().BeApproximately(temperature, 1e-3 * temperature);
        double D(string key) => double.Parse(result[key], CultureInfo.InvariantCulture);
        var task = MedVision.Nets.Metrics.MedMnistTask.Binary;
        D("val_ece").Should().BeApproximately(MedVision.Nets.Metrics.Calibration.Evaluate(task, labels, calibrated).ExpectedCalibrationError, 1e-3);
        D("val_ece_uncalibrated").Should().BeApproximately(MedVision.Nets.Metrics.Calibration.Evaluate(task, labels, plain).ExpectedCalibrationError, 1e-3);
        // The threshold is one pathologic photograph's calibrated risk, not its risk at temperature 1.
        var pathologic = Enumerable.Range(0, files.Length).Where(i => labels[i, 0] == 1).ToArray();
        pathologic.Min(i => Math.Abs(calibrated[i, 1] - card.Referral.Threshold)).Should().BeLessThan(1e-4);
        pathologic.Min(i => Math.Abs(plain[i, 1] - card.Referral.Threshold)).Should().BeGreaterThan(1e-4);

        var predict = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", modelFile, files[0]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain(string.Create(CultureInfo.InvariantCulture, $"temperature {temperature:G4}"));
        // evaluate on the validation photographs: train's validation measures and calibration.
        var evaluate = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", modelFile, "--test-folder", _folder["cal/val"],
            "--labels", "subfolders", "--bootstrap", "0", "--output", _folder["cal-eval"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        evaluate.Text.Should().Contain("Calibration (T = ").And.Contain("the model file's): ECE").And.Contain("at temperature 1 (uncalibrated): ECE");
        var evaluation = evaluate.Lines("EVALUATION").Single();
        evaluation["test_auc"].Should().Be(result["val_auc"], "a temperature keeps a binary model's ranking (T = {0})", temperature);
        double.Parse(evaluation["test_ece"], CultureInfo.InvariantCulture).Should().BeApproximately(D("val_ece"), 1e-3);
        double.Parse(evaluation["test_ece_uncalibrated"], CultureInfo.InvariantCulture).Should().BeApproximately(D("val_ece_uncalibrated"), 1e-3, "the probabilities at temperature 1 behind the model file's");
        evaluation["temperature"].Should().Be(result["temperature"]);
        evaluation.Should().ContainKeys("test_brier", "test_nll");

        // A multi-label table's findings have no softmax to scale: refused before training.
        foreach (var split in new[] { "train", "val" })
        {
            Photo(_folder[$"cal-table/{split}/a.png"], 50, random);
            File.WriteAllLines(_folder[$"cal-table/{split}.csv"], ["imgName,N,D", "a.png,1,0"]);
        }
        var findings = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "csv", "--train-folder", _folder["cal-table/train"], "--train-csv", _folder["cal-table/train.csv"],
            "--val-folder", _folder["cal-table/val"], "--val-csv", _folder["cal-table/val.csv"], "--label-column", "N,D", "--calibrate", "--output", _folder["cal-table-out"]);
        findings.ExitCode.Should().Be(2, findings.ToString());
        findings.Error.Should().Contain("--calibrate fits one temperature to a softmax over classes; the 2 finding columns (N, D) train a sigmoid per finding");
    }

    [Fact]
    public async Task CalibrationFraction_FitsTheTemperatureOnTrainingPhotographsHeldOutOfTraining_AndMeasuresItOnTheValidationOnes()
    {
        var random = new Random(6);
        foreach (var (split, count) in new[] { ("train", 10), ("val", 6) })
            foreach (var (name, level) in new[] { ("normal", 40), ("pathologic", 120) })
                for (int i = 0; i < count; i++) Photo(_folder[$"cf/{split}/{name}/{split}{i}.png"], level + random.Next(-40, 41), random);
        var run = _folder["cf-out"];
        var train = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["cf/train"], "--val-folder", _folder["cf/val"],
            "--depth", "18", "--size", "32", "--epochs", "3", "--batch", "4", "--lr", "1e-3", "--threads", "1", "--seed", "3", "--calibrate", "--calibration-fraction", "0.3", "--output", run);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("Training 14 images (7 pathologic) · calibration 6 images (3 pathologic) (held out of training for --calibrate) · validation 12 images (6 pathologic)")
            .And.Contain("0 within the training photographs, 0 between the training photographs and those held out for calibration, 0 with different labels")
            .And.Contain("Calibration photographs (6, held out of training): ECE").And.Contain("at the calibration photographs' temperature (not fitted on these)");
        var result = train.Lines().Single();
        result["calibration_images"].Should().Be("6");
        var modelFile = Path.Combine(run, "model.safetensors");
        double temperature = MedVision.Nets.Inference.ModelFile.ReadCard(modelFile).Temperature;
        result["temperature"].Should().Be(temperature.ToString("F4", CultureInfo.InvariantCulture));
        temperature.Should().BeLessThan(100, "the model's scores inform on these photographs (no flattening temperature)");

        // The held-out photographs: 3 of each class of the training folder, chosen as DataSplits.StratifiedHoldout chooses with --seed.
        var training = ImageFolderDataset.FromSubfolders(_folder["cf/train"]);
        var (_, held) = MedVision.Nets.Data.Loading.DataSplits.StratifiedHoldout(training.Samples.Select(x => x.Label).ToArray(), 0.3, seed: 3);
        var heldFiles = held.Select(i => training.Samples[i].FilePath).ToArray();
        var valFiles = Directory.GetFiles(_folder["cf/val"], "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        var calibration = BinaryProbabilities(modelFile, temperature, heldFiles);
        var validation = BinaryProbabilities(modelFile, temperature, valFiles);
        var task = MedVision.Nets.Metrics.MedMnistTask.Binary;
        double Ece(int[,] labels, double[,] p) => MedVision.Nets.Metrics.Calibration.Evaluate(task, labels, p).ExpectedCalibrationError;
        double D(string key) => double.Parse(result[key], CultureInfo.InvariantCulture);
        // The temperature is the fit on the held-out training photographs, not on the validation ones.
        MedVision.Nets.Metrics.TemperatureScaling.FitFromProbabilities(calibration.Labels, calibration.Plain).Temperature.Should().BeApproximately(temperature, 1e-3 * temperature);
        MedVision.Nets.Metrics.TemperatureScaling.FitFromProbabilities(validation.Labels, validation.Plain).Temperature.Should().NotBeApproximately(temperature, 1e-2 * temperature);
        D("cal_ece_uncalibrated").Should().BeApproximately(Ece(calibration.Labels, calibration.Plain), 1e-3);
        D("cal_ece").Should().BeApproximately(Ece(calibration.Labels, calibration.Calibrated), 1e-3);
        D("val_ece_uncalibrated").Should().BeApproximately(Ece(validation.Labels, validation.Plain), 1e-3);
        D("val_ece").Should().BeApproximately(Ece(validation.Labels, validation.Calibrated), 1e-3);

        // Without --calibrate, or holding out a class's only photograph: refused, naming the problem.
        var alone = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--calibration-fraction", "0.2", "--output", _folder["cf-refused"]);
        alone.ExitCode.Should().Be(2, alone.ToString());
        alone.Error.Should().Contain("--calibration-fraction holds training images out for --calibrate's temperature; give --calibrate too.");
        Photo(_folder["cf-one/train/normal/a.png"], 40, random);
        Photo(_folder["cf-one/train/normal/b.png"], 40, random);
        Photo(_folder["cf-one/train/pathologic/c.png"], 110, random);
        var tooFew = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["cf-one/train"], "--val-folder", _folder["cf/val"],
            "--calibrate", "--calibration-fraction", "0.5", "--output", _folder["cf-one-out"]);
        tooFew.ExitCode.Should().Be(2, tooFew.ToString());
        tooFew.Error.Should().Contain("--calibration-fraction 0.5 would leave class pathologic no training photographs (its 1 would all be held out for calibration); lower the fraction or add photographs.");
    }

    [Fact]
    public async Task GradeSubfolders_TrainAnOrdinalModel_WhosePredictionsGradeAndRefer()
    {
        // Five grade folders, named as diabetic-retinopathy datasets name them (0/ … 4/): brighter with the grade.
        var random = new Random(3);
        foreach (var (split, perGrade) in new[] { ("train", 4), ("val", 3) })
            for (int grade = 0; grade < 5; grade++)
                for (int i = 0; i < perGrade; i++) Photo(_folder[$"dr/{split}/{grade}/{split}{grade}{i}.png"], 40 * grade, random);
        var run = _folder["dr-out"];
        var train = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["dr/train"], "--val-folder", _folder["dr/val"],
            "--depth", "18", "--size", "32", "--epochs", "2", "--batch", "5", "--threads", "1", "--output", run, "--min-sensitivity", "0.6");
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("Training 20 images (0: 4, 1: 4, 2: 4, 3: 4, 4: 4) · validation 15 images (0: 3, 1: 3, 2: 3, 3: 3, 4: 3) · ordinal grades 0, 1, 2, 3, 4, referable from 2")
            .And.Contain("refer when P(grade ≥ 2) ≥");
        var result = train.Lines().Single();
        result["task"].Should().Be("ordinal");
        result["classes"].Should().Be("5");
        result["referable_from"].Should().Be("2");
        var card = MedVision.Nets.Inference.ModelFile.ReadCard(Path.Combine(run, "model.safetensors"));
        card.Task.Should().Be("OrdinalRegression");
        card.ClassNames.Should().Equal("0", "1", "2", "3", "4");
        card.Referral!.ReferableFrom.Should().Be(2);

        // The reported measures are those of the model file's predictions on the validation photographs: quadratic kappa of
        // the grades, sensitivity and specificity of predicting grade ≥ 2.
        var files = Directory.GetFiles(_folder["dr/val"], "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        int[] actual = files.Select(f => int.Parse(Path.GetFileName(Path.GetDirectoryName(f))!, CultureInfo.InvariantCulture)).ToArray();
        int[] predicted;
        using (var predictor = MedVision.Nets.Inference.Predictor.Load(Path.Combine(run, "model.safetensors")))
            predicted = files.Select(f => predictor.PredictFile(f).Grade!.Value).ToArray();
        var measures = MedVision.Nets.Metrics.ClassificationMetrics.Compute(actual, predicted, 5);
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        result["val_qwk"].Should().Be(F(measures.QuadraticKappa.Value));
        result["val_sensitivity"].Should().Be(F(actual.Zip(predicted).Count(p => p.First >= 2 && p.Second >= 2) / 9.0));
        result["val_specificity"].Should().Be(F(actual.Zip(predicted).Count(p => p.First < 2 && p.Second < 2) / 6.0));
        File.Exists(Path.Combine(run, "validation-roc.svg")).Should().BeTrue();

        // predict: grades, expected grades and referral at the recorded operating point, as the predictor computes them.
        string[] gradeFolders = Enumerable.Range(0, 5).Select(g => _folder[$"dr/val/{g}"]).ToArray();
        var predict = await SampleApp.RunAsync("fundus-folder", _folder.Path, ["predict", "--model", Path.Combine(run, "model.safetensors"), "--csv", _folder["dr.csv"], .. gradeFolders]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("expected").And.Contain($"Referral: refer when P(grade ≥ 2) ≥ {card.Referral.Threshold.ToString(CultureInfo.InvariantCulture)}.");
        var rows = File.ReadAllLines(_folder["dr.csv"]);
        rows[0].Should().Be("input,label,label_name,p_0,p_1,p_2,p_3,p_4,expected_grade,referral_risk,referred");
        rows.Should().HaveCount(16);
        int referred = 0;
        foreach (var row in rows.Skip(1))
        {
            var cells = row.Split(',');
            var p = cells.Skip(3).Take(5).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            double risk = double.Parse(cells[9], CultureInfo.InvariantCulture);
            risk.Should().BeApproximately(p[2] + p[3] + p[4], 1e-6);
            cells[10].Should().Be(risk >= card.Referral.Threshold ? "1" : "0");
            if (cells[10] == "1") referred++;
        }
        var predictResult = predict.Lines().Single();
        predictResult["referred"].Should().Be(referred.ToString(CultureInfo.InvariantCulture));
        predictResult["referable_from"].Should().Be("2");
        predictResult["classes"].Should().Be("5");
        // The grade folders' parent with --recursive: the same photographs in the same order, maps named by their grade folder.
        var nested = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--recursive", "--csv", _folder["dr-nested.csv"],
            "--heatmaps", _folder["dr-maps"], _folder["dr/val"]);
        nested.ExitCode.Should().Be(0, nested.ToString());
        File.ReadAllLines(_folder["dr-nested.csv"]).Should().Equal(rows);
        Directory.GetFiles(_folder["dr-maps"]).Select(Path.GetFileName).Should().BeEquivalentTo(files.Select(f => $"{Path.GetFileName(Path.GetDirectoryName(f))}_{Path.GetFileNameWithoutExtension(f)}-gradcam.png"));
        var flat = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), _folder["dr/val"]);
        flat.ExitCode.Should().Be(2, flat.ToString());
        flat.Error.Should().Contain("holds no JPEG or PNG photographs; its sub-folders hold 15: give --recursive to take them.");
        // Two photographs of one name would write one map: refused (without maps they are simply both predicted).
        var twin = Path.Combine(Directory.CreateDirectory(_folder["dr-twin"]).FullName, Path.GetFileName(files[0]));
        File.Copy(files[0], twin);
        var clash = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--heatmaps", _folder["dr-maps-2"], files[0], twin);
        clash.ExitCode.Should().Be(2, clash.ToString());
        clash.Error.Should().Contain("would both write the heat map");
        var both = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), files[0], twin);
        both.ExitCode.Should().Be(0, both.ToString());
        both.Lines().Single()["photographs"].Should().Be("2");

        var everyone = await SampleApp.RunAsync("fundus-folder", _folder.Path, ["predict", "--model", Path.Combine(run, "model.safetensors"), "--threshold", "0.0001", .. gradeFolders]);
        everyone.ExitCode.Should().Be(0, everyone.ToString());
        everyone.Lines().Single()["referred"].Should().Be("15", "every photograph has some probability of grade ≥ 2");

        // evaluate on the validation folder gives train's validation measures, with bootstrap intervals around them, and
        // the referral decisions of the recorded operating point (the sensitivity and specificity it was chosen with).
        var evaluate = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", Path.Combine(run, "model.safetensors"), "--test-folder", _folder["dr/val"],
            "--labels", "subfolders", "--bootstrap", "200", "--output", _folder["dr-eval"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var evaluation = evaluate.Lines("EVALUATION").Single();
        evaluation["task"].Should().Be("ordinal");
        evaluation["referable_from"].Should().Be("2");
        foreach (var (measure, trained) in new[] { ("test_auc", "val_auc"), ("test_acc", "val_acc"), ("test_qwk", "val_qwk") })
        {
            evaluation[measure].Should().Be(result[trained], measure);
            var interval = evaluation[measure + "_ci"].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            double.Parse(evaluation[measure], CultureInfo.InvariantCulture).Should().BeInRange(interval[0] - 1e-4, interval[1] + 1e-4, measure);
        }
        // The referral measures are those of the decisions in its predictions CSV; they are the operating point's own on
        // these photographs (the threshold is one photograph's risk: allow that one to fall on either side of it).
        var decided = File.ReadAllLines(Path.Combine(_folder["dr-eval"], "test-predictions.csv"));
        decided[0].Should().Be(rows[0]);
        var decisions = decided.Skip(1).Select(line => (Grade: int.Parse(Path.GetDirectoryName(line.Split(',')[0])!, CultureInfo.InvariantCulture), Referred: line.Split(',')[10] == "1")).ToArray();
        evaluation["referral_sensitivity"].Should().Be(F(decisions.Count(d => d.Grade >= 2 && d.Referred) / 9.0));
        evaluation["referral_specificity"].Should().Be(F(decisions.Count(d => d.Grade < 2 && !d.Referred) / 6.0));
        double.Parse(evaluation["referral_sensitivity"], CultureInfo.InvariantCulture).Should().BeApproximately(card.Referral.Sensitivity!.Value, 1 / 9.0 + 1e-9);
        double.Parse(evaluation["referral_specificity"], CultureInfo.InvariantCulture).Should().BeApproximately(card.Referral.Specificity!.Value, 1 / 6.0 + 1e-9);
        evaluation["referred"].Should().Be(predictResult["referred"], "predict refers the same photographs");
        File.ReadAllText(Path.Combine(_folder["dr-eval"], "test-evaluation.csv")).Should().Contain("Cohen's kappa (quadratic)");
        var wrongClasses = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", Path.Combine(run, "model.safetensors"), "--test-folder", _folder["dr/train/0"],
            "--labels", "file-names", "--output", _folder["dr-eval-names"]);
        wrongClasses.ExitCode.Should().Be(2, wrongClasses.ToString());
        wrongClasses.Error.Should().Contain("--labels file-names labels photographs pathologic myopia or not").And.Contain("the model has 5 classes");

        // Refusals: a grade beyond the folders, numbered folders whose name order is not their numeric order.
        var beyond = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["dr/train"], "--val-folder", _folder["dr/val"], "--referable-from", "5", "--output", _folder["dr-beyond"]);
        beyond.ExitCode.Should().Be(2, beyond.ToString());
        beyond.Error.Should().Contain("--referable-from 5: the grades run from 0 to 4");
        foreach (var grade in new[] { "1", "2", "10" }) Photo(_folder[$"eleven/{grade}/x.png"], 0, random);
        var order = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--task", "ordinal", "--train-folder", _folder["eleven"], "--val-folder", _folder["eleven"], "--output", _folder["eleven-out"]);
        order.ExitCode.Should().Be(2, order.ToString());
        order.Error.Should().Contain("--task ordinal reads the class folders as grades in their name order (1, 10, 2)");
    }

    [Fact]
    public async Task UnorderedSubfolders_TrainAMultiClassModel()
    {
        var random = new Random(4);
        // Imbalanced training classes (2, 4 and 6 photographs), weighed by their inverse frequency and drawn balanced.
        foreach (var (split, perClass) in new[] { ("train", new[] { 2, 4, 6 }), ("val", new[] { 2, 2, 2 }) })
            foreach (var (name, level, count) in new[] { ("cataract", 0), ("glaucoma", 70), ("normal", 140) }.Zip(perClass, (c, n) => (c.Item1, c.Item2, n)))
                for (int i = 0; i < count; i++) Photo(_folder[$"eyes/{split}/{name}/{split}{i}.png"], level, random);
        var run = _folder["eyes-out"];
        var train = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["eyes/train"], "--val-folder", _folder["eyes/val"],
            "--depth", "18", "--size", "32", "--epochs", "1", "--batch", "4", "--threads", "1", "--output", run, "--class-weights", "balanced", "--label-smoothing", "0.05", "--balance-classes");
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("Training 12 images (cataract: 2, glaucoma: 4, normal: 6) · validation 6 images (cataract: 2, glaucoma: 2, normal: 2) · 3 classes (multi-class): cataract (0), glaucoma (1), normal (2)")
            .And.Contain("Loss: cross-entropy, balanced class weights 2, 1, 0.667, label smoothing 0.05")   // 12 / (3 · [2, 4, 6])
            .And.Contain("Training photographs are drawn class-balanced");
        var result = train.Lines().Single();
        result["task"].Should().Be("multi-class");
        result.Should().ContainKeys("val_auc", "val_acc", "val_balanced_accuracy", "val_macro_f1").And.NotContainKey("val_sensitivity");
        MedVision.Nets.Inference.ModelFile.ReadCard(Path.Combine(run, "model.safetensors")).Task.Should().Be("MultiClass");
        File.ReadAllText(Path.Combine(run, "validation-roc.svg")).Should().Contain("glaucoma", "one curve per class");

        var predict = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), _folder["eyes/val/glaucoma"], _folder["eyes/val/normal"]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("3 classes (cataract, glaucoma, normal)").And.NotContain("expected");
        predict.Lines().Single().Should().NotContainKey("referred").And.Contain("classes", "3");

        var evaluate = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", Path.Combine(run, "model.safetensors"), "--test-folder", _folder["eyes/val"],
            "--labels", "subfolders", "--bootstrap", "0", "--output", _folder["eyes-eval"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var evaluation = evaluate.Lines("EVALUATION").Single();
        evaluation["test_balanced_accuracy"].Should().Be(result["val_balanced_accuracy"]);
        evaluation["test_macro_f1"].Should().Be(result["val_macro_f1"]);
        evaluation.Should().NotContainKey("test_auc_ci", "--bootstrap 0").And.NotContainKey("referral_sensitivity");
        File.ReadAllText(Path.Combine(_folder["eyes-eval"], "test-roc.svg")).Should().Contain("glaucoma", "one curve per class");
        Directory.CreateDirectory(_folder["eyes/other/cataract"]);
        Photo(_folder["eyes/other/cataract/x.png"], 0, random);
        Photo(_folder["eyes/other/normal/x.png"], 140, random);
        var otherClasses = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", Path.Combine(run, "model.safetensors"), "--test-folder", _folder["eyes/other"], "--labels", "subfolders");
        otherClasses.ExitCode.Should().Be(2, otherClasses.ToString());
        otherClasses.Error.Should().Contain("are not the model's classes (cataract, glaucoma, normal)");

        // No referral for unordered classes.
        var threshold = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--threshold", "0.4", _folder["eyes/val/normal"]);
        threshold.ExitCode.Should().Be(2, threshold.ToString());
        threshold.Error.Should().Contain("--threshold sets a referral threshold, which needs a binary or graded (ordinal) model");
        var point = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["eyes/train"], "--val-folder", _folder["eyes/val"], "--min-sensitivity", "0.9", "--output", _folder["eyes-point"]);
        point.ExitCode.Should().Be(2, point.ToString());
        point.Error.Should().Contain("--min-sensitivity chooses a referral threshold, which needs a binary or graded (ordinal) model");
    }

    [Fact]
    public async Task FindingTables_TrainAMultiLabelModel_WhosePredictionsReportFindings()
    {
        // ODIR-5K's layout: tables naming each photograph with a 0/1 column per finding (here N, D, G).
        var random = new Random(6);
        foreach (var (split, count) in new[] { ("train", 12), ("val", 8) })
        {
            var rows = new List<string> { "ID,imgName,N,D,G" };
            for (int i = 0; i < count; i++)
            {
                int n = i % 2, d = (i / 2) % 2, g = i % 3 == 0 ? 1 : 0;
                Photo(_folder[$"odir/{split}/{split}{i}.png"], 40 * (n + d + g), random);
                rows.Add($"{i},{split}{i}.png,{n},{d},{g}");
            }
            File.WriteAllLines(_folder[$"odir/{split}.csv"], rows);
        }
        var run = _folder["odir-out"];
        string[] tables = ["--labels", "csv", "--train-folder", _folder["odir/train"], "--train-csv", _folder["odir/train.csv"], "--val-folder", _folder["odir/val"], "--val-csv", _folder["odir/val.csv"]];
        var train = await SampleApp.RunAsync("fundus-folder", _folder.Path, [.. tables, "--label-column", "N,D,G", "--depth", "18", "--size", "32", "--epochs", "1", "--batch", "4", "--threads", "1", "--output", run]);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("Training 12 images (N: 6, D: 6, G: 4) · validation 8 images (N: 4, D: 4, G: 3) · 3 findings (multi-label): N, D, G");
        var result = train.Lines().Single();
        result["task"].Should().Be("multi-label");
        result["classes"].Should().Be("3");
        result.Should().ContainKeys("val_auc", "val_acc").And.NotContainKey("val_sensitivity");
        var card = MedVision.Nets.Inference.ModelFile.ReadCard(Path.Combine(run, "model.safetensors"));
        (card.Task, string.Join(",", card.ClassNames)).Should().Be(("MultiLabel", "N,D,G"));
        // Each finding's threshold chosen on the validation photographs and recorded.
        card.FindingThresholds.Should().HaveCount(3).And.OnlyContain(t => t > 0 && t < 1);
        train.Text.Should().Contain("Finding thresholds (Youden's J on the validation photographs");
        File.ReadAllText(Path.Combine(run, "validation-roc.svg")).Should().Contain("G", "a curve per finding");
        File.Exists(Path.Combine(run, "validation-confusion.svg")).Should().BeFalse("findings have no confusion matrix of classes");

        // evaluate on the validation table (its columns named as the model's findings) gives train's measures.
        var evaluate = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", Path.Combine(run, "model.safetensors"), "--test-folder", _folder["odir/val"],
            "--test-csv", _folder["odir/val.csv"], "--bootstrap", "0", "--output", _folder["odir-eval"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var evaluation = evaluate.Lines("EVALUATION").Single();
        evaluation["task"].Should().Be("multi-label");
        evaluation["test_auc"].Should().Be(result["val_auc"]);
        evaluation["test_acc"].Should().Be(result["val_acc"]);
        evaluation.Should().ContainKeys("test_auc_N", "test_auc_D", "test_auc_G", "sensitivity_N", "specificity_G");
        evaluation["thresholds"].Should().Be(string.Join(",", card.FindingThresholds!.Select(t => t.ToString(CultureInfo.InvariantCulture))));
        evaluate.Text.Should().Contain("AUC (G)").And.Contain("Findings at the model file's thresholds");

        // --min-sensitivity: each finding's threshold the most specific that finds 3 in 4 of its validation photographs;
        // evaluate on them shows it. With a 95% lower bound, 3 or 4 photographs of a finding cannot show it: Youden's, said so.
        var sensitive = await SampleApp.RunAsync("fundus-folder", _folder.Path, [.. tables, "--label-column", "N,D,G", "--depth", "18", "--size", "32", "--epochs", "1", "--batch", "4", "--threads", "1",
            "--min-sensitivity", "0.75", "--output", _folder["odir-sensitive"]]);
        sensitive.ExitCode.Should().Be(0, sensitive.ToString());
        sensitive.Text.Should().Contain("Finding thresholds (the most specific reaching sensitivity 0.75 on the validation photographs");
        var sensitiveCard = MedVision.Nets.Inference.ModelFile.ReadCard(Path.Combine(_folder["odir-sensitive"], "model.safetensors"));
        var checkedSensitivity = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", Path.Combine(_folder["odir-sensitive"], "model.safetensors"), "--test-folder", _folder["odir/val"],
            "--test-csv", _folder["odir/val.csv"], "--bootstrap", "0", "--output", _folder["odir-sensitive-eval"]);
        checkedSensitivity.ExitCode.Should().Be(0, checkedSensitivity.ToString());
        var sensitivities = checkedSensitivity.Lines("EVALUATION").Single();
        sensitivities["thresholds"].Should().Be(string.Join(",", sensitiveCard.FindingThresholds!.Select(t => t.ToString(CultureInfo.InvariantCulture))));
        foreach (var finding in new[] { "N", "D", "G" })
            double.Parse(sensitivities[$"sensitivity_{finding}"], CultureInfo.InvariantCulture).Should().BeGreaterThanOrEqualTo(0.75, finding);
        var bounded = await SampleApp.RunAsync("fundus-folder", _folder.Path, [.. tables, "--label-column", "N,D,G", "--depth", "18", "--size", "32", "--epochs", "1", "--batch", "4", "--threads", "1",
            "--min-sensitivity", "0.75", "--sensitivity-confidence", "0.95", "--output", _folder["odir-bounded"]]);
        bounded.ExitCode.Should().Be(0, bounded.ToString());
        bounded.Text.Should().Contain("validation photographs cannot show the required sensitivity").And.Contain("it keeps Youden's threshold");

        // predict reports each photograph's findings at the recorded thresholds, as the library's predictor does.
        var recorded = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--csv", _folder["odir-recorded.csv"], _folder["odir/val"]);
        recorded.ExitCode.Should().Be(0, recorded.ToString());
        recorded.Text.Should().Contain("each reported at P ≥ its threshold (recorded in the model file; --threshold sets one for all)");
        int recordedFindings;
        using (var predictor = MedVision.Nets.Inference.Predictor.Load(Path.Combine(run, "model.safetensors")))
            recordedFindings = Directory.GetFiles(_folder["odir/val"]).Count(f => predictor.PredictFile(f).Findings!.Count > 0);
        recorded.Lines().Single()["with_findings"].Should().Be(recordedFindings.ToString(CultureInfo.InvariantCulture));

        // predict reports each photograph's findings at 0.5 (or --threshold), with every finding's probability in the CSV.
        var predict = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--csv", _folder["odir.csv"], "--threshold", "0.3", _folder["odir/val"]);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("3 findings, each reported at P ≥ its threshold: N 0.3, D 0.3, G 0.3");
        var rows2 = File.ReadAllLines(_folder["odir.csv"]);
        rows2[0].Should().Be("input,label,label_name,p_N,p_D,p_G,findings");
        int expected = rows2.Skip(1).Count(r => r.Split(',').Skip(3).Take(3).Any(v => double.Parse(v, CultureInfo.InvariantCulture) >= 0.3));
        rows2.Skip(1).Should().OnlyContain(r => r.Split(',')[6] == string.Join(';', new[] { "N", "D", "G" }.Where((_, k) => double.Parse(r.Split(',')[3 + k], CultureInfo.InvariantCulture) >= 0.3)));
        var predicted = predict.Lines().Single();
        predicted["with_findings"].Should().Be(expected.ToString(CultureInfo.InvariantCulture));
        predicted.Should().NotContainKey("referred");

        // Refusals: a referable grade, class-balancing, class weights; findings evaluated from class folders.
        foreach (var (extra, message) in new[]
        {
            (new[] { "--referable-from", "1" }, "--referable-from applies to graded (ordinal) classes; these are findings of a multi-label table"),
            (new[] { "--balance-classes" }, "--balance-classes draws photographs by their class"),
            (new[] { "--class-weights", "balanced" }, "--class-weights and --label-smoothing set the cross-entropy of single-label tasks"),
            (new[] { "--task", "ordinal" }, "--task ordinal applies to one class per photograph; the 3 finding columns (N, D, G) train a multi-label model"),
        })
        {
            var refused = await SampleApp.RunAsync("fundus-folder", _folder.Path, [.. tables, "--label-column", "N,D,G", .. extra, "--output", _folder["odir-refused"]]);
            refused.ExitCode.Should().Be(2, refused.ToString());
            refused.Error.Should().Contain(message);
        }
        var byFolder = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", Path.Combine(run, "model.safetensors"), "--test-folder", _folder["odir/val"], "--labels", "subfolders");
        byFolder.ExitCode.Should().Be(2, byFolder.ToString());
        byFolder.Error.Should().Contain("The model has 3 findings (multi-label): label the test photographs with a table of them");
        var namesOnly = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--train-folder", _folder["odir/train"], "--val-folder", _folder["odir/val"], "--val-csv", _folder["odir/val.csv"], "--label-column", "N,D");
        namesOnly.ExitCode.Should().Be(2, namesOnly.ToString());
        namesOnly.Error.Should().Contain("Several --label-column columns label findings");
        var noTable = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "csv", "--train-folder", _folder["odir/train"], "--val-folder", _folder["odir/val"], "--val-csv", _folder["odir/val.csv"]);
        noTable.ExitCode.Should().Be(2, noTable.ToString());
        noTable.Error.Should().Contain("--labels csv reads the labels from tables: give --train-csv and --val-csv.");
    }

    [Fact]
    public async Task GradeTable_AsAptosWritesIt_TrainsAGradingModel()
    {
        // APTOS 2019's layout: train.csv of id_code (the file name without its extension) and diagnosis (the grade).
        var random = new Random(8);
        foreach (var (split, perGrade) in new[] { ("train", 3), ("val", 2) })
        {
            var rows = new List<string> { "id_code,diagnosis" };
            for (int grade = 0; grade < 3; grade++)
                for (int i = 0; i < perGrade; i++)
                {
                    string id = $"{split}{grade}{i}a7f";
                    Photo(_folder[$"aptos/{split}_images/{id}.png"], 60 * grade, random);
                    rows.Add($"{id},{grade}");
                }
            File.WriteAllLines(_folder[$"aptos/{split}.csv"], rows);
        }
        var train = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "csv", "--name-column", "id_code", "--label-column", "diagnosis",
            "--train-folder", _folder["aptos/train_images"], "--train-csv", _folder["aptos/train.csv"], "--val-folder", _folder["aptos/val_images"], "--val-csv", _folder["aptos/val.csv"],
            "--depth", "18", "--size", "32", "--epochs", "1", "--batch", "3", "--threads", "1", "--output", _folder["aptos-out"]);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("Training 9 images (0: 3, 1: 3, 2: 3) · validation 6 images (0: 2, 1: 2, 2: 2) · ordinal grades 0, 1, 2, referable from 2");
        var result = train.Lines().Single();
        (result["task"], result["referable_from"]).Should().Be(("ordinal", "2"));
        File.ReadAllText(Path.Combine(_folder["aptos-out"], "validation-roc.svg")).Should().Contain("grade ≥ 2");

        // The same grades with a CORAL head: its model file grades with the cumulative logits' probabilities, and evaluate
        // on the validation photographs gives train's validation measures.
        var coral = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "csv", "--name-column", "id_code", "--label-column", "diagnosis",
            "--train-folder", _folder["aptos/train_images"], "--train-csv", _folder["aptos/train.csv"], "--val-folder", _folder["aptos/val_images"], "--val-csv", _folder["aptos/val.csv"],
            "--depth", "18", "--size", "32", "--epochs", "1", "--batch", "3", "--threads", "1", "--head", "coral", "--output", _folder["aptos-coral"]);
        coral.ExitCode.Should().Be(0, coral.ToString());
        coral.Text.Should().Contain("ImageNet stem, CORAL head").And.Contain("Loss: CORAL (a binary cross-entropy for each of the 2 thresholds grade > k)");
        var coralResult = coral.Lines().Single();
        (coralResult["task"], coralResult["head"]).Should().Be(("ordinal", "coral"));
        var modelFile = Path.Combine(_folder["aptos-coral"], "model.safetensors");
        MedVision.Nets.Inference.ModelFile.ReadCard(modelFile).HasCoralHead.Should().BeTrue();
        var evaluate = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", modelFile, "--test-folder", _folder["aptos/val_images"],
            "--labels", "csv", "--test-csv", _folder["aptos/val.csv"], "--name-column", "id_code", "--label-column", "diagnosis", "--bootstrap", "0", "--output", _folder["aptos-coral-eval"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var evaluation = evaluate.Lines("EVALUATION").Single();
        foreach (var (measure, trained) in new[] { ("test_auc", "val_auc"), ("test_acc", "val_acc"), ("test_qwk", "val_qwk") })
            evaluation[measure].Should().Be(coralResult[trained], measure);

        // A CORAL head ranks grades: two classes named by iChallenge-PM's file names make no ordinal task.
        var random2 = new Random(2);
        foreach (var name in new[] { "P0001", "N0001", "P0002", "N0002" }) Photo(_folder[$"pm/{name}.png"], name[0] == 'P' ? 120 : 0, random2);
        File.WriteAllLines(_folder["pm.csv"], ["imgName,Label", "P0001.png,1", "N0001.png,0", "P0002.png,1", "N0002.png,0"]);
        var binary = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--train-folder", _folder["pm"], "--val-folder", _folder["pm"], "--val-csv", _folder["pm.csv"],
            "--depth", "18", "--size", "32", "--head", "coral", "--output", _folder["pm-coral"]);
        binary.ExitCode.Should().Be(2, binary.ToString());
        binary.Error.Should().Contain("--head coral ranks ordered grades; these labels make a binary task");
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

        // evaluate with the CSV on the validation folder gives train's validation measures; file names label the training folder.
        var evaluate = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", _folder["out/model.safetensors"], "--test-folder", _folder["val"], "--test-csv", _folder["labels.csv"],
            "--bootstrap", "100", "--output", _folder["eval"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var evaluation = evaluate.Lines("EVALUATION").Single();
        var trained = run.Lines().Single();
        foreach (var measure in new[] { "auc", "acc", "sensitivity", "specificity" })
            evaluation["test_" + measure].Should().Be(trained["val_" + measure], measure);
        evaluation["task"].Should().Be("binary");
        evaluation["threshold"].Should().Be("0.5", "no operating point was recorded");
        // The model's ONNX export (medmnist export) evaluates alike through ONNX Runtime: the same photographs, probabilities within float rounding.
        var export = await SampleApp.RunAsync("medmnist", _folder.Path, "export", "--model", _folder["out/model.safetensors"], "--output", _folder["out/model.onnx"]);
        export.ExitCode.Should().Be(0, export.ToString());
        var onnx = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", _folder["out/model.onnx"], "--test-folder", _folder["val"], "--test-csv", _folder["labels.csv"],
            "--bootstrap", "0", "--output", _folder["eval-onnx"]);
        onnx.ExitCode.Should().Be(0, onnx.ToString());
        onnx.Lines("EVALUATION").Single()["photographs"].Should().Be("4");
        var libtorchRows = File.ReadAllLines(_folder["eval/test-predictions.csv"]);
        var onnxRows = File.ReadAllLines(_folder["eval-onnx/test-predictions.csv"]);
        onnxRows.Should().HaveCount(libtorchRows.Length);
        for (int i = 1; i < onnxRows.Length; i++)
            double.Parse(onnxRows[i].Split(',')[4], CultureInfo.InvariantCulture).Should().BeApproximately(double.Parse(libtorchRows[i].Split(',')[4], CultureInfo.InvariantCulture), 1e-4, onnxRows[i]);
        var byName = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", _folder["out/model.safetensors"], "--test-folder", _folder["train"], "--labels", "file-names",
            "--output", _folder["eval-train"]);
        byName.ExitCode.Should().Be(0, byName.ToString());
        byName.Text.Should().Contain("on 6 test photographs: non-pathologic: 3, pathologic myopia: 3");
        var noCsv = await SampleApp.RunAsync("fundus-folder", _folder.Path, "evaluate", "--model", _folder["out/model.safetensors"], "--test-folder", _folder["val"]);
        noCsv.ExitCode.Should().Be(2, noCsv.ToString());
        noCsv.Error.Should().Contain("--labels csv reads the test photographs' labels from a CSV: give --test-csv FILE");

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
    public async Task SensitivityConfidence_NeedsAMinimumSensitivityBelowOne()
    {
        var alone = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--sensitivity-confidence", "0.9", "--output", _folder["out"]);
        alone.ExitCode.Should().Be(2, alone.ToString());
        alone.Error.Should().Contain("give --min-sensitivity S too");
        var one = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--min-sensitivity", "1", "--sensitivity-confidence", "0.9", "--output", _folder["out"]);
        one.ExitCode.Should().Be(2, one.ToString());
        one.Error.Should().Contain("no finite number of images shows a sensitivity of 1");
        var level = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--min-sensitivity", "0.8", "--sensitivity-confidence", "1", "--output", _folder["out"]);
        level.ExitCode.Should().Be(2, level.ToString());
        level.Error.Should().Contain("--sensitivity-confidence").And.Contain("strictly between 0 and 1");
        Directory.Exists(_folder["out"]).Should().BeFalse("nothing is trained on refused arguments");
    }

    [Fact]
    public async Task WithoutTheTrainCommandName_TheCommandsChecksStillApply()
    {
        // "fundus-folder OPTIONS" runs train: its checks across options must hold there too, not only under "train".
        var run = await SampleApp.RunAsync("fundus-folder", _folder.Path, "--schedule", "cosine", "--restart-mult", "2", "--output", _folder["out"]);
        run.ExitCode.Should().NotBe(0, run.ToString());
        run.Error.Should().Contain("--restart-epochs and --restart-mult apply to --schedule warm-restarts.");
    }

    [Fact]
    public async Task Train_WritesAModelFile_ThatPredictScreensPhotographsWith_AsTrainingPreparedThem()
    {
        var run = _folder["screen"];
        var train = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--demo", "--size", "32", "--batch", "4", "--threads", "1", "--output", run,
            "--min-sensitivity", "0.5");
        train.ExitCode.Should().Be(0, train.ToString());
        var modelPath = Path.Combine(run, "model.safetensors");
        train.Text.Should().Contain("fundus-folder predict --model");
        var card = MedVision.Nets.Inference.ModelFile.ReadCard(modelPath);
        card.ClassNames.Should().Equal("non-pathologic", "pathologic myopia");
        card.Preprocessing.InputSize.Should().Equal(32, 32);
        card.Preprocessing.ResizeEightBit.Should().BeTrue("the training source resized the 8-bit photographs, and Predictor.PredictFile must too");
        card.Metrics["val_auc"].Should().BeApproximately(double.Parse(train.Lines().Single()["val_auc"], CultureInfo.InvariantCulture), 1e-4);
        // --min-sensitivity: the operating point chosen on the validation images is recorded for predict.
        card.Referral.Should().NotBeNull();
        card.Referral!.ReferableFrom.Should().Be(1);
        card.Referral.Sensitivity.Should().BeGreaterThanOrEqualTo(0.5);
        card.Referral.SensitivityInterval.Should().HaveCount(2).And.OnlyContain(v => v >= 0 && v <= 1, "the validation photographs' Clopper–Pearson interval");
        card.Referral.Threshold.Should().BeApproximately(double.Parse(train.Lines().Single()["op_threshold"], CultureInfo.InvariantCulture), 5e-5);

        // Photographs of other sizes, a JPEG and two PNGs in a folder.
        var photos = Directory.CreateDirectory(_folder["photos"]).FullName;
        var generator = new Random(3);
        RasterImage Photo(int width, int height)
        {
            var pixels = new byte[width * height * 3];
            generator.NextBytes(pixels);
            return new RasterImage(width, height, 3, pixels);
        }
        ImageCodec.Save(Path.Combine(photos, "a.png"), Photo(60, 45));
        ImageCodec.Save(Path.Combine(photos, "b.png"), Photo(33, 70));
        var single = _folder["c.jpg"];
        ImageCodec.Save(single, Photo(48, 48));
        File.WriteAllText(Path.Combine(photos, "notes.txt"), "not a photograph by its extension");
        var csv = _folder["screen.csv"];
        var predict = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", modelPath, "--threshold", "0.3", "--csv", csv,
            "--heatmaps", _folder["maps"], photos, single);
        predict.ExitCode.Should().Be(0, predict.ToString());
        var result = predict.Lines().Single();
        result["photographs"].Should().Be("3");
        var rows = File.ReadAllLines(csv);
        rows[0].Should().Be("image,probability,decision");
        rows.Skip(1).Select(r => Path.GetFileName(r.Split(',')[0])).Should().Equal("a.png", "b.png", "c.jpg");

        // Each probability is the network's on the photograph as training prepared it: the 8-bit image resized to
        // 32×32 bilinearly, scaled to [0, 1], normalised with ImageNet's statistics.
        var (network, _) = MedVision.Nets.Inference.ModelFile.Load(modelPath);
        using (network)
        using (var scope = MedVision.Torch.Tensors.NewDisposeScope())
        using (MedVision.Torch.Tensors.NoGrad())
        {
            var normalize = new MedVision.Nets.Transforms.Normalize([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
            int referred = 0;
            foreach (var row in rows.Skip(1))
            {
                var fields = row.Split(',');
                var raster = ImageCodec.DecodeFile(fields[0]).WithChannels(3).Resize(32, 32);
                var image = normalize.Apply(MedVision.Nets.Transforms.FloatImage.FromBytesHwc(raster.Pixels, 32, 32, 3), new Random(0));
                var logits = network.Call(MedVision.Torch.Tensors.FromSpan<float>(image.Data, [1, 3, 32, 32]));
                double expected = logits.Softmax(1).ToArray<float>()[1];
                double.Parse(fields[1], CultureInfo.InvariantCulture).Should().BeApproximately(expected, 1e-6, fields[0]);
                fields[2].Should().Be(expected >= 0.3 ? "1" : "0");
                if (expected >= 0.3) referred++;
            }
            result["referred"].Should().Be(referred.ToString(CultureInfo.InvariantCulture));
        }
        Directory.GetFiles(_folder["maps"]).Select(Path.GetFileName).Should().BeEquivalentTo(["a-gradcam.png", "b-gradcam.png", "c-gradcam.png"]);
        ImageCodec.DecodeFile(Path.Combine(_folder["maps"], "b-gradcam.png")).Width.Should().Be(33, "the map is blended over the photograph at its own size");
        // --attribution: SmoothGrad maps of pathologic myopia instead, NAME-smoothgrad.png, as the predictor draws them.
        var smooth = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", modelPath, "--heatmaps", _folder["smooth"], "--attribution", "SmoothGrad", single);
        smooth.ExitCode.Should().Be(0, smooth.ToString());
        smooth.Text.Should().Contain("SmoothGrad of ").And.Contain("-smoothgrad.png");
        using (var screening = MedVision.Nets.Inference.EnsemblePredictor.Load([modelPath]))
        {
            var explanation = screening.ExplainFile(single, MedVision.Nets.Explainability.AttributionMethod.SmoothGrad, targetClass: 1);
            ImageCodec.DecodeFile(Path.Combine(_folder["smooth"], "c-smoothgrad.png")).Pixels.Should().Equal(explanation.Overlay(ImageCodec.DecodeFile(single)).Pixels);
        }
        // GradientSHAP against --references photographs, NAME-gradientshap.png
        var shap = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", modelPath, "--heatmaps", _folder["shap"], "--attribution", "GradientShap", "--references", photos, single);
        shap.ExitCode.Should().Be(0, shap.ToString());
        shap.Text.Should().Contain("Convergence delta");
        using (var screening = MedVision.Nets.Inference.EnsemblePredictor.Load([modelPath]))
        {
            var referenceFiles = Directory.GetFiles(photos).Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToArray();
            var explanation = screening.ExplainFile(single, MedVision.Nets.Explainability.AttributionMethod.GradientShap, targetClass: 1,
                MedVision.Nets.Explainability.AttributionOptions.Default with { ReferenceFiles = referenceFiles });
            ImageCodec.DecodeFile(Path.Combine(_folder["shap"], "c-gradientshap.png")).Pixels.Should().Equal(explanation.Overlay(ImageCodec.DecodeFile(single)).Pixels);
        }
        // and guided Grad-CAM (a ResNet model file), NAME-guidedgradcam.png
        var guided = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", modelPath, "--heatmaps", _folder["guided"], "--attribution", "GuidedGradCam", single);
        guided.ExitCode.Should().Be(0, guided.ToString());
        using (var screening = MedVision.Nets.Inference.EnsemblePredictor.Load([modelPath]))
        {
            var explanation = screening.ExplainFile(single, MedVision.Nets.Explainability.AttributionMethod.GuidedGradCam, targetClass: 1);
            ImageCodec.DecodeFile(Path.Combine(_folder["guided"], "c-guidedgradcam.png")).Pixels.Should().Equal(explanation.Overlay(ImageCodec.DecodeFile(single)).Pixels);
        }

        // Without --threshold, predict refers at the recorded operating point.
        var recorded = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", modelPath, "--csv", _folder["recorded.csv"], photos, single);
        recorded.ExitCode.Should().Be(0, recorded.ToString());
        recorded.Text.Should().Contain("Threshold from the model file: sensitivity ≥ 0.5");
        recorded.Lines().Single()["threshold"].Should().Be(card.Referral.Threshold.ToString(CultureInfo.InvariantCulture));
        foreach (var row in File.ReadAllLines(_folder["recorded.csv"]).Skip(1))
        {
            var fields = row.Split(',');
            fields[2].Should().Be(double.Parse(fields[1], CultureInfo.InvariantCulture) >= card.Referral.Threshold ? "1" : "0");
        }

        // What cannot be screened is refused by name.
        var missing = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", modelPath, _folder["nowhere.jpg"]);
        missing.ExitCode.Should().Be(2);
        missing.Error.Should().Contain("nowhere.jpg is neither a photograph nor a folder");
        // An ensemble manifest with an operating point chosen on the ensemble's probabilities: predict refers by it
        // (the members' own points hold for each alone).
        var ensembleFolder = Directory.CreateDirectory(_folder["screen-ensemble"]).FullName;
        string[] members = [Path.Combine(ensembleFolder, "a.safetensors"), Path.Combine(ensembleFolder, "b.safetensors")];
        foreach (var member in members) File.Copy(modelPath, member);
        var manifest = Path.Combine(ensembleFolder, "ensemble.json");
        MedVision.Nets.Inference.EnsemblePredictor.SaveManifest(manifest, members, null, null,
            MedVision.Nets.Inference.ReferralCard.From(MedVision.Nets.Metrics.Clinical.OperatingPoint.AtThreshold(0.37), referableFrom: 1));
        var byManifest = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", manifest, "--csv", _folder["screen-ensemble.csv"], single);
        byManifest.ExitCode.Should().Be(0, byManifest.ToString());
        byManifest.Text.Should().Contain("≥ 0.37").And.Contain("Threshold from the ensemble manifest: fixed threshold (set by hand");
        var screened = File.ReadAllLines(_folder["screen-ensemble.csv"])[1].Split(',');
        screened[2].Should().Be(double.Parse(screened[1], CultureInfo.InvariantCulture) >= 0.37 ? "1" : "0");
        var threshold = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", modelPath, "--threshold", "1", single);
        threshold.ExitCode.Should().Be(2);
        threshold.Error.Should().Contain("--threshold must be a probability between 0 and 1 (exclusive)");
        // A model of volumes is not one predict reads.
        var volumes = _folder["volumes.safetensors"];
        using (var threeD = MedVision.Nets.Models.ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(1, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build())
            MedVision.Nets.Inference.ModelFile.Save(volumes, threeD, MedVision.Nets.Inference.ModelFile.Describe(threeD,
                new MedVision.Nets.Inference.PreprocessingCard { InputSize = [16, 16, 16], Channels = 1, Mean = [0.5f], Std = [0.5f] }, ["a", "b"], MedVision.Nets.Metrics.MedMnistTask.Binary));
        var wrong = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", volumes, single);
        wrong.ExitCode.Should().Be(2);
        wrong.Error.Should().Contain("volumes.safetensors is not a classifier of 2-D photographs (a Binary model of 2 classes, input 16×16×16)");
    }
}
