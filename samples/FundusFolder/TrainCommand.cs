using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.Quality;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Clinical;
using MedVision.Nets.Models;
using MedVision.Nets.Plotting;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Distributed;
using MedVision.Torch.Nn;
using Spectre.Console;

namespace MedVision.Samples.FundusFolder;

/// <summary>
/// The <c>train</c> command (also the default): a ResNet (50 by default, ImageNet stem) — or torchvision's ViT-B/16 or
/// ViT-B/32 (<c>--model</c>) — at 224×224 with random flips,
/// rotation and colour jitter on training images labelled by file name (P = pathologic myopia, N/H = not), selected
/// by validation AUC on images labelled by a CSV; reports validation AUC, ACC, sensitivity and specificity, and writes
/// the selected model as <c>model.safetensors</c> for <c>predict</c>. With <c>--labels subfolders</c> the classes are
/// the folders' sub-folders: two train the same binary screening model; three or more a grading model (ordinal, e.g.
/// diabetic-retinopathy grades 0–4, referring from a grade) or a multi-class one. With <c>--labels csv</c> tables label
/// both folders: a class column, or a 0/1 column per finding for a multi-label model (ODIR-5K's layout). With
/// <c>--calibrate</c> the temperature fitted on the validation images (with <c>--calibration-fraction</c>, on a share of
/// the training images held out of training) is stored in the model file, and the validation report and the referral
/// operating point read the calibrated probabilities, as the model file's predictor gives them.
/// </summary>
internal static class TrainCommand
{
    private const string Layout = """
        Expected layout (iChallenge-PM / PALM):
          --train-folder  training images labelled by file name: P*.jpg = pathologic myopia (1), N*.jpg / H*.jpg = not (0)
          --val-folder    validation images
          --val-csv       a CSV naming each validation image and its label, e.g.
                            imgName,Label
                            V0001.jpg,1
                          (other column names: --name-column, --label-column)
        Or, with --labels subfolders, --train-folder and --val-folder each hold one sub-folder per class, and no CSV:
        two classes (e.g. normal/ and pathologic/; sorted by name, the second is the positive, referable class), or
        grades (e.g. 0/ 1/ 2/ 3/ 4/ for diabetic retinopathy: an ordinal model, referring from --referable-from), or
        other classes (a multi-class model).
        Or, with --labels csv, --train-csv and --val-csv label both folders: --label-column names the class column, or
        several 0/1 columns for findings (e.g. ODIR-5K's N,D,G,C,A,H,M,O: a multi-label model).
        Or run with --demo to exercise the pipeline on a tiny generated folder.
        """;

