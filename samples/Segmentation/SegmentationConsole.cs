using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Nets.Metrics.Segmentation;
using MedVision.Nets.Training;
using Spectre.Console;

namespace MedVision.Samples.Segmentation;

/// <summary>What the scan and image training commands share: the seeded split, progress lines and the per-class report.</summary>
internal static class SegmentationConsole
{
    /// <summary>
    /// A seeded split into training and validation: a shuffle of the samples (the validation share at least one sample,
    /// the training share too), or with <paramref name="groups"/> of the patients (<see cref="DataSplits.GroupHoldout"/>),
    /// every patient's samples on one side.
    /// </summary>
    public static (ISegmentationSource Training, ISegmentationSource Validation) Split(ISegmentationSource source, double validationFraction, int seed, string[]? groups)
    {
        if (groups is not null)
        {
            var (train, validation) = DataSplits.GroupHoldout(groups, validationFraction, seed);
            return (new SegmentationSubset(source, train), new SegmentationSubset(source, validation));
        }
        var order = Enumerable.Range(0, source.Count).ToArray();
        new Random(seed).Shuffle(order);
        int validationCount = Math.Clamp((int)Math.Round(source.Count * validationFraction), 1, source.Count - 1);
        return (new SegmentationSubset(source, order[validationCount..]), new SegmentationSubset(source, order[..validationCount]));
    }

    /// <summary>The --group-by option: each sample's patient read from its image's file name.</summary>
    public static Option<string?> GroupByOption(string kind) => new Option<string?>("--group-by")
    {
        Description = $"REGEX: keep each patient's {kind} on one side of the split (and in one fold with --folds): the patient is the regular expression's first capture group (else its whole match) in each image's file name, e.g. '^([^_]+)_' for P0012_slice041.png.",
        HelpName = "REGEX",
    };

    /// <summary>Each sample's patient by --group-by on its image's file name; null without the option.</summary>
    public static string[]? Groups(IEnumerable<string> imagePaths, string? pattern)
    {
        if (pattern is null) return null;
        try
        {
            return DataSplits.GroupsFromPattern(imagePaths.Select(p => Path.GetFileName(p)).ToArray(), pattern);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--group-by: {e.Message}", e);
        }
    }

    /// <summary>", N patients" when grouped.</summary>
    public static string PatientCount(string[]? groups) => groups is null ? "" : $", {groups.Distinct(StringComparer.Ordinal).Count()} patients";

    /// <summary>Prints the selected epoch's per-class table and the RESULT line the tests and scripts read.</summary>
    public static void Report(SegmentationTrainingResult result, IReadOnlyList<string> classNames, double tolerance, string unit, int trainCount, int validationCount, string kind)
    {
        var summary = result.Validation!;
        AnsiConsole.MarkupLine(Markup.Escape($"Best epoch {result.BestEpoch + 1} of {result.Epochs.Count}: validation mean Dice {F(summary.MeanDice)} (HD95 is the median over {kind}; false + counts the {kind} without the class in which it was predicted)"));
        AnsiConsole.Write(Table(summary, classNames, tolerance, unit, kind));
        Console.WriteLine($"RESULT val_dice={F(summary.MeanDice)} best_epoch={result.BestEpoch + 1} epochs={result.Epochs.Count} train_{kind}={trainCount} val_{kind}={validationCount} {PerClass(summary)}");
    }

    /// <summary>How both training commands run the trainer: optimisation, precision, epochs, batch, seed, device, resumption, TensorBoard folder.</summary>
    public sealed record RunSettings(Recipe Recipe, bool MixedPrecision, int Epochs, int Batch, int Seed, Device Device, bool Resume, string? TensorBoard);

    /// <summary>The --tensorboard option of both training commands.</summary>
    public static Option<string?> TensorBoardOption() => SampleCommandLine.TensorBoard(", Dice per class; with --folds a run per fold, FOLDER/fold-i");

