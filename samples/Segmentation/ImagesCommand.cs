using System.CommandLine;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics.Segmentation;
using MedVision.Nets.Models;
using MedVision.Nets.Blocks;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using Spectre.Console;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// The <c>images</c> command: 2-D images with PNG masks in two folders (fundus photographs with vessel or optic-disc
/// masks, dermoscopy with lesion masks, …; or the generated demo), split into training and validation images by the
/// seed; a 2-D U-Net trained on the images resized to one size (with flips), Dice + cross-entropy, Adam with cosine
/// annealing; validation Dice selects the epoch; the selected model's per-class Dice, IoU, HD95, ASSD and surface Dice
/// (in pixels) are printed, and the model file is written for <c>predict</c>.
/// </summary>
internal static class ImagesCommand
{
    public static Command Create()
    {
        var images = new Option<string?>("--images") { Description = "Folder of images (.png, .jpg, .jpeg)." };
        var masks = new Option<string?>("--masks") { Description = "Folder of PNG masks named as the images (plus --mask-suffix)." };
        var demo = new Option<bool>("--demo") { Description = "Write a small generated folder of phantom slices with lesion masks (OUTPUT/demo-images) and train on it." };
        var demoSubjects = new Option<int>("--demo-subjects") { Description = "Phantom slices in the demo folder (half of them show a lesion).", DefaultValueFactory = _ => 48 }.AtLeast(4);
        var classes = new Option<string[]>("--classes")
        {
            Description = "Class names, background first; mask value k is class k (with --binary-masks: two classes, white the structure).",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => ["background", "structure"],
        }.Must(v => v.Length is >= 2 and <= 256 && v.All(n => n.Length > 0), "2 to 256 non-empty names");
        var binary = new Option<bool>("--binary-masks") { Description = "Masks are black and white (values above 127 are the structure), as vessel and lesion masks are often stored." };
        var suffix = new Option<string>("--mask-suffix") { Description = "What a mask's name adds to its image's, e.g. _mask for a.jpg → a_mask.png.", DefaultValueFactory = _ => "" };
        var channels = new Option<int>("--channels") { Description = "1 (grey) or 3 (RGB) input channels.", DefaultValueFactory = _ => 3 }.OneOf(1, 3);
        var size = new Option<int[]>("--size")
        {
            Description = "H W every image and mask is resized to (multiples of 2^(levels − 1)); also the prediction window.",
            AllowMultipleArgumentsPerToken = true,
            Arity = new ArgumentArity(2, 2),
            DefaultValueFactory = _ => [64, 64],
        }.Must(v => v.Length == 2 && v.All(x => x is >= 4 and <= 2048), "two sizes from 4 to 2048");
        var features = SegmentationConsole.FeaturesOption();
        var norm = new Option<string>("--norm") { Description = "batch or instance normalisation.", DefaultValueFactory = _ => "batch" }.OneOf("instance", "batch");
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of the images held out for validation.", DefaultValueFactory = _ => 0.25 }.Fraction(allowZero: false);
        var epochs = SegmentationConsole.EpochsOption();
        var batch = new Option<int>("--batch") { Description = "Images per batch.", DefaultValueFactory = _ => 8 }.AtLeast(1);
        var recipe = new SegmentationConsole.RecipeOptions();
        var folds = SegmentationConsole.FoldsOption("images");
        var groupBy = SegmentationConsole.GroupByOption("images");
        var tolerance = new Option<double>("--tolerance") { Description = "Tolerance of the surface Dice in pixels.", DefaultValueFactory = _ => 2.0 }.NonNegative();
        var mixedPrecision = SegmentationConsole.MixedPrecisionOption();
        var resume = SegmentationConsole.ResumeOption();
        var tensorBoard = SegmentationConsole.TensorBoardOption();
        var seed = SegmentationConsole.SeedOption();
        var device = SegmentationConsole.DeviceOption();
        var threads = SampleCommandLine.Threads();
        var output = new Option<string>("--output") { Description = "Folder for model.safetensors (for predict), best.safetensors and history.csv.", DefaultValueFactory = _ => Path.Combine("runs", "segmentation-images") };
        var command = new Command("images", "Train a 2-D U-Net on images with PNG masks in two folders (or --demo) and report per-class Dice and surface distances in pixels.")
        {
            images, masks, demo, demoSubjects, classes, binary, suffix, channels, size, features, norm, valFraction, epochs, batch, tolerance, mixedPrecision, resume, folds, groupBy, seed, device, threads, output, tensorBoard,
        };
        foreach (var option in recipe.All) command.Options.Add(option);
        command.Check(r => r.GetValue(demo) == (r.GetValue(images) is not null || r.GetValue(masks) is not null) ? "give --images DIR --masks DIR, or --demo (one of them)"
            : !r.GetValue(demo) && (r.GetValue(images) is null || r.GetValue(masks) is null) ? "give both --images and --masks"
            : r.GetValue(binary) && r.GetValue(classes)!.Length != 2 ? "--binary-masks give two classes; name two with --classes"
            : null);
        command.SetAction(r => Run(new Settings(r.GetValue(images), r.GetValue(masks), r.GetValue(demo), r.GetValue(demoSubjects), r.GetValue(classes)!, r.GetValue(binary),
            r.GetValue(suffix)!, r.GetValue(channels), r.GetValue(size)!, r.GetValue(features)!, r.GetValue(norm)!, r.GetValue(valFraction), r.GetValue(epochs), r.GetValue(batch),
            recipe.Read(r), r.GetValue(tolerance), r.GetValue(mixedPrecision), r.GetValue(resume), r.GetValue(folds), r.GetValue(seed), Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(output)!, r.GetValue(groupBy), r.GetValue(tensorBoard))));
        return command;
    }