    public static Command Create()
    {
        var trainFolder = new Option<string?>("--train-folder") { Description = "Training images, labelled by file name (P = 1, N/H = 0), or in class sub-folders with --labels subfolders." };
        var valFolder = new Option<string?>("--val-folder") { Description = "Validation images (labelled by --val-csv, or in class sub-folders with --labels subfolders)." };
        var valCsv = new Option<string?>("--val-csv") { Description = "Validation labels CSV." };
        var trainCsv = new Option<string?>("--train-csv") { Description = "With --labels csv: the training labels CSV (columns as --val-csv's)." };
        var nameColumn = new Option<string>("--name-column") { Description = "Image-name column of the CSV.", DefaultValueFactory = _ => "imgName" };
        var labelColumn = new Option<string>("--label-column")
        {
            Description = "Label column of the CSVs (the class index: 0 or 1 for iChallenge-PM). With --labels csv, several comma-separated columns of 0/1 findings (e.g. N,D,G,C,A,H,M,O as ODIR-5K's) train a multi-label model: a sigmoid per finding.",
            DefaultValueFactory = _ => "Label",
        };
        var labels = new Option<string>("--labels")
        {
            Description = "file-names: iChallenge-PM's layout (training labels from file names, validation labels from --val-csv); subfolders: --train-folder and --val-folder each hold one sub-folder per class, sorted by name — two classes train a binary screening model, the second the positive (referable) one (e.g. normal/ and pathologic/, or 0/ and 1/); three or more a grading or multi-class model (--task); csv: --train-csv and --val-csv label the training and validation folders (--label-column: one class column, or several 0/1 finding columns for a multi-label model).",
            DefaultValueFactory = _ => "file-names",
        }.OneOf("file-names", "subfolders", "csv");
        var taskOption = new Option<string>("--task")
        {
            Description = "With --labels subfolders and three or more class folders: ordinal (grades in the folders' name order, e.g. 0/ to 4/ for diabetic retinopathy; the predicted grade, the expected grade, quadratic kappa and referral from --referable-from) or multi-class (unordered classes). auto: ordinal when the folders are named 0, 1, 2, … in order, else multi-class.",
            DefaultValueFactory = _ => "auto",
        }.OneOf("auto", "ordinal", "multi-class");
        var referableFrom = new Option<int?>("--referable-from")
        {
            Description = "GRADE: for an ordinal model, the lowest grade that is referred (e.g. 2: moderate diabetic retinopathy or worse, referable DR); the validation report's sensitivity, specificity and ROC, and --min-sensitivity's operating point, are those of referring P(grade ≥ GRADE). Default: 2 (with three grades 0, 1, 2, the highest).",
            HelpName = "GRADE",
        }.Must(v => v is null or >= 1, "at least 1");
        var model = new Option<string>("--model")
        {
            Description = "resnet (a ResNet of --depth, ImageNet stem), or vit-b16 or vit-b32 (torchvision's ViT-B/16 and ViT-B/32, 86–88 M parameters, at a --size that is a multiple of their patch; --init-weights imagenet starts them from torchvision's ImageNet weights, the position embeddings resized to --size). A vision transformer's validation maps are gradient-weighted attention rollouts instead of Grad-CAMs.",
            DefaultValueFactory = _ => "resnet",
        }.OneOf("resnet", "vit-b16", "vit-b32");
        var depth = new Option<int>("--depth") { Description = "ResNet depth (18, 34, 50, 101, 152).", DefaultValueFactory = _ => 50 }.OneOf(18, 34, 50, 101, 152);
        var size = new Option<int>("--size") { Description = "Images are resized to size×size.", DefaultValueFactory = _ => 224 }.AtLeast(1);
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 30 }.AtLeast(1);
        var batch = new Option<int>("--batch") { Description = "Batch size (global: split evenly over the processes in data-parallel training).", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var lr = new Option<double>("--lr") { Description = "Learning rate (the peak with --schedule onecycle).", DefaultValueFactory = _ => 1e-4 }.Positive();
        var optimization = new OptimizationCommandLine();
        var seed = new Option<int>("--seed") { Description = "Seed of weights, shuffling and augmentation.", DefaultValueFactory = _ => 0 };
        var demo = new Option<bool>("--demo") { Description = "Write a tiny generated folder to a temporary directory and run it (pipeline check; not fundus data): ResNet-18 (or --model's ViT-B), 64×64, 1 epoch, batch 8, unless --depth, --size, --epochs or --batch say otherwise." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var threads = SampleCommandLine.Threads();
        var distributed = new DistributedCommandLine();
        var output = new Option<string>("--output") { Description = "Folder for checkpoints, history and the validation report.", DefaultValueFactory = _ => "runs/fundus" };
        var resizedCrop = new Option<double?>("--random-resized-crop")
        {
            Description = "MIN_SCALE: training augmentation by torchvision's RandomResizedCrop: a crop of MIN_SCALE to 1 of each image's area (aspect 3/4 to 4/3) at a random place, resized back to --size; e.g. 0.5. Default: none.",
        }.Must(v => v is null || v is > 0 and <= 1, "above 0 and at most 1");
        var initWeights = InitialWeights.WeightsOption("the --depth or the --model ViT-B", "the usual start for fundus photographs");
        var initEntry = InitialWeights.EntryOption();
        var minSensitivity = new Option<double?>("--min-sensitivity")
        {
            Description = "S: choose the referral threshold on the validation images as the most specific one that refers at least S of the pathologic (referable) ones (e.g. 0.9), and record it in the model file, where predict takes it as its default --threshold; for a multi-label table, each finding's threshold so (instead of Youden's J).",
        }.Must(v => v is null || v is > 0 and <= 1, "in (0, 1]");
        var sensitivityConfidence = OperatingPointOptions.SensitivityConfidence();
        var tensorBoard = SampleCommandLine.TensorBoard("");
        var classWeights = ClassImbalanceOptions.ClassWeights();
        var labelSmoothing = ClassImbalanceOptions.LabelSmoothing();
        var balance = new Option<bool>("--balance-classes") { Description = "Draw training photographs with probability 1/(count of their class) instead of shuffling (a WeightedRandomSampler, with replacement)." };
        var head = ClassImbalanceOptions.Head();
        var calibrate = TemperatureFits.CalibrateOption("the validation photographs",
            " — the validation report and --min-sensitivity's operating point then read those probabilities (fitted on the same photographs, so measure calibration on new ones with evaluate, or fit it on --calibration-fraction's photographs instead)");
        var calibrationFraction = TemperatureFits.CalibrationFractionOption("photographs");
        var command = new Command("train", "Train and evaluate a pathologic-myopia classifier on fundus image folders (or a grading or multi-class one on class sub-folders).")
        {
            trainFolder, valFolder, trainCsv, valCsv, nameColumn, labelColumn, labels, taskOption, referableFrom, model, depth, size, epochs, batch, lr, resizedCrop, seed, demo, device, threads, output, initWeights, initEntry, minSensitivity, sensitivityConfidence,
            tensorBoard, classWeights, labelSmoothing, balance, head, calibrate, calibrationFraction,
        };
        TemperatureFits.CheckCalibrationFraction(command, calibrate, calibrationFraction);
        command.Check(r => r.GetValue(sensitivityConfidence) is not null && r.GetValue(minSensitivity) is null
            ? "--sensitivity-confidence bounds the sensitivity of --min-sensitivity; give --min-sensitivity S too." : OperatingPointOptions.Check(r.GetValue(minSensitivity), r.GetValue(sensitivityConfidence)));
        InitialWeights.Check(command, initWeights, initEntry);
        command.Check(r => r.GetValue(labels) == "subfolders" && (r.GetValue(valCsv) is not null || r.GetResult(nameColumn) is { Implicit: false } || r.GetResult(labelColumn) is { Implicit: false })
            ? "--labels subfolders takes the labels from the class sub-folders of --train-folder and --val-folder: give no --val-csv, --name-column or --label-column." : null);
        command.Check(r => r.GetValue(labels) == "file-names" && (r.GetResult(taskOption) is { Implicit: false } || r.GetValue(referableFrom) is not null)
            ? "--task and --referable-from apply to class sub-folders or label tables (--labels subfolders or csv); iChallenge-PM's file names label two classes." : null);
        command.Check(r => r.GetValue(labels) == "csv" ? (r.GetValue(trainCsv) is null || r.GetValue(valCsv) is null ? "--labels csv reads the labels from tables: give --train-csv and --val-csv." : null)
            : r.GetValue(trainCsv) is not null ? "--train-csv labels the training folder with --labels csv; give --labels csv too." : null);
        command.Check(r => r.GetValue(labels) == "file-names" && r.GetValue(labelColumn)!.Contains(',')
            ? "Several --label-column columns label findings (a multi-label model) in tables of both folders: give --labels csv with --train-csv." : null);
        command.Check(r => r.GetValue(head) == "coral" && r.GetValue(model) != "resnet" ? $"--head coral ends a ResNet; --model {r.GetValue(model)} keeps its linear head." : null);
        command.Check(r => r.GetValue(model) != "resnet" && r.GetResult(depth) is { Implicit: false }
            ? $"--depth sets a ResNet's depth; --model {r.GetValue(model)} is a vision transformer (ViT-B: 12 layers)." : null);
        optimization.AddTo(command, epochs);
        optimization.AddHeadMultiplierTo(command, initWeights);
        distributed.AddTo(command); // the batch is checked against the world size in Run: --demo changes its default
        command.SetAction(r =>
        {
            // --demo changes the defaults of depth, size, epochs and batch, never a value the user gave.
            int Value(Option<int> option, int demoDefault) => r.GetValue(demo) && r.GetResult(option) is null or { Implicit: true } ? demoDefault : r.GetValue(option);
            return Run(new Settings(r.GetValue(trainFolder), r.GetValue(valFolder), r.GetValue(trainCsv), r.GetValue(valCsv), r.GetValue(nameColumn)!, r.GetValue(labelColumn)!,
                r.GetValue(labels)!, r.GetValue(taskOption)!, r.GetValue(referableFrom), r.GetValue(model)!, Value(depth, 18), Value(size, 64), Value(epochs, 1), Value(batch, 8), r.GetValue(lr), r.GetValue(seed), r.GetValue(demo),
                Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(output)!,
                distributed.Read(r), r.GetValue(distributed.SyncBatchNorm), r.GetValue(initWeights), r.GetValue(initEntry), optimization.Read(r), r.GetValue(resizedCrop), r.GetValue(minSensitivity), r.GetValue(sensitivityConfidence), r.GetValue(tensorBoard),
                r.GetValue(classWeights)!, r.GetValue(labelSmoothing), r.GetValue(balance), ClassImbalanceOptions.ParseHead(r.GetValue(head)!), r.GetValue(calibrate), r.GetValue(calibrationFraction)));
        });
        return command;
    }

    private sealed record Settings(string? TrainFolder, string? ValFolder, string? TrainCsv, string? ValCsv, string NameColumn, string LabelColumn, string Labelling, string Task, int? ReferableFrom, string Model, int Depth, int Size,
        int Epochs, int Batch, double LearningRate, int Seed, bool Demo, Device Device, int Threads, string Output,
        DistributedOptions Distributed, bool SyncBatchNorm, string? InitWeights, string? InitEntry, OptimizationRecipe Optimization, double? ResizedCropScale,
        double? MinSensitivity, double? SensitivityConfidence, string? TensorBoard, string ClassWeights, double LabelSmoothing, bool BalanceClasses, ClassifierHead Head, bool Calibrate, double? CalibrationFraction)
    {
        /// <summary>The labels come from class sub-folders.</summary>
        public bool Subfolders => Labelling == "subfolders";
    }

    private static int Run(Settings s)
    {
        int world = s.Distributed.WorldSize;
        if (s.Batch % world != 0) throw new ArgumentException($"--batch {s.Batch} must split evenly over the {world} processes of --world-size.");
        if (IsVisionTransformer(s.Model) && s.Size % PatchSize(s.Model) != 0)
            throw new ArgumentException($"--model {s.Model} cuts photographs into {PatchSize(s.Model)}×{PatchSize(s.Model)} patches: --size {s.Size} is not a multiple of {PatchSize(s.Model)} (e.g. 224).");
        // Data-parallel training: every process runs this same program; rank 0 prints and writes the files.
        using var group = s.Distributed.IsDistributed ? ProcessGroup.Initialize(s.Distributed) : null;
        if (group is { IsMaster: false }) AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
        if (!s.Demo) return Train(s, group);
        var root = Path.Combine(Path.GetTempPath(), "medvision-fundus-demo-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            AnsiConsole.MarkupLine($"[yellow]Demo:[/] writing 12 training and 12 validation generated images (not fundus data) to {root}{(s.Subfolders ? " in class sub-folders" : "")} (removed at the end)");
            if (s.Subfolders)
            {
                var (trainingFolders, validationFolders) = DemoFolder.WriteSubfolders(root, perClass: 6, size: 96, s.Seed);
                return Train(s with { TrainFolder = trainingFolders, ValFolder = validationFolders }, group);
            }
            var (training, validation, csv) = DemoFolder.Write(root, perClass: 6, size: 96, s.Seed);
            return Train(s with { TrainFolder = training, ValFolder = validation, ValCsv = csv, NameColumn = "imgName", LabelColumn = "Label" }, group);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static int Train(Settings s, ProcessGroup? group)
    {
        int world = s.Distributed.WorldSize;
        if (s.TrainFolder is null || s.ValFolder is null || (s.ValCsv is null && !s.Subfolders))
        {
            Console.Error.WriteLine($"No data: give --train-folder, --val-folder{(s.Subfolders ? "" : " and --val-csv")}. This sample does not generate fundus data.");
            Console.Error.WriteLine(Layout);
            return 2;
        }
        Tensors.NumThreads = s.Threads;
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(s.Device) +
            (group is null ? "" : $" · data-parallel: {world} processes, {s.Batch / world} images each per step"));
        var (train, val) = s.Labelling switch
        {
            "subfolders" => Subfolders(s.TrainFolder, s.ValFolder),
            "csv" => Tables(s.TrainFolder, s.TrainCsv!, s.ValFolder, s.ValCsv!, s.NameColumn, s.LabelColumn),
            _ => (ImageFolderDataset.FromFileNames(s.TrainFolder, FileNameLabelRule.PathologicMyopia),
                ImageFolderDataset.FromCsv(s.ValFolder, s.ValCsv!, new CsvLabelOptions { FileNameColumn = s.NameColumn, LabelColumn = s.LabelColumn, ClassNames = FileNameLabelRule.PathologicMyopia.ClassNames })),
        };
        var classNames = train.ClassNames.ToArray();
        if (train.IsMultiLabel && s.Task != "auto")
            throw new ArgumentException($"--task {s.Task} applies to one class per photograph; the {classNames.Length} finding columns ({string.Join(", ", classNames)}) train a multi-label model.");
        var taskType = train.IsMultiLabel ? MedMnistTask.MultiLabel
            : s.Labelling == "file-names" ? MedMnistTask.Binary
            : ClassTasks.Choose(s.Task, classNames, s.Subfolders ? $"the class folders of {s.TrainFolder}" : $"the labels of {s.TrainCsv}");
        // The lowest referable class: 1 (binary), a grade (ordinal); none for unordered classes.
        int? from = OperatingPointOptions.ReferableClass(taskType, classNames, s.ReferableFrom, s.MinSensitivity is not null, findings: true);
        if (s.Calibrate && train.IsMultiLabel)
            throw new ArgumentException($"--calibrate fits one temperature to a softmax over classes; the {classNames.Length} finding columns ({string.Join(", ", classNames)}) train a sigmoid per finding (multi-label), whose thresholds are chosen per finding instead.");
        // --calibration-fraction: a stratified share of the training photographs held out for the temperature's fit.
        ImageFolderDataset? calibration = null;
        if (s.CalibrationFraction is double share)
        {
            var (keep, held) = TemperatureFits.CarveCalibration(train.Samples.Select(x => x.Label).ToArray(), share, s.Seed, classNames, "photographs");
            (train, calibration) = (train.Subset(keep), train.Subset(held));
        }
        if (s.BalanceClasses && train.IsMultiLabel)
            throw new ArgumentException("--balance-classes draws photographs by their class; a photograph of a multi-label table has several findings (use --class-weights … for single-label tables only, or neither).");
        // How messages name the positive class's images: "pathologic" in iChallenge-PM's layout, else the class's name
        // (a folder's, or a table's label), or the referable grades.
        string positives = s.Labelling == "file-names" ? "pathologic" : taskType == MedMnistTask.Binary ? classNames[1] : $"grade ≥ {from}";
        // What the referral decision reads: the positive class's probability, or that of the referable grades.
        string risk = taskType == MedMnistTask.Binary ? $"P({classNames[1]})" : $"P(grade ≥ {from})";
        if (s.MinSensitivity is not null && from is int lowest && val.Samples.Select(x => x.Label >= lowest).Distinct().Count() < 2)
            throw new ArgumentException(taskType == MedMnistTask.Binary
                ? "--min-sensitivity chooses a threshold on validation images of both classes; the validation folder holds one class only."
                : $"--min-sensitivity chooses a threshold on validation images below and at or above grade {lowest}; the validation folder holds {(val.Samples.Any(x => x.Label >= lowest) ? "referable" : "non-referable")} images only.");
        string Counts(ImageFolderDataset d) => taskType == MedMnistTask.Binary
            ? $"{d.Count} images ({d.Samples.Count(x => x.Label == 1)} {positives})"
            : $"{d.Count} images ({string.Join(", ", classNames.Select((n, k) => $"{n}: {d.Samples.Count(x => FundusModels.Has(x, k) == 1)}"))})";
        string classes = s.Labelling == "file-names" ? ""
            : taskType == MedMnistTask.MultiLabel ? $" · {classNames.Length} findings (multi-label): {string.Join(", ", classNames)}"
            : taskType == MedMnistTask.Binary ? $" · classes {classNames[0]} (0) and {classNames[1]} (1, referable)"
            : taskType == MedMnistTask.OrdinalRegression ? $" · ordinal grades {string.Join(", ", classNames.Select((_, k) => PredictionTable.ClassLabel(classNames, k)))}, referable from {PredictionTable.ClassLabel(classNames, from!.Value)}"
            : $" · {classNames.Length} classes (multi-class): {string.Join(", ", classNames.Select((n, k) => $"{n} ({k})"))}";
        AnsiConsole.MarkupLine(Markup.Escape($"Training {Counts(train)}{(calibration is null ? "" : $" · calibration {Counts(calibration)} (held out of training for --calibrate)")} · validation {Counts(val)}{classes}"));
        if (group is not { IsMaster: false }) AuditFolders(train, val, calibration, s.Output);

        // ImageNet statistics; augmentation on training images only.
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        var augmentation = TransformPipeline.Create();
        if (s.ResizedCropScale is double minScale) augmentation = augmentation.RandomResizedCrop(s.Size, s.Size, scaleMin: minScale);
        var augment = augmentation.RandomHorizontalFlip().RandomVerticalFlip().RandomRotation(15).ColorJitter(0.2, 0.2, 0.2).Normalize(mean, std).Build();
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Training augmentation: {(s.ResizedCropScale is double m ? $"random resized crops of {m:G4}–1 of the area, " : "")}horizontal and vertical flips, rotation ±15°, colour jitter 0.2")));
        var plain = TransformPipeline.Create().Normalize(mean, std).Build();
        var labelKind = train.IsMultiLabel ? LabelKind.MultiLabel : LabelKind.ClassIndex;
        DataLoader Loader(ImageFolderDataset d, bool training) => new(new ImageFolderSource(d, s.Size, s.Size),
            new DataLoaderOptions { BatchSize = training ? s.Batch / world : s.Batch, Shuffle = training, Seed = s.Seed, Transform = training ? augment : plain, Device = s.Device, LabelKind = labelKind });

        Tensors.ManualSeed((ulong)s.Seed);
        if (s.Head == ClassifierHead.Coral && taskType != MedMnistTask.OrdinalRegression)
            throw new ArgumentException($"--head coral ranks ordered grades; these labels make a {FundusModels.TaskName(taskType)} task (grade folders named 0, 1, 2, … or --task ordinal make an ordinal one).");
        using var network = CreateNetwork(s, classNames.Length);
        string name = NetworkName(s);
        AnsiConsole.MarkupLine(Markup.Escape($"{name} ({(network is ResNet ? s.Head == ClassifierHead.Coral ? "ImageNet stem, CORAL head" : "ImageNet stem" : $"{PatchSize(s.Model)}×{PatchSize(s.Model)} patches")}, {s.Size}×{s.Size}): {network.ParameterCount():N0} parameters · batch {s.Batch} · {s.Epochs} epoch(s)"));
        // In data-parallel training rank 0's weights are copied to every process: only rank 0 reads (or downloads) them.
        if (s.InitWeights is not null && group is not { IsMaster: false })
        {
            if (network is VisionTransformer vit) InitialWeights.Apply(vit, s.Model, s.InitWeights, s.InitEntry);
            else InitialWeights.Apply((ResNet)network, s.Depth, s.InitWeights, s.InitEntry);
        }
        var (task, weights, loss) = ClassImbalanceOptions.Create(network, taskType, s.ClassWeights, s.LabelSmoothing, train.Samples.Select(x => x.Label).ToArray(), classNames.Length, s.Head);
        using var ownedWeights = weights;
        if (loss is not null) AnsiConsole.MarkupLine(Markup.Escape(loss));
        var trainLoader = Loader(train, training: true);
        if (s.BalanceClasses)
        {
            trainLoader.Options.Shuffle = false;
            trainLoader.Options.WeightedSampler = WeightedRandomSampler.BalanceClasses(train.Samples.Select(x => x.Label).ToArray());
            AnsiConsole.MarkupLine("Training photographs are drawn class-balanced (1/class count), with replacement.");
        }
        var progress = TrainingConsole.EpochLines();
        var builder = Trainer.Create(task);
        s.Optimization.ApplyTo(builder, s.LearningRate, SampleNetworks.Classifier(network));
        AnsiConsole.MarkupLine(Markup.Escape("Optimization: " + s.Optimization.Describe(s.LearningRate)));
        if (group is not null) builder.DistributeOver(group, new DataParallelOptions { SyncBatchNorm = s.SyncBatchNorm });
        if (s.TensorBoard is not null) builder.WriteTensorBoardTo(s.TensorBoard); // rank 0 writes
        var result = builder
            .TrainOn(trainLoader)
            .ValidateOn(Loader(val, training: false))
            .ForEpochs(s.Epochs)
            .OnDevice(s.Device)
            .WithSeed(s.Seed)
            .SaveTo(s.Output)
            .ReportProgressTo(progress)
            .Build()
            .Run();

        // The selected model (best validation AUC) on the validation set; there is no separate test split here.
        (int[,] Labels, double[,] Scores) Predict(ImageFolderDataset d) => group is null ? Trainer.Predict(task, Loader(d, training: false)) : Trainer.PredictDistributed(task, Loader(d, training: false), group);
        var (labels, scores) = Predict(val);
        var heldOut = calibration is null ? default : Predict(calibration);
        if (group is { IsMaster: false }) return 0;
        // --calibrate: the temperature fitted on these photographs (with --calibration-fraction, on the held-out training
        // ones); from here on their probabilities are the calibrated ones the model file's predictor gives (a softmax's
        // arg-max, a CORAL head's median grade and a binary AUC keep).
        TemperatureScaling? scaling = null;
        string calibrationFields = "";
        if (calibration is not null)
            (scaling, scores, calibrationFields) = TemperatureFits.FitOnCalibrationAndReport(taskType, heldOut.Labels, heldOut.Scores, labels, scores, onCumulativeLogits: task is CoralTask, "photographs");
        else if (s.Calibrate)
            (scaling, scores, calibrationFields) = TemperatureFits.FitAndReport(taskType, labels, scores, onCumulativeLogits: task is CoralTask, "photographs: measure it on new ones with evaluate");
        var auc = MedMnistEvaluator.GetAuc(taskType, labels, scores).Value;
        var acc = MedMnistEvaluator.GetAcc(taskType, labels, scores, task.Decision);   // a CORAL head's grades: its median
        bool multiLabel = taskType == MedMnistTask.MultiLabel;
        // One class per photograph: the confusion matrix and its measures (a multi-label model has AUC and ACC per finding).
        var actual = multiLabel ? [] : FundusModels.Column(labels, 0);
        var predicted = multiLabel ? [] : MedMnistEvaluator.Predict(taskType, scores, task.Decision);
        var matrix = multiLabel ? null : ConfusionMatrix.FromPredictions(actual, predicted, classNames.Length);
        var measures = matrix is null ? null : ClassificationMetrics.FromConfusionMatrix(matrix);
        var report = ModelEvaluator.Evaluate(taskType, labels, scores, task.Decision);
        report.WriteCsv(Path.Combine(s.Output, "validation-evaluation.csv"));
        // Referral (binary and ordinal models): the positive class, or the grades from `from`, against the rest — the
        // predicted class's sensitivity and specificity, the ROC of the risk, the operating point.
        double sensitivity = double.NaN, specificity = double.NaN;
        int[] referable = [];
        double[] risks = [];
        if (from is int cutoff)
        {
            (referable, risks) = Referral.FromGrades(actual, scores, cutoff);
            var decisions = ConfusionMatrix.FromPredictions(referable, predicted.Select(p => p >= cutoff ? 1 : 0).ToArray(), 2);
            sensitivity = (double)decisions.TruePositives(1) / decisions.Support(1);
            specificity = (double)decisions.TrueNegatives(1) / (decisions.Total - decisions.Support(1));
        }
        var plots = new List<(string File, SvgChart Chart)>
        {
            ("training-curves.svg", TrainingPlots.TrainingCurves(result.History, "Training loss and validation metrics")),
            multiLabel ? ("validation-roc.svg", TrainingPlots.PerLabelRocCurves(labels, scores, classNames, "Validation ROC (per finding)"))
                : from is null ? ("validation-roc.svg", TrainingPlots.RocCurves(actual, scores, classNames, "Validation ROC (one vs rest)"))
                : ("validation-roc.svg", TrainingPlots.RocCurve(referable, risks, taskType == MedMnistTask.Binary ? classNames[1] : positives, "Validation ROC")),
        };
        if (matrix is not null) plots.Add(("validation-confusion.svg", new ConfusionMatrixChart(matrix, classNames, "Validation confusion matrix")));
        foreach (var (file, chart) in plots)
        {
            chart.Save(Path.Combine(s.Output, file));
            chart.TrySavePng(Path.Combine(s.Output, Path.ChangeExtension(file, ".png"))); // when rsvg-convert is installed
        }

        var mapFolder = WriteMaps(network, val, new ImageFolderSource(val, s.Size, s.Size), plain, s.Device, s.Output, count: 4);
        // A self-describing model file for predict (and Predictor.Load): the selected weights, the input size and 8-bit
        // resizing, ImageNet's normalisation, the class names and the validation measures of the selected epoch.
        var modelPath = Path.Combine(s.Output, "model.safetensors");
        // (photographs resized as 8-bit pixels, as the training source resized them, so Predictor.PredictFile prepares them alike)
        var preprocessing = new ImageFolderSource(val, s.Size, s.Size).DescribePreprocessing(mean, std);
        var metrics = new Dictionary<string, double> { ["val_auc"] = auc, ["val_acc"] = acc };
        if (from is not null) (metrics["val_sensitivity"], metrics["val_specificity"]) = (sensitivity, specificity);
        if (taskType == MedMnistTask.OrdinalRegression) (metrics["referable_from"], metrics["val_qwk"]) = (from!.Value, measures!.QuadraticKappa.Value);
        if (taskType == MedMnistTask.MultiClass) (metrics["val_balanced_accuracy"], metrics["val_macro_f1"]) = (measures!.BalancedAccuracy, measures.MacroF1);
        metrics["best_epoch"] = result.BestEpoch + 1;
        var card = SampleNetworks.Describe(network, preprocessing, val.ClassNames, taskType, metrics);
        if (scaling is not null) card.SetTemperature(scaling);
        if (multiLabel)
        {
            // Each finding's threshold chosen on the validation photographs (Youden's J, or the most specific one with
            // --min-sensitivity), recorded for predict and evaluate.
            var (thresholds, notes) = FindingThresholds(labels, scores, s.MinSensitivity, s.SensitivityConfidence, classNames);
            card.SetFindingThresholds(thresholds);   // chosen on float32 probabilities without flips, as predict computes them
            string rule = s.MinSensitivity is double required
                ? string.Create(CultureInfo.InvariantCulture, $"the most specific reaching sensitivity {required:G4}{(s.SensitivityConfidence is double c ? $" with {c:P0} confidence" : "")}")
                : "Youden's J";
            AnsiConsole.MarkupLine(Markup.Escape($"Finding thresholds ({rule} on the validation photographs; 0.5 for a finding present in all or none of them), recorded in the model file: "
                + string.Join(", ", classNames.Select((n, k) => $"{n} {thresholds[k].ToString("F3", CultureInfo.InvariantCulture)}"))));
            foreach (var note in notes) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
        }
        // --min-sensitivity: the operating point chosen on the validation images, kept with the model for predict.
        string operatingPoint = "";
        if (s.MinSensitivity is double minimum && !multiLabel)
            (card.Referral, operatingPoint) = OperatingPointOptions.Record(referable, risks, minimum, s.SensitivityConfidence, from!.Value, risk, "images", $"{positives} photographs", scaling);
        ModelFile.Save(modelPath, network, card);

        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        // AUC and ACC (MedMNIST's), then the referral measures — of the positive class, or of grades ≥ `from` with the
        // quadratically weighted kappa of the grades — or, for unordered classes, balanced accuracy and macro F1.
        var columns = new List<(string Header, double Value)> { ("AUC", auc), ("ACC", acc) };
        if (taskType == MedMnistTask.OrdinalRegression) columns.Add(("quadratic κ", measures!.QuadraticKappa.Value));
        if (from is not null)
        {
            string referral = taskType == MedMnistTask.Binary ? "" : $" (grade ≥ {from})";
            columns.AddRange([("sensitivity" + referral, sensitivity), ("specificity" + referral, specificity)]);
        }
        else if (measures is not null) columns.AddRange([("balanced accuracy", measures.BalancedAccuracy), ("macro F1", measures.MacroF1)]);
        var table = new Table().Title($"{name} — selected epoch {result.BestEpoch + 1} (best validation AUC), validation set");
        foreach (var (header, _) in columns) table.AddColumn(new TableColumn(Markup.Escape(header)).RightAligned());
        table.AddRow(columns.Select(c => F(c.Value)).ToArray());
        AnsiConsole.Write(table);
        var full = Path.GetFullPath(s.Output);
        AnsiConsole.MarkupLine(Markup.Escape($"Model file: {Path.GetFullPath(modelPath)}{TemperatureFits.OfCard(card)} ({(taskType == MedMnistTask.Binary ? "screen" : "grade")} photographs with: fundus-folder predict --model {modelPath} PHOTO.jpg; measure it on labelled test photographs with: fundus-folder evaluate --model {modelPath} --test-folder FOLDER)"));
        AnsiConsole.MarkupLine($"Checkpoints: {full}/best.safetensors · history: {full}/history.csv · report: {full}/validation-evaluation.csv · plots: {string.Join(", ", plots.Select(p => $"{full}/{p.File}"))} · {(network is ResNet ? "Grad-CAM" : "gradient-weighted attention rollout")} of the first validation photographs: {Path.GetFullPath(mapFolder)}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {(network is ResNet ? $"resnet{s.Depth}" : s.Model)} fundus{(s.Demo ? "-demo" : "")} size={s.Size} seed={s.Seed} epochs={s.Epochs} best_epoch={result.BestEpoch + 1} task={FundusModels.TaskName(taskType)}{(s.Head == ClassifierHead.Coral ? " head=coral" : "")} classes={classNames.Length}")
            + (from is int g && taskType != MedMnistTask.Binary ? string.Create(CultureInfo.InvariantCulture, $" referable_from={g}") : "")
            + string.Concat(columns.Select(c => $" val_{ResultKey(c.Header)}={F(c.Value)}")) + calibrationFields + operatingPoint);
        return 0;
    }

    // Before training: is any validation photograph a near-copy of a training one (the same picture saved twice, or
    // re-encoded)? Compared as 64×64 thumbnails; the pairs go to OUTPUT/near-duplicates.csv, and a warning says that
    // the validation metrics would count images the model trained on. With --calibration-fraction the photographs held out
    // for calibration are a third split: near-copies of them among the training ones would make the fit overconfident.
    private static void AuditFolders(ImageFolderDataset train, ImageFolderDataset val, ImageFolderDataset? calibration, string output)
    {
        const int Thumbnail = 64;
        var builder = SplitAudit.Create()
            .AddSplit("train", new ImageFolderSource(train, Thumbnail, Thumbnail))
            .AddSplit("val", new ImageFolderSource(val, Thumbnail, Thumbnail));
        if (calibration is not null) builder.AddSplit("calibration", new ImageFolderSource(calibration, Thumbnail, Thumbnail));
        var audit = builder.Run();
        var across = audit.Between("train", "val");
        string Name(ImageFolderDataset d, int i) => Path.GetFileName(d.Samples[i].FilePath);
        string held = calibration is null ? "" : $", {audit.Between("train", "calibration").Count} between the training photographs and those held out for calibration";
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Split audit ({Thumbnail}×{Thumbnail} thumbnails, mean absolute difference ≤ {audit.MaxDifference:G4}): {across.Count} near-duplicate pair(s) between the training and validation folders, {audit.Between("train", "train").Count} within the training {(calibration is null ? "folder" : "photographs")}{held}, {audit.LabelConflicts.Count} with different labels")));
        if (across.Count == 0) return;
        audit.WriteCsv(Path.Combine(output, "near-duplicates.csv"));
        AnsiConsole.MarkupLine("[yellow]Warning:[/] " + Markup.Escape(
            $"validation photographs that are near-copies of training ones inflate the validation metrics: {string.Join(", ", across.Take(5).Select(d => $"{Name(val, d.SecondIndex)} ~ {Name(train, d.FirstIndex)}"))}{(across.Count > 5 ? ", …" : "")} (all pairs: {Path.GetFullPath(Path.Combine(output, "near-duplicates.csv"))})"));
    }

    // The first validation photographs' maps for the predicted class, blended over each photograph at its own size:
    // Grad-CAM (last stage) of a ResNet in validation-gradcam/NAME-gradcam.png (NAME: the path below the validation
    // folder, e.g. pathologic_V0001 in class sub-folders), a vision transformer's
    // gradient-weighted attention rollout (class-specific, as Grad-CAM) in validation-gradrollout/NAME-gradrollout.png.
    private static string WriteMaps(Module<Tensor, Tensor> network, ImageFolderDataset val, ImageFolderSource source, TransformPipeline normalize, Device device, string output, int count)
    {
        string tag = network is ResNet ? "gradcam" : "gradrollout";
        var folder = Directory.CreateDirectory(Path.Combine(output, "validation-" + tag)).FullName;
        network.Eval();
        Func<Tensor, ClassActivationMaps> compute;
        if (network is ResNet resnet)
        {
            var gradCam = GradCam.ForResNet(resnet);
            compute = x => gradCam.Compute(x);
        }
        else
        {
            var rollout = new GradientAttentionRollout((VisionTransformer)network);
            compute = x => rollout.Compute(x);
        }
        for (int i = 0; i < Math.Min(count, val.Count); i++)
        {
            using var scope = Tensors.NewDisposeScope();
            var image = normalize.Apply(source.Load(i).Image, new Random(0));
            var input = Tensors.FromSpan<float>(image.Data, new long[] { 1, image.Channels, image.Height, image.Width }, device);
            using var maps = compute(input);
            var photograph = val.Samples[i].FilePath;
            var overlay = Heatmap.Overlay(ImageCodec.DecodeFile(photograph), maps.ToArray(0), image.Width, image.Height);
            // Named by the photograph's path below the validation folder (class sub-folders may repeat file names).
            var name = Path.ChangeExtension(Path.GetRelativePath(val.Root, photograph), null).Replace(Path.DirectorySeparatorChar, '_');
            ImageCodec.Save(Path.Combine(folder, $"{name}-{tag}.png"), overlay);
        }
        return folder;
    }

    // Per finding: the threshold that maximises Youden's J on the validation photographs — with --min-sensitivity the
    // most specific one that finds that share of the photographs showing it (its lower confidence bound, with
    // --sensitivity-confidence) — kept inside (0, 1); 0.5 for a finding that all or none of them show. A finding whose
    // photographs are too few to show the bound keeps Youden's threshold, and a note says so.
    private static (List<double> Thresholds, List<string> Notes) FindingThresholds(int[,] labels, double[,] scores, double? minSensitivity, double? confidence, IReadOnlyList<string> names)
    {
        var thresholds = new List<double>();
        var notes = new List<string>();
        for (int k = 0; k < labels.GetLength(1); k++)
        {
            var present = FundusModels.Column(labels, k);
            var probability = FundusModels.Column(scores, k);
            double t;
            if (present.Distinct().Count() < 2) t = 0.5;
            else if (minSensitivity is double minimum && OperatingPointOptions.Choose(present, probability, minimum, confidence) is var point && !double.IsNegativeInfinity(point.Threshold))
                t = point.Threshold;
            else
            {
                t = OperatingPoint.Youden(present, probability).Threshold;
                if (minSensitivity is not null)
                    notes.Add($"{names[k]}: its {present.Count(v => v == 1)} validation photographs cannot show the required sensitivity ({OperatingPointOptions.Choose(present, probability, minSensitivity.Value, confidence).Rule}); it keeps Youden's threshold.");
            }
            thresholds.Add(double.IsFinite(t) ? Math.Clamp(t, 1e-6, 1 - 1e-6) : 0.5);
        }
        return (thresholds, notes);
    }

    // Label tables of the training and validation folders: one class column (the validation labels within the training
    // classes), or several 0/1 finding columns (a multi-label model).
    private static (ImageFolderDataset Train, ImageFolderDataset Val) Tables(string trainFolder, string trainCsv, string valFolder, string valCsv, string nameColumn, string labelColumn)
    {
        var columns = labelColumn.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (columns.Length > 1)
        {
            var findings = new CsvLabelOptions { FileNameColumn = nameColumn, LabelColumns = columns };
            return (ImageFolderDataset.FromCsv(trainFolder, trainCsv, findings), ImageFolderDataset.FromCsv(valFolder, valCsv, findings));
        }
        var train = ImageFolderDataset.FromCsv(trainFolder, trainCsv, new CsvLabelOptions { FileNameColumn = nameColumn, LabelColumn = labelColumn });
        return (train, ImageFolderDataset.FromCsv(valFolder, valCsv, new CsvLabelOptions { FileNameColumn = nameColumn, LabelColumn = labelColumn, ClassNames = train.ClassNames }));
    }

    // Class sub-folders of the training and validation folders: the same classes in both.
    private static (ImageFolderDataset Train, ImageFolderDataset Val) Subfolders(string trainFolder, string valFolder)
    {
        var train = ImageFolderDataset.FromSubfolders(trainFolder);
        var val = ImageFolderDataset.FromSubfolders(valFolder);
        if (!train.ClassNames.SequenceEqual(val.ClassNames))
            throw new ArgumentException($"The validation folder's classes ({string.Join(", ", val.ClassNames)}) are not the training folder's ({string.Join(", ", train.ClassNames)}).");
        return (train, val);
    }

    // A RESULT key from a table header: "sensitivity (grade ≥ 2)" → "sensitivity", "quadratic κ" → "qwk", "macro F1" → "macro_f1".
    private static string ResultKey(string header) => header switch
    {
        "quadratic κ" => "qwk",
        _ => header.Split(" (")[0].ToLowerInvariant().Replace(' ', '_'),
    };

    private static bool IsVisionTransformer(string model) => model != "resnet";

    // ViT-B/16's or ViT-B/32's patch.
    private static int PatchSize(string model) => model == "vit-b32" ? 32 : 16;

    private static string NetworkName(Settings s) => s.Model switch
    {
        "vit-b16" => "ViT-B/16",
        "vit-b32" => "ViT-B/32",
        _ => $"ResNet-{s.Depth}",
    };

    // The network of --model for `classes` classes: a ResNet of --depth with the ImageNet stem, or torchvision's ViT-B/16 or ViT-B/32 for --size.
    private static Module<Tensor, Tensor> CreateNetwork(Settings s, int classes) => IsVisionTransformer(s.Model)
        ? VisionTransformer.Builder().ForInput(channels: 3).WithImageSize(s.Size).WithPatchSize(PatchSize(s.Model)).Base().WithClasses(classes).Build()
        : ResNet.Builder().WithDepth(s.Depth).ForInput(channels: 3).WithImageNetStem().WithClasses(classes).WithHead(s.Head).Build();
}