    /// <summary>
    /// Trains a built network on one set and validates it on the other (whole inputs through <paramref name="window"/>),
    /// writes OUTPUT/model.safetensors with the card <paramref name="describe"/> makes from the selected epoch's
    /// measures, and with <paramref name="outOfFold"/> measures the validation set again with the selected weights and
    /// feeds its maps to that comparison (a cross-validation's pooled out-of-fold measures and post-processing choice).
    /// </summary>
    public static (SegmentationTrainingResult Result, IReadOnlyList<SegmentationCase> Cases, string ModelPath) Fit(UNet model, RunSettings run, SegmentationPipeline pipeline,
        ISegmentationSource trainingSet, ISegmentationSource validationSet, SegmentationEvaluator evaluator, SlidingWindowInferer window, string output, SegmentationPostprocessingComparison? outOfFold,
        Func<IReadOnlyDictionary<string, double>, SegmentationCard> describe)
    {
        var train = new SegmentationLoader(trainingSet, new SegmentationLoaderOptions { BatchSize = run.Batch, Shuffle = true, Seed = run.Seed, Pipeline = pipeline, Device = run.Device });
        var validation = new SegmentationLoader(validationSet, new SegmentationLoaderOptions { BatchSize = 1, Device = run.Device });
        var builder = run.Recipe.Apply(SegmentationTrainer.Create(model));
        if (run.MixedPrecision) builder.UseMixedPrecision();
        builder.TrainOn(train).ValidateOn(validation).ValidateWithSlidingWindow(window).EvaluateWith(evaluator)
            .ForEpochs(run.Epochs).WithSeed(run.Seed).OnDevice(run.Device).SaveTo(output)
            .ReportProgressTo(new Progress(run.Epochs));
        // A cross-validation's folds each get a run of their own, named as their output folders are.
        if (run.TensorBoard is { } board) builder.WriteTensorBoardTo(outOfFold is null ? board : Path.Combine(board, Path.GetFileName(output)));
        var trainer = builder.Build();
        var result = trainer.Run(run.Resume);
        // The model file: the selected weights with everything predict needs to segment inputs as validation did.
        var modelPath = Path.Combine(output, TrainCommand.ModelFileName);
        SegmentationModelFile.Save(modelPath, model, describe(new Dictionary<string, double> { ["val_dice"] = result.Validation!.MeanDice, ["best_epoch"] = result.BestEpoch + 1 }));
        return (result, outOfFold is null ? [] : trainer.Evaluate(validation, outOfFold), modelPath);
    }

    /// <summary>The ensemble manifest of a cross-validation's folds, in its output folder.</summary>
    public const string EnsembleFileName = "ensemble.json";

