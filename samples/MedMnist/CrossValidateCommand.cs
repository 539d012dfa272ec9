using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Quality;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Training;
using MedVision.Torch;
using MedVision.Torch.Nn;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>cross-validate</c> command: k-fold cross-validation of the train command's recipe on the training and
/// validation splits pooled (stratified by class), each fold's model selected on its own fold and tested on the
/// official test split; the fold models are saved with an ensemble manifest that predict and evaluate take.
/// </summary>
internal static class CrossValidateCommand
{
    public static Command Create()
    {
        var dataset = ModelOptions.Dataset("MedMNIST dataset name (default retinamnist, which is shipped; others are downloaded from Zenodo into the cache).");
        var dataFile = ModelOptions.DataFile();
        var model = ModelOptions.Architecture();
        var resolution = ModelOptions.Resolution();
        var folds = new Option<int>("--folds") { Description = "Number of folds: each model trains on (k−1)/k of the pooled training and validation images and is selected on the rest.", DefaultValueFactory = _ => 5 }.AtLeast(2);
        var epochs = new Option<int>("--epochs") { Description = "Training epochs of every fold (the recipe: 100).", DefaultValueFactory = _ => 100 }.AtLeast(1);
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var lr = ModelOptions.LearningRate();
        var optimization = new OptimizationCommandLine();
        var seed = new Option<int>("--seed") { Description = "Seed of the folds; fold f trains with seed SEED + f (weights, shuffling, augmentation).", DefaultValueFactory = _ => 0 };
        var device = ModelOptions.DeviceChoice();
        var threads = ModelOptions.Threads();
        var output = new Option<string>("--output") { Description = "Folder of the folds' runs (fold-1 … fold-k, each with its model.safetensors), the ensemble manifest and the summary.", DefaultValueFactory = _ => "runs/medmnist-cv" };
        var calibrate = new Option<bool>("--calibrate") { Description = "Store in each fold's model file the temperature fitted on its own fold's predictions (held out for that model), so that predict and the ensemble report calibrated probabilities (single-label datasets); with --head coral, a temperature on the cumulative logits, which keeps the median grades it predicts)." };
        var groupNearDuplicates = new Option<double?>("--group-near-duplicates")
        {
            Description = "MAX_DIFFERENCE: keep near-duplicate images (mean absolute difference of pixel values in [0, 1] at most this, e.g. 0.01; see the audit command) in one fold, so that no fold's model trains on a near-copy of an image it then validates; the folds stay stratified as far as the groups allow.",
            HelpName = "MAX_DIFFERENCE",
        }.Must(v => v is null || (v >= 0 && double.IsFinite(v.Value)), "finite and at least 0");
        var resume = new Option<bool>("--resume") { Description = "Continue the cross-validation in --output: finished folds are re-predicted, the others continue from their last checkpoint." };
        var onlyFolds = new Option<int[]>("--only-folds")
        {
            Description = "Train only these folds (numbered 1 to --folds, e.g. --only-folds 2 4) into --output, so that the folds can run in several processes or on several machines at once with the same options; when every fold has run (their fold-N folders under one --output), run the command again with --resume to gather them into the summary and the ensemble manifest.",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "FOLD",
        };
        var tensorBoard = SampleCommandLine.TensorBoard("; a run per fold, FOLDER/fold-1 … fold-k");
        var initWeights = InitialWeights.WeightsOption("the --model", "best with --resolution 224; every fold starts from them");
        var initEntry = InitialWeights.EntryOption();
        var head = ClassImbalanceOptions.Head();
        var command = new Command("cross-validate", "k-fold cross-validation of the MedMNIST recipe on the pooled training and validation splits: every fold's model, its out-of-fold predictions, the spread over the folds and the folds' ensemble on the test split.")
        {
            dataset, dataFile, model, resolution, folds, epochs, batch, lr, seed, device, threads, output, resume, onlyFolds, calibrate, groupNearDuplicates, tensorBoard,
            initWeights, initEntry, head,
        };
        command.Check(r => r.GetValue(head) == "coral" && TrainCommand.IsVisionTransformer(r.GetValue(model)!) ? "--head coral ends a ResNet; a vision transformer keeps its linear head." : null);
        command.Check(r => r.GetValue(onlyFolds) is { } only && only.FirstOrDefault(f => f < 1 || f > r.GetValue(folds)) is var bad && bad != 0
            ? $"--only-folds {bad}: the folds are numbered 1 to --folds ({r.GetValue(folds)})"
            : r.GetValue(onlyFolds) is { Length: > 0 } named && named.Distinct().Count() != named.Length ? "--only-folds names a fold twice" : null);
        optimization.AddTo(command, epochs);
        InitialWeights.Check(command, initWeights, initEntry);
        optimization.AddHeadMultiplierTo(command, initWeights, resume);
        command.SetAction(r => Run(r.GetValue(dataset), r.GetValue(dataFile), r.GetValue(model)!, r.GetValue(resolution), r.GetResult(resolution) is { Implicit: false },
            r.GetValue(folds), r.GetValue(epochs), r.GetValue(batch), r.GetValue(lr), optimization.Read(r), r.GetValue(seed), Device.Parse(r.GetValue(device)!),
            r.GetValue(threads), r.GetValue(output)!, r.GetValue(resume), r.GetValue(onlyFolds), r.GetValue(calibrate), r.GetValue(groupNearDuplicates), r.GetValue(tensorBoard),
            r.GetValue(initWeights), r.GetValue(initEntry), ClassImbalanceOptions.ParseHead(r.GetValue(head)!)));
        return command;
    }

