using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Conformal;
using MedVision.Torch;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>conformal</c> command: conformal prediction sets for a saved model, calibrated on the validation split and
/// checked on the test split and on random calibration/evaluation splits of the two pooled; every score side by side,
/// the chosen one in detail, optionally stored in the model file so that <c>predict</c> prints each image's set.
/// </summary>
internal static class ConformalCommand
{
    public static Command Create()
    {
        var models = ModelOptions.Models();
        var dataset = ModelOptions.Dataset("MedMNIST dataset name (default retinamnist, which is shipped).");
        var dataFile = ModelOptions.DataFile();
        var device = ModelOptions.DeviceChoice();
        var flips = ModelOptions.Flips();
        var mixedPrecision = ModelOptions.MixedPrecision("Predict under bfloat16 autocast (a stored calibration then holds only for predictors that do too).");
        var threads = SampleCommandLine.Threads();
        var score = new Option<ConformalScore?>("--score") { Description = "The score shown in detail and stored: Lac, Aps, Raps or OrdinalAps (default OrdinalAps for ordinal datasets, else Aps)." }
            .Must(v => v is not { } known || Enum.IsDefined(known), "Lac, Aps, Raps or OrdinalAps");
        var coverage = new Option<double>("--coverage") { Description = "The coverage asked for, 1 − α: the share of images whose set must hold the true class.", DefaultValueFactory = _ => ConformalClassifier.DefaultCoverage }
            .Must(v => v > 0 && v < 1, "strictly between 0 and 1");
        var classConditional = new Option<bool>("--class-conditional") { Description = "Per-class thresholds for the detailed and stored calibration (coverage holds for every class)." };
        var lambda = new Option<double>("--lambda") { Description = "RAPS's penalty per rank beyond --k-reg.", DefaultValueFactory = _ => ConformalClassifier.DefaultRegularization }.Must(v => v >= 0 && double.IsFinite(v), "finite and at least 0");
        var kReg = new Option<int>("--k-reg") { Description = "RAPS's number of unpenalised top classes.", DefaultValueFactory = _ => ConformalClassifier.DefaultRegularizationRank }.Must(v => v >= 0, "at least 0");
        var trials = new Option<int>("--trials") { Description = "Random calibration/evaluation splits of the validation and test images pooled (the validation split's size calibrates); 0 skips them.", DefaultValueFactory = _ => 1000 }.Must(v => v >= 0, "at least 0");
        var seed = new Option<int>("--seed") { Description = "Seed of the random splits.", DefaultValueFactory = _ => 0 };
        var store = new Option<bool>("--store") { Description = "Write the detailed calibration into the model file (one .safetensors model), so that predict prints each image's set." };
        var output = new Option<string>("--output") { Description = "Folder for test-sets.csv (each test image's set under the detailed calibration).", DefaultValueFactory = _ => "runs/conformal" };
        var command = new Command("conformal", "Conformal prediction sets: calibrate on the validation split, check coverage and set sizes on the test split and on random splits, optionally store the calibration in the model file.")
        {
            models, dataset, dataFile, device, flips, mixedPrecision, threads, score, coverage, classConditional, lambda, kReg, trials, seed, store, output,
        };
        command.SetAction(r => Run(new Settings(r.GetValue(models)!, r.GetValue(dataset), r.GetValue(dataFile), Device.Parse(r.GetValue(device)!), r.GetValue(flips), r.GetValue(mixedPrecision),
            r.GetValue(threads), r.GetValue(score), r.GetValue(coverage), r.GetValue(classConditional), r.GetValue(lambda), r.GetValue(kReg), r.GetValue(trials), r.GetValue(seed), r.GetValue(store), r.GetValue(output)!)));
        return command;
    }

    private sealed record Settings(string[] Models, string? Dataset, string? DataFile, Device Device, TestTimeFlips Flips, bool MixedPrecision, int Threads,
        ConformalScore? Score, double Coverage, bool ClassConditional, double Lambda, int KReg, int Trials, int Seed, bool Store, string Output);

