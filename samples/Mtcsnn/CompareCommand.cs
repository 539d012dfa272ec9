using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Distributed;
using MedVision.Torch.Nn;
using Spectre.Console;
using MtcsnnModel = MedVision.Nets.Models.Mtcsnn;

namespace MedVision.Samples.Mtcsnn;

/// <summary>
/// The <c>compare</c> command (also the default): for each seed, trains the plain ResNet and MTCSNN (same backbone,
/// data order, optimizer and schedule), selects each by validation AUC, evaluates the test split once, and prints test
/// AUC, ACC and quadratic-weighted kappa with mean ± sd over the seeds. Defaults follow the paper's reference run:
/// ResNet-34 with the ImageNet stem on 28×28 RetinaMNIST, Adam 1e-3, batch 36, 20 epochs, no augmentation, λ = 0.5.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var epochs = new Option<int>("--epochs") { Description = "Training epochs (the reference run: 20). The learning rate is multiplied by 0.1 at 50% and 75% of them.", DefaultValueFactory = _ => 20 }.AtLeast(1);
        var batch = new Option<int>("--batch") { Description = "Batch size (MTCSNN pairs image i with image i + N/2 of each shuffled batch; global: split evenly over the processes in data-parallel training).", DefaultValueFactory = _ => 36 }.AtLeast(2, "MTCSNN pairs the images of a batch");
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds; each trains both models.", DefaultValueFactory = _ => "0,1,2" }.Must(v => TryParseSeeds(v) is not null, "comma-separated integers");
        var depth = new Option<int>("--depth") { Description = "ResNet depth of both models: 18, 34, 50, 101 or 152.", DefaultValueFactory = _ => 34 }.OneOf(18, 34, 50, 101, 152);
        var stem = new Option<string>("--stem") { Description = "imagenet (7×7 conv + max pool, as the reference run on 28×28) or small (3×3 conv, no pool).", DefaultValueFactory = _ => "imagenet" }.OneOf("imagenet", "small");
        var head = new Option<string>("--head") { Description = "linear (the paper's: K logits, cross-entropy) or coral (K − 1 cumulative logits of one severity score, the CORAL loss; graded by their median) — the classification head of both models.", DefaultValueFactory = _ => "linear" }.OneOf("linear", "coral");
        var lambda = new Option<double>("--lambda") { Description = "λ, the weight of MTCSNN's difference term.", DefaultValueFactory = _ => 0.5 }.NonNegative();
        var lr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3 }.Positive();
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var threads = SampleCommandLine.Threads();
        var distributed = new DistributedCommandLine();
        var output = new Option<string>("--output") { Description = "Folder for checkpoints and histories (one subfolder per seed and model) and results.csv.", DefaultValueFactory = _ => "runs/mtcsnn" };
        var dataFile = new Option<string?>("--data-file") { Description = "Read RetinaMNIST from this .npz file (e.g. retinamnist_224.npz, or a subset in the same format) instead of the shipped 28×28 copy." };
        var tensorBoard = SampleCommandLine.TensorBoard(", MTCSNN's two loss terms; a run per seed and model, FOLDER/seedS/mtcsnn and FOLDER/seedS/resnet, to overlay, each with its test images' backbone features for the projector");
        var command = new Command("compare", "Train MTCSNN and the plain ResNet with the same budget and seeds and compare them on the test split.")
        {
            epochs, batch, seeds, depth, stem, head, lambda, lr, device, threads, output, dataFile, tensorBoard,
        };
        distributed.AddTo(command, batch, perProcess: 2);
        command.SetAction(r => Run(new Settings(
            r.GetValue(epochs), r.GetValue(batch), ParseSeeds(r.GetValue(seeds)!), r.GetValue(depth), r.GetValue(stem)!.ToLowerInvariant(),
            r.GetValue(head) == "coral" ? ClassifierHead.Coral : ClassifierHead.Linear, r.GetValue(lambda),
            r.GetValue(lr), Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(output)!, r.GetValue(dataFile), distributed.Read(r), r.GetValue(distributed.SyncBatchNorm), r.GetValue(tensorBoard))));
        return command;
    }

    // The selected model's backbone features of the test images for TensorBoard's projector, labelled with their grades,
    // with the images (from [−1, 1] back to [0, 1]) as its sprite.
    private static void WriteEmbedding(string folder, ResNet backbone, DataLoader test, IReadOnlyList<string> grades)
    {
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        backbone.Eval();
        var features = new List<Tensor>();
        var images = new List<Tensor>();
        var labels = new List<string>();
        foreach (var batch in test.Epoch())
        {
            using (batch)
            {
                features.Add(backbone.ExtractFeatures(batch.Images).Cpu());
                images.Add(((batch.Images + 1) / 2).Clamp(0, 1).Cpu());
                labels.AddRange(batch.Labels.Cpu().To(ScalarType.Int64).ToArray<long>().Select(l => grades[(int)l]));
            }
        }
        using var writer = new MedVision.Torch.TensorBoard.SummaryWriter(folder);
        writer.AddEmbedding(Tensors.Cat(features), labels, Tensors.Cat(images), tag: "test_features");
    }

    private sealed record Settings(int Epochs, int Batch, int[] Seeds, int Depth, string Stem, ClassifierHead Head, double Lambda, double LearningRate, Device Device, int Threads, string Output,
        string? DataFile, DistributedOptions Distributed, bool SyncBatchNorm, string? TensorBoard);

    private static int[] ParseSeeds(string text) => TryParseSeeds(text) ?? throw new InvalidOperationException("--seeds was checked while parsing.");

    private static int[]? TryParseSeeds(string? text)
    {
        var parts = text?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        var seeds = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)) return null;
            seeds.Add(seed);
        }
        return seeds.Count > 0 ? seeds.ToArray() : null;
    }

    private static int Run(Settings s)
    {
        int world = s.Distributed.WorldSize;
        Tensors.NumThreads = s.Threads;
        // Data-parallel training: every process runs this same program; rank 0 prints and writes the files.
        using var group = s.Distributed.IsDistributed ? ProcessGroup.Initialize(s.Distributed) : null;
        if (group is { IsMaster: false }) AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
        var data = LoadRetinaMnist(s.DataFile);
        var info = data.Info ?? MedMnistCatalog.RetinaMnist;
        var imageSize = data.Train.SampleShape[0];
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(s.Device));
        AnsiConsole.MarkupLine($"RetinaMNIST ({imageSize}×{imageSize}, {info.ClassCount} grades): train {data.Train.Count}, val {data.Validation.Count}, test {data.Test.Count}");
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"ResNet-{s.Depth} ({s.Stem} stem) · Adam {s.LearningRate:G3} · batch {s.Batch} · {s.Epochs} epochs (×0.1 at epochs {(int)(0.5 * s.Epochs) + 1} and {(int)(0.75 * s.Epochs) + 1}) · no augmentation · λ = {s.Lambda}{(s.Head == ClassifierHead.Coral ? " · CORAL heads (grades by the median)" : "")} · seeds {string.Join(",", s.Seeds)}"));

        var transform = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build();
        DataLoader Loader(MedMnistSplitData split, bool shuffle, int seed) => new(new MedMnistImageSource(split),
            new DataLoaderOptions { BatchSize = shuffle ? s.Batch / world : s.Batch, Shuffle = shuffle, Seed = seed, Transform = transform, Device = s.Device });

        var outcomes = new List<Outcome>();
        var pairedLines = new List<string>();
        foreach (var seed in s.Seeds)
        {
            var testScores = new Dictionary<string, double[,]>();
            var decisions = new Dictionary<string, OrdinalDecision>();
            int[,]? testLabels = null;
            foreach (var model in new[] { "resnet", "mtcsnn" })
            {
                AnsiConsole.MarkupLine($"[bold]seed {seed} · {model}[/]");
                Tensors.ManualSeed((ulong)seed);
                using var network = model == "resnet"
                    ? (Module)Backbone(ResNet.Builder(), s).WithClasses(info.ClassCount).WithHead(s.Head).Build()
                    : MtcsnnModel.Builder().WithBackbone(b => Backbone(b, s)).WithClasses(info.ClassCount).WithDifferenceWeight(s.Lambda).WithHead(s.Head).Build();
                ITrainingTask task = network is MtcsnnModel m ? new MtcsnnTask(m, info.Task)
                    : s.Head == ClassifierHead.Coral ? new CoralTask((ResNet)network) : new ClassificationTask((ResNet)network, info.Task);
                var progress = new SynchronousProgress<TrainingProgress>(p =>
                {
                    if (p.Completed is not { } e) return;
                    var terms = string.Join(" · ", e.TrainLossTerms.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {t.Value:F4}")));
                    AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                        $"  epoch {e.Epoch + 1,3}: loss {e.TrainLoss:F4} ({terms}) · val AUC {e.Validation.Auc:F4} · val ACC {e.Validation.Acc:F4} · lr {e.LearningRate:G3} · {e.Seconds:F1} s"));
                });
                var builder = Trainer.Create(task);
                builder.WithMultiStepSchedule(0.5, 0.75, 0.1);
                if (group is not null) builder.DistributeOver(group, new DataParallelOptions { SyncBatchNorm = s.SyncBatchNorm });
                if (s.TensorBoard is not null) builder.WriteTensorBoardTo(Path.Combine(s.TensorBoard, $"seed{seed}", model));
                var result = builder
                    .TrainOn(Loader(data.Train, shuffle: true, seed))
                    .ValidateOn(Loader(data.Validation, shuffle: false, seed))
                    .UseAdam(s.LearningRate)
                    .ForEpochs(s.Epochs)
                    .OnDevice(s.Device)
                    .WithSeed(seed)
                    .SaveTo(Path.Combine(s.Output, $"seed{seed}", model))
                    .ReportProgressTo(progress)
                    .Build()
                    .Run();

                // The test split is touched once, with the model selected on validation AUC (loaded by the trainer).
                var (labels, scores) = group is null ? Trainer.Predict(task, Loader(data.Test, shuffle: false, seed)) : Trainer.PredictDistributed(task, Loader(data.Test, shuffle: false, seed), group);
                var auc = MedMnistEvaluator.GetAuc(info.Task, labels, scores).Value;
                // ACC and kappa count the grades the model predicts (a CORAL head's: the median), as its model file will.
                var acc = MedMnistEvaluator.GetAcc(info.Task, labels, scores, task.Decision);
                var actual = Enumerable.Range(0, labels.GetLength(0)).Select(i => labels[i, 0]).ToArray();
                var predicted = MedMnistEvaluator.Predict(info.Task, scores, task.Decision);
                var kappa = ConfusionMatrix.FromPredictions(actual, predicted, info.ClassCount).CohenKappa(KappaWeighting.Quadratic).Value;
                (testScores[model], decisions[model], testLabels) = (scores, task.Decision, labels);
                if (group is not { IsMaster: false })
                {
                    WritePredictions(Path.Combine(s.Output, $"seed{seed}", model, "test-predictions.csv"), labels, scores);
                    SaveModelFile(Path.Combine(s.Output, $"seed{seed}", model, "model.safetensors"), network, imageSize, info, new Dictionary<string, double>
                    {
                        ["val_auc"] = result.Validation.Auc, ["test_auc"] = auc, ["test_acc"] = acc, ["test_qwk"] = kappa, ["best_epoch"] = result.BestEpoch + 1,
                    });
                }
                if (s.TensorBoard is not null && group is not { IsMaster: false })
                    WriteEmbedding(Path.Combine(s.TensorBoard, $"seed{seed}", model), network is MtcsnnModel mt ? mt.Backbone : (ResNet)network,
                        Loader(data.Test, shuffle: false, seed), info.ClassNames);
                var outcome = new Outcome(model, seed, result.BestEpoch + 1, result.Validation.Auc, auc, acc, kappa);
                outcomes.Add(outcome);
                AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                    $"  selected epoch {outcome.BestEpoch} (val AUC {outcome.ValAuc:F4}) → test AUC {auc:F4} · ACC {acc:F4} · QWK {kappa:F4}"));
            }

            // The two models of this seed on the same test images: DeLong's test of the AUCs, McNemar's of the accuracies.
            var delong = DeLong.Compare(info.Task, testLabels!, testScores["mtcsnn"], testScores["resnet"]);
            var mcnemar = McNemar.Compare(info.Task, testLabels!, testScores["mtcsnn"], testScores["resnet"], decisions["mtcsnn"], decisions["resnet"]);
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"  MTCSNN − ResNet on the {testLabels!.GetLength(0)} test images: AUC {TrainingConsole.Signed(delong.Difference)} (DeLong p = {P(delong.PValue)}) · ACC {TrainingConsole.Signed(mcnemar.Difference)} (only MTCSNN right {mcnemar.OnlyACorrect}, only ResNet right {mcnemar.OnlyBCorrect}; McNemar p = {P(mcnemar.PValue)})"));
            foreach (var warning in delong.Warnings.Concat(mcnemar.Warnings)) AnsiConsole.MarkupLine($"  [yellow]Note:[/] {Markup.Escape(warning)}");
            pairedLines.Add(string.Create(CultureInfo.InvariantCulture,
                $"RESULT paired retinamnist {Setting(s)} seed={seed} auc_diff={TrainingConsole.Signed(delong.Difference)} auc_se={delong.StandardError:F4} delong_p={P(delong.PValue)} acc_diff={TrainingConsole.Signed(mcnemar.Difference)} only_mtcsnn={mcnemar.OnlyACorrect} only_resnet={mcnemar.OnlyBCorrect} mcnemar_p={P(mcnemar.PValue)}"));
        }

        if (group is { IsMaster: false }) return 0;

        var csv = Path.Combine(Path.GetFullPath(s.Output), "results.csv");
        Results.Write(csv, outcomes);
        string heads = s.Head == ClassifierHead.Coral ? ", CORAL heads" : "";
        Results.PrintTable(outcomes, $"ResNet-{s.Depth} ({s.Stem} stem{heads}), {s.Epochs} epochs", $"ResNet-{s.Depth}", $"MTCSNN (ResNet-{s.Depth}, λ = {s.Lambda.ToString(CultureInfo.InvariantCulture)})");
        AnsiConsole.MarkupLine($"Per-seed results: {csv} · checkpoints, histories and model files: {Path.GetFullPath(s.Output)}/seed<N>/<model>/ (model.safetensors: the selected model as a ResNet, MTCSNN's score head left out, for medmnist predict, evaluate and export or Predictor.Load)");
        Results.PrintResultLines(outcomes, Setting(s), perSeed: true);
        foreach (var line in pairedLines) Console.WriteLine(line);
        return 0;
    }

    private static string P(double p) => TrainingConsole.PValue(p);

    // The RESULT lines' setting: "depth=34 stem=imagenet epochs=20", with " head=coral" for CORAL heads.
    private static string Setting(Settings s) => $"depth={s.Depth} stem={s.Stem} epochs={s.Epochs}{(s.Head == ClassifierHead.Coral ? " head=coral" : "")}";

    // The selected model's test probabilities (index, grade, one score per grade), written atomically beside its
    // checkpoints, for paired analyses later.
    private static void WritePredictions(string path, int[,] labels, double[,] scores)
    {
        var text = new System.Text.StringBuilder("index,label");
        for (int k = 0; k < scores.GetLength(1); k++) text.Append(CultureInfo.InvariantCulture, $",score_{k}");
        text.Append('\n');
        for (int i = 0; i < scores.GetLength(0); i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i},{labels[i, 0]}");
            for (int k = 0; k < scores.GetLength(1); k++) text.Append(',').Append(scores[i, k].ToString("R", CultureInfo.InvariantCulture));
            text.Append('\n');
        }
        MedVision.Torch.Serialization.AtomicFile.WriteAllText(path, text.ToString());
    }

    // The selected model as a self-describing model file: MTCSNN as the ResNet of its classification path (Mtcsnn.ToResNet),
    // the preparation of training (pixels scaled to [0, 1], then (x − 0.5) / 0.5; other sizes resized bilinearly).
    private static void SaveModelFile(string path, Module network, long imageSize, MedMnistInfo info, IReadOnlyDictionary<string, double> metrics)
    {
        using var converted = network is MtcsnnModel mtcsnn ? mtcsnn.ToResNet() : null;
        var resnet = converted ?? (ResNet)network;
        var preprocessing = new PreprocessingCard { InputSize = new() { (int)imageSize, (int)imageSize }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.5f }, Resize = "linear" };
        ModelFile.Save(path, resnet, ModelFile.Describe(resnet, preprocessing, info.ClassNames, info.Task, metrics));
    }

    /// <summary>The shipped RetinaMNIST, or the --data-file, which must be RetinaMNIST (checked against its metadata: one label column, grades 0–4, 3 channels).</summary>
    private static MedMnistDataset LoadRetinaMnist(string? dataFile)
    {
        if (dataFile is null) return MedMnistDataset.LoadEmbeddedRetinaMnist();
        if (MedMnistCatalog.TryParseFileName(dataFile, out var named, out _) && named != MedMnistCatalog.RetinaMnist)
        {
            throw new ArgumentException($"--data-file {Path.GetFileName(dataFile)} is {named.Name} by its name; MTCSNN grades RetinaMNIST.");
        }

        return MedMnistDataset.Load(dataFile, new MedMnistLoadOptions { Info = MedMnistCatalog.RetinaMnist });
    }

    private static ResNetBuilder Backbone(ResNetBuilder builder, Settings s)
    {
        builder.WithDepth(s.Depth).ForInput(channels: 3);
        return s.Stem == "small" ? builder.WithSmallInputStem() : builder.WithImageNetStem();
    }

}
