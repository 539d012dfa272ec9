using System.Text.Json;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics.Segmentation;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Nets.Tests.Inference;

/// <summary>
/// nnU-Net's post-processing choice kept with the model: which classes keep only their largest connected component is
/// chosen class by class on held-out cases (<see cref="SegmentationPostprocessing.ChooseKeepLargest"/>), recorded in the
/// card (<see cref="SegmentationCard.KeepLargestComponent"/>, format 3) and applied by the predictors loaded from it.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class SegmentationPostprocessingTests : IDisposable
{
    private static readonly string[] Classes = ["background", "disc", "cup"];
    private readonly string _folder = Directory.CreateTempSubdirectory("mvn-postprocessing-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void TheChoice_TakesTheClassesWhoseDiceRises_ClassByClass()
    {
        // One row of 12 pixels. Class 1: the truth's block and a stray pixel (removing it raises the Dice).
        // Class 2: two true components, the smaller one predicted too (keeping the largest loses it: the Dice falls).
        // Class 3: never in the truth (its Dice is undefined: a tie, not chosen).
        int[] truth = [1, 1, 1, 1, 0, 0, 2, 2, 2, 0, 2, 0];
        int[] predicted = [1, 1, 1, 1, 0, 0, 2, 2, 2, 1, 2, 0];
        int[] shape = [1, 12];
        var evaluator = SegmentationEvaluator.ForClasses(4).WithoutSurfaceDistances();
        var asPredicted = SegmentationSummary.Of([evaluator.Evaluate(predicted, truth, shape)]);
        var kept = SegmentationSummary.Of([evaluator.Evaluate(ConnectedComponents.KeepLargestPerClass(predicted, shape), truth, shape)]);
        kept.Classes[0].Dice.Should().BeGreaterThan(asPredicted.Classes[0].Dice);
        kept.Classes[1].Dice.Should().BeLessThan(asPredicted.Classes[1].Dice);
        double.IsNaN(kept.Classes[2].Dice).Should().BeTrue();
        SegmentationPostprocessing.ChooseKeepLargest(asPredicted, kept).Should().Equal(1);
        SegmentationPostprocessing.ChooseKeepLargest(asPredicted, asPredicted).Should().BeEmpty("no change is a tie, which keeps the predictions");

        var twoCases = SegmentationSummary.Of([evaluator.Evaluate(predicted, truth, shape), evaluator.Evaluate(truth, truth, shape)]);
        var act = () => SegmentationPostprocessing.ChooseKeepLargest(asPredicted, twoCases);
        act.Should().Throw<ArgumentException>().WithMessage("*same cases and classes: 1 cases*against 2*");
    }

    [Fact]
    public void TheForegroundStep_KeepsTheLargestRegionOfAllClassesAsOne_AndIsChosenWhenSomeClassGainsAndNoneLoses()
    {
        // A structure of two classes (class 2 inside class 1) and a stray class-2 island larger than the true class 2:
        // class by class, class 1's halves tie (the first is kept) and class 2 keeps the island; the foreground as one
        // keeps the structure whole and drops the island.
        int[] truth = [1, 2, 1, 0, 0, 0, 0, 0];
        int[] predicted = [1, 2, 1, 0, 0, 2, 2, 0];
        int[] shape = [1, 8];
        ConnectedComponents.KeepLargestForeground(predicted, shape).Should().Equal(1, 2, 1, 0, 0, 0, 0, 0);
        ConnectedComponents.KeepLargestPerClass(predicted, shape).Should().Equal(1, 0, 0, 0, 0, 2, 2, 0);
        var evaluator = SegmentationEvaluator.ForClasses(3).WithoutSurfaceDistances();
        SegmentationSummary Measure(int[] labels) => SegmentationSummary.Of([evaluator.Evaluate(labels, truth, shape)]);
        var raw = Measure(predicted);
        var foreground = Measure(ConnectedComponents.KeepLargestForeground(predicted, shape));
        SegmentationPostprocessing.ChooseKeepLargestForeground(raw, foreground).Should().BeTrue("class 2's Dice rises from 0.5 to 1 and class 1's stays 1");
        SegmentationPostprocessing.ChooseKeepLargest(raw, Measure(ConnectedComponents.KeepLargestPerClass(predicted, shape))).Should().BeEmpty("class by class both Dice fall");
        // The per-class choice is then made on top of the foreground step's maps: nothing more to gain here.
        var kept = ConnectedComponents.KeepLargestForeground(predicted, shape);
        SegmentationPostprocessing.ChooseKeepLargest(foreground, Measure(ConnectedComponents.KeepLargestPerClass(kept, shape))).Should().BeEmpty();
        SegmentationPostprocessing.ChooseKeepLargestForeground(raw, raw).Should().BeFalse("no change is a tie");

        // Two separate structures: the foreground as one keeps only the first of two equal regions, and class 2 loses.
        int[] apart = [1, 1, 0, 0, 0, 2, 2, 0];
        var whole = SegmentationSummary.Of([evaluator.Evaluate(apart, apart, shape)]);
        var lost = SegmentationSummary.Of([evaluator.Evaluate(ConnectedComponents.KeepLargestForeground(apart, shape), apart, shape)]);
        lost.Classes[1].Dice.Should().Be(0);
        SegmentationPostprocessing.ChooseKeepLargestForeground(whole, lost).Should().BeFalse("a class that loses vetoes the step");
        // One structure: the step is the per-class one, which decides.
        var one = SegmentationEvaluator.ForClasses(2).WithoutSurfaceDistances();
        int[] lesion = [1, 1, 0, 0, 1, 0, 0, 0];
        var strayed = SegmentationSummary.Of([one.Evaluate(lesion, [1, 1, 0, 0, 0, 0, 0, 0], shape)]);
        var cleaned = SegmentationSummary.Of([one.Evaluate(ConnectedComponents.KeepLargestForeground(lesion, shape), [1, 1, 0, 0, 0, 0, 0, 0], shape)]);
        SegmentationPostprocessing.ChooseKeepLargestForeground(strayed, cleaned).Should().BeFalse();
        SegmentationPostprocessing.ChooseKeepLargest(strayed, cleaned).Should().Equal(1);
        FluentActions.Invoking(() => ConnectedComponents.KeepLargestForeground([1, -1], [1, 2])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*≥ 0*");
        FluentActions.Invoking(() => SegmentationPostprocessing.ChooseKeepLargestForeground(raw, strayed)).Should().Throw<ArgumentException>().WithMessage("*same cases and classes*");
    }

    [Fact]
    public void TheComparison_GathersCases_AndMakesBothStepsChoices_AsTheStepByStepRoute()
    {
        // The designed row (a two-class structure and a stray class-2 island): the foreground step is chosen, the
        // per-class one on top of it is not.
        var evaluator = SegmentationEvaluator.ForClasses(3).WithoutSurfaceDistances();
        var row = new SegmentationPostprocessingComparison(evaluator);
        row.Add([1, 2, 1, 0, 0, 2, 2, 0], [1, 2, 1, 0, 0, 0, 0, 0], [1, 8]);
        var chosen = row.Choose();
        (chosen.Choice.KeepLargestForeground, chosen.Choice.KeepLargestComponent.Count).Should().Be((true, 0));
        chosen.ForegroundKept!.Classes[1].Dice.Should().Be(1);
        chosen.BeforeClasses.Should().BeSameAs(chosen.ForegroundKept);

        // Random 3-D maps of several cases, added as arrays and as a batch of scores: the same summaries and choice as
        // the step-by-step route with the scan predictor's connectivity.
        var random = new Random(5);
        int[] shape = [4, 5, 6];
        int voxels = 4 * 5 * 6;
        var predicted = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, voxels).Select(_ => random.Next(10) < 6 ? 0 : random.Next(1, 3)).ToArray()).ToArray();
        var truth = Enumerable.Range(0, 3).Select(i => predicted[i].Select(v => random.Next(10) < 8 ? v : random.Next(3)).ToArray()).ToArray();
        var arrays = new SegmentationPostprocessingComparison(evaluator);
        for (int i = 0; i < 3; i++) arrays.Add(predicted[i], truth[i], shape);
        var connectivity = SegmentationPredictor.ComponentConnectivity;
        var asPredicted = SegmentationSummary.Of(Enumerable.Range(0, 3).Select(i => evaluator.Evaluate(predicted[i], truth[i], shape)));
        var foreground = Enumerable.Range(0, 3).Select(i => ConnectedComponents.KeepLargestForeground(predicted[i], shape, connectivity)).ToArray();
        var foregroundKept = SegmentationSummary.Of(Enumerable.Range(0, 3).Select(i => evaluator.Evaluate(foreground[i], truth[i], shape)));
        bool keepForeground = SegmentationPostprocessing.ChooseKeepLargestForeground(asPredicted, foregroundKept);
        var classesKept = SegmentationSummary.Of(Enumerable.Range(0, 3).Select(i =>
            evaluator.Evaluate(ConnectedComponents.KeepLargestPerClass(keepForeground ? foreground[i] : predicted[i], shape, connectivity: connectivity), truth[i], shape)));
        var expectedClasses = SegmentationPostprocessing.ChooseKeepLargest(keepForeground ? foregroundKept : asPredicted, classesKept);
        var result = arrays.Choose();
        result.AsPredicted.MeanDice.Should().Be(asPredicted.MeanDice);
        result.ForegroundKept!.MeanDice.Should().Be(foregroundKept.MeanDice);
        result.ClassesKept.MeanDice.Should().Be(classesKept.MeanDice);
        result.ClassesKept.MeanDice.Should().NotBe(result.AsPredicted.MeanDice, "the random maps are in pieces");
        (result.Choice.KeepLargestForeground, result.Choice.KeepLargestComponent).Should().BeEquivalentTo((keepForeground, expectedClasses));

        using (var scope = Tensors.NewDisposeScope())
        {
            // Scores whose arg-max is each map (one-hot), as the trainer's logits, against (N, 1, D, H, W) truth.
            var oneHot = new float[3 * 3 * voxels];
            for (int i = 0; i < 3; i++)
                for (int v = 0; v < voxels; v++) oneHot[(i * 3 + predicted[i][v]) * voxels + v] = 1;
            var batch = new SegmentationPostprocessingComparison(evaluator);
            batch.Add(Tensors.FromArray(oneHot, [3, 3, 4, 5, 6]), Tensors.FromArray(truth.SelectMany(t => t.Select(v => (long)v)).ToArray(), [3, 1, 4, 5, 6]));
            batch.Cases.Should().Be(3);
            var fromBatch = batch.Choose();
            (fromBatch.AsPredicted.MeanDice, fromBatch.ClassesKept.MeanDice, fromBatch.ForegroundKept!.MeanDice).Should().Be((result.AsPredicted.MeanDice, result.ClassesKept.MeanDice, result.ForegroundKept.MeanDice));
            FluentActions.Invoking(() => batch.Add(Tensors.Zeros(1, 3, 8), Tensors.Zeros([1, 8], ScalarType.Int64))).Should().Throw<ArgumentException>().WithMessage("*2-D images and 3-D volumes; the maps have 1 axes*");
        }

        // One structure: no foreground step; refusals by name.
        var one = new SegmentationPostprocessingComparison(SegmentationEvaluator.ForClasses(2).WithoutSurfaceDistances(), Connectivity.Full);
        FluentActions.Invoking(() => one.Choose()).Should().Throw<InvalidOperationException>().WithMessage("Add the held-out cases*");
        one.Add([1, 1, 0, 0, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0, 0], [1, 8]);
        (one.Choose().ForegroundKept, one.Choose().Choice.KeepLargestComponent.Single()).Should().Be((null, 1));
        FluentActions.Invoking(() => one.Add([1, 1], [1, 1], [2])).Should().Throw<ArgumentException>().WithMessage("*the maps have 1 axes*");
        FluentActions.Invoking(() => one.Add([1, 2], [1, 1], [1, 2])).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SegmentationPostprocessingComparison(evaluator, (Connectivity)7)).Should().Throw<ArgumentOutOfRangeException>();
        one.Cases.Should().Be(1, "a refused case is not added");
    }

    [Fact]
    public void PredictorsFromTheFile_KeepTheForegroundsLargestRegionFirst_ThenTheRecordedClasses()
    {
        using var model = Network(26);
        var card = SegmentationModelFile.Describe(model, Options, Classes, new SlidingWindowInferer([16, 16]));
        card.KeepLargestForeground = true;
        card.KeepLargestComponent = [2];
        var path = Path.Combine(_folder, "foreground.safetensors");
        SegmentationModelFile.Save(path, model, card);
        SegmentationModelFile.ReadCard(path).FormatVersion.Should().Be(4, "a format-3 reader would predict without the foreground step");
        var image = Noise(7);
        using var predictor = ImageSegmentationPredictor.Load(path);
        predictor.KeepLargestForeground.Should().BeTrue();
        predictor.KeepLargestComponentClasses.Should().Equal(2);
        var kept = predictor.Predict(image).Labels.ToArray();
        predictor.KeepLargestComponent = false;
        predictor.KeepLargestForeground.Should().BeFalse("turning post-processing off turns off both steps");
        var raw = predictor.Predict(image).Labels.ToArray();
        var foreground = ConnectedComponents.KeepLargestForeground(raw, [16, 16], ImageSegmentationPredictor.ComponentConnectivity);
        foreground.Should().NotEqual(raw, "the untrained network's foreground is in pieces");
        kept.Should().Equal(ConnectedComponents.KeepLargestPerClass(foreground, [16, 16], [2], ImageSegmentationPredictor.ComponentConnectivity));
        predictor.KeepLargestForeground = true;
        predictor.KeepLargestComponent.Should().BeTrue();
        predictor.Predict(image).Labels.ToArray().Should().Equal(foreground);

        // An ensemble applies it only when every member records it; UpdateCard takes it away (back to format 2).
        var other = Path.Combine(_folder, "other.safetensors");
        File.Copy(path, other);
        using (var agreed = ImageSegmentationPredictor.LoadEnsemble([path, other])) agreed.KeepLargestForeground.Should().BeTrue();
        SegmentationModelFile.UpdateCard(other, c => c.KeepLargestForeground = null);
        using (var differ = ImageSegmentationPredictor.LoadEnsemble([path, other]))
            (differ.KeepLargestForeground, differ.KeepLargestComponentClasses.Count).Should().Be((false, 0), "a choice the members do not share does not carry over");
        SegmentationModelFile.ReadCard(other).FormatVersion.Should().Be(3);

        // The scan predictor applies it with face connectivity.
        Tensors.ManualSeed(27);
        using var volumeNet = UNet.Builder().ForInput(1, 3).WithFeatures(4, 8).WithInstanceNorm().WithClasses(3).Build();
        var volumeCard = SegmentationModelFile.Describe(volumeNet, new NiftiSegmentationOptions { Orientation = null }, Classes, new SlidingWindowInferer([8, 8, 8]));
        volumeCard.KeepLargestForeground = true;
        var volumePath = Path.Combine(_folder, "scan-foreground.safetensors");
        SegmentationModelFile.Save(volumePath, volumeNet, volumeCard);
        var random = new Random(8);
        var scan = new NiftiImage(Enumerable.Range(0, 8 * 8 * 8).Select(_ => (float)random.NextDouble()).ToArray(), [8, 8, 8]);
        using var scans = SegmentationPredictor.Load(volumePath);
        scans.KeepLargestForeground.Should().BeTrue();
        var keptScan = scans.Predict([scan]).Voxels.Select(v => (int)v).ToArray();
        scans.KeepLargestComponent = false;
        var rawScan = scans.Predict([scan]).Voxels.Select(v => (int)v).ToArray();
        var expected = ConnectedComponents.KeepLargestForeground(rawScan, [8, 8, 8], SegmentationPredictor.ComponentConnectivity);
        expected.Should().NotEqual(rawScan);
        keptScan.Should().Equal(expected);
    }

    private static UNet Network(int seed)
    {
        Tensors.ManualSeed((ulong)seed);
        return UNet.Builder().ForInput(3, 2).WithFeatures(4, 8).WithInstanceNorm().WithClasses(3).Build();
    }

    private static readonly ImageSegmentationOptions Options = new() { Channels = 3, Size = (16, 16) };

    private string Save(UNet model, string name, List<int>? keep)
    {
        var card = SegmentationModelFile.Describe(model, Options, Classes, new SlidingWindowInferer([16, 16]));
        card.KeepLargestComponent = keep;
        var path = Path.Combine(_folder, name);
        SegmentationModelFile.Save(path, model, card);
        return path;
    }

    private static RasterImage Noise(int seed)
    {
        var pixels = new byte[16 * 16 * 3];
        new Random(seed).NextBytes(pixels);
        return new RasterImage(16, 16, 3, pixels);
    }

    [Fact]
    public void APredictorFromTheFile_AppliesTheRecordedChoice_AndItsSettingsOverrideIt()
    {
        using var model = Network(21);
        var path = Save(model, "cup.safetensors", [2]);
        SegmentationModelFile.ReadCard(path).FormatVersion.Should().Be(3, "a format-2 reader would predict without the post-processing");
        var image = Noise(4);   // at the prepared size: labels on one grid
        using var predictor = ImageSegmentationPredictor.Load(path);
        predictor.KeepLargestComponentClasses.Should().Equal(2);
        predictor.KeepLargestComponent.Should().BeTrue();
        var kept = predictor.Predict(image).Labels.ToArray();

        predictor.KeepLargestComponent = false;
        predictor.KeepLargestComponentClasses.Should().BeEmpty();
        var raw = predictor.Predict(image).Labels.ToArray();
        var onlyCup = ConnectedComponents.KeepLargestPerClass(raw, [16, 16], [2], ImageSegmentationPredictor.ComponentConnectivity);
        onlyCup.Should().NotEqual(raw, "the untrained network's cup is in pieces, so keeping its largest changes the map");
        kept.Should().Equal(onlyCup);
        var both = ConnectedComponents.KeepLargestPerClass(raw, [16, 16], [1, 2], ImageSegmentationPredictor.ComponentConnectivity);
        both.Should().NotEqual(onlyCup, "the disc is in pieces too, and the recorded choice leaves it alone");

        predictor.KeepLargestComponent = true;
        predictor.KeepLargestComponentClasses.Should().Equal(1, 2);
        predictor.Predict(image).Labels.ToArray().Should().Equal(both);
        predictor.KeepLargestComponentClasses = [2, 1, 2];
        predictor.KeepLargestComponentClasses.Should().Equal(1, 2);

        foreach (var bad in new[] { new[] { 0 }, new[] { 3 }, new[] { -1, 1 } })
        {
            var act = () => predictor.KeepLargestComponentClasses = bad;
            act.Should().Throw<ArgumentException>().WithMessage("*classes 1 to 2*");
        }
    }

    [Fact]
    public void TheCard_RecordsValidChoices_AndRefusesOthersByName()
    {
        using var model = Network(22);
        var path = Save(model, "none.safetensors", null);
        var card = SegmentationModelFile.ReadCard(path);
        card.FormatVersion.Should().Be(2);
        card.KeepLargestComponent.Should().BeNull();
        File.ReadAllText(path).Should().NotContain("keep_largest_component");

        // UpdateCard records a choice with the same weights, and takes it away again (back to the oldest format that holds the card).
        using var before = ImageSegmentationPredictor.Load(path);
        var raw = before.Predict(Noise(5)).Labels.ToArray();
        SegmentationModelFile.UpdateCard(path, c => c.KeepLargestComponent = [1, 2]);
        var updated = SegmentationModelFile.ReadCard(path);
        updated.KeepLargestComponent.Should().Equal(1, 2);
        updated.FormatVersion.Should().Be(3);
        using (var after = ImageSegmentationPredictor.Load(path))
        {
            after.KeepLargestComponent = false;
            after.Predict(Noise(5)).Labels.ToArray().Should().Equal(raw, "the weights were written back unchanged");
        }
        SegmentationModelFile.UpdateCard(path, c => c.KeepLargestComponent = null);
        SegmentationModelFile.ReadCard(path).FormatVersion.Should().Be(2);

        var json = JsonSerializer.Serialize(SegmentationModelFile.Describe(model, Options, Classes, new SlidingWindowInferer([16, 16])));
        foreach (var (keep, message) in new[] { ("[0]", "*keep_largest_component [0] must name foreground classes (1 to 2) once each*"),
                     ("[3]", "*keep_largest_component [3]*"), ("[1,1]", "*keep_largest_component [1, 1]*") })
        {
            var bad = json.Replace("\"format_version\":2", "\"format_version\":3").Replace("\"metrics\":null", $"\"keep_largest_component\":{keep},\"metrics\":null");
            bad.Should().Contain("keep_largest_component");
            var act = () => SegmentationModelFile.ParseCard(bad, "bad.json");
            act.Should().Throw<ModelFormatException>().WithMessage(message);
        }
        var old = json.Replace("\"metrics\":null", "\"keep_largest_component\":[1],\"metrics\":null");
        var claim = () => SegmentationModelFile.ParseCard(old, "old.json");
        claim.Should().Throw<ModelFormatException>().WithMessage("*says format 2 but uses fields of format 3 (keep_largest_component)*");
        var newer = () => SegmentationModelFile.ParseCard(json.Replace("\"format_version\":2", "\"format_version\":5"), "newer.json");
        newer.Should().Throw<ModelFormatException>().WithMessage("*format version 5 is newer than this library reads (4)*");
        var foreground = () => SegmentationModelFile.ParseCard(json.Replace("\"format_version\":2", "\"format_version\":3").Replace("\"metrics\":null", "\"keep_largest_foreground\":true,\"metrics\":null"), "fg.json");
        foreground.Should().Throw<ModelFormatException>().WithMessage("*says format 3 but uses fields of format 4 (keep_largest_foreground)*");
    }

    [Fact]
    public void AnEnsemble_AppliesTheMembersChoice_OnlyWhenTheyShareIt()
    {
        using var a = Network(23);
        using var b = Network(24);
        var first = Save(a, "a.safetensors", [2]);
        var second = Save(b, "b.safetensors", [2]);
        var plain = Save(b, "plain.safetensors", null);
        using (var agreed = ImageSegmentationPredictor.LoadEnsemble([first, second])) agreed.KeepLargestComponentClasses.Should().Equal(2);
        using (var differ = ImageSegmentationPredictor.LoadEnsemble([first, plain])) differ.KeepLargestComponentClasses.Should().BeEmpty("a choice made for one model does not carry over to an ensemble");
        using (var single = ImageSegmentationPredictor.LoadEnsemble([plain])) single.KeepLargestComponentClasses.Should().BeEmpty();
    }

    [Fact]
    public void AScanPredictor_AppliesTheRecordedChoice_WithFaceConnectivity()
    {
        Tensors.ManualSeed(25);
        using var model = UNet.Builder().ForInput(1, 3).WithFeatures(4, 8).WithInstanceNorm().WithClasses(3).Build();
        var card = SegmentationModelFile.Describe(model, new NiftiSegmentationOptions { Orientation = null }, Classes, new SlidingWindowInferer([8, 8, 8]));
        card.KeepLargestComponent = [1];
        var path = Path.Combine(_folder, "scan.safetensors");
        SegmentationModelFile.Save(path, model, card);
        var random = new Random(6);
        var scan = new NiftiImage(Enumerable.Range(0, 8 * 8 * 8).Select(_ => (float)random.NextDouble()).ToArray(), [8, 8, 8]);

        using var predictor = SegmentationPredictor.Load(path);
        predictor.KeepLargestComponentClasses.Should().Equal(1);
        var kept = predictor.Predict([scan]).Voxels.Select(v => (int)v).ToArray();
        predictor.KeepLargestComponent = false;
        var raw = predictor.Predict([scan]).Voxels.Select(v => (int)v).ToArray();
        var expected = ConnectedComponents.KeepLargestPerClass(raw, [8, 8, 8], [1], SegmentationPredictor.ComponentConnectivity);
        expected.Should().NotEqual(raw, "the untrained network's class 1 is in pieces");
        kept.Should().Equal(expected);
        var act = () => predictor.KeepLargestComponentClasses = [3];
        act.Should().Throw<ArgumentException>().WithMessage("*foreground classes (1 to 2)*");
    }
}