    private static int Run(Settings s)
    {
        Tensors.NumThreads = s.Threads;
        var data = TrainCommand.LoadDataset(s.Dataset, s.DataFile);
        var info = data.Info!;
        if (info.Task == MedMnistTask.MultiLabel) throw new ArgumentException($"{info.Name} is multi-label: conformal prediction sets here are for single-label datasets (one class per image).");
        bool manifest = EnsembleModels.ManifestAlone(s.Models) is not null;
        if (s.Store && (s.Models.Length != 1 || !(manifest || s.Models[0].EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))))
            throw new ArgumentException("--store writes the calibration into one .safetensors model file or one ensemble manifest (.json); for several --model files, write a manifest (medmnist ensemble) and calibrate it.");
        var (ensemble, paths) = ModelFiles.LoadEnsemble(s.Models, s.Device, s.Flips, s.MixedPrecision);
        using var owned = ensemble;
        if (ensemble.ClassNames.Count != info.ClassCount)
            throw new ArgumentException($"The model has {ensemble.ClassNames.Count} classes but {info.Name} has {info.ClassCount}.");
        if (EnsembleModels.FromCrossValidation(ensemble))
            throw new ArgumentException("These models come from a cross-validation of the training and validation splits pooled: the validation split is not held out from them, so it cannot calibrate their sets.");
        var chosen = s.Score ?? (info.Task == MedMnistTask.OrdinalRegression ? ConformalScore.OrdinalAps : ConformalScore.Aps);
        AnsiConsole.MarkupLine(paths.Length == 1
            ? $"Model {Markup.Escape(paths[0])} (temperature {ensemble.Members[0].Card.Temperature.ToString("G4", CultureInfo.InvariantCulture)}, flips {s.Flips}) on {info.Name} ({info.Task})"
            : $"{EnsembleModels.Banner(ensemble)} on {info.Name} ({info.Task})");

