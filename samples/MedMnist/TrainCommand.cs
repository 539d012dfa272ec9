using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Distributed;
using MedVision.Torch.TensorBoard;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>train</c> command: the MedMNIST v2 recipe (Adam 1e-3, batch 128, ×0.1 at 50% and 75% of the epochs, best
/// validation AUC) by default; --optimizer and --schedule choose others. The 3-D datasets train a 3-D ResNet with the
/// small-input stem on their volumes as they are (intensities in [0, 1]), as MedMNIST's 3-D experiments do.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var dataset = ModelOptions.Dataset("MedMNIST dataset name (default retinamnist, which is shipped; others are downloaded from Zenodo into the cache). The 3-D ones (organmnist3d, nodulemnist3d, …) train a 3-D ResNet.");
        var dataFile = ModelOptions.DataFile();
        var model = ModelOptions.Architecture();
        var resolution = ModelOptions.Resolution();
        var epochs = new Option<int>("--epochs") { Description = "Training epochs (the recipe: 100).", DefaultValueFactory = _ => 100 }.AtLeast(1);
        var batch = new Option<int>("--batch") { Description = "Batch size (global: split evenly over the processes in data-parallel training).", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var lr = ModelOptions.LearningRate();
        var optimization = new OptimizationCommandLine();
        var seed = new Option<int>("--seed") { Description = "Seed of weights, shuffling and augmentation.", DefaultValueFactory = _ => 0 };
        var device = ModelOptions.DeviceChoice();
        var threads = ModelOptions.Threads();
        var distributed = new DistributedCommandLine();
        var output = new Option<string>("--output") { Description = "Folder for checkpoints, history, evaluation and plots.", DefaultValueFactory = _ => "runs/medmnist" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --output from its last checkpoint." };
        var calibrate = TemperatureFits.CalibrateOption("the validation split", "");
        var mixup = new Option<double?>("--mixup") { Description = "mixup the training batches with λ ~ Beta(ALPHA, ALPHA), e.g. 0.2 (not part of the MedMNIST recipe)." }.Positive();
        var cutmix = new Option<double?>("--cutmix") { Description = "CutMix the training batches with λ ~ Beta(ALPHA, ALPHA), e.g. 1.0 (not part of the MedMNIST recipe)." }.Positive();
        var mixedPrecision = ModelOptions.MixedPrecision("Forward passes in bfloat16 autocast (weights and optimizer stay float32): about 1.8× faster on CPUs with AVX-512 BF16 or AMX; not part of the MedMNIST recipe.");
        var initWeights = InitialWeights.WeightsOption("the --model", "best with --resolution 224");
        var initEntry = InitialWeights.EntryOption();
        var tensorBoard = SampleCommandLine.TensorBoard("; at the end the run's hyperparameters with its test AUC/ACC, for the HParams tab");
        var tensorBoardHistograms = new Option<bool>("--tensorboard-histograms") { Description = "With --tensorboard, a histogram of every parameter after each epoch (0.7 s per epoch for ResNet-18's 11.2 M parameters on 2 cores, a few % of a RetinaMNIST epoch; docs/benchmarks.md)." };
        var balance = new Option<bool>("--balance-classes") { Description = "Draw training images with probability 1/(count of their class) instead of shuffling (a WeightedRandomSampler; not part of the MedMNIST recipe)." };
        var classWeights = ClassImbalanceOptions.ClassWeights();
        var labelSmoothing = ClassImbalanceOptions.LabelSmoothing();
        var head = ClassImbalanceOptions.Head();
        var command = new Command("train", "Train a ResNet with the MedMNIST v2 recipe and evaluate the model selected by validation AUC.")
        {
            dataset, dataFile, model, resolution, epochs, batch, lr, seed, device, threads, output, resume, initWeights, initEntry, balance, mixup, cutmix, calibrate, mixedPrecision,
            tensorBoard, tensorBoardHistograms, classWeights, labelSmoothing, head,
        };
        distributed.AddTo(command, batch);
        optimization.AddTo(command, epochs);
        command.Check(r => r.GetValue(mixup) is not null && r.GetValue(cutmix) is not null ? "Choose --mixup or --cutmix, not both." : null);
        command.Check(r => r.GetValue(initWeights) is not null && r.GetValue(resume) ? "--init-weights starts a new run and --resume continues one: choose one." : null);
        InitialWeights.Check(command, initWeights, initEntry);
        optimization.AddHeadMultiplierTo(command, initWeights, resume);
        command.Check(r => r.GetValue(tensorBoardHistograms) && r.GetValue(tensorBoard) is null ? "--tensorboard-histograms needs --tensorboard FOLDER." : null);
        command.Check(r => r.GetValue(head) == "coral" && IsVisionTransformer(r.GetValue(model)!) ? "--head coral ends a ResNet; a vision transformer keeps its linear head." : null);
        command.SetAction(r => Run(new TrainSettings(
            r.GetValue(dataset), r.GetValue(dataFile), r.GetValue(model)!, r.GetValue(resolution), r.GetResult(resolution) is { Implicit: false }, r.GetValue(epochs), r.GetValue(batch),
            r.GetValue(lr), r.GetValue(seed), Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(output)!, r.GetValue(resume),
            r.GetValue(balance), r.GetValue(mixup), r.GetValue(cutmix), r.GetValue(calibrate), distributed.Read(r), r.GetValue(distributed.SyncBatchNorm), r.GetValue(mixedPrecision),
            r.GetValue(initWeights), r.GetValue(initEntry), optimization.Read(r), r.GetValue(tensorBoard), r.GetValue(tensorBoardHistograms),
            r.GetValue(classWeights)!, r.GetValue(labelSmoothing), ClassImbalanceOptions.ParseHead(r.GetValue(head)!))));
        return command;
    }

    private sealed record TrainSettings(string? Dataset, string? DataFile, string Model, int Resolution, bool ResolutionGiven, int Epochs, int Batch, double LearningRate, int Seed, Device Device, int Threads, string Output, bool Resume,
        bool BalanceClasses, double? Mixup, double? CutMix, bool Calibrate, DistributedOptions Distributed, bool SyncBatchNorm, bool MixedPrecision,
        string? InitWeights, string? InitEntry, OptimizationRecipe Optimization, string? TensorBoard, bool TensorBoardHistograms, string ClassWeights, double LabelSmoothing, ClassifierHead Head);

    private static int Run(TrainSettings s)
    {
        int world = s.Distributed.WorldSize;
        Tensors.NumThreads = s.Threads;
        // Data-parallel training: every process runs this same program; rank 0 prints, plots and writes the files.
        using var group = s.Distributed.IsDistributed ? ProcessGroup.Initialize(s.Distributed) : null;
        bool master = group?.IsMaster ?? true;
        if (!master) AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
        var data = LoadDataset(s.Dataset, s.DataFile);
        var info = data.Info!; // LoadDataset always names the dataset, so the loader checked the file against it
        int resolution = Resolution(info, data.Train, s.Resolution, s.ResolutionGiven);
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(s.Device) +
            (group is null ? "" : $" · data-parallel: {world} processes ({group.Backend}, {s.Batch / world} images each per step{(s.SyncBatchNorm ? ", synchronised batch norm" : "")})"));
        AnsiConsole.MarkupLine($"Dataset [green]{info.Name}[/] ({info.Task}, {info.ClassCount} classes, {info.Channels} channel(s)): train {data.Train.Count}, val {data.Validation.Count}, test {data.Test.Count} · licence {info.License}");

        // Images scaled to [−1, 1] (MedMNIST: Normalize(mean=.5, std=.5)); 28×28 images upsampled with nearest neighbour for the 224 recipe.
        // Images of another size (a MedMNIST+ file) are resized to --resolution too, so the model trains at the input
        // size its model file records (and the predictor resizes to): nearest neighbour up, bilinear down.
        int imageSize = data.Train.SampleShape[0];
        if (imageSize != resolution)
            AnsiConsole.MarkupLine($"Images {imageSize}×{imageSize} are resized to {resolution}×{resolution} ({(imageSize < resolution ? "nearest neighbour" : "bilinear")}).");
        var normalization = Normalization(s.Model, s.InitWeights, info);
        if (normalization.Note is { } note) AnsiConsole.MarkupLine(Markup.Escape(note));
        var transform = Preprocessing(imageSize, resolution, info.Is3D, normalization);
        var labelKind = info.Task == MedMnistTask.MultiLabel ? LabelKind.MultiLabel : LabelKind.ClassIndex;
        DataLoader Loader(MedMnistSplitData split, bool shuffle) => new(new MedMnistImageSource(split),
            new DataLoaderOptions { BatchSize = shuffle ? s.Batch / world : s.Batch, Shuffle = shuffle, Seed = s.Seed, Transform = transform, LabelKind = labelKind, Device = s.Device });

        Tensors.ManualSeed((ulong)s.Seed);
        if (s.Head == ClassifierHead.Coral && info.Task != MedMnistTask.OrdinalRegression)
            throw new ArgumentException($"--head coral ranks ordered grades; {info.Name} is a {info.Task} task (use --head linear).");
        using var network = CreateModel(s.Model, resolution, info, s.Head);
        var macs = ModelSummary.Create(network, InputShape(info, resolution)).TotalMultiplyAccumulates;
        AnsiConsole.MarkupLine($"Model {s.Model} ({Layout(s.Model, resolution, info)}{(s.Head == ClassifierHead.Coral ? ", CORAL head" : "")}): {network.ParameterCount():N0} parameters, {macs / 1e9:0.000} G mult-adds per {(info.Is3D ? "volume" : "image")}");
        // In data-parallel training rank 0's weights are copied to every process: only rank 0 reads (or downloads) them.
        if (s.InitWeights is not null && master) ApplyInitialWeights(network, s.Model, info, s.InitWeights, s.InitEntry);

        var trainLabels = Enumerable.Range(0, data.Train.Labels.GetLength(0)).Select(i => data.Train.Labels[i, 0]).ToArray();
        var (task, weights, loss) = ClassImbalanceOptions.Create(network, info.Task, s.ClassWeights, s.LabelSmoothing, trainLabels, info.ClassCount, s.Head);
        using var ownedWeights = weights;
        if (loss is not null) AnsiConsole.MarkupLine(Markup.Escape(loss + " (not part of the MedMNIST recipe)"));
        if ((s.Mixup ?? s.CutMix) is double alpha)
        {
            var mixing = s.Mixup is not null ? BatchMixing.Mixup(alpha) : BatchMixing.CutMix(alpha);
            task = ClassImbalanceOptions.WithBatchMixing(task, mixing);
            AnsiConsole.MarkupLine($"Training batches are mixed: {mixing.Kind}, λ ~ Beta({alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)}, {alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)}).");
        }
        if (s.Calibrate && info.Task == MedMnistTask.MultiLabel) throw new ArgumentException("--calibrate needs a single-label dataset (the temperature scales a softmax).");
        var trainLoader = Loader(data.Train, shuffle: true);
        if (s.BalanceClasses)
        {
            if (info.Task == MedMnistTask.MultiLabel) throw new ArgumentException("--balance-classes needs a single-label dataset.");
            trainLoader.Options.Shuffle = false;
            trainLoader.Options.WeightedSampler = WeightedRandomSampler.BalanceClasses(data.Train.Labels);
            AnsiConsole.MarkupLine("Training images are drawn class-balanced (1/class count), with replacement.");
        }
        var trainer = Trainer.Create(task)
            .TrainOn(trainLoader)
            .ValidateOn(Loader(data.Validation, shuffle: false))
            .EvaluateTrainingOn(Loader(data.Train, shuffle: false))
            .ForEpochs(s.Epochs)
            .OnDevice(s.Device)
            .WithSeed(s.Seed)
            .SaveTo(s.Output);
        s.Optimization.ApplyTo(trainer, s.LearningRate, SampleNetworks.Classifier(network));
        AnsiConsole.MarkupLine(Markup.Escape("Optimization: " + s.Optimization.Describe(s.LearningRate)));
        if (group is not null) trainer = trainer.DistributeOver(group, new DataParallelOptions { SyncBatchNorm = s.SyncBatchNorm });
        if (s.MixedPrecision)
        {
            trainer = trainer.UseMixedPrecision();
            AnsiConsole.MarkupLine("Mixed precision: forward passes in bfloat16 autocast, weights and optimizer in float32.");
        }

        // TensorBoard: the trainer's summaries, then this run's hyperparameters and test measures (rank 0 only).
        using var board = master && s.TensorBoard is not null ? new SummaryWriter(s.TensorBoard) : null;
        if (board is not null) trainer = trainer.WriteTensorBoardTo(board, s.TensorBoardHistograms);

        TrainingResult result = null!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("training", maxValue: (double)s.Epochs * trainLoader.BatchesPerEpoch);
                var progress = new SynchronousProgress<TrainingProgress>(p =>
                {
                    bar.Value = (double)p.Epoch * p.StepsPerEpoch + p.Step;
                    bar.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch + 1}/{p.Epochs} loss {p.Loss:F4}");
                    if (p.Completed is { } e) AnsiConsole.MarkupLine(TrainingConsole.EpochLine(e));
                });
                result = trainer.ReportProgressTo(progress).Build().Run(s.Resume);
            });

        // The test split is touched once, with the model selected on validation AUC (already loaded by the trainer).
        // (under the run's autocast when it trained with mixed precision, as the trainer evaluated validation)
        int[,] testLabels;
        double[,] testScores;
        using (s.MixedPrecision ? Tensors.Autocast(s.Device.Type, ScalarType.BFloat16) : null)
            (testLabels, testScores) = group is null ? Trainer.Predict(task, Loader(data.Test, shuffle: false)) : Trainer.PredictDistributed(task, Loader(data.Test, shuffle: false), group);
        if (!master) return 0;
        // ACC and the label measures decide grades as the task does (a CORAL head: its median grade), as the model file's predictor will.
        var report = ModelEvaluator.Evaluate(info.Task, testLabels, testScores, task.Decision, new BootstrapOptions { Resamples = 1000, Seed = s.Seed });
        report.WriteCsv(Path.Combine(s.Output, "test-evaluation.csv"));
        report.WriteJson(Path.Combine(s.Output, "test-evaluation.json"));
        var testAuc = MedMnistEvaluator.GetAuc(info.Task, testLabels, testScores).Value;
        var testAcc = MedMnistEvaluator.GetAcc(info.Task, testLabels, testScores, task.Decision);
        Plots.WriteTrainingCurves(result.History, Path.Combine(s.Output, "training-curves.svg"));
        // A self-describing model file for deployment (see the predict command and MedVision.Nets.Inference.Predictor).
        var preprocessing = PreprocessingCard(info, resolution, normalization);
        var metrics = new Dictionary<string, double> { ["best_epoch"] = result.BestEpoch + 1, ["val_auc"] = result.Validation.Auc, ["val_acc"] = result.Validation.Acc, ["test_auc"] = testAuc, ["test_acc"] = testAcc };
        // Post-hoc temperature scaling, fitted on the validation split only (single-label tasks); predictions do not change
        // (a CORAL head's: on its cumulative logits, which keeps the median grade it predicts).
        TemperatureScaling? scaling = null;
        if (task is CoralTask coral)
        {
            var (valLabels, valLogits) = Trainer.PredictCumulativeLogits(coral, Loader(data.Validation, shuffle: false));
            scaling = TemperatureScaling.FitCumulative(valLabels, valLogits);
        }
        else if (info.Task != MedMnistTask.MultiLabel)
        {
            var (valLabels, valScores) = Trainer.Predict(task, Loader(data.Validation, shuffle: false));
            scaling = TemperatureScaling.FitFromProbabilities(valLabels, valScores);
        }
        var card = SampleNetworks.Describe(network, preprocessing, info.ClassNames, info.Task, metrics);
        if (s.Calibrate && scaling is not null) card.SetTemperature(scaling);
        ModelFile.Save(Path.Combine(s.Output, "model.safetensors"), network, card);
        Plots.WriteRocCurves(info, testLabels, testScores, Path.Combine(s.Output, "test-roc.svg"));
        bool confusion = Plots.WriteConfusionMatrix(info, testLabels, testScores, Path.Combine(s.Output, "test-confusion.svg"), task.Decision);
        var calibration = Plots.WriteReliabilityDiagram(info, testLabels, testScores, Path.Combine(s.Output, "test-reliability.svg"));
        (string File, string Method)? maps;
        using (var predictor = Predictor.Load(Path.Combine(s.Output, "model.safetensors"), s.Device))
            maps = Plots.WriteMapGrid(predictor, data.Test, s.Output);

        var table = new Table().Title($"{s.Model} on {info.Name} — selected epoch {result.BestEpoch + 1} (best validation AUC)")
            .AddColumn("split").AddColumn(new TableColumn("AUC").RightAligned()).AddColumn(new TableColumn("ACC").RightAligned());
        void Row(string name, double auc, double acc) => table.AddRow(name, auc.ToString("F4", CultureInfo.InvariantCulture), acc.ToString("F4", CultureInfo.InvariantCulture));
        Row("train", result.Train.Auc, result.Train.Acc);
        Row("val", result.Validation.Auc, result.Validation.Acc);
        Row("test", testAuc, testAcc);
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine(report.Format(classNames: info.ClassNames));
        if (calibration is not null && scaling is not null) EvaluateCommand.PrintCalibration(info, testLabels, testScores, calibration, scaling);
        var full = Path.GetFullPath(s.Output);
        AnsiConsole.MarkupLine($"Model file: {full}/model.safetensors{(card.Temperature != 1 ? string.Create(CultureInfo.InvariantCulture, $", predicting with temperature {card.Temperature:F3}{(card.CoralTemperature == CoralTemperature.CumulativeLogits ? " on the CORAL head's cumulative logits" : "")}") : "")} (use: medmnist predict --model {full}/model.safetensors IMAGES…)");
        AnsiConsole.MarkupLine($"Checkpoints: {full}/best.safetensors, {full}/last.safetensors · history: {full}/history.csv · plots: {full}/training-curves.svg, {full}/test-roc.svg{(confusion ? $", {full}/test-confusion.svg" : "")}{(calibration is not null ? $", {full}/test-reliability.svg" : "")}{(maps is { } m ? $", {full}/{m.File} ({m.Method} of test images 1–8)" : "")} · test report: {full}/test-evaluation.csv");
        if (board is not null)
        {
            board.AddHyperparameters(
                new Dictionary<string, object?>
                {
                    ["model"] = s.Model, ["dataset"] = info.Name, ["resolution"] = resolution, ["epochs"] = s.Epochs, ["batch"] = s.Batch,
                    ["lr"] = s.LearningRate, ["optimization"] = s.Optimization.Describe(s.LearningRate), ["seed"] = s.Seed,
                    ["mixing"] = s.Mixup is not null ? "mixup" : s.CutMix is not null ? "cutmix" : "none", ["balance_classes"] = s.BalanceClasses,
                    ["class_weights"] = s.ClassWeights, ["label_smoothing"] = s.LabelSmoothing, ["head"] = s.Head.ToString().ToLowerInvariant(),
                },
                new Dictionary<string, double>
                {
                    ["hparam/val_auc"] = result.Validation.Auc, ["hparam/val_acc"] = result.Validation.Acc,
                    ["hparam/test_auc"] = testAuc, ["hparam/test_acc"] = testAcc,
                },
                runName: "hparams", globalStep: result.BestEpoch);
            AnsiConsole.MarkupLine($"TensorBoard: {Markup.Escape(Path.GetFullPath(s.TensorBoard!))} (tensorboard --logdir {Markup.Escape(Path.GetFullPath(s.TensorBoard!))})");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {s.Model} {info.Name} seed={s.Seed} epochs={s.Epochs} best_epoch={result.BestEpoch + 1} test_auc={testAuc:F4} test_acc={testAcc:F4}{(s.Head == ClassifierHead.Coral ? " head=coral" : "")}"));
        return 0;
    }

    /// <summary>
    /// How 2-D images are normalised after scaling to [0, 1]: MedMNIST's (x − 0.5) / 0.5, or — when the network starts from
    /// torchvision's ImageNet weights — the weights' statistics for the dataset's channels (ImageNet's RGB mean and
    /// standard deviation; their averages, 0.449 and 0.226, for grey images), as fine-tuning from them expects.
    /// </summary>
    /// <param name="Mean">One value for every channel, or one per channel.</param>
    /// <param name="Std">As <paramref name="Mean"/>.</param>
    /// <param name="Note">What the run prints when it departs from MedMNIST's normalisation, or null.</param>
    internal sealed record ImageNormalization(float[] Mean, float[] Std, string? Note)
    {
        /// <summary>MedMNIST's normalisation to [−1, 1], the recipe's.</summary>
        public static ImageNormalization MedMnist { get; } = new([0.5f], [0.5f], null);
    }

    /// <summary>The normalisation for --model and --init-weights (see <see cref="ImageNormalization"/>).</summary>
    internal static ImageNormalization Normalization(string model, string? initWeights, MedMnistInfo info)
    {
        // (vit-tiny and vit-small have no ImageNet weights: ApplyInitialWeights refuses them.)
        bool imagenet = string.Equals(initWeights, "imagenet", StringComparison.OrdinalIgnoreCase);
        if (info.Is3D || !imagenet || (IsVisionTransformer(model) && !IsVitBase(model))) return ImageNormalization.MedMnist;
        IReadOnlyList<float> mean, std;
        if (IsVitBase(model))
        {
            var vit = PretrainedVisionTransformerWeights.VitB16ImageNet1KV1.ForInputChannels(info.Channels); // B/32's statistics are the same
            (mean, std) = (vit.InputMean, vit.InputStd);
        }
        else
        {
            var resnet = PretrainedWeights.Default(Depth(model)).ForInputChannels(info.Channels);
            (mean, std) = (resnet.InputMean, resnet.InputStd);
        }
        string Values(IReadOnlyList<float> v) => string.Join(", ", v.Select(x => x.ToString("0.###", CultureInfo.InvariantCulture)));
        return new(mean.ToArray(), std.ToArray(), $"Images normalised with ImageNet's statistics for the pretrained weights: mean [{Values(mean)}], std [{Values(std)}]{(info.Channels == 1 ? " (the RGB values averaged for grey images)" : "")}, instead of MedMNIST's 0.5 and 0.5.");
    }

    /// <summary>
    /// The preprocessing of the recipe: normalisation (<see cref="ImageNormalization"/>: [−1, 1] scaling unless the
    /// network starts from ImageNet weights), after resizing images of another size to the resolution (nearest
    /// neighbour up, bilinear down); volumes as they are, in [0, 1] (MedMNIST's 3-D experiments).
    /// </summary>
    internal static TransformPipeline Preprocessing(int imageSize, int resolution, bool volume, ImageNormalization? normalization = null)
    {
        var pipeline = TransformPipeline.Create();
        if (volume) return pipeline.Build();
        if (imageSize != resolution) pipeline.Resize(resolution, resolution, imageSize < resolution ? ResizeMode.Nearest : ResizeMode.Linear);
        normalization ??= ImageNormalization.MedMnist;
        return pipeline.Normalize(normalization.Mean, normalization.Std).Build();
    }

    /// <summary>What the model file records of <see cref="Preprocessing"/>: input size, channels, [−1, 1] scaling (volumes: none), resize mode.</summary>
    internal static PreprocessingCard PreprocessingCard(MedMnistInfo info, int resolution, ImageNormalization? normalization = null)
    {
        if (info.Is3D)
            return new PreprocessingCard { InputSize = new() { resolution, resolution, resolution }, Channels = info.Channels, Mean = new() { 0f }, Std = new() { 1f }, Resize = "linear" };
        normalization ??= ImageNormalization.MedMnist;
        return new PreprocessingCard
        {
            InputSize = new() { resolution, resolution }, Channels = info.Channels, Mean = normalization.Mean.ToList(), Std = normalization.Std.ToList(),
            Resize = resolution == 224 ? "nearest" : "linear",
        };
    }

    /// <summary>The depth of a ResNet --model (resnet18 or resnet50).</summary>
    internal static int Depth(string model) => model.ToLowerInvariant() switch
    {
        "resnet18" => 18,
        "resnet50" => 50,
        _ => throw new InvalidOperationException($"--model {model} is not a ResNet (checked while parsing)."),
    };

    /// <summary>
    /// --init-weights for the network of --model: torchvision's ImageNet weights ('imagenet', 2-D only) or a state dict
    /// file, copied where they fit (<see cref="InitialWeights"/>).
    /// </summary>
    internal static void ApplyInitialWeights(Module<Tensor, Tensor> network, string model, MedMnistInfo info, string weights, string? entry)
    {
        if (info.Is3D && string.Equals(weights, "imagenet", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--init-weights imagenet holds torchvision's 2-D weights; {info.Name} trains a 3-D {(network is VisionTransformer ? "vision transformer" : "ResNet")}. Give a state dict file of a 3-D network of the same layout instead.");
        if (network is VisionTransformer vit) InitialWeights.Apply(vit, model, weights, entry);
        else InitialWeights.Apply((ResNet)network, Depth(model), weights, entry);
    }

    /// <summary>Whether --model is a vision transformer (vit-tiny, vit-small, vit-b16, vit-b32).</summary>
    internal static bool IsVisionTransformer(string model) => model.StartsWith("vit-", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The network of --model: the recipe's ResNet (<see cref="CreateNetwork"/>); a vision transformer of DeiT's Tiny
    /// or Small size cut into 4×4 patches at 28 (28³ volumes: 4³; 64³: 8³) and 16×16 at 224, trained from scratch; or
    /// torchvision's ViT-B/16 or ViT-B/32 (E 768, 12 layers, 12 heads, MLP 3072) for 2-D images at a multiple of its
    /// patch, which --init-weights imagenet starts from torchvision's ImageNet weights.
    /// </summary>
    /// <exception cref="ArgumentException">A ViT-B for volumes, or at a resolution its patches do not divide.</exception>
    internal static Module<Tensor, Tensor> CreateModel(string model, int resolution, MedMnistInfo info, ClassifierHead head = ClassifierHead.Linear)
    {
        if (!IsVisionTransformer(model)) return CreateNetwork(Depth(model), resolution, info, head);
        if (head != ClassifierHead.Linear) throw new ArgumentException($"--head {head.ToString().ToLowerInvariant()} ends a ResNet; --model {model} keeps its linear head.");
        int patch = PatchSize(model, resolution);
        bool vitBase = IsVitBase(model);
        if (vitBase && info.Is3D)
            throw new ArgumentException($"--model {model} is torchvision's 2-D ViT-B/{patch}; {info.Name} holds volumes: use vit-tiny or vit-small, which cut volumes into cubes.");
        if (vitBase && resolution % patch != 0)
            throw new ArgumentException($"--model {model} cuts images into {patch}×{patch} patches, as torchvision's ViT-B/{patch}: --resolution {resolution} is not a multiple of {patch}; give --resolution 224.");
        var builder = VisionTransformer.Builder().ForInput(channels: info.Channels, spatialDims: info.Is3D ? 3 : 2)
            .WithImageSize(resolution).WithPatchSize(patch).WithClasses(info.ClassCount);
        return (vitBase ? builder.Base() : model.Equals("vit-small", StringComparison.OrdinalIgnoreCase) ? builder.Small() : builder.Tiny()).Build();
    }

    private static bool IsVitBase(string model) => model.Equals("vit-b16", StringComparison.OrdinalIgnoreCase) || model.Equals("vit-b32", StringComparison.OrdinalIgnoreCase);

    // A vision transformer's patch: ViT-B/16's and ViT-B/32's own; DeiT-sized ones 4 at 28 (28³), 8 at 64³, 16 at 224.
    private static int PatchSize(string model, int resolution) => model.ToLowerInvariant() switch
    {
        "vit-b16" => 16,
        "vit-b32" => 32,
        _ => resolution switch { 28 => 4, 64 => 8, _ => 16 },
    };

    /// <summary>How the banner names the network's layout.</summary>
    internal static string Layout(string model, int resolution, MedMnistInfo info)
    {
        if (IsVisionTransformer(model))
        {
            int patch = PatchSize(model, resolution);
            return info.Is3D ? $"3-D, {patch}³ patches of {resolution}³ volumes" : $"{patch}×{patch} patches of {resolution}×{resolution} images";
        }
        return info.Is3D ? $"3-D, small-input stem, {resolution}³ volumes" : resolution == 28 ? "small-input stem, 28×28" : "ImageNet stem, 224×224";
    }

    /// <summary>
    /// The ResNet of the recipe: the small-input stem at 28×28, the ImageNet stem otherwise; for the 3-D datasets a 3-D
    /// ResNet with the small-input stem (MedMNIST's "ResNet-18 + 3D": its 2-D network with 3-D convolutions).
    /// </summary>
    internal static ResNet CreateNetwork(int depth, int resolution, MedMnistInfo info, ClassifierHead head = ClassifierHead.Linear)
    {
        var builder = ResNet.Builder().WithDepth(depth).ForInput(channels: info.Channels, spatialDims: info.Is3D ? 3 : 2).WithClasses(info.ClassCount).WithHead(head);
        return (resolution == 28 || info.Is3D ? builder.WithSmallInputStem() : builder.WithImageNetStem()).Build();
    }

    /// <summary>
    /// The input size the network trains at: --resolution for 2-D images; a 3-D dataset's own volume size (resizing
    /// volumes is not part of the recipe, so a --resolution given for them must equal it).
    /// </summary>
    internal static int Resolution(MedMnistInfo info, MedMnistSplitData train, int resolution, bool given)
    {
        if (!info.Is3D) return resolution;
        int size = train.SampleShape[0];
        if (given && resolution != size)
            throw new ArgumentException($"{info.Name} holds {size}³ volumes, which train at their own size; --resolution {resolution} applies to 2-D images (leave it out).");
        return size;
    }

    /// <summary>One input of the network: (1, C, R, R), or (1, C, R, R, R) for volumes.</summary>
    internal static long[] InputShape(MedMnistInfo info, int resolution) => info.Is3D
        ? new long[] { 1, info.Channels, resolution, resolution, resolution }
        : new long[] { 1, info.Channels, resolution, resolution };

    /// <summary>The dataset of --dataset / --data-file: the shipped RetinaMNIST by default, others from the cache or Zenodo.</summary>
    internal static MedMnistDataset LoadDataset(string? dataset, string? dataFile)
    {
        var named = dataset is null ? null : MedMnistCatalog.Get(dataset); // an unknown name fails here, before any download
        if (dataFile is not null)
        {
            // The file is checked against its dataset's metadata (label columns and range, channels, dimensionality),
            // taken from the file name or --dataset; when both name one, they must agree.
            MedMnistCatalog.TryParseFileName(dataFile, out var fromName, out _);
            if (fromName is not null && named is not null && fromName.Name != named.Name)
            {
                throw new ArgumentException($"--dataset {named.Name} disagrees with --data-file {Path.GetFileName(dataFile)}, which is {fromName.Name} by its name.");
            }

            var info = fromName ?? named
                ?? throw new ArgumentException($"Which MedMNIST dataset {Path.GetFileName(dataFile)} holds cannot be told from its name; add --dataset NAME.");
            return MedMnistDataset.Load(dataFile, new MedMnistLoadOptions { Info = info });
        }

        named ??= MedMnistCatalog.RetinaMnist;
        if (named == MedMnistCatalog.RetinaMnist) return MedMnistDataset.LoadEmbeddedRetinaMnist();
        var downloader = new MedMnistDownloader();
        AnsiConsole.MarkupLine($"Fetching {named.Name} into {downloader.CacheDirectory} (verified by MD5)…");
        return downloader.LoadAsync(named.Name).GetAwaiter().GetResult();
    }
}
