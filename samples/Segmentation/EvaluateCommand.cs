using System.CommandLine;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics.Segmentation;
using MedVision.Torch;
using Spectre.Console;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// The <c>evaluate</c> command: a model file (or an ensemble of them) on a labelled set it was not trained on — images
/// with PNG masks for a 2-D model, a Decathlon task folder for a 3-D one — each prediction compared with its truth on the
/// input's own grid (as <c>predict</c> writes it): per-class Dice, IoU, HD95, ASSD and surface Dice.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var modelFile = new Option<string[]>("--model")
        {
            Description = "The model file (OUTPUT/model.safetensors); give it more than once to evaluate an ensemble, or give an ensemble manifest (ensemble.json: segmentation ensemble, or a cross-validation's), or an ONNX file export wrote (to check the deployed graph on labelled data).",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var images = new Option<string?>("--images") { Description = "2-D models: the folder of images." };
        var masks = new Option<string?>("--masks") { Description = "2-D models: the folder of PNG masks named as the images (plus --mask-suffix)." };
        var binary = new Option<bool>("--binary-masks") { Description = "2-D models: masks are black and white." };
        var suffix = new Option<string>("--mask-suffix") { Description = "2-D models: what a mask's name adds to its image's.", DefaultValueFactory = _ => "" };
        var data = new Option<string?>("--data") { Description = "3-D models: a Decathlon task folder (dataset.json, imagesTr/, labelsTr/)." };
        var mirror = new Option<bool>("--mirror") { Description = "Average over flipped copies (4 passes for images, 8 for scans)." };
        var keepLargest = PostprocessingOptions.KeepLargest();
        var noPostprocessing = PostprocessingOptions.None();
        var comparePostprocessing = new Option<bool>("--compare-postprocessing")
        {
            Description = "Measure the predictions as they are and with the largest connected component kept — first of the foreground as one (models of several classes: chosen when some class's Dice rises and none falls), then of each class (chosen, class by class, where its Dice rises) — nnU-Net's post-processing choice, made on cases the model did not train on.",
        };
        var store = new Option<bool>("--store")
        {
            Description = "With --compare-postprocessing: record the choice in the model file, or in the ensemble manifest for an ensemble (keep_largest_foreground, keep_largest_component), so that predict and the library's predictors apply it by default.",
        };
        var csv = new Option<string?>("--csv") { Description = "FILE: also write every input's measures per class (case, class, voxels, Dice, IoU, Hausdorff, HD95, ASSD, surface Dice), to find the cases that fail.", HelpName = "FILE" };
        var tolerance = new Option<double>("--tolerance") { Description = "Tolerance of the surface Dice (pixels, or millimetres for scans).", DefaultValueFactory = _ => 2.0 }.NonNegative();
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var threads = SampleCommandLine.Threads();
        var command = new Command("evaluate", "Measure a model (or an ensemble) on labelled images or scans it was not trained on: per-class Dice, IoU and surface distances on each input's own grid.")
        {
            modelFile, images, masks, binary, suffix, data, mirror, keepLargest, noPostprocessing, comparePostprocessing, store, csv, tolerance, device, threads,
        };
        command.Check(r => (r.GetValue(images) is null) != (r.GetValue(masks) is null) ? "give both --images and --masks"
            : (r.GetValue(images) is null) == (r.GetValue(data) is null) ? "give --images DIR --masks DIR (2-D models) or --data FOLDER (3-D models)"
            : (r.GetValue(keepLargest) || r.GetValue(noPostprocessing)) && r.GetValue(comparePostprocessing) ? "--compare-postprocessing measures with and without each class's largest component itself; leave out --keep-largest and --no-postprocessing"
            : r.GetValue(store) && !r.GetValue(comparePostprocessing) ? "--store records what --compare-postprocessing chooses; give both"
            : SegmentationModels.Conflict(r.GetValue(modelFile)!) is { } conflict ? conflict
            : r.GetValue(store) && r.GetValue(modelFile)!.Any(SegmentationModels.IsOnnx) ? "--store records the choice in a model file or an ensemble manifest; an ONNX file's card is fixed at export: evaluate the model file with --store, then export it again"
            : r.GetValue(store) && r.GetValue(modelFile)!.Length > 1 ? "--store records an ensemble's choice in its manifest, not in each member (a member used alone keeps its own): write one with segmentation ensemble --model … --output ensemble.json and evaluate --model ensemble.json"
            : PostprocessingOptions.Conflict(r.GetValue(keepLargest), r.GetValue(noPostprocessing)));
        command.SetAction(r =>
        {
            Tensors.NumThreads = r.GetValue(threads);
            var dev = Device.Parse(r.GetValue(device)!);
            AnsiConsole.MarkupLine(SampleCommandLine.Banner(dev));
            var models = r.GetValue(modelFile)!;
            bool compare = r.GetValue(comparePostprocessing);
            var postprocessing = new Postprocessing(r.GetValue(keepLargest), r.GetValue(noPostprocessing) || compare, compare);
            var (classNames, cases, comparison, names, kind) = r.GetValue(data) is { } folder
                ? Scans(models, folder, r.GetValue(mirror), postprocessing, r.GetValue(tolerance), dev)
                : Images(models, r.GetValue(images)!, r.GetValue(masks)!, r.GetValue(binary), r.GetValue(suffix)!, r.GetValue(mirror), postprocessing, r.GetValue(tolerance), dev);
            if (r.GetValue(csv) is { } file)
            {
                SegmentationCase.WriteCsv(file, cases, names, classNames);
                AnsiConsole.MarkupLine(Markup.Escape($"Wrote the measures of every {kind[..^1]} and class to {Path.GetFullPath(file)}"));
            }
            var summary = SegmentationSummary.Of(cases);
            string extra = "";
            if (comparison is not null)
            {
                var compared = comparison.Choose();
                SegmentationConsole.ReportPostprocessing(compared, classNames, "record it with --store (then predict applies it");
                if (r.GetValue(store)) Store(models.Single(), compared.Choice, classNames);
                extra = SegmentationConsole.PostprocessingFields(compared);
            }
            return Report(models, classNames, summary, cases.Count, r.GetValue(tolerance), kind == "scans" ? "mm" : "px", kind, extra);
        });
        return command;
    }

    // --keep-largest, --no-postprocessing (also under --compare-postprocessing, which measures the raw predictions), --compare-postprocessing.
    private sealed record Postprocessing(bool All, bool None, bool Compare);

    private static (IReadOnlyList<string> ClassNames, List<SegmentationCase> Cases, SegmentationPostprocessingComparison? Comparison, List<string> Names, string Kind) Images(string[] models, string imageFolder, string maskFolder, bool binary, string suffix, bool mirror, Postprocessing postprocessing, double tolerance, Device device)
    {
        using var predictor = SegmentationModels.LoadImages(models, device);
        (predictor.KeepLargestComponentClasses, predictor.KeepLargestForeground) = PostprocessingOptions.Apply(predictor.KeepLargestComponentClasses, predictor.KeepLargestForeground, predictor.ClassNames, postprocessing.All, postprocessing.None, SegmentationModels.Source(models), quiet: postprocessing.Compare);
        bool compare = postprocessing.Compare;
        if (mirror) predictor.Flips = TestTimeFlips.Horizontal | TestTimeFlips.Vertical;
        // The masks as stored (each image's own size, no preparation): the predictor's maps are on that size too.
        var source = ImageMaskFolderSource.FromFolders(imageFolder, maskFolder, predictor.ClassNames, new ImageSegmentationOptions { Channels = predictor.Card!.InChannels },
            binary ? MaskEncoding.Binary : MaskEncoding.ClassIndex, suffix);
        var evaluator = SegmentationEvaluator.ForClasses(predictor.ClassNames.Count).WithSurfaceTolerance(tolerance);
        var cases = new List<SegmentationCase>();
        var comparison = compare ? SegmentationConsole.Comparison(predictor.ClassNames.Count) : null;
        for (int i = 0; i < source.Count; i++)
        {
            var truth = source.Load(i).Labels;
            var map = predictor.Predict(source.Pairs[i].Image);
            var expected = truth.Data.Select(v => (int)v).ToArray();
            int[] shape = [truth.Height, truth.Width];
            cases.Add(evaluator.Evaluate(map.Labels, expected, shape));
            comparison?.Add(map.Labels, expected, shape);   // components as the image predictor finds them
        }
        return (predictor.ClassNames, cases, comparison, source.Pairs.Select(p => Path.GetFileName(p.Image)).ToList(), "images");
    }

    private static (IReadOnlyList<string> ClassNames, List<SegmentationCase> Cases, SegmentationPostprocessingComparison? Comparison, List<string> Names, string Kind) Scans(string[] models, string folder, bool mirror, Postprocessing postprocessing, double tolerance, Device device)
    {
        using var predictor = SegmentationModels.LoadScans(models, device);
        (predictor.KeepLargestComponentClasses, predictor.KeepLargestForeground) = PostprocessingOptions.Apply(predictor.KeepLargestComponentClasses, predictor.KeepLargestForeground, predictor.Card!.ClassNames, postprocessing.All, postprocessing.None, SegmentationModels.Source(models), quiet: postprocessing.Compare);
        bool compare = postprocessing.Compare;
        if (mirror) predictor.Flips = TestTimeFlips.Horizontal | TestTimeFlips.Vertical | TestTimeFlips.Depth;
        var classNames = predictor.Card!.ClassNames;
        // The label maps as stored: the predictor's maps are on each scan's own grid.
        var task = NiftiSegmentationSource.FromDecathlon(folder, new NiftiSegmentationOptions { Orientation = null });
        if (!task.ClassNames.SequenceEqual(classNames))
            throw new ArgumentException($"{folder} labels {string.Join(", ", task.ClassNames)}; the model segments {string.Join(", ", classNames)}.");
        var cases = new List<SegmentationCase>();
        var comparison = compare ? SegmentationConsole.Comparison(classNames.Count) : null;
        foreach (var (image, labels) in task.Pairs)
        {
            var truth = NiftiReader.Read(labels);
            var map = predictor.Predict(image);
            // The map lies on the scan's grid; the measures compare it voxel for voxel with the label map, in its spacing.
            if (!truth.Shape.SequenceEqual(map.Shape) || !truth.Affine.IsCloseTo(map.Affine))
                throw new ArgumentException($"{labels} does not lie on the grid of its scan {image} (shape {string.Join("×", truth.Shape)} against {string.Join("×", map.Shape)}"
                    + $"{(truth.Shape.SequenceEqual(map.Shape) ? ", another affine" : "")}); resample the label map onto the scan (NiftiImage.ResampleTo, nearest) first.");
            // NIfTI stores x fastest: the voxels are (z, y, x), with spacing (z, y, x) for the surface distances.
            var evaluator = SegmentationEvaluator.ForClasses(classNames.Count).WithSurfaceTolerance(tolerance).WithSpacing(truth.Spacing[2], truth.Spacing[1], truth.Spacing[0]);
            var predicted = map.Voxels.Select(v => (int)v).ToArray();
            var expected = truth.Voxels.Select(v => (int)Math.Round(v)).ToArray();
            int[] shape = [truth.Shape[2], truth.Shape[1], truth.Shape[0]];
            cases.Add(evaluator.Evaluate(predicted, expected, shape));
            comparison?.Add(predicted, expected, shape);   // components as the scan predictor finds them
        }
        return (classNames, cases, comparison, task.Pairs.Select(p => Path.GetFileName(p.Image)).ToList(), "scans");
    }

    private static int Report(string[] models, IReadOnlyList<string> classNames, SegmentationSummary summary, int count, double tolerance, string unit, string kind, string extra)
    {
        int members = SegmentationModels.Count(models);
        AnsiConsole.MarkupLine(Markup.Escape($"{(models.Length == 1 && members == 1 ? Path.GetFileName(models[0]) : $"an ensemble of {members} models")} on {count} {kind}: mean Dice {SegmentationConsole.F(summary.MeanDice)}"));
        SegmentationConsole.Summary(summary, classNames, tolerance, unit, kind);
        Console.WriteLine($"RESULT dice={SegmentationConsole.F(summary.MeanDice)} models={members} {kind}={count} {SegmentationConsole.PerClass(summary)}{extra}");
        return 0;
    }

    // Records the choice in the model file, or in the ensemble's manifest (the command refuses --store for several
    // model files: an ensemble's choice is made on averaged probabilities, which are no member's).
    private static void Store(string model, SegmentationPostprocessingChoice choice, IReadOnlyList<string> classNames)
    {
        if (SegmentationModels.IsManifest(model))
        {
            foreach (var note in SegmentationModelFile.UpdateEnsembleManifest(model, m => m with { Postprocessing = choice }))
                AnsiConsole.MarkupLine(Markup.Escape(note));
        }
        else SegmentationModelFile.UpdateCard(model, card => (card.KeepLargestForeground, card.KeepLargestComponent) = (choice.KeepLargestForeground ? true : null, choice.KeepLargestComponent.Count == 0 ? null : [.. choice.KeepLargestComponent]));
        AnsiConsole.MarkupLine(Markup.Escape($"Recorded in {Path.GetFileName(model)}: {SegmentationConsole.Describe(choice, classNames)}."));
    }
}