        var (valScores, _) = EvaluateCommand.Predict(ensemble, data.Validation);
        var (testScores, _) = EvaluateCommand.Predict(ensemble, data.Test);
        var valLabels = data.Validation.Labels;
        var testLabels = data.Test.Labels;
        var pooledLabels = Pool(valLabels, testLabels);
        var pooledScores = Pool(valScores, testScores);
        int calibrationCount = valScores.GetLength(0);
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Calibration: the {calibrationCount} validation images · evaluation: the {testScores.GetLength(0)} test images · coverage asked {s.Coverage:G4} (α = {1 - s.Coverage:G4})")
            + (s.Trials > 0 ? $" · {s.Trials} random splits of the {pooledScores.GetLength(0)} pooled ({calibrationCount} calibrate, seed {s.Seed})" : ""));

        ConformalClassifierBuilder Builder(ConformalScore score, bool conditional)
        {
            var b = ConformalClassifier.Create().WithScore(score).WithCoverage(s.Coverage).ClassConditional(conditional);
            return score == ConformalScore.Raps ? b.WithRegularization(s.Lambda, s.KReg) : b;
        }

        string F(double v) => double.IsNaN(v) ? "–" : v.ToString("F3", CultureInfo.InvariantCulture);
        var table = new Table().Title("Test split, calibrated on the validation split")
            .AddColumn("score").AddColumn(new TableColumn("coverage").RightAligned()).AddColumn(new TableColumn("95% CI").RightAligned())
            .AddColumn(new TableColumn("mean size").RightAligned()).AddColumn(new TableColumn("1 class").RightAligned()).AddColumn(new TableColumn("worst class").RightAligned());
        var random = new Table().Title($"{s.Trials} random splits of validation and test pooled")
            .AddColumn("score").AddColumn(new TableColumn("coverage ± sd").RightAligned()).AddColumn(new TableColumn("below asked").RightAligned())
            .AddColumn(new TableColumn("mean size").RightAligned()).AddColumn(new TableColumn("worst class").RightAligned());
        var lines = new List<string>();
        foreach (bool conditional in new[] { false, true })
            foreach (var score in Enum.GetValues<ConformalScore>())
            {
                var conformal = Builder(score, conditional).Calibrate(valLabels, valScores);
                var test = conformal.Evaluate(testLabels, testScores);
                string name = score + (conditional ? " per class" : "") + (score == chosen && conditional == s.ClassConditional ? " *" : "");
                table.AddRow(Markup.Escape(name), F(test.Coverage), $"{F(test.CoverageInterval.Lower)}–{F(test.CoverageInterval.Upper)}", F(test.MeanSetSize),
                    test.SingletonRate.ToString("P0", CultureInfo.InvariantCulture), F(test.WorstClassCoverage));
                string line = string.Create(CultureInfo.InvariantCulture,
                    $"CONFORMAL {score}{(conditional ? "-per-class" : "")} coverage_asked={s.Coverage:G4} test_coverage={test.Coverage:F4} test_size={test.MeanSetSize:F4} test_singletons={test.SingletonRate:F4} test_worst_class={test.WorstClassCoverage:F4}");
                if (s.Trials > 0)
                {
                    var splits = Builder(score, conditional).EvaluateOnRandomSplits(pooledLabels, pooledScores, calibrationCount, s.Trials, s.Seed);
                    random.AddRow(Markup.Escape(name), $"{F(splits.MeanCoverage)} ± {F(splits.CoverageStandardDeviation)}", splits.ShareBelowTarget.ToString("P0", CultureInfo.InvariantCulture),
                        F(splits.MeanSetSize), F(splits.MeanWorstClassCoverage));
                    line += string.Create(CultureInfo.InvariantCulture,
                        $" splits_coverage={splits.MeanCoverage:F4} splits_sd={splits.CoverageStandardDeviation:F4} splits_below={splits.ShareBelowTarget:F4} splits_size={splits.MeanSetSize:F4} splits_worst_class={splits.MeanWorstClassCoverage:F4}");
                }
                lines.Add(line);
            }
        AnsiConsole.Write(table);
        if (s.Trials > 0) AnsiConsole.Write(random);
        AnsiConsole.MarkupLine("(* the calibration shown below and stored with --store; choose it with --score and --class-conditional)");

        var selected = Builder(chosen, s.ClassConditional).Calibrate(valLabels, valScores);
        foreach (var warning in selected.Warnings) AnsiConsole.MarkupLine($"[yellow]Warning:[/] {Markup.Escape(warning)}");
        var evaluation = selected.Evaluate(testLabels, testScores);
        var spread = s.ClassConditional ? null : selected.CoverageDistribution(0.9);
        AnsiConsole.MarkupLine(Markup.Escape(selected.ToString()));
        if (spread is not null)
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"With {calibrationCount} calibration images, this calibration's coverage on new images lies in [{spread.Lower:F3}, {spread.Upper:F3}] with probability 0.9 over calibration draws.")));
        var perClass = new Table().Title($"{chosen}{(s.ClassConditional ? " per class" : "")}: test images by true class")
            .AddColumn("class").AddColumn(new TableColumn("images").RightAligned()).AddColumn(new TableColumn("coverage").RightAligned()).AddColumn(new TableColumn("mean size").RightAligned());
        foreach (var g in evaluation.ByClass) perClass.AddRow(Markup.Escape(ClassLabel(info.ClassNames, g.Group)), g.Count.ToString(CultureInfo.InvariantCulture), F(g.Coverage), F(g.MeanSetSize));
        AnsiConsole.Write(perClass);
        var bySize = new Table().Title("… and by set size").AddColumn("size").AddColumn(new TableColumn("images").RightAligned()).AddColumn(new TableColumn("coverage").RightAligned());
        foreach (var g in evaluation.BySize) bySize.AddRow(g.Group.ToString(CultureInfo.InvariantCulture), g.Count.ToString(CultureInfo.InvariantCulture), F(g.Coverage));
        AnsiConsole.Write(bySize);

        Directory.CreateDirectory(s.Output);
        var csv = new List<string> { "index,label,predicted,set,covered" };
        var predicted = MedMnistEvaluator.Predict(info.Task, testScores, ensemble.OrdinalDecision);   // a CORAL model's median grade
        for (int i = 0; i < testLabels.GetLength(0); i++)
        {
            var set = evaluation.Sets[i];
            csv.Add(string.Create(CultureInfo.InvariantCulture, $"{i},{testLabels[i, 0]},{predicted[i]},{string.Join(' ', set)},{(set.Contains(testLabels[i, 0]) ? 1 : 0)}"));
        }
        var csvPath = Path.Combine(s.Output, "test-sets.csv");
        AtomicFile.WriteAllText(csvPath, string.Join('\n', csv) + "\n");
        AnsiConsole.MarkupLine($"Written: {Markup.Escape(Path.GetFullPath(csvPath))}");

        if (s.Store && manifest)
        {
            var notes = EnsemblePredictor.UpdateManifest(s.Models[0], m => m with { Conformal = ConformalCard.From(selected, 1, s.Flips, s.MixedPrecision) });
            foreach (var note in notes) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
            AnsiConsole.MarkupLine($"Stored the {chosen} calibration of the ensemble's probabilities in {Markup.Escape(s.Models[0])}: predict prints each image's set (with flips {s.Flips}{(s.MixedPrecision ? " and --mixed-precision" : "")}).");
        }
        else if (s.Store)
        {
            ModelFile.UpdateCard(paths[0], card => card.Conformal = ConformalCard.From(selected, card.GetTemperatureScaling(), s.Flips, s.MixedPrecision));
            AnsiConsole.MarkupLine($"Stored the {chosen} calibration in {Markup.Escape(paths[0])}: predict prints each image's set (with flips {s.Flips}{(s.MixedPrecision ? " and --mixed-precision" : "")}).");
        }
        foreach (var line in lines) Console.WriteLine(line);
        return 0;
    }

    // "3" for a class named by its index (RetinaMNIST's grades), else "3 (name)".
    internal static string ClassLabel(IReadOnlyList<string> names, int c) => PredictionTable.ClassLabel(names, c);

    private static int[] Pool(int[,] a, int[,] b)
    {
        var pooled = new int[a.GetLength(0) + b.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++) pooled[i] = a[i, 0];
        for (int i = 0; i < b.GetLength(0); i++) pooled[a.GetLength(0) + i] = b[i, 0];
        return pooled;
    }

    private static double[,] Pool(double[,] a, double[,] b)
    {
        int k = a.GetLength(1);
        var pooled = new double[a.GetLength(0) + b.GetLength(0), k];
        for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < k; j++) pooled[i, j] = a[i, j];
        for (int i = 0; i < b.GetLength(0); i++) for (int j = 0; j < k; j++) pooled[a.GetLength(0) + i, j] = b[i, j];
        return pooled;
    }
}
