using System.Globalization;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics.Segmentation;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch.Serialization;

namespace MedVision.Samples.Tests;

/// <summary>
/// The segmentation sample on its generated Decathlon-style demo folder (brain phantoms with labelled lesions): the
/// figures it prints against the library's predictor and evaluator on the same scans, the label maps predict writes,
/// and its refusals.
/// </summary>
public sealed class SegmentationSampleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Demo_TrainsAUNet_WhosePrintedDiceThePredictorReproduces()
    {
        var run = _folder["run"];
        var train = await SampleApp.RunAsync("segmentation", _folder.Path,
            "--demo", "--demo-subjects", "8", "--epochs", "2", "--crop", "16", "16", "16", "--features", "4", "8", "--seed", "3", "--output", run,
            "--tensorboard", _folder["board"]);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("8 scans of MRI, PET; classes background, lesion; 6 to train, 2 to validate");
        var result = train.Lines().Single();
        result["epochs"].Should().Be("2");
        File.Exists(Path.Combine(run, "best.safetensors")).Should().BeTrue();
        var history = File.ReadAllLines(Path.Combine(run, "history.csv"));
        history.Should().HaveCount(3);
        // The TensorBoard run has the history's validation Dice, epoch by epoch (as float32).
        var dice = MedVision.Torch.TensorBoard.EventFileReader.ReadScalars(_folder["board"]).Where(p => p.Tag == "validation/dice").Select(p => p.Value).ToList();
        dice.Should().HaveCount(2);
        for (int e = 0; e < 2; e++)
            dice[e].Should().BeApproximately(double.Parse(history[e + 1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture), 1e-6);

        // The validation scans are the first 2 of the seeded shuffle; the library's predictor with the saved weights must
        // give the printed Dice (same window, overlap and preparation).
        var source = NiftiSegmentationSource.FromDecathlon(Path.Combine(run, "demo-data"));
        var order = Enumerable.Range(0, source.Count).ToArray();
        new Random(3).Shuffle(order);
        using var model = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithInstanceNorm().WithClasses(2).Build();
        using (var weights = SafeTensors.Load(Path.Combine(run, "best.safetensors"))) model.LoadStateDict(weights, strict: true);
        var preprocessing = new NiftiSegmentationOptions { Normalization = new NormalizeIntensity(nonZero: true, channelWise: true) };
        var predictor = new SegmentationPredictor(model, preprocessing, new SlidingWindowInferer([16, 16, 16], overlap: 0.5));
        var evaluator = SegmentationEvaluator.ForClasses(2).WithSurfaceTolerance(2.0);
        var cases = new List<SegmentationCase>();
        foreach (var index in order[..2])
        {
            var map = predictor.Predict(NiftiReader.ReadVolumes(source.Pairs[index].Image));
            var truth = NiftiReader.Read(source.Pairs[index].Labels);
            cases.Add(evaluator.Evaluate(map.Voxels.Select(v => (int)v).ToArray(), truth.Voxels.Select(v => (int)v).ToArray(), [32, 32, 32]));
        }
        var summary = SegmentationSummary.Of(cases);
        string F(double v) => double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("F3", CultureInfo.InvariantCulture);
        result["val_dice"].Should().Be(F(summary.MeanDice));
        result["dice_1"].Should().Be(F(summary.Classes[0].Dice));
        result["hd95_1"].Should().Be(F(summary.Classes[0].Hausdorff95Median));
        result["assd_1"].Should().Be(F(summary.Classes[0].AverageSurfaceDistance));
        result["nsd_1"].Should().Be(F(summary.Classes[0].SurfaceDice));
        result["spurious_1"].Should().Be(summary.Classes[0].Spurious.ToString(CultureInfo.InvariantCulture));

        // predict writes each label map on its scan's grid, the same as the library's predictor, with the lesion's volume.
        var scan = source.Pairs[order[0]].Image;
        var predict = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--output", _folder["maps"], scan);
        predict.ExitCode.Should().Be(0, predict.ToString());
        var written = NiftiReader.Read(Path.Combine(_folder["maps"], Path.GetFileName(scan).Replace(".nii.gz", ".seg.nii.gz", StringComparison.Ordinal)));
        var expected = predictor.Predict(NiftiReader.ReadVolumes(scan));
        written.Voxels.Should().Equal(expected.Voxels);
        written.IsOnGridOf(NiftiReader.Read(scan, 0)).Should().BeTrue();
        predict.Text.Should().Contain((expected.Voxels.Count(v => v == 1) / 1000.0).ToString("F2", CultureInfo.InvariantCulture), "1 mm voxels: the lesion's millilitres");
        var mirrored = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--mirror", "--keep-largest", "--probabilities",
            "--output", _folder["mirrored"], scan);
        mirrored.ExitCode.Should().Be(0, mirrored.ToString());
        using (var fromFile = SegmentationPredictor.Load(Path.Combine(run, "model.safetensors")))
        {
            fromFile.Flips = TestTimeFlips.Horizontal | TestTimeFlips.Vertical | TestTimeFlips.Depth;
            fromFile.KeepLargestComponent = true;
            NiftiReader.Read(Path.Combine(_folder["mirrored"], Path.GetFileName(scan).Replace(".nii.gz", ".seg.nii.gz", StringComparison.Ordinal))).Voxels
                .Should().Equal(fromFile.Predict(NiftiReader.ReadVolumes(scan)).Voxels, "--mirror --keep-largest: eight flipped passes averaged, the largest lesion kept");
            // --probabilities: a float32 volume per class on the scan's grid, those of the same eight passes.
            var probabilities = NiftiReader.ReadVolumes(Path.Combine(_folder["mirrored"], Path.GetFileName(scan).Replace(".nii.gz", ".probabilities.nii.gz", StringComparison.Ordinal)));
            var expectedProbabilities = fromFile.PredictProbabilities(NiftiReader.ReadVolumes(scan));
            probabilities.Should().HaveCount(2);
            for (int k = 0; k < 2; k++) probabilities[k].Voxels.Should().Equal(expectedProbabilities[k].Voxels);
            probabilities[0].IsOnGridOf(NiftiReader.Read(scan, 0)).Should().BeTrue();

            // merge: the probabilities of two saved predictions of the scan (mirrored and not) averaged, 3:1, and the
            // label map of the mean, as the library merges them.
            var plain = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--probabilities", "--output", _folder["plain"], scan);
            plain.ExitCode.Should().Be(0, plain.ToString());
            var merged = await SampleApp.RunAsync("segmentation", _folder.Path, "merge", "--predictions", _folder["mirrored"], "--predictions", _folder["plain"], "--weight", "3", "1",
                "--probabilities", "--output", _folder["merged"]);
            merged.ExitCode.Should().Be(0, merged.ToString());
            merged.Text.Should().Contain("Merged 1 scan(s) from 2 predictions (weights 3, 1)");
            string Named(string folder, string suffix) => Path.Combine(folder, Path.GetFileName(scan).Replace(".nii.gz", suffix, StringComparison.Ordinal));
            var mean = SegmentationProbabilities.Average([NiftiReader.ReadVolumes(Named(_folder["mirrored"], ".probabilities.nii.gz")), NiftiReader.ReadVolumes(Named(_folder["plain"], ".probabilities.nii.gz"))], [3, 1]);
            mean[1].Voxels.Should().NotEqual(probabilities[1].Voxels, "the unmirrored pass differs");
            NiftiReader.ReadVolumes(Named(_folder["merged"], ".probabilities.nii.gz"))[1].Voxels.Should().Equal(mean[1].Voxels);
            var mergedMap = NiftiReader.Read(Named(_folder["merged"], ".seg.nii.gz"));
            mergedMap.Voxels.Should().Equal(SegmentationProbabilities.Labels(mean).Voxels);
            mergedMap.IsOnGridOf(NiftiReader.Read(scan, 0)).Should().BeTrue();
            mergedMap.Voxels.Should().Contain(1f, "the lesion");
        }
        var single = await SampleApp.RunAsync("segmentation", _folder.Path, "merge", "--predictions", _folder["plain"]);
        single.ExitCode.Should().Be(2);
        single.Error.Should().Contain("give --predictions at least twice");
        var none = await SampleApp.RunAsync("segmentation", _folder.Path, "merge", "--predictions", _folder["plain"], "--predictions", _folder["maps"]);
        none.ExitCode.Should().Be(2);
        none.Error.Should().Contain("No scan or image has probabilities (.probabilities.nii.gz, .probabilities.npy) in every --predictions folder");
        using (var fromFile = SegmentationPredictor.Load(Path.Combine(run, "model.safetensors")))
        {
            fromFile.Card!.Metrics!["val_dice"].ToString("F3", CultureInfo.InvariantCulture).Should().Be(result["val_dice"]);
            fromFile.Predict(NiftiReader.ReadVolumes(scan)).Voxels.Should().Equal(expected.Voxels, "the model file holds the same network and preparation");
        }

        // evaluate on the whole task folder (its scans as stored): the model file's predictions against the label maps,
        // as they are and with each class's largest component kept (face connectivity, as the predictor keeps it), and a CSV.
        var evaluate = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", Path.Combine(run, "demo-data"),
            "--compare-postprocessing", "--csv", _folder["scans.csv"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var task = NiftiSegmentationSource.FromDecathlon(Path.Combine(run, "demo-data"), new NiftiSegmentationOptions { Orientation = null });
        var plainCases = new List<SegmentationCase>();
        var largestCases = new List<SegmentationCase>();
        using (var fromFile = SegmentationPredictor.Load(Path.Combine(run, "model.safetensors")))
        {
            foreach (var (image, labels) in task.Pairs)
            {
                var truth = NiftiReader.Read(labels).Voxels.Select(v => (int)v).ToArray();
                fromFile.KeepLargestComponent = false;
                plainCases.Add(evaluator.Evaluate(fromFile.Predict(image).Voxels.Select(v => (int)v).ToArray(), truth, [32, 32, 32]));
                fromFile.KeepLargestComponent = true;
                largestCases.Add(evaluator.Evaluate(fromFile.Predict(image).Voxels.Select(v => (int)v).ToArray(), truth, [32, 32, 32]));
            }
        }
        var measured = evaluate.Lines().Single();
        measured["scans"].Should().Be("8");
        measured["dice"].Should().Be(F(SegmentationSummary.Of(plainCases).MeanDice));
        measured["dice_keep_largest"].Should().Be(F(SegmentationSummary.Of(largestCases).MeanDice));
        File.ReadAllLines(_folder["scans.csv"]).Should().HaveCount(9, "a header and one row per scan for the lesion class");
    }

    [Fact]
    public async Task ComparePostprocessing_OfSeveralClasses_DecidesTheForegroundStepFirst_AndStoresBothSteps()
    {
        // An (untrained, seeded) 2-D U-Net of three classes, whose maps are in pieces, and six noise images whose masks are
        // the network's own maps with only their foreground's largest region: the foreground step then makes every map
        // right, and keeping each class's largest component after it can only lose.
        MedVision.Torch.Tensors.ManualSeed(31);
        using var net = UNet.Builder().ForInput(3, 2).WithFeatures(4, 8).WithInstanceNorm().WithClasses(3).Build();
        string[] classes = ["background", "disc", "cup"];
        var options = new ImageSegmentationOptions { Channels = 3, Size = (16, 16) };
        var model = _folder["three.safetensors"];
        SegmentationModelFile.Save(model, net, SegmentationModelFile.Describe(net, options, classes, new SlidingWindowInferer([16, 16])));
        var images = Directory.CreateDirectory(_folder["three-images"]).FullName;
        var masks = Directory.CreateDirectory(_folder["three-masks"]).FullName;
        var random = new Random(5);
        using (var predictor = ImageSegmentationPredictor.Load(model))
        {
            for (int i = 0; i < 6; i++)
            {
                var pixels = new byte[16 * 16 * 3];
                random.NextBytes(pixels);
                var image = new RasterImage(16, 16, 3, pixels);
                ImageCodec.Save(Path.Combine(images, $"case{i}.png"), image);
                var mask = ConnectedComponents.KeepLargestForeground(predictor.Predict(image).Labels.ToArray(), [16, 16], ImageSegmentationPredictor.ComponentConnectivity);
                ImageCodec.Save(Path.Combine(masks, $"case{i}.png"), new RasterImage(16, 16, 1, mask.Select(v => (byte)v).ToArray()));
            }
        }
        var compare = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", model, "--images", images, "--masks", masks, "--compare-postprocessing", "--store");
        compare.ExitCode.Should().Be(0, compare.ToString());

        // The library's choice on the same maps: the foreground step on the raw maps, then the classes on top of its outcome.
        var evaluator = SegmentationEvaluator.ForClasses(3).WithSurfaceTolerance(2.0);
        var source = ImageMaskFolderSource.FromFolders(images, masks, classes, new ImageSegmentationOptions { Channels = 3 });
        var (raw, whole, classwise, both) = (new List<SegmentationCase>(), new List<SegmentationCase>(), new List<SegmentationCase>(), new List<SegmentationCase>());
        var connectivity = ImageSegmentationPredictor.ComponentConnectivity;
        var maps = new List<(int[] Labels, int[] Truth)>();
        using (var predictor = ImageSegmentationPredictor.Load(model))
        {
            predictor.KeepLargestComponent = false;   // the maps as predicted, not as the stored choice leaves them
            for (int i = 0; i < source.Count; i++)
            {
                var labels = predictor.Predict(source.Pairs[i].Image).Labels.ToArray();
                var truth = source.Load(i).Labels.Data.Select(v => (int)v).ToArray();
                maps.Add((labels, truth));
                var foregroundKept = ConnectedComponents.KeepLargestForeground(labels, [16, 16], connectivity);
                raw.Add(evaluator.Evaluate(labels, truth, [16, 16]));
                whole.Add(evaluator.Evaluate(foregroundKept, truth, [16, 16]));
                classwise.Add(evaluator.Evaluate(ConnectedComponents.KeepLargestPerClass(labels, [16, 16], connectivity: connectivity), truth, [16, 16]));
                both.Add(evaluator.Evaluate(ConnectedComponents.KeepLargestPerClass(foregroundKept, [16, 16], connectivity: connectivity), truth, [16, 16]));
            }
        }
        var (asPredicted, wholeSummary) = (SegmentationSummary.Of(raw), SegmentationSummary.Of(whole));
        bool foreground = SegmentationPostprocessing.ChooseKeepLargestForeground(asPredicted, wholeSummary);
        foreground.Should().BeTrue("the step makes the maps the masks");
        wholeSummary.MeanDice.Should().Be(1);
        var kept = SegmentationSummary.Of(foreground ? both : classwise);
        var chosen = SegmentationPostprocessing.ChooseKeepLargest(foreground ? wholeSummary : asPredicted, kept);
        var line = compare.Lines().Single();
        line["dice"].Should().Be(F(asPredicted.MeanDice));
        line["dice_keep_foreground"].Should().Be(F(wholeSummary.MeanDice));
        line["keep_foreground"].Should().Be(foreground ? "yes" : "no");
        line["dice_keep_largest"].Should().Be(F(kept.MeanDice));
        line["keep_largest"].Should().Be(chosen.Count == 0 ? "none" : string.Join(',', chosen));
        compare.Text.Should().Contain($"Keeping the foreground's largest connected region (all classes as one): mean Dice {F(asPredicted.MeanDice)} → {F(wholeSummary.MeanDice)}");
        var card = SegmentationModelFile.ReadCard(model);
        (card.KeepLargestForeground == true).Should().Be(foreground);
        (card.KeepLargestComponent ?? []).Should().Equal(chosen);
        asPredicted.MeanDice.Should().BeLessThan(1, "the untrained network's foreground is in pieces, so the step changes the maps");
        chosen.Should().BeEmpty("after the step the maps are right: keeping a class's largest component can only lose");
        compare.Text.Should().Contain("Recorded in three.safetensors: the foreground as one keeps only its largest connected region.");

        // evaluate then applies what was stored, and measures the maps predict gives.
        var applied = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", model, "--images", images, "--masks", masks);
        applied.ExitCode.Should().Be(0, applied.ToString());
        var predicted = SegmentationSummary.Of(maps.Select(m =>
        {
            var first = foreground ? ConnectedComponents.KeepLargestForeground(m.Labels, [16, 16], connectivity) : m.Labels;
            return evaluator.Evaluate(chosen.Count > 0 ? ConnectedComponents.KeepLargestPerClass(first, [16, 16], chosen, connectivity) : first, m.Truth, [16, 16]);
        }));
        applied.Lines().Single()["dice"].Should().Be(F(predicted.MeanDice));
    }

    [Fact]
    public async Task Evaluate_RefusesALabelMapThatDoesNotLieOnItsScansGrid()
    {
        // A tiny task of two one-channel scans and an (untrained) U-Net for it; the second label map is written half a
        // millimetre off its scan, as a header from another tool or a wrong registration would put it.
        MedVision.Torch.Tensors.ManualSeed(41);
        using var net = UNet.Builder().ForInput(1, 3).WithFeatures(4, 8).WithClasses(2).Build();
        var model = _folder["grid.safetensors"];
        SegmentationModelFile.Save(model, net, SegmentationModelFile.Describe(net, new NiftiSegmentationOptions { Orientation = null }, ["background", "lesion"], new SlidingWindowInferer([8, 8, 8])));
        var task = _folder["grid-task"];
        Directory.CreateDirectory(Path.Combine(task, "imagesTr"));
        Directory.CreateDirectory(Path.Combine(task, "labelsTr"));
        var random = new Random(9);
        var onGrid = NiftiAffine.FromSpacing([1f, 1f, 1f]);
        var m = new double[4, 4];
        for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) m[r, c] = onGrid[r, c];
        m[0, 3] += 0.5;
        var training = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            var name = $"case{i}.nii.gz";
            NiftiWriter.Write(Path.Combine(task, "imagesTr", name), new NiftiImage(Enumerable.Range(0, 512).Select(_ => (float)random.NextDouble()).ToArray(), [8, 8, 8], affine: onGrid));
            var labels = Enumerable.Range(0, 512).Select(v => v % 7 == 0 ? 1f : 0f).ToArray();
            NiftiWriter.Write(Path.Combine(task, "labelsTr", name), new NiftiImage(labels, [8, 8, 8], affine: i == 1 ? new NiftiAffine(m) : onGrid));
            training.Add($"{{\"image\": \"./imagesTr/{name}\", \"label\": \"./labelsTr/{name}\"}}");
        }
        File.WriteAllText(Path.Combine(task, "dataset.json"),
            $"{{\"modality\": {{\"0\": \"MRI\"}}, \"labels\": {{\"0\": \"background\", \"1\": \"lesion\"}}, \"training\": [{string.Join(", ", training)}]}}");
        var off = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", model, "--data", task);
        off.ExitCode.Should().NotBe(0, off.ToString());
        off.Error.Should().Contain("case1.nii.gz does not lie on the grid of its scan").And.Contain("another affine").And.Contain("resample the label map onto the scan");

        // On its grid again, the task evaluates.
        NiftiWriter.Write(Path.Combine(task, "labelsTr", "case1.nii.gz"), new NiftiImage(Enumerable.Range(0, 512).Select(v => v % 7 == 0 ? 1f : 0f).ToArray(), [8, 8, 8], affine: onGrid));
        var on = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", model, "--data", task);
        on.ExitCode.Should().Be(0, on.ToString());
        on.Lines().Single()["scans"].Should().Be("2");
    }

    [Fact]
    public async Task BadCommandLines_AreRefusedByName()
    {
        var neither = await SampleApp.RunAsync("segmentation", _folder.Path, "--epochs", "1");
        neither.ExitCode.Should().Be(2);
        neither.Error.Should().Contain("give --data FOLDER or --demo");
        var crop = await SampleApp.RunAsync("segmentation", _folder.Path, "--demo", "--demo-subjects", "4", "--crop", "10", "16", "16", "--features", "4", "8", "8", "--output", _folder["crop"]);
        crop.ExitCode.Should().Be(2);
        crop.Error.Should().Contain("needs sizes that are multiples of 4");
        var noModel = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", _folder["nothing.safetensors"], "scan.nii.gz");
        noModel.ExitCode.Should().Be(2);
        noModel.Error.Should().Contain("nothing.safetensors");
        var missing = await SampleApp.RunAsync("segmentation", _folder.Path, "--data", _folder["nowhere"]);
        missing.ExitCode.Should().Be(2);
        missing.Error.Should().Contain("no dataset.json");
    }

    [Fact]
    public async Task ImagesDemo_TrainsA2DUNet_WhosePrintedDiceAndMasksThePredictorReproduces()
    {
        var run = _folder["images"];
        var train = await SampleApp.RunAsync("segmentation", _folder.Path,
            "images", "--demo", "--demo-subjects", "16", "--epochs", "8", "--size", "32", "32", "--features", "4", "8", "--batch", "4", "--lr", "0.01", "--seed", "2", "--output", run);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("16 images with masks; classes background, lesion; 12 to train, 4 to validate");
        var result = train.Lines().Single();
        result["epochs"].Should().Be("8");
        result["val_images"].Should().Be("4");

        // The validation images are the first 4 of the seeded shuffle; the predictor loaded from the model file must give the
        // printed Dice and surface distances on them (in pixels), against the masks read as the folder source reads them.
        var source = ImageMaskFolderSource.FromFolders(Path.Combine(run, "demo-images", "images"), Path.Combine(run, "demo-images", "masks"), ["background", "lesion"], MaskEncoding.Binary);
        var order = Enumerable.Range(0, source.Count).ToArray();
        new Random(2).Shuffle(order);
        using var predictor = ImageSegmentationPredictor.Load(Path.Combine(run, "model.safetensors"));
        predictor.Preprocessing.Size.Should().Be((32, 32));
        var evaluator = SegmentationEvaluator.ForClasses(2).WithSurfaceTolerance(2.0);
        var cases = new List<SegmentationCase>();
        foreach (var index in order[..4])
        {
            // The demo images are 64×64 and are validated at 32×32: compare on the prepared size, as validation did.
            var image = ImageCodec.DecodeFile(source.Pairs[index].Image).Resize(32, 32);
            var truth = ImageMaskFolderSource.FromFolders(Path.Combine(run, "demo-images", "images"), Path.Combine(run, "demo-images", "masks"), ["background", "lesion"],
                new ImageSegmentationOptions { Size = (32, 32) }, MaskEncoding.Binary).Load(index).Labels.Data.Select(v => (int)v).ToArray();
            cases.Add(evaluator.Evaluate(predictor.Predict(image).Labels.ToArray(), truth, [32, 32]));
        }
        var summary = SegmentationSummary.Of(cases);
        string F(double v) => double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("F3", CultureInfo.InvariantCulture);
        result["val_dice"].Should().Be(F(summary.MeanDice));
        result["hd95_1"].Should().Be(F(summary.Classes[0].Hausdorff95Median));
        result["assd_1"].Should().Be(F(summary.Classes[0].AverageSurfaceDistance));

        // predict writes black-and-white masks on the image's own size, as the library's predictor gives them, and an overlay.
        // A validation image with a lesion (the demo's subjects alternate: odd indices have one).
        var file = source.Pairs[order[..4].First(i => i % 2 == 1)].Image;
        var predict = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--mirror", "--probabilities", "--output", _folder["masks"], file);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predictor.Flips = TestTimeFlips.Horizontal | TestTimeFlips.Vertical;
        var expected = predictor.Predict(file);
        // --probabilities: (classes, H, W) float32 on the image's own size, as the predictor gives them.
        var saved = MedVision.Nets.Data.Npy.NpyFormat.ReadFile(Path.Combine(_folder["masks"], Path.GetFileNameWithoutExtension(file) + ".probabilities.npy"));
        saved.Shape.Should().Equal(2, 64, 64);
        saved.ToSingleArray().Should().Equal(predictor.PredictProbabilities(ImageCodec.DecodeFile(file)).SelectMany(p => p));
        // merge of that and an unmirrored prediction: weighted 1:0 it is the mirrored prediction's mask again (the mask
        // predict wrote comes from the same probabilities); weighted equally, the library's merge of the two files.
        var unmirrored = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--probabilities", "--output", _folder["unmirrored"], file);
        unmirrored.ExitCode.Should().Be(0, unmirrored.ToString());
        var kept = await SampleApp.RunAsync("segmentation", _folder.Path, "merge", "--predictions", _folder["masks"], "--predictions", _folder["unmirrored"], "--weight", "1", "0", "--output", _folder["merged-1-0"]);
        kept.ExitCode.Should().Be(0, kept.ToString());
        kept.Text.Should().Contain("Merged 1 image(s) from 2 predictions");
        string MaskOf(string folder) => Path.Combine(folder, Path.GetFileNameWithoutExtension(file) + ".mask.png");
        ImageCodec.DecodeFile(MaskOf(_folder["merged-1-0"])).Pixels.Should().Equal(ImageCodec.DecodeFile(MaskOf(_folder["masks"])).Pixels);
        var even = await SampleApp.RunAsync("segmentation", _folder.Path, "merge", "--predictions", _folder["masks"], "--predictions", _folder["unmirrored"], "--output", _folder["merged"]);
        even.ExitCode.Should().Be(0, even.ToString());
        List<float[]> Planes(string folder)
        {
            var values = MedVision.Nets.Data.Npy.NpyFormat.ReadFile(Path.Combine(folder, Path.GetFileNameWithoutExtension(file) + ".probabilities.npy")).ToSingleArray();
            return [values[..(64 * 64)], values[(64 * 64)..]];
        }
        var evenMean = SegmentationProbabilities.AverageImages([Planes(_folder["masks"]), Planes(_folder["unmirrored"])], 64, 64);
        ImageCodec.DecodeFile(MaskOf(_folder["merged"])).Pixels.Should().Equal(
            SegmentationProbabilities.ImageMap(evenMean, 64, 64, ["background", "lesion"]).Labels.ToArray().Select(v => (byte)(v * 255)));
        var mask = ImageCodec.DecodeFile(Path.Combine(_folder["masks"], Path.GetFileNameWithoutExtension(file) + ".mask.png"));
        (mask.Width, mask.Height).Should().Be((64, 64));
        mask.Pixels.Should().Equal(expected.Labels.ToArray().Select(v => (byte)(v * 255)));
        ImageCodec.DecodeFile(Path.Combine(_folder["masks"], Path.GetFileNameWithoutExtension(file) + ".overlay.png")).Channels.Should().Be(3);
        predict.Text.Should().Contain((100 * expected.Fraction(1)).ToString("F2", CultureInfo.InvariantCulture), "the lesion's share of the image");

        // Exported to ONNX, the same model run by ONNX Runtime writes the same mask (up to ties within the engines' rounding).
        var export = await SampleApp.RunAsync("segmentation", _folder.Path, "export", "--model", Path.Combine(run, "model.safetensors"));
        export.ExitCode.Should().Be(0, export.ToString());
        export.Text.Should().Contain("input (N, 3, 32, 32) prepared");
        var onnx = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", Path.Combine(run, "model.onnx"), "--mirror", "--output", _folder["onnx-masks"], file);
        onnx.ExitCode.Should().Be(0, onnx.ToString());
        var onnxMask = ImageCodec.DecodeFile(Path.Combine(_folder["onnx-masks"], Path.GetFileNameWithoutExtension(file) + ".mask.png"));
        onnxMask.Pixels.Zip(mask.Pixels).Count(p => p.First != p.Second).Should().BeLessThan(3);
        expected.PixelCount(1).Should().BeGreaterThan(0, "the image shows a lesion, so the masks compared are not blank");
        // evaluate checks the deployed graph on labelled images: the ONNX file measures as the model file does.
        string[] labelled = ["--images", Path.Combine(run, "demo-images", "images"), "--masks", Path.Combine(run, "demo-images", "masks"), "--binary-masks"];
        var measuredFile = await SampleApp.RunAsync("segmentation", _folder.Path, ["evaluate", "--model", Path.Combine(run, "model.safetensors"), .. labelled]);
        var measuredOnnx = await SampleApp.RunAsync("segmentation", _folder.Path, ["evaluate", "--model", Path.Combine(run, "model.onnx"), .. labelled]);
        measuredOnnx.ExitCode.Should().Be(0, measuredOnnx.ToString());
        measuredOnnx.Lines().Single()["dice"].Should().Be(measuredFile.Lines().Single()["dice"]).And.NotBe("0.000");
        measuredOnnx.Lines().Single()["images"].Should().Be("16");
        // In float16 the graph measures to float16's rounding (about three significant digits).
        var half = await SampleApp.RunAsync("segmentation", _folder.Path, "export", "--model", Path.Combine(run, "model.safetensors"), "--float16", "--output", _folder["half.onnx"]);
        half.ExitCode.Should().Be(0, half.ToString());
        half.Text.Should().Contain("computes in float16");
        var measuredHalf = await SampleApp.RunAsync("segmentation", _folder.Path, ["evaluate", "--model", _folder["half.onnx"], .. labelled]);
        measuredHalf.ExitCode.Should().Be(0, measuredHalf.ToString());
        double.Parse(measuredHalf.Lines().Single()["dice"], CultureInfo.InvariantCulture).Should().BeApproximately(double.Parse(measuredFile.Lines().Single()["dice"], CultureInfo.InvariantCulture), 0.01);
        var storeOnnx = await SampleApp.RunAsync("segmentation", _folder.Path, ["evaluate", "--model", Path.Combine(run, "model.onnx"), .. labelled, "--compare-postprocessing", "--store"]);
        storeOnnx.ExitCode.Should().Be(2);
        storeOnnx.Error.Should().Contain("an ONNX file's card is fixed at export");

        // A second run (another seed) and predict with both: the ensemble's mask, as the library's ensemble predictor gives it.
        var run2 = _folder["images-seed3"];
        var second = await SampleApp.RunAsync("segmentation", _folder.Path,
            "images", "--demo", "--demo-subjects", "16", "--epochs", "2", "--size", "32", "32", "--features", "4", "8", "--batch", "4", "--seed", "3", "--output", run2);
        second.ExitCode.Should().Be(0, second.ToString());
        string[] members = [Path.Combine(run, "model.safetensors"), Path.Combine(run2, "model.safetensors")];
        var both = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", members[0], "--model", members[1], "--output", _folder["ensemble-masks"], file);
        both.ExitCode.Should().Be(0, both.ToString());
        both.Text.Should().Contain("and 1 more (an ensemble: probabilities averaged)");
        using var ensemble = ImageSegmentationPredictor.LoadEnsemble(members);
        ImageCodec.DecodeFile(Path.Combine(_folder["ensemble-masks"], Path.GetFileNameWithoutExtension(file) + ".mask.png")).Pixels
            .Should().Equal(ensemble.Predict(file).Labels.ToArray().Select(v => (byte)(v * 255)));
        var mixed = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", members[0], "--model", Path.Combine(run, "model.onnx"), file);
        mixed.ExitCode.Should().Be(2);
        mixed.Error.Should().Contain("an ONNX model predicts alone");
    }

    [Fact]
    public async Task TheOptimisationOptions_ReachTheTrainer()
    {
        var run = _folder["sgd"];
        var train = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--demo", "--demo-subjects", "8", "--epochs", "2", "--size", "32", "32",
            "--features", "4", "8", "--batch", "2", "--optimizer", "sgd", "--accumulate", "2", "--ema", "0.9", "--ema-warmup", "--output", run);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("SGD (Nesterov 0.99) at 0.01, poly schedule, gradients of 2 batches per step, weights averaged (decay 0.9, warm-up)");
        File.ReadAllText(Path.Combine(run, "last-state.json")).Should().Contain("\"AverageWarmup\": true");
        File.Exists(Path.Combine(run, "last-average.safetensors")).Should().BeTrue("the average is checkpointed");
        var history = File.ReadAllLines(Path.Combine(run, "history.csv"));
        history[1].Split(',')[3].Should().Be("0.01");
        double.Parse(history[2].Split(',')[3], CultureInfo.InvariantCulture).Should().BeApproximately(0.01 * Math.Pow(0.5, 0.9), 1e-12, "the poly schedule's second epoch");
        var bad = await SampleApp.RunAsync("segmentation", _folder.Path, "--demo", "--ema", "1");
        bad.ExitCode.Should().Be(2);
        bad.Error.Should().Contain("--ema must be a decay in [0, 1)");
        var warmupAlone = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--demo", "--ema-warmup", "--output", _folder["warmup"]);
        warmupAlone.ExitCode.Should().Be(2);
        warmupAlone.Error.Should().Contain("--ema-warmup warms up the weight average of --ema; give --ema DECAY too");
    }

    [Fact]
    public async Task DeepSupervision_TrainsTheHeads_AndTheModelFileLeavesThemOut()
    {
        var run = _folder["supervised"];
        var train = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--demo", "--demo-subjects", "8", "--epochs", "1", "--size", "32", "32",
            "--features", "4", "8", "8", "--batch", "4", "--deep-supervision", "--output", run);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("cosine schedule, deep supervision");
        using (var checkpoint = MedVision.Torch.Serialization.SafeTensors.Load(Path.Combine(run, "last.safetensors")))
            checkpoint.Keys.Should().Contain("supervision1.weight", "the checkpoint resumes the heads too");
        using (var model = MedVision.Torch.Serialization.SafeTensors.Load(Path.Combine(run, "model.safetensors")))
            model.Keys.Should().NotContain(k => k.StartsWith("supervision", StringComparison.Ordinal)).And.Contain("head.weight");
        var tooShallow = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--demo", "--demo-subjects", "4", "--epochs", "1", "--size", "32", "32",
            "--features", "4", "8", "--deep-supervision", "--output", _folder["shallow"]);
        tooShallow.ExitCode.Should().Be(2, tooShallow.ToString());
        tooShallow.Error.Should().Contain("Deep supervision needs a decoder output below full resolution, so at least three levels");
    }

    [Fact]
    public async Task GroupBy_KeepsEachPatientsImagesOnOneSide_OfTheHoldOutAndOfTheFolds()
    {
        // The demo's 24 images phantom_000…023 as three "patients" by their first two digits: 00 (10 images), 01 (10), 02 (4).
        string[] Common(string output) => ["images", "--demo", "--demo-subjects", "24", "--epochs", "1", "--size", "32", "32", "--features", "4", "8", "--batch", "8",
            "--group-by", @"phantom_(\d\d)\d", "--output", output];
        var holdout = await SampleApp.RunAsync("segmentation", _folder.Path, Common(_folder["grouped"]));
        holdout.ExitCode.Should().Be(0, holdout.ToString());
        var split = System.Text.RegularExpressions.Regex.Match(holdout.Text, @"24 images with masks, 3 patients; classes background, lesion; (\d+) to train, (\d+) to validate");
        split.Success.Should().BeTrue(holdout.Text);
        split.Groups[2].Value.Should().BeOneOf(["4", "10"], "the validation part is one whole patient (a quarter of 24 is nearest to the patient of 4 or one of 10)");
        var folds = await SampleApp.RunAsync("segmentation", _folder.Path, [.. Common(_folder["grouped-cv"]), "--folds", "3", "--tensorboard", _folder["cv-board"]]);
        folds.ExitCode.Should().Be(0, folds.ToString());
        Directory.GetDirectories(_folder["cv-board"]).Select(Path.GetFileName).Should().BeEquivalentTo(["fold-1", "fold-2", "fold-3"], "a TensorBoard run per fold");
        foreach (var fold in Directory.GetDirectories(_folder["cv-board"]))
            MedVision.Torch.TensorBoard.EventFileReader.ReadScalars(fold).Should().Contain(p => p.Tag == "validation/dice");
        folds.Text.Should().Contain("24 images with masks, 3 patients; classes background, lesion; 3-fold cross-validation");
        folds.Lines().Single()["val_images"].Should().Be("24");
        var tooMany = await SampleApp.RunAsync("segmentation", _folder.Path, [.. Common(_folder["grouped-cv4"]), "--folds", "4"]);
        tooMany.ExitCode.Should().Be(2, tooMany.ToString());
        tooMany.Error.Should().Contain("4 folds need at least 4 groups; the source has 3");
        var unmatched = await SampleApp.RunAsync("segmentation", _folder.Path, [.. Common(_folder["unmatched"])[..^4], "--group-by", "^(P[0-9]+)_", "--output", _folder["unmatched"]]);
        unmatched.ExitCode.Should().Be(2, unmatched.ToString());
        unmatched.Error.Should().Contain("--group-by: The group pattern ^(P[0-9]+)_ does not match phantom_000.png");
        var scans = await SampleApp.RunAsync("segmentation", _folder.Path, "--demo", "--demo-subjects", "4", "--group-by", "^(P)", "--output", _folder["unmatched-scans"]);
        scans.ExitCode.Should().Be(2, scans.ToString());
        scans.Error.Should().Contain("--group-by: The group pattern ^(P) does not match", "the scan command reads patients from its scans' file names too");
    }

    [Fact]
    public async Task CrossValidation_TrainsAModelPerFold_WhosePooledOutOfFoldDiceTheFoldModelsReproduce()
    {
        var run = _folder["cv"];
        // (60 short epochs, about 9 s: enough for the folds to find the lesions, so that the out-of-fold maps have foreground.)
        var cv = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--demo", "--demo-subjects", "12", "--folds", "3", "--epochs", "60",
            "--size", "32", "32", "--features", "4", "8", "--batch", "4", "--lr", "0.03", "--seed", "1", "--output", run);
        cv.ExitCode.Should().Be(0, cv.ToString());
        var result = cv.Lines().Single();
        result["folds"].Should().Be("3");
        result["val_images"].Should().Be("12", "every image measured once, out of fold");

        // Each fold's model on the images it did not train on (the library's split with the same seed): the pooled Dice.
        var images = Path.Combine(run, "demo-images", "images");
        var masks = Path.Combine(run, "demo-images", "masks");
        var source = ImageMaskFolderSource.FromFolders(images, masks, ["background", "lesion"], new ImageSegmentationOptions { Size = (32, 32) }, MaskEncoding.Binary);
        var evaluator = SegmentationEvaluator.ForClasses(2).WithSurfaceTolerance(2.0);
        var cases = new List<SegmentationCase>();
        var foldDice = new List<string>();
        var outOfFold = new SegmentationPostprocessingComparison(SegmentationEvaluator.ForClasses(2).WithoutSurfaceDistances());
        foreach (var fold in SegmentationFolds.Split(source, 3, seed: 1))
        {
            using var predictor = ImageSegmentationPredictor.Load(Path.Combine(run, $"fold-{fold.Index + 1}", "model.safetensors"));
            var foldCases = fold.Validation.Indices.Select(i =>
            {
                var labels = predictor.Predict(ImageCodec.DecodeFile(source.Pairs[i].Image).Resize(32, 32)).Labels.ToArray();
                var truth = source.Load(i).Labels.Data.Select(v => (int)v).ToArray();
                outOfFold.Add(labels, truth, [32, 32]);
                return evaluator.Evaluate(labels, truth, [32, 32]);
            }).ToList();
            cases.AddRange(foldCases);
            foldDice.Add(F(SegmentationSummary.Of(foldCases).MeanDice));
        }
        result["fold_dice"].Should().Be(string.Join(",", foldDice));
        result["val_dice"].Should().Be(F(SegmentationSummary.Of(cases).MeanDice));
        SegmentationSummary.Of(cases).MeanDice.Should().BeGreaterThan(0.5, "the folds found the lesions");
        // The folds' ensemble gets the post-processing chosen on those out-of-fold maps (nnU-Net's choice for it).
        var oof = outOfFold.Choose();
        result["dice_keep_largest"].Should().Be(F(oof.ClassesKept.MeanDice));
        result["keep_largest"].Should().Be(oof.Choice.KeepLargestComponent.Count == 0 ? "none" : "1");
        cv.Text.Should().Contain("Post-processing, chosen on the out-of-fold predictions");
        cv.Text.Should().Contain($"Wrote {Path.Combine(run, "ensemble.json")}, the folds as an ensemble with that post-processing");

        // evaluate: the three folds as an ensemble on the images at their own size (64×64), against the masks as stored.
        string[] folds = [.. Enumerable.Range(1, 3).Select(f => Path.Combine(run, $"fold-{f}", "model.safetensors"))];
        var evaluate = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", folds[0], "--model", folds[1], "--model", folds[2],
            "--images", images, "--masks", masks, "--binary-masks", "--csv", _folder["cases.csv"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        var rows = File.ReadAllLines(_folder["cases.csv"]);
        rows.Should().HaveCount(13, "a header and one row per image for the lesion class");
        rows.Skip(1).Select(r => r.Split(',')[0]).Should().Equal(Enumerable.Range(0, 12).Select(i => $"phantom_{i:D3}.png"));
        var measured = evaluate.Lines().Single();
        measured["models"].Should().Be("3");
        measured["images"].Should().Be("12");
        using var ensemble = ImageSegmentationPredictor.LoadEnsemble(folds);
        var native = ImageMaskFolderSource.FromFolders(images, masks, ["background", "lesion"], new ImageSegmentationOptions(), MaskEncoding.Binary);
        var expected = SegmentationSummary.Of(Enumerable.Range(0, native.Count).Select(i => evaluator.Evaluate(
            ensemble.Predict(native.Pairs[i].Image).Labels.ToArray(), native.Load(i).Labels.Data.Select(v => (int)v).ToArray(), [64, 64])));
        measured["dice"].Should().Be(F(expected.MeanDice));
        measured["hd95_1"].Should().Be(F(expected.Classes[0].Hausdorff95Median));
        // --compare-postprocessing: the same predictions measured again with each class's largest component kept, as the
        // predictor keeps it, and the recommendation that follows from the two mean Dice.
        var compared = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", folds[0], "--model", folds[1], "--model", folds[2],
            "--images", images, "--masks", masks, "--binary-masks", "--compare-postprocessing");
        compared.ExitCode.Should().Be(0, compared.ToString());
        ensemble.KeepLargestComponent = true;
        var largest = SegmentationSummary.Of(Enumerable.Range(0, native.Count).Select(i => evaluator.Evaluate(
            ensemble.Predict(native.Pairs[i].Image).Labels.ToArray(), native.Load(i).Labels.Data.Select(v => (int)v).ToArray(), [64, 64])));
        var both = compared.Lines().Single();
        both["dice"].Should().Be(F(expected.MeanDice), "the main measures are of the predictions as they are");
        both["dice_keep_largest"].Should().Be(F(largest.MeanDice));
        bool chosen = largest.Classes[0].Dice > expected.Classes[0].Dice;   // the one structure: chosen where its Dice rises
        compared.Text.Should().Contain($"Keeping each class's largest connected component: mean Dice {F(expected.MeanDice)} → {F(largest.MeanDice)}")
            .And.Contain(chosen ? "Recommended for lesion: record it with --store" : "Not recommended: it raises no class's Dice here.");
        both["keep_largest"].Should().Be(chosen ? "1" : "none");

        // The cross-validation wrote the folds' ensemble manifest, which evaluate takes as the three folds.
        var manifest = Path.Combine(run, "ensemble.json");
        SegmentationModelFile.ReadEnsembleManifest(manifest).ModelPaths.Should().Equal(folds.Select(Path.GetFullPath));
        var fromFolds = SegmentationModelFile.ReadEnsembleManifest(manifest).Postprocessing!;
        (fromFolds.KeepLargestForeground, fromFolds.KeepLargestComponent).Should().BeEquivalentTo((false, oof.Choice.KeepLargestComponent));
        // --store on several model files is refused: an ensemble's choice goes into its manifest, each member keeps its own.
        var storeMembers = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", folds[0], "--model", folds[1], "--images", images, "--masks", masks, "--binary-masks", "--compare-postprocessing", "--store");
        storeMembers.ExitCode.Should().Be(2);
        storeMembers.Error.Should().Contain("--store records an ensemble's choice in its manifest, not in each member");
        // --store on the manifest records the choice there, and evaluate and predict then apply it unless told not to.
        var store = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", manifest, "--images", images, "--masks", masks, "--binary-masks", "--compare-postprocessing", "--store");
        store.ExitCode.Should().Be(0, store.ToString());
        store.Lines().Single()["dice"].Should().Be(F(expected.MeanDice), "the manifest is the three folds");
        store.Lines().Single()["models"].Should().Be("3");
        store.Text.Should().Contain(chosen ? "Recorded in ensemble.json: lesion keeps only the largest connected component" : "Recorded in ensemble.json: no post-processing");
        var recorded = SegmentationModelFile.ReadEnsembleManifest(manifest).Postprocessing!;
        (recorded.KeepLargestForeground, recorded.KeepLargestComponent.Count).Should().Be((false, chosen ? 1 : 0));
        foreach (var fold in folds) SegmentationModelFile.ReadCard(fold).KeepLargestComponent.Should().BeNull("the members' own cards are left as they were");
        // Whatever was chosen, the manifest's choice is what evaluate applies: each class's largest component, then none.
        SegmentationModelFile.UpdateEnsembleManifest(manifest, m => m with { Postprocessing = new SegmentationPostprocessingChoice(false, [1]) }).Should().BeEmpty();
        var applied = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", manifest, "--images", images, "--masks", masks, "--binary-masks");
        applied.ExitCode.Should().Be(0, applied.ToString());
        applied.Lines().Single()["dice"].Should().Be(F(largest.MeanDice), "evaluate measures what predict gives: the recorded choice applied");
        applied.Text.Should().Contain("Post-processing recorded in the manifest: lesion keeps only its largest connected component");
        var off = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", manifest, "--images", images, "--masks", masks, "--binary-masks", "--no-postprocessing");
        off.ExitCode.Should().Be(0, off.ToString());
        off.Lines().Single()["dice"].Should().Be(F(expected.MeanDice));
        // predict with the manifest writes the ensemble's masks with its post-processing.
        var image = Directory.GetFiles(images).Order(StringComparer.Ordinal).First();
        var predicted = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", manifest, "--output", _folder["manifest-masks"], image);
        predicted.ExitCode.Should().Be(0, predicted.ToString());
        predicted.Text.Should().Contain("ensemble.json (an ensemble of 3 models: probabilities averaged)");
        var written = ImageCodec.DecodeFile(Path.Combine(_folder["manifest-masks"], Path.GetFileNameWithoutExtension(image) + ".mask.png"));
        using (var kept = ImageSegmentationPredictor.LoadEnsemble(folds))
        {
            kept.KeepLargestComponent = true;
            written.Pixels.Select(p => p > 127 ? 1 : 0).Should().Equal(kept.Predict(image).Labels.ToArray().Select(l => (int)l), "a black-and-white mask of the kept lesion");
        }
        // A member retrained since: the choice is not applied, and evaluate says why.
        var copied = _folder["copied"];
        Directory.CreateDirectory(copied);
        for (int i = 0; i < 3; i++) File.Copy(folds[i], Path.Combine(copied, $"fold-{i}.safetensors"));
        var copiedManifest = Path.Combine(copied, "ensemble.json");
        SegmentationModelFile.SaveEnsembleManifest(copiedManifest, [.. Enumerable.Range(0, 3).Select(i => Path.Combine(copied, $"fold-{i}.safetensors"))], new SegmentationPostprocessingChoice(false, [1]));
        File.Copy(folds[0], Path.Combine(copied, "fold-1.safetensors"), overwrite: true);
        var stale = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", copiedManifest, "--images", images, "--masks", masks, "--binary-masks");
        stale.ExitCode.Should().Be(0, stale.ToString());
        stale.Text.Should().Contain("The manifest's post-processing is not used: member 1's model file");

        // The ensemble command writes a manifest of the files it is given, and refuses what is not a list of model files.
        var pair = _folder["pair.json"];
        var ensembleRun = await SampleApp.RunAsync("segmentation", _folder.Path, "ensemble", "--model", folds[0], "--model", folds[2], "--output", pair);
        ensembleRun.ExitCode.Should().Be(0, ensembleRun.ToString());
        SegmentationModelFile.ReadEnsembleManifest(pair).ModelPaths.Should().Equal(Path.GetFullPath(folds[0]), Path.GetFullPath(folds[2]));
        ensembleRun.Text.Should().Contain("2 members (2-D, classes background, lesion)");
        // Weighted 1:0, the ensemble's mask is its first member's own.
        var weighted = _folder["weighted.json"];
        var weightedRun = await SampleApp.RunAsync("segmentation", _folder.Path, "ensemble", "--model", folds[0], "--model", folds[2], "--weight", "1", "0", "--output", weighted);
        weightedRun.ExitCode.Should().Be(0, weightedRun.ToString());
        SegmentationModelFile.ReadEnsembleManifest(weighted).Weights.Should().Equal(1, 0);
        weightedRun.Text.Should().Contain("1.000").And.Contain("0.000");
        using (var first = ImageSegmentationPredictor.Load(folds[0]))
        using (var byManifest = ImageSegmentationPredictor.LoadManifest(weighted))
        {
            var photo = MedVision.Nets.Data.Images.ImageCodec.DecodeFile(image);
            byManifest.Predict(photo).Labels.ToArray().Should().Equal(first.Predict(photo).Labels.ToArray());
        }
        foreach (var (arguments, message) in new (string[], string)[]
        {
            (["--model", folds[0], "--model", folds[2], "--weight", "1", "--output", _folder["w1.json"]], "--weight is given 1 time(s) for 2 --model files"),
            (["--model", folds[0], "--model", folds[2], "--weight", "0", "0", "--output", _folder["w0.json"]], "the weights are all 0"),
            (["--model", folds[0], "--model", folds[2], "--weight", "1", "-1", "--output", _folder["wneg.json"]], "--weight -1: weights are finite and at least 0"),
            (["--model", folds[0], "--output", _folder["pair.txt"]], "--output names the manifest to write: a .json file"),
            (["--model", pair, "--output", _folder["nested.json"]], "is a manifest; list the model files themselves"),
            (["--model", "fold.onnx", "--output", _folder["onnx.json"]], "is an ONNX file"),
            (["--model", folds[0], "--model", folds[0], "--output", _folder["twice.json"]], "listed twice"),
        })
        {
            var refused = await SampleApp.RunAsync("segmentation", _folder.Path, ["ensemble", .. arguments]);
            refused.ExitCode.Should().Be(2, refused.ToString());
            refused.Error.Should().Contain(message);
        }
        var mixed = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", pair, "--model", folds[0], image);
        mixed.ExitCode.Should().Be(2);
        mixed.Error.Should().Contain("is an ensemble manifest, which lists the whole ensemble: give it as the only --model");
        var export = await SampleApp.RunAsync("segmentation", _folder.Path, "export", "--model", pair);
        export.ExitCode.Should().Be(2);
        export.Error.Should().Contain("export its members one at a time");

        var conflicting = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", folds[0], "--images", images, "--masks", masks, "--keep-largest", "--compare-postprocessing");
        conflicting.ExitCode.Should().Be(2);
        conflicting.Error.Should().Contain("--compare-postprocessing measures with and without each class's largest component itself");
        var storeAlone = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", folds[0], "--images", images, "--masks", masks, "--store");
        storeAlone.ExitCode.Should().Be(2);
        storeAlone.Error.Should().Contain("--store records what --compare-postprocessing chooses");
        var contradiction = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", folds[0], "--keep-largest", "--no-postprocessing", images);
        contradiction.ExitCode.Should().Be(2);
        contradiction.Error.Should().Contain("--keep-largest and --no-postprocessing contradict each other");
        var neither = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", folds[0]);
        neither.ExitCode.Should().Be(2);
        neither.Error.Should().Contain("give --images DIR --masks DIR (2-D models) or --data FOLDER (3-D models)");
        var scans = await SampleApp.RunAsync("segmentation", _folder.Path, "evaluate", "--model", folds[0], "--data", run);
        scans.ExitCode.Should().Be(2);
        scans.Error.Should().Contain("holds a 2-D U-Net");
    }

    private static string F(double v) => double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("F3", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Help_ListsTheOptions_OfEveryCommand_WithoutTheRunsChecks()
    {
        // The commands' cross-option checks (--data or --demo, a required --model) are for runs, not for --help.
        foreach (var command in new[] { "", "train", "images", "predict", "evaluate", "ensemble", "merge", "export" })
        {
            var help = await SampleApp.RunAsync("segmentation", _folder.Path, command.Length == 0 ? ["--help"] : [command, "--help"]);
            help.ExitCode.Should().Be(0, $"'{command} --help': {help}");
            help.Text.Should().Contain("Options:").And.Contain("--", command);
        }
    }

    [Fact]
    public async Task BadImageCommandLines_AreRefusedByName()
    {
        var neither = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--epochs", "1");
        neither.ExitCode.Should().Be(2);
        neither.Error.Should().Contain("give --images DIR --masks DIR, or --demo");
        var half = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--images", _folder["i"]);
        half.ExitCode.Should().Be(2);
        half.Error.Should().Contain("give both --images and --masks");
        var binary = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--demo", "--binary-masks", "--classes", "a", "b", "c");
        binary.ExitCode.Should().Be(2);
        binary.Error.Should().Contain("--binary-masks give two classes");
        var size = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--demo", "--demo-subjects", "4", "--size", "30", "32", "--features", "4", "8", "8", "--output", _folder["size"]);
        size.ExitCode.Should().Be(2);
        size.Error.Should().Contain("needs sizes that are multiples of 4");
        // A file that is no segmentation model file: one line naming it, exit code 2 (no crash).
        var plain = _folder["plain.safetensors"];
        MedVision.Torch.Serialization.SafeTensors.Save(plain, new Dictionary<string, MedVision.Torch.Tensor>());
        var notAModel = await SampleApp.RunAsync("segmentation", _folder.Path, "predict", "--model", plain, "image.png");
        notAModel.ExitCode.Should().Be(2, notAModel.ToString());
        notAModel.Error.Should().Contain("plain.safetensors holds no segmentation card");
        var folds = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--demo", "--folds", "1");
        folds.ExitCode.Should().Be(2);
        folds.Error.Should().Contain("--folds");
        var missing = await SampleApp.RunAsync("segmentation", _folder.Path, "images", "--images", _folder["nowhere"], "--masks", _folder["nowhere"]);
        missing.ExitCode.Should().Be(2);
        missing.Error.Should().Contain("does not exist");
    }
}