    /// <summary>
    /// A k-fold cross-validation (nnU-Net's): each fold's model trained by <paramref name="trainFold"/> in
    /// <c>OUTPUT/fold-i</c> and measured on the fold's validation samples; the table of folds, the pooled out-of-fold
    /// measures (every sample measured once, by the model that did not see it), the RESULT line, and the folds' ensemble
    /// manifest (<c>OUTPUT/ensemble.json</c>).
    /// </summary>
    public static int CrossValidate(ISegmentationSource source, int folds, int seed, string[]? groups, IReadOnlyList<string> classNames, double tolerance, string unit, string kind, string output,
        Func<SegmentationFold, string, SegmentationPostprocessingComparison, (SegmentationTrainingResult Result, IReadOnlyList<SegmentationCase> Cases, string ModelPath)> trainFold)
    {
        var splits = SegmentationFolds.Split(source, folds, seed, groups);
        var pooled = new List<SegmentationCase>();
        var models = new List<string>();
        var table = new Table().AddColumn("fold").AddColumn(new TableColumn($"train {kind}").RightAligned()).AddColumn(new TableColumn($"val {kind}").RightAligned())
            .AddColumn(new TableColumn("best epoch").RightAligned()).AddColumn(new TableColumn("mean Dice").RightAligned());
        var foldDice = new List<double>();
        var outOfFold = Comparison(classNames.Count);
        foreach (var fold in splits)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"{fold}"));
            var (result, cases, modelPath) = trainFold(fold, Path.Combine(output, $"fold-{fold.Index + 1}"), outOfFold);
            pooled.AddRange(cases);
            models.Add(modelPath);
            double dice = SegmentationSummary.Of(cases).MeanDice;
            foldDice.Add(dice);
            table.AddRow($"{fold.Index + 1}", $"{fold.Train.Count}", $"{fold.Validation.Count}", $"{result.BestEpoch + 1}", F(dice));
        }
        var summary = SegmentationSummary.Of(pooled);
        AnsiConsole.Write(table);
        double sd = foldDice.Count > 1 ? Math.Sqrt(foldDice.Sum(d => (d - foldDice.Average()) * (d - foldDice.Average())) / (foldDice.Count - 1)) : 0;
        AnsiConsole.MarkupLine(Markup.Escape($"Out of fold, {pooled.Count} {kind} each measured by the fold that did not train on it: mean Dice {F(summary.MeanDice)} (folds {F(foldDice.Average())} ± {F(sd)})"));
        AnsiConsole.Write(Table(summary, classNames, tolerance, unit, kind));
        // The post-processing of the folds' ensemble, chosen as nnU-Net chooses it: on the out-of-fold predictions (every
        // case predicted by the fold that did not train on it), recorded in the ensemble's manifest.
        var postprocessing = outOfFold.Choose();
        AnsiConsole.MarkupLine(Markup.Escape("Post-processing, chosen on the out-of-fold predictions (on the prepared grid):"));
        ReportPostprocessing(postprocessing, classNames, storeHint: null);
        Console.WriteLine($"RESULT val_dice={F(summary.MeanDice)} folds={folds} fold_dice={string.Join(",", foldDice.Select(F))} val_{kind}={pooled.Count} {PerClass(summary)}{PostprocessingFields(postprocessing)}");
        // The folds as one ensemble (nnU-Net predicts with all five): a manifest that predict and evaluate take as --model.
        var manifest = Path.Combine(output, EnsembleFileName);
        SegmentationModelFile.SaveEnsembleManifest(manifest, models, postprocessing.Choice);
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {manifest}, the folds as an ensemble with that post-processing ({Describe(postprocessing.Choice, classNames)}): "
            + $"segmentation predict --model {manifest} INPUT…"));
        return 0;
    }

    /// <summary>A post-processing comparison of maps of <paramref name="classes"/> classes (the choice needs the Dice only).</summary>
    public static SegmentationPostprocessingComparison Comparison(int classes) => new(SegmentationEvaluator.ForClasses(classes).WithoutSurfaceDistances());

    /// <summary>
    /// Prints what keeping the largest components did to the held-out cases — the foreground as one (several classes),
    /// then each class on top of the chosen first step — and what is recommended; <paramref name="storeHint"/> ("record it
    /// with --store (then predict applies it") ends the recommendation of classes, or null for a plain one.
    /// </summary>
    public static void ReportPostprocessing(SegmentationPostprocessingResult result, IReadOnlyList<string> classNames, string? storeHint)
    {
        var choice = result.Choice;
        if (result.ForegroundKept is { } whole)
            AnsiConsole.MarkupLine(Markup.Escape($"Keeping the foreground's largest connected region (all classes as one): mean Dice {F(result.AsPredicted.MeanDice)} → {F(whole.MeanDice)} ("
                + string.Join("; ", result.AsPredicted.Classes.Zip(whole.Classes, (a, b) => $"{classNames[a.Class]} {F(a.Dice)} → {F(b.Dice)}")) + "). "
                + (choice.KeepLargestForeground ? "Recommended: it raises a class's Dice and lowers none's; the classes are compared on top of it." : "Not recommended: it raises no class's Dice, or lowers one's.")));
        var before = result.BeforeClasses;
        var chosen = choice.KeepLargestComponent;
        var perClass = string.Join("; ", before.Classes.Zip(result.ClassesKept.Classes, (a, b) =>
            $"{classNames[a.Class]} {F(a.Dice)} → {F(b.Dice)}{(chosen.Contains(a.Class) ? " (chosen)" : "")}, predicted where absent {a.Spurious} → {b.Spurious}"));
        var names = string.Join(", ", chosen.Select(k => classNames[k]));
        AnsiConsole.MarkupLine(Markup.Escape($"Keeping each class's largest connected component{(choice.KeepLargestForeground ? " after that" : "")}: mean Dice {F(before.MeanDice)} → {F(result.ClassesKept.MeanDice)} ({perClass}). " +
            (chosen.Count == 0 ? "Not recommended: it raises no class's Dice here."
                : storeHint is null ? $"Recommended for {names}."
                : $"Recommended for {names}: {storeHint}{(chosen.Count == classNames.Count - 1 && !choice.KeepLargestForeground ? ", as --keep-largest would" : "")}).")));
    }

    /// <summary>The RESULT line's post-processing fields: dice_keep_foreground and keep_foreground (several classes), dice_keep_largest and keep_largest.</summary>
    public static string PostprocessingFields(SegmentationPostprocessingResult result) =>
        (result.ForegroundKept is { } whole ? $" dice_keep_foreground={F(whole.MeanDice)} keep_foreground={(result.Choice.KeepLargestForeground ? "yes" : "no")}" : "")
        + $" dice_keep_largest={F(result.ClassesKept.MeanDice)} keep_largest={(result.Choice.KeepLargestComponent.Count == 0 ? "none" : string.Join(',', result.Choice.KeepLargestComponent))}";

    /// <summary>A post-processing choice in words ("no post-processing", or its steps).</summary>
    public static string Describe(SegmentationPostprocessingChoice choice, IReadOnlyList<string> classNames)
    {
        var chosen = choice.KeepLargestComponent;
        var parts = new[]
        {
            choice.KeepLargestForeground ? "the foreground as one keeps only its largest connected region" : null,
            chosen.Count > 0 ? $"{string.Join(", ", chosen.Select(k => classNames[k]))} keep{(chosen.Count == 1 ? "s" : "")} only the largest connected component" : null,
        }.Where(p => p is not null).ToList();
        return parts.Count == 0 ? "no post-processing" : string.Join(", then ", parts);
    }

    /// <summary>Prints the per-class table of a summary.</summary>
    public static void Summary(SegmentationSummary summary, IReadOnlyList<string> classNames, double tolerance, string unit, string kind) =>
        AnsiConsole.Write(Table(summary, classNames, tolerance, unit, kind));

    private static Table Table(SegmentationSummary summary, IReadOnlyList<string> classNames, double tolerance, string unit, string kind)
    {
        var table = new Table().AddColumn("class").AddColumn(new TableColumn(kind).RightAligned()).AddColumn(new TableColumn("Dice").RightAligned())
            .AddColumn(new TableColumn("IoU").RightAligned()).AddColumn(new TableColumn($"HD95 {unit}").RightAligned()).AddColumn(new TableColumn($"ASSD {unit}").RightAligned())
            .AddColumn(new TableColumn($"NSD@{tolerance.ToString(CultureInfo.InvariantCulture)}").RightAligned()).AddColumn(new TableColumn("false +").RightAligned());
        foreach (var c in summary.Classes)
            table.AddRow(Markup.Escape(classNames[c.Class]), c.Cases.ToString(CultureInfo.InvariantCulture), F(c.Dice), F(c.Iou), F(c.Hausdorff95Median), F(c.AverageSurfaceDistance), F(c.SurfaceDice), $"{c.Spurious}/{c.AbsentCases}");
        return table;
    }

    /// <summary>The per-class measures as RESULT fields.</summary>
    public static string PerClass(SegmentationSummary summary) => string.Join(" ", summary.Classes.Select(c =>
        $"dice_{c.Class}={F(c.Dice)} hd95_{c.Class}={F(c.Hausdorff95Median)} assd_{c.Class}={F(c.AverageSurfaceDistance)} nsd_{c.Class}={F(c.SurfaceDice)} spurious_{c.Class}={c.Spurious} absent_{c.Class}={c.AbsentCases}"));

    // The options both training commands take with the same meaning and default.
    public static Option<int[]> FeaturesOption() => new Option<int[]>("--features")
    {
        Description = "Feature channels of the U-Net's levels, full resolution first (n levels pool n − 1 times).",
        AllowMultipleArgumentsPerToken = true,
        DefaultValueFactory = _ => [16, 32, 64],
    }.Must(v => v.Length is >= 2 and <= 6 && v.All(f => f is >= 1 and <= 1024), "2 to 6 counts from 1 to 1024");

    public static Option<int> EpochsOption() => new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 20 }.AtLeast(1);

    public static Option<bool> MixedPrecisionOption() => new("--mixed-precision") { Description = "Forward passes under bfloat16 autocast (much faster on CPUs with bfloat16 instructions); weights stay float32." };

    public static Option<bool> ResumeOption() => new("--resume") { Description = "Continue the run in --output from its last checkpoint (after an interruption), with the same options." };

    public static Option<int> SeedOption() => new("--seed") { Description = "Seed of the split, the weights, the order and the augmentation.", DefaultValueFactory = _ => 0 };

    public static Option<string> DeviceOption() => new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();

    /// <summary>The --folds option: a k-fold cross-validation instead of one held-out part.</summary>
    public static Option<int?> FoldsOption(string kind) => new Option<int?>("--folds")
    {
        Description = $"Cross-validate in K folds instead of holding out --val-fraction: a model per fold in OUTPUT/fold-i, each validated on the {kind} it did not see, the pooled out-of-fold measures, and an ensemble of the folds for predict (nnU-Net trains five).",
    }.AtLeast(2);

    /// <summary>
    /// The optimisation options both training commands take: Adam with cosine annealing (the default) or nnU-Net's SGD
    /// with the poly schedule, gradient accumulation, and an exponential moving average of the weights.
    /// </summary>
    public sealed class RecipeOptions
    {
        public Option<string> Optimizer { get; } = new Option<string>("--optimizer")
        {
            Description = "adam (Adam, cosine annealing) or sgd (nnU-Net's: Nesterov momentum 0.99, weight decay 3e-5, poly schedule).",
            DefaultValueFactory = _ => "adam",
        }.OneOf("adam", "sgd");

        public Option<double?> LearningRate { get; } = new Option<double?>("--lr") { Description = "The learning rate (default 1e-3 for adam, 1e-2 for sgd)." }.Positive();

        public Option<string?> Schedule { get; } = new Option<string?>("--schedule")
        {
            Description = "cosine (to 0 by a cosine) or poly ((1 − epoch/epochs)^0.9); default cosine for adam, poly for sgd.",
        }.Must(v => v is null or "cosine" or "poly", "cosine or poly");

        public Option<int> Accumulate { get; } = new Option<int>("--accumulate")
        {
            Description = "Batches whose gradients are summed before each optimizer step (the step of an N times larger batch).",
            DefaultValueFactory = _ => 1,
        }.AtLeast(1);

        public Option<double?> Ema { get; } = WeightAveragingOptions.Ema();

        public Option<bool> EmaWarmup { get; } = WeightAveragingOptions.EmaWarmup();

        public Option<bool> DeepSupervision { get; } = new Option<bool>("--deep-supervision")
        {
            Description = "Deep supervision (nnU-Net): 1×1 heads on the decoder's lower resolutions (all but the coarsest; one at least), trained against downsampled labels with weights halving per level; the saved model leaves them out. Needs three levels of --features or more.",
        };

        public IEnumerable<Option> All => [Optimizer, LearningRate, Schedule, Accumulate, Ema, EmaWarmup, DeepSupervision];

        public Recipe Read(ParseResult r)
        {
            bool sgd = r.GetValue(Optimizer) == "sgd";
            if (WeightAveragingOptions.Check(r.GetValue(EmaWarmup), r.GetValue(Ema)) is { } problem) throw new ArgumentException(problem);
            return new Recipe(sgd, r.GetValue(LearningRate) ?? (sgd ? 1e-2 : 1e-3), (r.GetValue(Schedule) ?? (sgd ? "poly" : "cosine")) == "poly", r.GetValue(Accumulate), r.GetValue(Ema),
                r.GetValue(EmaWarmup), r.GetValue(DeepSupervision));
        }
    }

    /// <summary>The optimisation a run uses.</summary>
    public sealed record Recipe(bool Sgd, double LearningRate, bool Poly, int Accumulate, double? Ema, bool EmaWarmup, bool DeepSupervision)
    {
        /// <summary>The network's part of the recipe: deep supervision heads.</summary>
        public UNetBuilder Apply(UNetBuilder builder) => DeepSupervision ? builder.WithDeepSupervision() : builder;

        public SegmentationTrainerBuilder Apply(SegmentationTrainerBuilder builder)
        {
            builder = Sgd ? builder.UseSgd(LearningRate) : builder.UseAdam(LearningRate);
            builder = Poly ? builder.WithPolySchedule() : builder.WithCosineSchedule();
            if (Accumulate > 1) builder.AccumulateGradients(Accumulate);
            if (Ema is double decay) builder.AverageWeights(decay, EmaWarmup);
            return builder;
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{(Sgd ? "SGD (Nesterov 0.99)" : "Adam")} at {LearningRate:G3}, {(Poly ? "poly" : "cosine")} schedule{(Accumulate > 1 ? $", gradients of {Accumulate} batches per step" : "")}{(Ema is double d ? $", weights averaged (decay {d:G3}{(EmaWarmup ? ", warm-up" : "")})" : "")}{(DeepSupervision ? ", deep supervision" : "")}");
    }

    /// <summary>Three decimals, "nan" and "inf" spelled out.</summary>
    public static string F(double v) => double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("F3", CultureInfo.InvariantCulture);

    /// <summary>One line per epoch.</summary>
    public sealed class Progress(int epochs) : IProgress<SegmentationEpoch>
    {
        public void Report(SegmentationEpoch e) => AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch + 1}/{epochs}: loss {e.TrainLoss:F4}, validation Dice {F(e.ValidationDice)}, lr {e.LearningRate:G3}, {e.Seconds:F1} s")));
    }
}