    private sealed record Settings(string? Images, string? Masks, bool Demo, int DemoSubjects, string[] Classes, bool Binary, string Suffix, int Channels, int[] Size,
        int[] Features, string Norm, double ValidationFraction, int Epochs, int Batch, SegmentationConsole.Recipe Recipe, double Tolerance, bool MixedPrecision, bool Resume, int? Folds, int Seed, Device Device, int Threads, string Output, string? GroupBy, string? TensorBoard)
    {
        public SegmentationConsole.RunSettings Run => new(Recipe, MixedPrecision, Epochs, Batch, Seed, Device, Resume, TensorBoard);
    }

    private static int Run(Settings s)
    {
        Tensors.NumThreads = s.Threads;
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(s.Device));
        Directory.CreateDirectory(s.Output);
        var (imageFolder, maskFolder) = s.Demo ? DemoImages.Write(Path.Combine(s.Output, "demo-images"), s.DemoSubjects, size: 64, seed: s.Seed) : (s.Images!, s.Masks!);
        string[] classNames = s.Demo ? ["background", "lesion"] : s.Classes;
        var preprocessing = new ImageSegmentationOptions
        {
            Channels = s.Channels,
            Size = (s.Size[0], s.Size[1]),
            // Every image normalised by its own mean and standard deviation, channel by channel (robust to exposure).
            Normalization = new NormalizeIntensity(channelWise: true),
        };
        var source = ImageMaskFolderSource.FromFolders(imageFolder, maskFolder, classNames, preprocessing, s.Demo || s.Binary ? MaskEncoding.Binary : MaskEncoding.ClassIndex, s.Suffix);
        if (source.Count < 2) throw new ArgumentException($"{imageFolder} holds {source.Count} image; at least two are needed (one to validate on).");
        var groups = SegmentationConsole.Groups(source.Pairs.Select(p => p.Image), s.GroupBy);
        if (s.Folds is int k)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"{imageFolder}: {source.Count} images with masks{SegmentationConsole.PatientCount(groups)}; classes {string.Join(", ", classNames)}; {k}-fold cross-validation"));
            return SegmentationConsole.CrossValidate(source, k, s.Seed, groups, classNames, s.Tolerance, "px", "images", s.Output,
                (fold, output, outOfFold) => TrainModel(s, preprocessing, classNames, fold.Train, fold.Validation, output, outOfFold));
        }
        var (trainingSet, validationSet) = SegmentationConsole.Split(source, s.ValidationFraction, s.Seed, groups);
        AnsiConsole.MarkupLine(Markup.Escape($"{imageFolder}: {source.Count} images with masks{SegmentationConsole.PatientCount(groups)}; classes {string.Join(", ", classNames)}; {trainingSet.Count} to train, {validationSet.Count} to validate"));
        var (result, _, modelPath) = TrainModel(s, preprocessing, classNames, trainingSet, validationSet, s.Output, outOfFold: null);
        SegmentationConsole.Report(result, classNames, s.Tolerance, "px", trainingSet.Count, validationSet.Count, "images");
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {modelPath} and {SegmentationTrainer.HistoryFile}; segment images with: segmentation predict --model {modelPath} IMAGE.png"));
        return 0;
    }

    // One model: trained on one set and validated on the other, written to OUTPUT/model.safetensors; with outOfFold, its
    // validation cases measured too and fed to that comparison (a cross-validation's out-of-fold measures and post-processing).
    private static (SegmentationTrainingResult Result, IReadOnlyList<SegmentationCase> Cases, string ModelPath) TrainModel(Settings s, ImageSegmentationOptions preprocessing,
        string[] classNames, ISegmentationSource trainingSet, ISegmentationSource validationSet, string output, SegmentationPostprocessingComparison? outOfFold)
    {
        Directory.CreateDirectory(output);
        Tensors.ManualSeed((ulong)s.Seed);
        using var model = s.Recipe.Apply(UNet.Builder().ForInput(s.Channels, 2).WithFeatures(s.Features)
            .WithNormalization(s.Norm == "batch" ? NormalizationKind.Batch : NormalizationKind.Instance).WithClasses(classNames.Length)).Build();
        if (s.Size.Any(c => c % model.SizeMultiple != 0))
            throw new ArgumentException($"--size {string.Join(" ", s.Size)}: a U-Net of {s.Features.Length} levels needs sizes that are multiples of {model.SizeMultiple}.");
        AnsiConsole.MarkupLine(Markup.Escape($"U-Net: features {string.Join(", ", s.Features)}, {s.Norm} norm, {model.ParameterCount():N0} parameters; images {s.Size[0]}×{s.Size[1]}; {s.Recipe}"));
        var pipeline = SegmentationPipeline.Create().RandomFlip(SpatialAxis.Width).RandomFlip(SpatialAxis.Height).Build();
        var evaluator = SegmentationEvaluator.ForClasses(classNames.Length).WithSurfaceTolerance(s.Tolerance);
        var window = new SlidingWindowInferer(s.Size, overlap: 0.5);
        return SegmentationConsole.Fit(model, s.Run, pipeline, trainingSet, validationSet, evaluator, window, output, outOfFold,
            metrics => SegmentationModelFile.Describe(model, preprocessing, classNames, window, metrics));
    }
}
