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

        // Refusals: a CSV beside class folders, three classes, different classes in the validation folder.
        var csv = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder.Path, "--val-folder", _folder.Path, "--val-csv", "labels.csv");
        csv.ExitCode.Should().Be(2, csv.ToString());
        csv.Error.Should().Contain("--labels subfolders takes the labels from the class sub-folders");
        var random = new Random(1);
        void Photo(string path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var pixels = new byte[16 * 16 * 3];
            random.NextBytes(pixels);
            ImageCodec.Save(path, new RasterImage(16, 16, 3, pixels));
        }
        foreach (var name in new[] { "a", "b", "c" }) Photo(Path.Combine(_folder["three/train"], name, "x.png"));
        foreach (var name in new[] { "a", "c" }) Photo(Path.Combine(_folder["three/val"], name, "x.png"));
        var three = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["three/train"], "--val-folder", _folder["three/val"], "--output", _folder["three/out"]);
        three.ExitCode.Should().Be(2, three.ToString());
        three.Error.Should().Contain("trains a two-class screening model").And.Contain("3 class folder(s) (a, b, c)");
        Directory.Delete(Path.Combine(_folder["three/train"], "b"), recursive: true);
        Photo(Path.Combine(_folder["three/val"], "b", "x.png"));
        var mismatch = await SampleApp.RunAsync("fundus-folder", _folder.Path, "train", "--labels", "subfolders", "--train-folder", _folder["three/train"], "--val-folder", _folder["three/val"], "--output", _folder["three/out"]);
        mismatch.ExitCode.Should().Be(2, mismatch.ToString());
        mismatch.Error.Should().Contain("The validation folder's classes (a, b, c) are not the training folder's (a, c)");
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
        var grades = _folder["grades.safetensors"];
        using (var five = MedVision.Nets.Models.ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(3).WithSmallInputStem().WithClasses(5).Build())
            MedVision.Nets.Inference.ModelFile.Save(grades, five, MedVision.Nets.Inference.ModelFile.Describe(five,
                new MedVision.Nets.Inference.PreprocessingCard { InputSize = [28, 28], Channels = 3, Mean = [0.5f], Std = [0.5f] }, ["0", "1", "2", "3", "4"], MedVision.Nets.Metrics.MedMnistTask.MultiClass));
        var wrong = await SampleApp.RunAsync("fundus-folder", _folder.Path, "predict", "--model", grades, single);
        wrong.ExitCode.Should().Be(2);
        wrong.Error.Should().Contain("grades.safetensors is not a screening model of 2-D photographs (it has 5 classes");
    }
}