    private static int Run(string? datasetName, string? dataFile, string modelName, int requestedResolution, bool resolutionGiven, int folds, int epochs, int batch,
        double learningRate, OptimizationRecipe optimization, int seed, Device device, int threads, string output, bool resume, int[]? onlyFolds, bool calibrate, double? groupNearDuplicates, string? tensorBoard,
        string? initWeights, string? initEntry, ClassifierHead head)
    {
        Tensors.NumThreads = threads;
        var data = TrainCommand.LoadDataset(datasetName, dataFile);
        var info = data.Info!;
        if (calibrate && info.Task == MedMnistTask.MultiLabel) throw new ArgumentException("--calibrate needs a single-label dataset (the temperature scales a softmax).");
        if (head == ClassifierHead.Coral && info.Task != MedMnistTask.OrdinalRegression)
            throw new ArgumentException($"--head coral ranks ordered grades; {info.Name} is a {info.Task} task (use --head linear).");
        int resolution = TrainCommand.Resolution(info, data.Train, requestedResolution, resolutionGiven);
        var pool = new ConcatSource(new MedMnistImageSource(data.Train), new MedMnistImageSource(data.Validation));
        if (folds > pool.Count) throw new ArgumentException($"--folds {folds} exceeds the {pool.Count} pooled training and validation images.");
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(device));
        AnsiConsole.MarkupLine($"Dataset [green]{info.Name}[/] ({info.Task}, {info.ClassCount} classes): {folds}-fold cross-validation of the {data.Train.Count} training and {data.Validation.Count} validation images pooled ({pool.Count}), each fold's model tested on the {data.Test.Count} test images · licence {info.License}");

        var normalization = TrainCommand.Normalization(modelName, initWeights, info);
        if (normalization.Note is { } note) AnsiConsole.MarkupLine(Markup.Escape(note));
        var transform = TrainCommand.Preprocessing(data.Train.SampleShape[0], resolution, info.Is3D, normalization);
        var labelKind = info.Task == MedMnistTask.MultiLabel ? LabelKind.MultiLabel : LabelKind.ClassIndex;

        var preprocessing = TrainCommand.PreprocessingCard(info, resolution, normalization);
        AnsiConsole.MarkupLine(Markup.Escape($"Model {modelName} per fold, {epochs} epochs, batch {batch}. Optimization: " + optimization.Describe(learningRate)));

        var crossValidation = CrossValidation.Create(pool, info.Task)
            .WithFolds(folds)
            .WithSeed(seed)
            .TrainWith(new DataLoaderOptions { BatchSize = batch, Shuffle = true, Seed = seed, Transform = transform, LabelKind = labelKind, Device = device })
            .EvaluateWith(new DataLoaderOptions { BatchSize = batch, Transform = transform, LabelKind = labelKind, Device = device })
            .TestOn(new MedMnistImageSource(data.Test))
            .SaveTo(output)
            .OnFoldTrained((fold, task) =>
            {
                // A self-describing model file per fold (what the train command writes), for the ensemble manifest.
                var metrics = new Dictionary<string, double>
                {
                    ["fold"] = fold.Index + 1, ["best_epoch"] = fold.Training.BestEpoch + 1, ["val_auc"] = fold.Validation.Auc, ["val_acc"] = fold.Validation.Acc,
                    ["test_auc"] = fold.Test.Auc, ["test_acc"] = fold.Test.Acc,
                };
                var card = SampleNetworks.Describe((Module<Tensor, Tensor>)task.Model, preprocessing, info.ClassNames, info.Task, metrics);
                if (calibrate)
                {
                    // Fitted on the fold's own validation images, which this model did not train on.
                    var (labels, scores) = fold.GetValidationPredictions();
                    card.SetTemperature(TemperatureFits.Fit(labels, scores, task is CoralTask));
                }
                ModelFile.Save(CrossValidationConsole.ModelPath(fold.Directory!), (ResNet)task.Model, card);
                AnsiConsole.MarkupLine(Markup.Escape(fold.ToString() + (calibrate ? string.Create(CultureInfo.InvariantCulture, $", temperature {card.Temperature:F3}") : "")));
            });
        if (tensorBoard is not null) crossValidation.WriteTensorBoardTo(tensorBoard); // a run per fold
        // Stratified by class (multi-label datasets: a plain shuffled k-fold).
        if (info.Task != MedMnistTask.MultiLabel)
            crossValidation.StratifyBy(Enumerable.Range(0, data.Train.Count).Select(i => data.Train.Labels[i, 0]).Concat(Enumerable.Range(0, data.Validation.Count).Select(i => data.Validation.Labels[i, 0])).ToArray());
        if (groupNearDuplicates is double maxDifference)
        {
            // Each cluster of near-duplicates in one fold: stratified grouped folds (grouped folds for multi-label data).
            var groups = NearDuplicates.Groups(pool, maxDifference);
            var clusters = groups.Where(g => !g.StartsWith("image-", StringComparison.Ordinal)).ToArray();
            int groupCount = groups.Distinct().Count();
            if (groupCount < folds)
                throw new ArgumentException($"--folds {folds} exceeds the {groupCount} groups of near-duplicates at --group-near-duplicates {maxDifference.ToString(CultureInfo.InvariantCulture)}.");
            crossValidation.GroupBy(groups);
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Near-duplicates (mean absolute difference ≤ {maxDifference:G4}) kept in one fold: {clusters.Length} of the {pool.Count} images in {clusters.Distinct().Count()} groups")));
        }

