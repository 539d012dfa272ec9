using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples.VolumeFolder;

/// <summary>
/// The <c>train</c> command (also the default): volumes from class folders, reoriented, resampled and mapped to [0, 1]
/// (<see cref="VolumeFolderSource"/>), normalised by the training volumes' mean and standard deviation or each volume by
/// its own (MedicalNet's preparation, the default when fine-tuning MedicalNet's weights), split into
/// training and validation by class (stratified); MedicalNet's 3-D ResNet from scratch or from its pretrained weights
/// (<see cref="MedicalNet"/>), or torchvision's R3D-18 from its Kinetics-400 weights; the model selected by validation AUC is saved as a model file that the predictor runs on
/// NIfTI files and DICOM series folders.
/// </summary>
internal static class TrainCommand
{
    private const string Layout = """
        Expected layout: one sub-folder per class, holding NIfTI files (.nii, .nii.gz) or folders of one DICOM series each:
          DATA/AD/sub-001.nii.gz
          DATA/AD/sub-002/ (DICOM files)
          DATA/CN/sub-003.nii.gz
        The sorted folder names are the classes. With --modalities flair t1 t1ce t2, the samples are subject folders
        holding one NIfTI file or DICOM series folder per modality (DATA/HGG/BraTS_001/BraTS_001_flair.nii.gz, …, or
        DATA/1/00012/FLAIR/, T1w/, …), one channel each. Or run with --demo to exercise the pipeline on a tiny generated folder.
        """;

    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "The folder whose sub-folders are the classes." };
        var size = new Option<int[]>("--size")
        {
            Description = "D H W every volume is resampled to (trilinear).",
            AllowMultipleArgumentsPerToken = true,
            Arity = new ArgumentArity(3, 3),
            DefaultValueFactory = _ => [64, 64, 64],
        }.Must(v => v.Length == 3 && v.All(x => x is >= 8 and <= 512), "three sizes from 8 to 512");
        var window = new Option<double[]?>("--window")
        {
            Description = "CENTER WIDTH of a fixed intensity window mapped to [0, 1] (e.g. 40 400 for CT soft tissue, in HU); default: each volume's own minimum and maximum.",
            AllowMultipleArgumentsPerToken = true,
            Arity = new ArgumentArity(2, 2),
        }.Must(v => v is null || v.Length == 0 || (v.Length == 2 && double.IsFinite(v[0]) && v[1] > 0 && double.IsFinite(v[1])), "a finite center and a positive width");
        var percentiles = new Option<double[]?>("--percentiles")
        {
            Description = "LOWER UPPER: map these percentiles of each volume's values to 0 and 1 (clamped) instead of its minimum and maximum, e.g. 0.5 99.5 for MRI (MONAI's ScaleIntensityRangePercentiles); not with --window.",
            AllowMultipleArgumentsPerToken = true,
            Arity = new ArgumentArity(2, 2),
        }.Must(v => v is null || v.Length == 0 || (v.Length == 2 && v[0] >= 0 && v[0] < v[1] && v[1] <= 100), "0 ≤ LOWER < UPPER ≤ 100");
        var channelWise = new Option<bool>("--channel-wise")
        {
            Description = "Scale each channel (modality) by its own minimum and maximum, or its own --percentiles, instead of all channels' together (MONAI's channel_wise; for contrasts or modalities of different ranges); not with --window.",
        };
        var orientation = new Option<string>("--orientation") { Description = "Axis codes volumes are reoriented to first (RAS, LPS, …), or 'none' to use them as stored.", DefaultValueFactory = _ => "RAS" }
            .Must(v => v == "none" || MedVision.Nets.Data.Nifti.NiftiAffine.IsValidAxisCodes(v), "three axis codes such as RAS, or none");
        var depth = new Option<int>("--depth") { Description = "Depth of MedicalNet's 3-D ResNet trained from scratch (10, 18, 34, 50, 101, 152, 200); with --init-weights the file decides.", DefaultValueFactory = _ => 18 }.OneOf(10, 18, 34, 50, 101, 152, 200);
        var initWeights = new Option<string?>("--init-weights") { Description = "A MedicalNet weights file (resnet_18_23dataset.pth, …, from MedicalNet's release): the network is rebuilt from it and fine-tuned with a new classifier; for several channels (--modalities, multi-contrast files) its one-channel stem is adapted (kernels repeated over the channels and scaled by 1/C). Or 'kinetics': torchvision's R3D-18 trained on Kinetics-400 video clips (downloaded once into $MEDVISION_DATA/weights or ~/.medvision/weights, SHA-256-checked), its RGB stem adapted to the channels (summed over R, G and B for one), the volume's depth taken as the clip's time." };
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of each class held out for validation (stratified).", DefaultValueFactory = _ => 0.25 }.Fraction(allowZero: false);
        var folds = new Option<int?>("--folds") { Description = "K: a stratified k-fold cross-validation instead of one held-out part: a model per fold (OUTPUT/fold-N/model.safetensors, each normalised by its own training volumes), the spread of the validation AUC over the folds, the pooled out-of-fold AUC and ACC, and an ensemble manifest of the fold models (OUTPUT/ensemble.json) for predict." }.AtLeast(2);
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 20 }.AtLeast(1);
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var lr = new Option<double>("--lr") { Description = "Learning rate (the peak with --schedule onecycle).", DefaultValueFactory = _ => 1e-4 }.Positive();
        var crop = new Option<double[]?>("--crop-foreground")
        {
            Description = "THRESHOLD [MARGIN]: crop every volume to the box of its stored values above THRESHOLD (plus MARGIN voxels) before resampling, e.g. 0 for skull-stripped MRI (MedicalNet's preparation) or -500 for the body in CT (HU); default: no crop.",
            AllowMultipleArgumentsPerToken = true,
            Arity = new ArgumentArity(1, 2),
        }.Must(v => v is null || v.Length == 0 || (double.IsFinite(v[0]) && Math.Abs(v[0]) <= float.MaxValue && (v.Length == 1 || (v[1] >= 0 && v[1] <= 10_000 && v[1] == Math.Floor(v[1])))), "a finite threshold and a whole margin of at least 0");
        var spacing = new Option<double[]?>("--spacing")
        {
            Description = "MM or X Y Z: resample every volume to this voxel size in millimetres after reorienting and before cropping and resizing (MONAI's Spacing), e.g. 1 for 1 mm isotropic; default: none (volumes are only resized).",
            AllowMultipleArgumentsPerToken = true,
            Arity = new ArgumentArity(1, 3),
        }.Must(v => v is null || v.Length == 0 || ((v.Length is 1 or 3) && v.All(x => x is >= 0.01 and <= 100)), "one or three voxel sizes from 0.01 to 100 mm");
        var fit = new Option<string>("--fit")
        {
            Description = "How volumes are brought to --size: resize (trilinear, the whole field of view) or crop-or-pad (center crop and pad with each volume's minimum, keeping the voxel size; with --spacing one voxel is the same size in every volume).",
            DefaultValueFactory = _ => "resize",
        }.Must(v => v is "resize" or "crop-or-pad", "resize or crop-or-pad");
        var align = new Option<bool>("--align-modalities") { Description = "With --modalities: resample the modalities of a subject that lie on other grids (series acquired apart) onto the first modality's grid through their orientation, so that a voxel is one place in the body in every channel." };
        var normalization = new Option<string?>("--normalize")
        {
            Description = "How volumes are normalised after the scaling to [0, 1]: dataset (by the training volumes' mean and sd), volume (each by its own), "
                + "volume-nonzero (each by its own non-zero voxels, zeros kept: MedicalNet's preparation). Default: volume-nonzero with --init-weights, else dataset.",
        }.Must(v => v is null or "dataset" or "volume" or "volume-nonzero", "dataset, volume or volume-nonzero");
        var optimization = new OptimizationCommandLine();
        var rotate = new Option<double>("--rotate") { Description = "Training augmentation: rotate each volume about its depth axis by up to ± this many degrees (besides the left–right flips); 0: none.", DefaultValueFactory = _ => 0 }
            .Must(v => v is >= 0 and <= 180, "between 0 and 180 degrees");
        var affine = new Option<double[]?>("--affine")
        {
            Description = "DEGREES [SCALE [SHIFT]]: training augmentation by a random affine transform on half the volumes: rotation about each axis by up to ± DEGREES, each axis scaled by up to ± SCALE (e.g. 0.1) and shifted by up to ± SHIFT of its size (MONAI's RandAffine); default: none.",
            AllowMultipleArgumentsPerToken = true,
            Arity = new ArgumentArity(1, 3),
        }.Must(v => v is null || v.Length == 0 || (v[0] is >= 0 and <= 180 && (v.Length < 2 || v[1] is >= 0 and < 1) && (v.Length < 3 || v[2] is >= 0 and <= 1)), "DEGREES from 0 to 180, SCALE from 0 to below 1, SHIFT from 0 to 1");
        var noise = new Option<double>("--noise") { Description = "Training augmentation: add Gaussian noise of this sd to one volume in ten, after normalisation (MONAI's RandGaussianNoise); 0: none.", DefaultValueFactory = _ => 0 }
            .Must(v => v is >= 0 and <= 10, "between 0 and 10");
        var intensityAugment = new Option<bool>("--intensity-augment")
        {
            Description = "Training augmentation of MRI-like intensities, each on one volume in ten (MONAI's defaults): a random bias field (RandBiasField), a gamma contrast change from 0.7 to 1.5 (RandAdjustContrast), Gaussian blur of sd 0.25–1.5 voxels (RandGaussianSmooth) and, with --normalize dataset, a shift by up to ± 0.1 (RandShiftIntensity), before normalisation.",
        };
        var mriArtifacts = new Option<bool>("--mri-artifacts")
        {
            Description = "Training augmentation by MR acquisition artefacts, each on one volume in ten, before normalisation: Rician noise of spread up to 0.05 (RandRicianNoise), Gibbs ringing with α from 0 to 0.6 (RandGibbsNoise) and a lower resolution, shrunk by 0.5–1 and brought back (RandSimulateLowResolution); with --normalize volume-nonzero the zero background stays 0 (as with --intensity-augment).",
        };
        var modalities = new Option<string[]?>("--modalities")
        {
            Description = "NAME…: samples are subject folders holding one NIfTI file or DICOM series folder per modality (named NAME, or ending in _NAME, case-insensitive), one input channel each in this order; e.g. flair t1 t1ce t2 (BraTS) or FLAIR T1w T1wCE T2w (RSNA-MICCAI).",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
        }.Must(v => v is null || v.Length == 0 || (v.All(m => !string.IsNullOrWhiteSpace(m)) && v.Distinct(StringComparer.OrdinalIgnoreCase).Count() == v.Length), "distinct, non-empty names");
        var groupBy = new Option<string?>("--group-by")
        {
            Description = "REGEX: keep each patient's volumes on one side of the split (and in one fold with --folds): the patient is the regular expression's first capture group (else its whole match) in each volume's path below --data, e.g. '(sub-[0-9]+)_ses' for BIDS-like names. The split is then stratified by class as far as the patients allow.",
            HelpName = "REGEX",
        }.Must(v => v is null || IsRegex(v), "a valid .NET regular expression");
        var seed = new Option<int>("--seed") { Description = "Seed of the split, weights, shuffling and augmentation.", DefaultValueFactory = _ => 0 };
        var demo = new Option<bool>("--demo") { Description = "Write a tiny generated folder (the library's brain phantoms; not patient data) to a temporary directory and train on it: ResNet-10, 32³, 2 epochs, unless --depth, --size or --epochs say otherwise." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var threads = SampleCommandLine.Threads();
        var output = new Option<string>("--output") { Description = "Folder for checkpoints, history, the validation report and model.safetensors.", DefaultValueFactory = _ => "runs/volumes" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --output from its last checkpoint (with --folds: finished folds are re-predicted, the others continue), with the options it was started with." };
        var onlyFolds = new Option<int[]>("--only-folds")
        {
            Description = "With --folds: train only these folds (numbered 1 to K, e.g. --only-folds 2 4) into --output, so that the folds can run in several processes, on several GPUs or machines at once with the same options; when every fold has run (their fold-N folders under one --output), run the command again with --resume to gather them.",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "FOLD",
        };
        var tensorBoard = SampleCommandLine.TensorBoard("; with --folds a run per fold, FOLDER/fold-i");
        var classWeights = ClassImbalanceOptions.ClassWeights();
        var labelSmoothing = ClassImbalanceOptions.LabelSmoothing();
        var head = ClassImbalanceOptions.Head();
        var minSensitivity = new Option<double?>("--min-sensitivity")
        {
            Description = "S: for a binary or graded (ordinal) model, choose the referral threshold on the validation volumes as the most specific one that refers at least S of the positive (referable) ones (e.g. 0.9), and record it in the model file, by which predict refers each scan. Not with --folds.",
        }.Must(v => v is null || v is > 0 and <= 1, "in (0, 1]");
        var sensitivityConfidence = OperatingPointOptions.SensitivityConfidence();
        var referableFrom = new Option<int?>("--referable-from")
        {
            Description = "GRADE: with --min-sensitivity on an ordinal model, the lowest grade (0-based, in the folders' order) that is referred. Default: 2 (with three grades 0, 1, 2, the highest).",
            HelpName = "GRADE",
        }.Must(v => v is null or >= 1, "at least 1");
        var taskOption = new Option<string>("--task")
        {
            Description = "With three or more class folders: ordinal (grades in the folders' name order, e.g. grade2/ grade3/ grade4/: predict gives the predicted and the expected grade, the report Cohen's kappa) or multi-class (unordered classes). auto: ordinal when the folders are named 0, 1, 2, … in order, else multi-class.",
            DefaultValueFactory = _ => "auto",
        }.OneOf("auto", "ordinal", "multi-class");
        var calibrate = TemperatureFits.CalibrateOption("the validation volumes (with --folds, each fold's model on its own fold)",
            " — the validation report and --min-sensitivity's operating point then read those probabilities (fitted on the same volumes, or on --calibration-fraction's)");
        var calibrationFraction = TemperatureFits.CalibrationFractionOption("volumes");
        var command = new Command("train", "Train and evaluate a 3-D classifier on volumes in class folders.")
        {
            data, size, window, percentiles, channelWise, orientation, spacing, fit, crop, normalization, modalities, align, depth, initWeights, valFraction, folds, groupBy, epochs, batch, lr, rotate, affine, intensityAugment, mriArtifacts, noise, seed, demo, device, threads, output, resume, onlyFolds,
            tensorBoard, classWeights, labelSmoothing, taskOption, head, minSensitivity, sensitivityConfidence, referableFrom, calibrate, calibrationFraction,
        };
        TemperatureFits.CheckCalibrationFraction(command, calibrate, calibrationFraction);
        command.Check(r => r.GetValue(calibrationFraction) is not null && r.GetValue(folds) is not null
            ? "--calibration-fraction holds volumes out of one hold-out run's training part; with --folds each fold's model is calibrated on its own held-out fold: train one held-out model, or leave it out." : null);
        command.Check(r => r.GetValue(minSensitivity) is not null && r.GetValue(folds) is not null ? "--min-sensitivity records an operating point chosen on the held-out validation volumes; with --folds each fold's model would have its own: train one held-out model." : null);
        command.Check(r => r.GetValue(sensitivityConfidence) is not null && r.GetValue(minSensitivity) is null ? "--sensitivity-confidence bounds the sensitivity of --min-sensitivity; give --min-sensitivity S too." : OperatingPointOptions.Check(r.GetValue(minSensitivity), r.GetValue(sensitivityConfidence)));
        command.Check(r => r.GetValue(referableFrom) is not null && r.GetValue(minSensitivity) is null ? "--referable-from names the grades --min-sensitivity refers; give --min-sensitivity S too." : null);
        command.Check(r => r.GetValue(head) == "coral" && r.GetValue(taskOption) == "multi-class" ? "--head coral ranks ordered grades; --task multi-class trains unordered classes." : null);
        command.Check(r => r.GetValue(onlyFolds) is not { Length: > 0 } only ? null
            : r.GetValue(folds) is not int k ? "--only-folds trains some folds of a cross-validation: give --folds K too."
            : only.FirstOrDefault(f => f < 1 || f > k) is var bad && bad != 0 ? $"--only-folds {bad}: the folds are numbered 1 to --folds ({k})"
            : only.Distinct().Count() != only.Length ? "--only-folds names a fold twice"
            : r.GetValue(demo) ? "--demo writes its volumes to a new temporary folder each run; train some folds of your own --data folder." : null);
        optimization.AddTo(command, epochs);
        optimization.AddHeadMultiplierTo(command, initWeights);
        command.Check(r => r.GetValue(window) is { Length: > 0 } && r.GetValue(percentiles) is { Length: > 0 } ? "--window and --percentiles both set how intensities map to [0, 1]: choose one." : null);
        command.Check(r => r.GetValue(window) is { Length: > 0 } && r.GetValue(channelWise) ? "--window maps every channel alike; --channel-wise applies to the minimum–maximum and --percentiles scalings." : null);
        command.Check(r => r.GetValue(folds) is not null && r.GetResult(valFraction) is { Implicit: false } ? "--folds validates every volume once, by its fold; --val-fraction holds one part out: choose one." : null);
        command.Check(r => r.GetValue(align) && r.GetValue(modalities) is not { Length: > 0 } ? "--align-modalities aligns the modalities of subject folders: give --modalities too." : null);
        command.Check(r => r.GetValue(initWeights) is not null && r.GetResult(depth) is { Implicit: false }
            ? "--depth builds a network from scratch; with --init-weights the weights file decides the depth: choose one." : null);
        command.SetAction(r =>
        {
            // --demo changes the defaults of depth, size and epochs, never a value the user gave.
            bool Default(Option option) => r.GetValue(demo) && r.GetResult(option) is null or { Implicit: true };
            var windowValue = r.GetValue(window);
            var cropValue = r.GetValue(crop);
            var spacingValue = r.GetValue(spacing) is { Length: > 0 } mm ? (mm.Length == 1 ? [mm[0], mm[0], mm[0]] : mm).Select(v => (float)v).ToArray() : null;
            return Run(new Settings(r.GetValue(data), Default(size) ? [32, 32, 32] : r.GetValue(size)!, windowValue is { Length: 2 } ? (windowValue[0], windowValue[1]) : null,
                r.GetValue(orientation) == "none" ? null : r.GetValue(orientation),
                cropValue is { Length: > 0 } ? new CropForeground((float)cropValue[0], cropValue.Length > 1 ? (int)cropValue[1] : 0) : null, r.GetValue(normalization) ?? (r.GetValue(initWeights) is null ? "dataset" : "volume-nonzero"),
                r.GetValue(modalities) is { Length: > 0 } names ? names : null, spacingValue, r.GetValue(align), r.GetValue(fit) == "crop-or-pad" ? VolumeFit.CropOrPad : VolumeFit.Resize,
                r.GetValue(percentiles) is [var lower, var upper] ? (lower, upper) : null, r.GetValue(channelWise), Default(depth) ? 10 : r.GetValue(depth), r.GetValue(initWeights),
                r.GetValue(valFraction), r.GetValue(folds), r.GetValue(groupBy), Default(epochs) ? 2 : r.GetValue(epochs), r.GetValue(batch), r.GetValue(lr), r.GetValue(rotate), r.GetValue(affine) is { Length: > 0 } af ? af : null, r.GetValue(intensityAugment), r.GetValue(mriArtifacts), r.GetValue(noise), r.GetValue(seed), r.GetValue(demo),
                Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(output)!, optimization.Read(r), r.GetValue(resume), r.GetValue(onlyFolds) is { Length: > 0 } named ? named : null, r.GetValue(tensorBoard),
                r.GetValue(classWeights)!, r.GetValue(labelSmoothing), r.GetValue(taskOption)!, ClassImbalanceOptions.ParseHead(r.GetValue(head)!),
                r.GetValue(minSensitivity), r.GetValue(sensitivityConfidence), r.GetValue(referableFrom), r.GetValue(calibrate), r.GetValue(calibrationFraction)));
        });
        return command;
    }

    private sealed record Settings(string? Data, int[] Size, (double Center, double Width)? Window, string? Orientation, CropForeground? Crop, string Normalization, string[]? Modalities, float[]? Spacing, bool AlignModalities, VolumeFit Fit, (double Lower, double Upper)? Percentiles, bool ChannelWise, int Depth, string? InitWeights,
        double ValidationFraction, int? Folds, string? GroupBy, int Epochs, int Batch, double LearningRate, double Rotate, double[]? Affine, bool IntensityAugment, bool MriArtifacts, double Noise, int Seed, bool Demo, Device Device, int Threads, string Output,
        OptimizationRecipe Optimization, bool Resume, int[]? OnlyFolds, string? TensorBoard, string ClassWeights, double LabelSmoothing, string Task, ClassifierHead Head,
        double? MinSensitivity, double? SensitivityConfidence, int? ReferableFrom, bool Calibrate, double? CalibrationFraction);

    private static int Run(Settings s)
    {
        if (!s.Demo) return Train(s);
        var root = Path.Combine(Path.GetTempPath(), "medvision-volumes-demo-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            DemoFolder.Write(root, subjects: 16, s.Seed);
            AnsiConsole.MarkupLine($"[yellow]Demo:[/] wrote 16 generated phantom volumes (not patient data) to {root} (removed at the end)");
            return Train(s with { Data = root });
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static int Train(Settings s)
    {
        if (s.Data is null)
        {
            Console.Error.WriteLine("No data: give --data. This sample does not generate patient data.");
            Console.Error.WriteLine(Layout);
            return 2;
        }
        Tensors.NumThreads = s.Threads;
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(s.Device));
        var source = VolumeFolderSource.FromSubfolders(s.Data, s.Size[0], s.Size[1], s.Size[2], s.Window, s.Orientation, s.Crop, s.Modalities, s.Spacing, s.AlignModalities, s.Fit, s.Percentiles, s.ChannelWise);
        if (source.ClassNames.Count < 2) throw new ArgumentException($"--data {s.Data} has one class folder ({source.ClassNames[0]}); a classifier needs at least two.");
        var labels = source.Samples.Select(x => x.Label).ToArray();
        string Counts(IEnumerable<int> indices) => string.Join(", ", source.ClassNames.Select((name, k) => $"{indices.Count(i => labels[i] == k)} {name}"));
        string Described(string parts) => $"{source.Count} {(source.Modalities is null ? "volumes" : "subjects")} in {source.ClassNames.Count} classes, {string.Join("×", s.Size)} after {(s.Fit == VolumeFit.CropOrPad ? "cropping or padding" : "resizing")}{(s.Orientation is null ? "" : $", reoriented to {s.Orientation}")}{(s.Spacing is { } mm ? $", {string.Join(" × ", mm.Select(v => v.ToString(CultureInfo.InvariantCulture)))} mm voxels" : "")}{(s.AlignModalities ? ", modalities aligned on the first's grid" : "")}{(s.Crop is { } c ? string.Create(CultureInfo.InvariantCulture, $", cropped to values above {c.Threshold}{(c.Margin > 0 ? $" (margin {c.Margin})" : "")}") : "")}, intensities {(s.Window is { } w ? $"through the window {w.Center.ToString(CultureInfo.InvariantCulture)} ± {(w.Width / 2).ToString(CultureInfo.InvariantCulture)}" : s.Percentiles is { } pc ? string.Create(CultureInfo.InvariantCulture, $"by {(s.ChannelWise ? "each channel's" : "each volume's")} percentiles {pc.Lower}–{pc.Upper}") : s.ChannelWise ? "by each channel's minimum and maximum" : "by each volume's minimum and maximum")}: {parts}";
        var groups = s.GroupBy is null ? null : Patients(source, s.Data, s.GroupBy);
        string Grouping(IEnumerable<int> indices) => groups is null ? "" : $" ({indices.Select(i => groups[i]).Distinct().Count()} patients)";
        int[] trainIndices = [], valIndices = [], calibrationIndices = [];
        if (s.Folds is int folds)
        {
            if (folds > source.Count) throw new ArgumentException($"--folds {folds} exceeds the {source.Count} samples of --data {s.Data}.");
            if (groups is not null && folds > groups.Distinct().Count())
                throw new ArgumentException($"--folds {folds} exceeds the {groups.Distinct().Count()} patients --group-by {s.GroupBy} finds in --data {s.Data}.");
            AnsiConsole.MarkupLine(Markup.Escape(Described($"{Counts(Enumerable.Range(0, source.Count))}{Grouping(Enumerable.Range(0, source.Count))}, {folds}-fold cross-validation (stratified{(groups is null ? "" : ", each patient in one fold")})")));
        }
        else
        {
            (trainIndices, valIndices) = groups is null ? DataSplits.StratifiedHoldout(labels, s.ValidationFraction, s.Seed) : DataSplits.StratifiedGroupHoldout(labels, groups, s.ValidationFraction, s.Seed);
            if (trainIndices.Length == 0 || valIndices.Length == 0)
                throw new ArgumentException($"{source.Count} volumes give {trainIndices.Length} for training and {valIndices.Length} for validation at --val-fraction {s.ValidationFraction.ToString(CultureInfo.InvariantCulture)}; add volumes or change the fraction.");
            // --calibration-fraction: a share of the training volumes (whole patients with --group-by) held out for the temperature.
            if (s.CalibrationFraction is double share)
            {
                var (keep, held) = TemperatureFits.CarveCalibration(trainIndices.Select(i => labels[i]).ToArray(), share, s.Seed, source.ClassNames, "volumes", groups is null ? null : trainIndices.Select(i => groups[i]).ToArray());
                (trainIndices, calibrationIndices) = (keep.Select(i => trainIndices[i]).ToArray(), held.Select(i => trainIndices[i]).ToArray());
            }
            string calibrationPart = calibrationIndices.Length == 0 ? "" : $" · calibration {Counts(calibrationIndices)}{Grouping(calibrationIndices)} (held out of training for --calibrate)";
            AnsiConsole.MarkupLine(Markup.Escape(Described($"training {Counts(trainIndices)}{Grouping(trainIndices)}{calibrationPart} · validation {Counts(valIndices)}{Grouping(valIndices)}")));
            WriteSplit(Path.Combine(s.Output, "split.csv"), source, s.Data, groups, valIndices, calibrationIndices, s.Resume);
        }
        AnsiConsole.MarkupLine(Markup.Escape(AugmentationText(s)));

        // Subject folders (--modalities) and multi-contrast NIfTI files (several volumes each): one channel per modality or volume.
        int channels = source.Channels;
        // MedicalNet's one-channel stem is adapted to several channels (its kernels repeated over them and scaled by 1/C);
        // R3D-18's RGB stem to the volumes' channels (summed for one, cycled and scaled by 3/C for others).
        string stemAdaptation = "";
        var kinetics = IsKinetics(s.InitWeights) ? PretrainedWeights.R3D18Kinetics400V1.ForInputChannels(channels) : null;
        if (kinetics is not null)
        {
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"torchvision's {kinetics.Name} ({kinetics.Dataset} top-1 {kinetics.Top1Accuracy}%): {kinetics.Source}")));
            kinetics.DownloadAsync().GetAwaiter().GetResult(); // once, before any fold
            if (channels != 3)
                stemAdaptation = $" (its RGB stem adapted to the {channels} channel(s): {(channels == 1 ? "kernels summed over R, G and B" : $"kernels cycled over them and scaled by 3/{channels}")})";
        }
        else if (s.InitWeights is not null && channels > 1)
        {
            using var weights = MedicalNet.LoadStateDict(s.InitWeights);
            long own = weights["conv1.weight"].Size(1);
            if (own != channels)
                stemAdaptation = string.Create(CultureInfo.InvariantCulture, $" (its {own}-channel stem adapted to the {channels} channels: kernels repeated over them and scaled by {(own == 1 ? "1" : "3")}/{channels})");
        }
        ResNet NewNetwork(int seed)
        {
            Tensors.ManualSeed((ulong)seed);
            return s.InitWeights is null ? MedicalNet.CreateBuilder(s.Depth).ForInput(channels, spatialDims: 3).WithClasses(source.ClassNames.Count).WithHead(s.Head).Build()
                : kinetics is not null ? kinetics.CreateModelAsync(source.ClassNames.Count, s.Head).GetAwaiter().GetResult()
                : MedicalNet.CreateModel(s.InitWeights, source.ClassNames.Count, channels, s.Head);
        }
        var taskType = ClassTasks.Choose(s.Task, source.ClassNames, $"the class folders of {s.Data}");
        // --min-sensitivity: the lowest referred class (1 of a binary model, a grade of an ordinal one).
        int? referFrom = s.MinSensitivity is null ? null
            : OperatingPointOptions.ReferableClass(taskType, source.ClassNames, s.ReferableFrom, operatingPoint: true, findings: false);
        if (referFrom is not null)
        {
            if (valIndices.Select(i => labels[i] >= referFrom).Distinct().Count() < 2)
                throw new ArgumentException($"--min-sensitivity chooses a threshold on validation volumes below and at or above class {referFrom} ({source.ClassNames[referFrom.Value]}); the {valIndices.Length} validation volumes hold {(valIndices.Any(i => labels[i] >= referFrom) ? "referable" : "non-referable")} ones only: add volumes or raise --val-fraction.");
        }
        if (s.Head == ClassifierHead.Coral && taskType != MedMnistTask.OrdinalRegression)
            throw new ArgumentException($"--head coral ranks ordered grades; the class folders of {s.Data} ({string.Join(", ", source.ClassNames)}) train a {taskType} task: give --task ordinal when they are grades in their names' order (three or more).");
        TrainerBuilder Recipe(ResNet network, ITrainingTask task, int seed, string? board)
        {
            var builder = Trainer.Create(task).ForEpochs(s.Epochs).OnDevice(s.Device).WithSeed(seed).ReportProgressTo(TrainingConsole.EpochLines());
            if (board is not null) builder.WriteTensorBoardTo(board);
            return s.Optimization.ApplyTo(builder, s.LearningRate, network.Head!);
        }
        void Describe(ResNet network)
        {
            var options = network.Options;
            if (channels > 1)
                AnsiConsole.MarkupLine(Markup.Escape(source.Modalities is { } named
                    ? $"{channels} channels per sample: the subject folder's {string.Join(", ", named)}."
                    : $"{channels} channels per sample: the volumes of each multi-contrast file, in file order."));
            AnsiConsole.MarkupLine(Markup.Escape(kinetics is not null
                ? string.Create(CultureInfo.InvariantCulture, $"torchvision's R3D-18 (basic blocks [2, 2, 2, 2], 3×7×7 stem of stride 1×2×2, no max pool), pretrained on Kinetics-400{stemAdaptation}: {network.ParameterCount():N0} parameters")
                : string.Create(CultureInfo.InvariantCulture, $"MedicalNet 3-D ResNet ({options.Block.ToString().ToLowerInvariant()} blocks [{string.Join(", ", options.Layers)}], {(options.Shortcut == MedVision.Nets.Blocks.ResidualShortcut.ZeroPadding ? "zero-padding" : "projection")} shortcut, dilations 1, 1, 2, 4){(s.InitWeights is null ? ", from scratch" : $", pretrained weights from {s.InitWeights}{stemAdaptation}")}: {network.ParameterCount():N0} parameters")
                + (s.Head == ClassifierHead.Coral ? $", ending in a CORAL head ({source.ClassNames.Count - 1} cumulative logits; predicted grade: the median)" : "")));
            AnsiConsole.MarkupLine(Markup.Escape("Optimization: " + s.Optimization.Describe(s.LearningRate)));
        }
        DataLoaderOptions Options(ITransform transform, bool training) => new() { BatchSize = s.Batch, Shuffle = training, Seed = s.Seed, Transform = transform, Device = s.Device };
        void SaveModel(string path, ResNet network, Preparation preparation, IReadOnlyDictionary<string, double> metrics, TemperatureScaling? scaling, ReferralCard? referral = null)
        {
            // A self-describing model file: Predictor.Load(...).PredictFile("scan.nii.gz") prepares volumes as training did.
            var preprocessing = source.DescribePreprocessing(Enumerable.Repeat((float)preparation.Mean, channels).ToList(), Enumerable.Repeat((float)preparation.Std, channels).ToList(), preparation.PerVolume);
            var card = ModelFile.Describe(network, preprocessing, source.ClassNames, taskType, metrics);
            if (scaling is not null) card.SetTemperature(scaling);
            card.Referral = referral;
            ModelFile.Save(path, network, card);
        }
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        var full = Path.GetFullPath(s.Output);
        // The cross-entropy of --class-weights (from the volumes a model trains on: a fold's own) and --label-smoothing;
        // the weights' tensors live until the run ends.
        using var weightTensors = new OwnedTensors();
        ITrainingTask Task(ResNet network, IReadOnlyList<int> training, bool announce)
        {
            var (task, weights, loss) = ClassImbalanceOptions.Create(network, taskType, s.ClassWeights, s.LabelSmoothing, training.Select(i => labels[i]).ToArray(), source.ClassNames.Count, s.Head);
            if (weights is not null) weightTensors.Add(weights);
            if (announce && loss is not null) AnsiConsole.MarkupLine(Markup.Escape(loss + (s.Folds is null ? "" : " (the first fold's; each fold weighs by its own training volumes)")));
            return task;
        }


        // --folds K: a stratified k-fold cross-validation; each fold's normalisation is fitted on its own training volumes
        // (no statistics of its validation volumes reach its training), each fold's model file records its own.
        int CrossValidate(int folds)
        {
            var preparations = new Preparation[folds];
            var crossValidation = CrossValidation.Create(source, taskType).WithFolds(folds).WithSeed(s.Seed).StratifyBy(labels);
            if (groups is not null) crossValidation.GroupBy(groups); // stratified, and each patient in one fold
            if (s.TensorBoard is not null) crossValidation.WriteTensorBoardTo(s.TensorBoard); // a run per fold
            crossValidation
                .TrainWith(split =>
                {
                    var preparation = preparations[split.Index] = Prepare(s, split.Train);
                    AnsiConsole.MarkupLine(Markup.Escape($"Fold {split.Index + 1}/{split.FoldCount}: training on {split.TrainIndices.Count} volumes, selecting on {split.ValidationIndices.Count} · {preparation.Text}"));
                    return Options(preparation.Augment, true);
                })
                .EvaluateWith(split => Options(preparations[split.Index].Normalize, false))
                .SaveTo(s.Output)
                .OnFoldTrained((fold, task) =>
                {
                    // --calibrate: fitted on the fold's own validation volumes, which this model did not train on.
                    TemperatureScaling? scaling = null;
                    if (s.Calibrate)
                    {
                        var (foldLabels, foldScores) = fold.GetValidationPredictions();
                        scaling = TemperatureFits.Fit(foldLabels, foldScores, onCumulativeLogits: task is CoralTask);
                        AnsiConsole.MarkupLine(Markup.Escape($"Fold {fold.Index + 1}: temperature {TemperatureFits.Describe(scaling)}, fitted on its {foldLabels.GetLength(0)} validation volumes"));
                    }
                    SaveModel(CrossValidationConsole.ModelPath(fold.Directory!), (ResNet)task.Model, preparations[fold.Index],
                        new Dictionary<string, double> { ["fold"] = fold.Index + 1, ["best_epoch"] = fold.Training.BestEpoch + 1, ["val_auc"] = fold.Validation.Auc, ["val_acc"] = fold.Validation.Acc }, scaling);
                });
            bool described = false;
            TrainerBuilder Fold(CrossValidationSplit split)
            {
                var network = NewNetwork(s.Seed + split.Index);
                if (!described) Describe(network);
                var task = Task(network, split.TrainIndices, announce: !described);
                described = true;
                return Recipe(network, task, s.Seed + split.Index, board: null);
            }
            if (s.OnlyFolds is { } only)
            {
                // Some folds only: nothing to sum up until every fold has run and a --resume run gathers them.
                var trained = crossValidation.RunFolds(only, Fold, s.Resume);
                AnsiConsole.MarkupLine(Markup.Escape($"Trained fold{(trained.Count == 1 ? "" : "s")} {string.Join(", ", only)} of {folds} into {full}. When every fold has run there, gather them: the same command with --resume (without --only-folds)."));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"RESULT cross-validation-folds volumes folds={folds} seed={s.Seed} epochs={s.Epochs} trained={string.Join(',', only)} val_auc={string.Join(',', trained.Select(f => F(f.Validation.Auc)))}"));
                return 0;
            }
            var result = crossValidation.Run(Fold, s.Resume);

            var manifest = Path.GetFullPath(CrossValidationConsole.SaveManifest(result, s.Output));
            AnsiConsole.Write(CrossValidationConsole.Table(result, $"{folds}-fold cross-validation: each fold's model selected on its own fold", source.Count));
            AnsiConsole.MarkupLine(Markup.Escape($"Fold models: {full}/fold-N/model.safetensors · ensemble manifest: {manifest} (use: volume-folder predict --model {manifest} SCANS…) · summary: {full}/{CrossValidationBuilder.ResultFileName} · out-of-fold predictions: {full}/{CrossValidationBuilder.OutOfFoldFileName} (rows in the order of the sorted class folders and files)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT cross-validation volumes{(s.Demo ? "-demo" : "")} folds={folds} size={string.Join("x", s.Size)} seed={s.Seed} epochs={s.Epochs} val_auc={F(result.ValidationAuc.Mean)}±{F(result.ValidationAuc.StandardDeviation)} oof_auc={F(result.OutOfFold.Auc)} oof_acc={F(result.OutOfFold.Acc)}{(s.Head == ClassifierHead.Coral ? " head=coral" : "")}"));
            return 0;
        }

        if (s.Folds is int k) return CrossValidate(k);

        var train = new SubsetSource(source, trainIndices);
        var validation = new SubsetSource(source, valIndices);
        var preparation = Prepare(s, train);
        AnsiConsole.MarkupLine(Markup.Escape(preparation.Text));
        DataLoader Loader(ILabeledImageSource part, bool training) => new(part, Options(training ? preparation.Augment : preparation.Normalize, training));
        using var network = NewNetwork(s.Seed);
        Describe(network);
        var task = Task(network, trainIndices, announce: true);
        var builder = Recipe(network, task, s.Seed, s.TensorBoard);
        var result = builder
            .TrainOn(Loader(train, training: true))
            .ValidateOn(Loader(validation, training: false))
            .SaveTo(s.Output)
            .Build()
            .Run(s.Resume);

        // The selected model (best validation AUC) on the validation volumes; there is no separate test split here.
        var (valLabels, valScores) = Trainer.Predict(task, Loader(validation, training: false));
        // --calibrate: the temperature fitted on these volumes (with --calibration-fraction, on the held-out training
        // ones); from here on their probabilities are the calibrated ones the model file's predictor gives.
        TemperatureScaling? scaling = null;
        string calibrationFields = "";
        if (calibrationIndices.Length > 0)
        {
            var (heldLabels, heldScores) = Trainer.Predict(task, Loader(new SubsetSource(source, calibrationIndices), training: false));
            (scaling, valScores, calibrationFields) = TemperatureFits.FitOnCalibrationAndReport(taskType, heldLabels, heldScores, valLabels, valScores, onCumulativeLogits: task is CoralTask, "volumes");
        }
        else if (s.Calibrate)
            (scaling, valScores, calibrationFields) = TemperatureFits.FitAndReport(taskType, valLabels, valScores, onCumulativeLogits: task is CoralTask, "volumes");
        var auc = MedMnistEvaluator.GetAuc(task.TaskType, valLabels, valScores).Value;
        // (ACC and the report's label measures count the grades the model reports: a CORAL head's median)
        var acc = MedMnistEvaluator.GetAcc(task.TaskType, valLabels, valScores, task.Decision);
        var report = ModelEvaluator.Evaluate(task.TaskType, valLabels, valScores, task.Decision);
        report.WriteCsv(Path.Combine(s.Output, "validation-evaluation.csv"));
        // --min-sensitivity: the operating point chosen on the validation volumes, recorded for predict.
        ReferralCard? referral = null;
        string operatingPoint = "";
        if (referFrom is int from)
        {
            var (referable, risks) = MedVision.Nets.Metrics.Clinical.Referral.FromGrades(valLabels, valScores, from);
            string risk = taskType == MedMnistTask.Binary ? $"P({source.ClassNames[1]})" : $"P(grade ≥ {from}: {source.ClassNames[from]})";
            (referral, operatingPoint) = OperatingPointOptions.Record(referable, risks, s.MinSensitivity!.Value, s.SensitivityConfidence, from, risk, "volumes", "volumes", scaling);
        }
        SaveModel(Path.Combine(s.Output, "model.safetensors"), network, preparation, new Dictionary<string, double> { ["best_epoch"] = result.BestEpoch + 1, ["val_auc"] = auc, ["val_acc"] = acc }, scaling, referral);

        var table = new Table().Title($"selected epoch {result.BestEpoch + 1} (best validation AUC), validation volumes")
            .AddColumn(new TableColumn("AUC").RightAligned()).AddColumn(new TableColumn("ACC").RightAligned());
        table.AddRow(F(auc), F(acc));
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine(report.Format(classNames: source.ClassNames));
        AnsiConsole.MarkupLine(Markup.Escape($"Model file: {full}/model.safetensors (use: volume-folder predict --model {full}/model.safetensors SCANS…, or Predictor.Load(...).PredictFile(\"scan.nii.gz\")) · checkpoints: {full}/best.safetensors · history: {full}/history.csv · report: {full}/validation-evaluation.csv · split: {full}/split.csv"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {(IsKinetics(s.InitWeights) ? "r3d18-kinetics" : $"medicalnet-resnet{Depth(network.Options)}")} volumes{(s.Demo ? "-demo" : "")} pretrained={(s.InitWeights is null ? "no" : "yes")} size={string.Join("x", s.Size)} seed={s.Seed} epochs={s.Epochs} best_epoch={result.BestEpoch + 1} val_auc={F(auc)} val_acc={F(acc)}{(s.Head == ClassifierHead.Coral ? " head=coral" : "")}{calibrationFields}{operatingPoint}"));
        return 0;
    }

    // How the training volumes of a run (or fold) are normalised and augmented. Dataset normalisation: one pass over
    // them for their mean and standard deviation (what the model file records). Per volume: each volume's own
    // statistics, recorded as the card's intensity normalisation.
    private sealed record Preparation(double Mean, double Std, IntensityNormalizationCard? PerVolume, ITransform Normalize, ITransform Augment, string Text);

    private static Preparation Prepare(Settings s, ILabeledImageSource train)
    {
        var perVolume = s.Normalization == "dataset" ? null : new IntensityNormalizationCard { NonZero = s.Normalization == "volume-nonzero" };
        var (mean, std) = perVolume is null ? MeanAndStd(train) : (0.0, 1.0);
        TransformPipelineBuilder Normalization(TransformPipelineBuilder pipeline) => perVolume is null
            ? pipeline.Normalize((float)mean, (float)std)
            : pipeline.NormalizeIntensity(perVolume.NonZero);
        var normalize = Normalization(TransformPipeline.Create()).Build();
        var augmentation = TransformPipeline.Create().RandomHorizontalFlip();
        if (s.Rotate > 0) augmentation = augmentation.RandomRotation(s.Rotate);
        if (s.Affine is { } af) augmentation = augmentation.RandomAffine(af[0], af.Length > 1 ? af[1] : 0, af.Length > 2 ? af[2] : 0, probability: 0.5);
        var intensity = TransformPipeline.Create();
        if (s.IntensityAugment)
        {
            intensity = intensity.RandomBiasField().RandomAdjustContrast(gammaMin: 0.7, gammaMax: 1.5).RandomGaussianSmooth();
            // A shift is undone by each volume's own mean, and would move the zero background that "volume-nonzero"
            // normalisation leaves out: only with the dataset's statistics does it change what the network sees.
            if (perVolume is null) intensity = intensity.RandomIntensityShift(0.1);
        }
        if (s.MriArtifacts) intensity = intensity.RandomRicianNoise(std: 0.05).RandomGibbsNoise(alphaMax: 0.6).RandomSimulateLowResolution();
        if (s.IntensityAugment || s.MriArtifacts)
        {
            // "volume-nonzero" normalisation takes zeros as the background it leaves out; blur, noise and ringing would
            // make some of them non-zero on augmented volumes only, so the background is kept at 0 there.
            var steps = intensity.Build();
            augmentation = augmentation.Add(KeepsBackground(s) ? new ZeroBackgroundKept(steps) : steps);
        }
        augmentation = Normalization(augmentation);
        if (s.Noise > 0) augmentation = augmentation.RandomGaussianNoise(probability: 0.1, std: s.Noise);
        var text = perVolume is null
            ? string.Create(CultureInfo.InvariantCulture, $"normalised by the training volumes' mean {mean:F4} and sd {std:F4}")
            : perVolume.NonZero ? "each volume normalised over its non-zero voxels" : "each volume normalised by its own mean and sd";
        return new Preparation(mean, std, perVolume, normalize, augmentation.Build(), text);
    }

    private static bool KeepsBackground(Settings s) => s.Normalization == "volume-nonzero" && (s.IntensityAugment || s.MriArtifacts);

    private static bool IsRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    // Each sample's patient: the first capture group (else the whole match) of --group-by in its path below --data
    // ('/'-separated). A path it does not match is refused by name.
    private static string[] Patients(VolumeFolderSource source, string data, string pattern)
    {
        try
        {
            return DataSplits.GroupsFromPattern(source.Samples.Select(sample => RelativePath(data, sample.Path)).ToArray(), pattern);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--group-by: {e.Message}", e);
        }
    }

    // A volume's path below --data, '/'-separated.
    private static string RelativePath(string data, string path) => Path.GetRelativePath(data, path).Replace(Path.DirectorySeparatorChar, '/');

    // The hold-out split, for the record: each volume's path below --data, its patient (with --group-by) and its part
    // (train, calibration or validation). A --resume run must split as the run it continues did: a checkpoint trained on
    // other volumes would go on with volumes it was validated or calibrated on, so a split.csv that differs is refused.
    private static void WriteSplit(string path, VolumeFolderSource source, string data, string[]? groups, int[] validation, int[] calibration, bool resume)
    {
        var held = validation.ToHashSet();
        var calibrating = calibration.ToHashSet();
        var rows = source.Samples.Select((sample, i) => (Path: RelativePath(data, sample.Path), Line: string.Join(',', Csv(RelativePath(data, sample.Path)),
            Csv(source.ClassNames[sample.Label]), Csv(groups?[i] ?? ""), held.Contains(i) ? "validation" : calibrating.Contains(i) ? "calibration" : "train"))).ToArray();
        var text = string.Join('\n', rows.Select(r => r.Line).Prepend("path,class,patient,part")) + "\n";
        var before = resume && File.Exists(path) ? File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).ToArray() : null;
        int first = before is null ? rows.Length : Enumerable.Range(0, rows.Length).FirstOrDefault(i => i >= before.Length || before[i] != rows[i].Line, rows.Length);
        if (before is not null && (first < rows.Length || before.Length != rows.Length))
        {
            string difference = before.Length != rows.Length ? $"it lists {before.Length} volumes, --data {data} holds {rows.Length}"
                : $"it records {before[first].Split(',')[^1]} for {rows[first].Path}, these options {rows[first].Line.Split(',')[^1]}";
            throw new ArgumentException($"--resume continues the run in {Path.GetDirectoryName(Path.GetFullPath(path))}, whose split.csv differs from this split ({difference}): resume with the options it was started with (--data, --val-fraction, --calibration-fraction, --group-by, --seed).");
        }
        AtomicFile.WriteAllText(path, text);
        static string Csv(string value) => value.IndexOfAny(new[] { ',', '"', '\n', '\r' }) < 0 ? value : '"' + value.Replace("\"", "\"\"") + '"';
    }

    private static string AugmentationText(Settings s) => string.Create(CultureInfo.InvariantCulture,
        $"Training augmentation: left–right flips{(s.Rotate > 0 ? $", rotation about the depth axis ±{s.Rotate:G4}°" : "")}{(s.Affine is { } a ? string.Create(CultureInfo.InvariantCulture, $", random affine on half the volumes (±{a[0]:G4}° about each axis{(a.Length > 1 ? $", scale ±{a[1]:G4}" : "")}{(a.Length > 2 ? $", shift ±{a[2]:G4}" : "")})") : "")}{(s.IntensityAugment ? $", a bias field, a gamma contrast change, blur{(s.Normalization == "dataset" ? " and an intensity shift" : "")} each on one volume in ten" : "")}{(s.MriArtifacts ? ", Rician noise, Gibbs ringing and a lower resolution each on one volume in ten" : "")}{(KeepsBackground(s) ? " (the zero background kept at 0)" : "")}{(s.Noise > 0 ? $", Gaussian noise (sd {s.Noise:G4}) on one volume in ten" : "")}");

    private static bool IsKinetics(string? weights) => string.Equals(weights, "kinetics", StringComparison.OrdinalIgnoreCase);

    // The depth of a standard block layout (MedicalNet's seven), or the total of its blocks for another one.
    private static int Depth(ResNetOptions options) =>
        MedicalNet.Depths.FirstOrDefault(d => ResNetOptions.StandardDepth(d) is var (k, layers) && k == options.Block && layers.SequenceEqual(options.Layers),
            2 + options.Layers.Sum() * (options.Block == MedVision.Nets.Blocks.ResidualBlockKind.Basic ? 2 : 3));

    // Mean and population standard deviation of every voxel of the training volumes after the source's preparation.
    private static (double Mean, double Std) MeanAndStd(ILabeledImageSource train)
    {
        double sum = 0, squares = 0;
        long count = 0;
        for (int i = 0; i < train.Count; i++)
        {
            var voxels = train.Load(i).Image.Data;
            foreach (var v in voxels)
            {
                sum += v;
                squares += (double)v * v;
            }
            count += voxels.Length;
        }
        double mean = sum / count;
        double std = Math.Sqrt(Math.Max(squares / count - mean * mean, 0));
        return (mean, std > 1e-6 ? std : 1);
    }
}

/// <summary>Applies <paramref name="inner"/> and sets the voxels that were exactly 0 before it back to 0 (the background a non-zero normalisation leaves out).</summary>
public sealed class ZeroBackgroundKept(ITransform inner) : ITransform
{
    /// <summary>Applies the inner transform, keeping the zero voxels at 0.</summary>
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        var background = Enumerable.Range(0, image.Data.Length).Where(i => image.Data[i] == 0).ToArray();
        var output = inner.Apply(image, random);
        foreach (int i in background) output.Data[i] = 0;
        return output;
    }

    public override string ToString() => $"{inner} with the zero background kept";
}

/// <summary>Tensors made for a whole training run (each fold's class weights), freed when it ends.</summary>
internal sealed class OwnedTensors : List<Tensor>, IDisposable
{
    public void Dispose()
    {
        foreach (var tensor in this) tensor.Dispose();
        Clear();
    }
}
