using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Nifti;
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
/// The <c>train</c> command (also the default): a Decathlon task folder (or the generated demo), split into training and
/// validation scans by the seed; a 3-D U-Net trained on crops centred on labelled voxels (with flips), Dice +
/// cross-entropy, Adam with cosine annealing; validation on whole scans through a sliding window selects the epoch;
/// the selected model's per-class Dice, IoU, HD95, ASSD and surface Dice are printed, and the run is written for
/// <c>predict</c>.
/// </summary>
internal static class TrainCommand
{
    /// <summary>The model file train writes in its output folder.</summary>
    public const string ModelFileName = "model.safetensors";

    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "A Medical Segmentation Decathlon task folder (dataset.json, imagesTr/, labelsTr/), e.g. Task04_Hippocampus." };
        var demo = new Option<bool>("--demo") { Description = "Write a small generated folder of brain phantoms with labelled lesions (OUTPUT/demo-data) and train on it." };
        var demoSubjects = new Option<int>("--demo-subjects") { Description = "Phantom subjects in the demo folder (half of them have a lesion).", DefaultValueFactory = _ => 32 }.AtLeast(4);
        var features = SegmentationConsole.FeaturesOption();
        var norm = new Option<string>("--norm") { Description = "instance or batch normalisation.", DefaultValueFactory = _ => "instance" }.OneOf("instance", "batch");
        var crop = new Option<int[]>("--crop")
        {
            Description = "D H W of the training crops and of the validation and prediction window (multiples of 2^(levels − 1)).",
            AllowMultipleArgumentsPerToken = true,
            Arity = new ArgumentArity(3, 3),
            DefaultValueFactory = _ => [32, 32, 32],
        }.Must(v => v.Length == 3 && v.All(x => x is >= 4 and <= 512), "three sizes from 4 to 512");
        var foreground = new Option<double>("--foreground") { Description = "Share of training crops centred on a labelled voxel (the others on background).", DefaultValueFactory = _ => 0.67 }.Fraction(allowZero: true);
        var orientation = new Option<string>("--orientation") { Description = "Axis codes scans are reoriented to (RAS, LPS, …), or 'none'.", DefaultValueFactory = _ => "RAS" }
            .Must(v => v == "none" || NiftiAffine.IsValidAxisCodes(v), "three axis codes such as RAS, or none");
        var spacing = new Option<double[]?>("--spacing")
        {
            Description = "X Y Z: resample every scan to this voxel size in millimetres (labels by nearest neighbour); default: as stored.",
            AllowMultipleArgumentsPerToken = true,
            Arity = new ArgumentArity(3, 3),
        }.Must(v => v is null || v.Length == 0 || (v.Length == 3 && v.All(x => x > 0 && x <= 100)), "three voxel sizes above 0 and up to 100");
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of the scans held out for validation.", DefaultValueFactory = _ => 0.25 }.Fraction(allowZero: false);
        var epochs = SegmentationConsole.EpochsOption();
        var batch = new Option<int>("--batch") { Description = "Crops per batch.", DefaultValueFactory = _ => 2 }.AtLeast(1);
        var recipe = new SegmentationConsole.RecipeOptions();
        var folds = SegmentationConsole.FoldsOption("scans");
        var groupBy = SegmentationConsole.GroupByOption("scans");
        var tolerance = new Option<double>("--tolerance") { Description = "Tolerance of the surface Dice in millimetres.", DefaultValueFactory = _ => 2.0 }.NonNegative();
        var mixedPrecision = SegmentationConsole.MixedPrecisionOption();
        var resume = SegmentationConsole.ResumeOption();
        var tensorBoard = SegmentationConsole.TensorBoardOption();
        var seed = SegmentationConsole.SeedOption();
        var device = SegmentationConsole.DeviceOption();
        var threads = SampleCommandLine.Threads();
        var output = new Option<string>("--output") { Description = "Folder for model.safetensors (the selected weights with their preparation, for predict), best.safetensors (the weights alone) and history.csv.", DefaultValueFactory = _ => Path.Combine("runs", "segmentation") };
        var command = new Command("train", "Train a 3-D U-Net on a Decathlon task folder (or --demo) and report per-class Dice and surface distances.")
        {
            data, demo, demoSubjects, features, norm, crop, foreground, orientation, spacing, valFraction, epochs, batch, tolerance, mixedPrecision, resume, folds, groupBy, seed, device, threads, output, tensorBoard,
        };
        // Also the root's check (it runs train when the name is left out), so not for the other commands.
        foreach (var option in recipe.All) command.Options.Add(option);
        command.Check(r => (r.CommandResult.Command == command || r.CommandResult.Command is RootCommand) && r.GetValue(data) is null == !r.GetValue(demo) ? "give --data FOLDER or --demo (one of them)" : null);
        command.SetAction(r => Run(new Settings(r.GetValue(data), r.GetValue(demo), r.GetValue(demoSubjects), r.GetValue(features)!, r.GetValue(norm)!, r.GetValue(crop)!,
            r.GetValue(foreground), r.GetValue(orientation)!, r.GetValue(spacing), r.GetValue(valFraction), r.GetValue(epochs), r.GetValue(batch), recipe.Read(r),
            r.GetValue(tolerance), r.GetValue(mixedPrecision), r.GetValue(resume), r.GetValue(folds), r.GetValue(seed), Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(output)!, r.GetValue(groupBy), r.GetValue(tensorBoard))));
        return command;
    }

    private sealed record Settings(string? Data, bool Demo, int DemoSubjects, int[] Features, string Norm, int[] Crop, double Foreground, string Orientation, double[]? Spacing,
        double ValidationFraction, int Epochs, int Batch, SegmentationConsole.Recipe Recipe, double Tolerance, bool MixedPrecision, bool Resume, int? Folds, int Seed, Device Device, int Threads, string Output, string? GroupBy, string? TensorBoard)
    {
        public SegmentationConsole.RunSettings Run => new(Recipe, MixedPrecision, Epochs, Batch, Seed, Device, Resume, TensorBoard);
    }

    private static int Run(Settings s)
    {
        Tensors.NumThreads = s.Threads;
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(s.Device));
        Directory.CreateDirectory(s.Output);
        var folder = s.Data ?? DemoFolder.Write(Path.Combine(s.Output, "demo-data"), s.DemoSubjects, size: 32, seed: s.Seed);
        var preprocessing = new NiftiSegmentationOptions
        {
            Orientation = s.Orientation == "none" ? null : s.Orientation,
            Spacing = s.Spacing is { Length: 3 } mm ? mm.Select(v => (float)v).ToArray() : null,
            // Every scan normalised over its non-zero voxels, each channel on its own (nnU-Net's and MONAI's choice for MRI).
            Normalization = new NormalizeIntensity(nonZero: true, channelWise: true),
        };
        var source = NiftiSegmentationSource.FromDecathlon(folder, preprocessing);
        if (source.Count < 2) throw new ArgumentException($"{folder} lists {source.Count} training scan; at least two are needed (one to validate on).");
        var groups = SegmentationConsole.Groups(source.Pairs.Select(p => p.Image), s.GroupBy);

        var spacing = GridSpacing(source, 0, preprocessing);
        if (s.Folds is int k)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"{folder}: {source.Count} scans of {string.Join(", ", source.Modalities)}{SegmentationConsole.PatientCount(groups)}; classes {string.Join(", ", source.ClassNames)}; {k}-fold cross-validation"));
            return SegmentationConsole.CrossValidate(source, k, s.Seed, groups, source.ClassNames, s.Tolerance, "mm", "scans", s.Output,
                (fold, output, outOfFold) => TrainModel(s, source, preprocessing, spacing, fold.Train, fold.Validation, output, outOfFold));
        }
        var (trainingSet, validationSet) = SegmentationConsole.Split(source, s.ValidationFraction, s.Seed, groups);
        AnsiConsole.MarkupLine(Markup.Escape($"{folder}: {source.Count} scans of {string.Join(", ", source.Modalities)}{SegmentationConsole.PatientCount(groups)}; classes {string.Join(", ", source.ClassNames)}; {trainingSet.Count} to train, {validationSet.Count} to validate"));
        var (result, _, modelPath) = TrainModel(s, source, preprocessing, spacing, trainingSet, validationSet, s.Output, outOfFold: null);
        SegmentationConsole.Report(result, source.ClassNames, s.Tolerance, "mm", trainingSet.Count, validationSet.Count, "scans");
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {modelPath} and {SegmentationTrainer.HistoryFile}; segment scans with: segmentation predict --model {modelPath} SCAN.nii.gz"));
        return 0;
    }

    // One model: trained on one set and validated on the other, written to OUTPUT/model.safetensors; with outOfFold, its
    // validation cases measured too and fed to that comparison (a cross-validation's out-of-fold measures and post-processing).
    private static (SegmentationTrainingResult Result, IReadOnlyList<SegmentationCase> Cases, string ModelPath) TrainModel(Settings s, NiftiSegmentationSource source,
        NiftiSegmentationOptions preprocessing, double[] spacing, ISegmentationSource trainingSet, ISegmentationSource validationSet, string output, SegmentationPostprocessingComparison? outOfFold)
    {
        Directory.CreateDirectory(output);
        Tensors.ManualSeed((ulong)s.Seed);
        using var model = s.Recipe.Apply(UNet.Builder().ForInput(source.Modalities.Count, 3).WithFeatures(s.Features)
            .WithNormalization(s.Norm == "batch" ? NormalizationKind.Batch : NormalizationKind.Instance).WithClasses(source.ClassNames.Count)).Build();
        if (s.Crop.Any(c => c % model.SizeMultiple != 0))
            throw new ArgumentException($"--crop {string.Join(" ", s.Crop)}: a U-Net of {s.Features.Length} levels needs sizes that are multiples of {model.SizeMultiple}.");
        AnsiConsole.MarkupLine(Markup.Escape($"U-Net: features {string.Join(", ", s.Features)}, {s.Norm} norm, {model.ParameterCount():N0} parameters; crops {string.Join("×", s.Crop)}; {s.Recipe}"));
        var pipeline = SegmentationPipeline.Create().CropAroundLabels(s.Crop, s.Foreground)
            .RandomFlip(SpatialAxis.Width).RandomFlip(SpatialAxis.Height).RandomFlip(SpatialAxis.Depth).Build();
        var evaluator = SegmentationEvaluator.ForClasses(source.ClassNames.Count).WithSpacing(spacing).WithSurfaceTolerance(s.Tolerance);
        var window = new SlidingWindowInferer(s.Crop, overlap: 0.5);
        return SegmentationConsole.Fit(model, s.Run, pipeline, trainingSet, validationSet, evaluator, window, output, outOfFold,
            metrics => SegmentationModelFile.Describe(model, preprocessing, source.ClassNames, window, source.Modalities, metrics));
    }

    // The prepared grid's voxel size in (D, H, W) order, i.e. (z, y, x) of the reoriented (and resampled) scan.
    private static double[] GridSpacing(NiftiSegmentationSource source, int index, NiftiSegmentationOptions preprocessing)
    {
        if (preprocessing.Spacing is { } mm) return [mm[2], mm[1], mm[0]];
        var scan = NiftiReader.Read(source.Pairs[index].Labels);
        var oriented = preprocessing.Orientation is null ? scan : scan.Reorient(preprocessing.Orientation);
        return [oriented.Spacing[2], oriented.Spacing[1], oriented.Spacing[0]];
    }
}