        TrainerBuilder Fold(CrossValidationSplit split)
        {
            AnsiConsole.MarkupLine($"[bold]Fold {split.Index + 1}/{split.FoldCount}[/]: training on {split.TrainIndices.Count} images, selecting on {split.ValidationIndices.Count}");
            // The weights are drawn from the global generator: seeded per fold, as the trainer seeds its run.
            Tensors.ManualSeed((ulong)(seed + split.Index));
            var network = TrainCommand.CreateModel(modelName, resolution, info, head);
            // Every fold starts from the same weights (a fold that resumes continues from its checkpoint instead).
            if (initWeights is not null) TrainCommand.ApplyInitialWeights(network, modelName, info, initWeights, initEntry);
            ITrainingTask task = head == ClassifierHead.Coral ? new CoralTask(network) : new ClassificationTask(network, info.Task);
            var trainer = Trainer.Create(task).ForEpochs(epochs).OnDevice(device).WithSeed(seed + split.Index)
                .ReportProgressTo(TrainingConsole.EpochLines());
            return optimization.ApplyTo(trainer, learningRate, SampleNetworks.Classifier(network));
        }
        if (onlyFolds is { Length: > 0 })
        {
            // Some folds only: nothing to sum up until every fold has run and a --resume run gathers them.
            var trained = crossValidation.RunFolds(onlyFolds, Fold, resume);
            AnsiConsole.MarkupLine(Markup.Escape($"Trained fold{(trained.Count == 1 ? "" : "s")} {string.Join(", ", onlyFolds)} of {folds} into {Path.GetFullPath(output)}. When every fold has run there, gather them: the same command with --resume (without --only-folds)."));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT cross-validation-folds {modelName} {info.Name} folds={folds} seed={seed} epochs={epochs} trained={string.Join(',', onlyFolds)} val_auc={string.Join(',', trained.Select(f => f.Validation.Auc.ToString("F4", CultureInfo.InvariantCulture)))} test_auc={string.Join(',', trained.Select(f => f.Test.Auc.ToString("F4", CultureInfo.InvariantCulture)))}"));
            return 0;
        }
        var result = crossValidation.Run(Fold, resume);

        var manifest = CrossValidationConsole.SaveManifest(result, output);
        var table = CrossValidationConsole.Table(result, $"{modelName} on {info.Name}: {folds}-fold cross-validation, {epochs} epochs", pool.Count);
        AnsiConsole.Write(table);
        var full = Path.GetFullPath(output);
        var m = Path.GetFullPath(manifest);
        AnsiConsole.MarkupLine($"Ensemble manifest: {m} (use: medmnist predict --model {m} IMAGES…, or medmnist evaluate --model {m})");
        AnsiConsole.MarkupLine($"Fold models: {full}/fold-N/model.safetensors · summary: {full}/{CrossValidationBuilder.ResultFileName} · out-of-fold predictions: {full}/{CrossValidationBuilder.OutOfFoldFileName}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT cross-validation {modelName} {info.Name} folds={folds} seed={seed} epochs={epochs} val_auc={result.ValidationAuc.Mean:F4}±{result.ValidationAuc.StandardDeviation:F4} oof_auc={result.OutOfFold.Auc:F4} oof_acc={result.OutOfFold.Acc:F4} test_auc={result.TestAuc.Mean:F4}±{result.TestAuc.StandardDeviation:F4} ensemble_test_auc={result.EnsembleTest.Auc:F4} ensemble_test_acc={result.EnsembleTest.Acc:F4}{(groupNearDuplicates is double g ? $" group_near_duplicates={g:G4}" : "")}"));
        return 0;
    }
}
