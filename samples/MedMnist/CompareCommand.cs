using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Training;
using MedVision.Torch;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>compare</c> command: two models (or ensembles) on the same split, with the tests a paper reports — DeLong's
/// test of the AUCs (overall and per class), McNemar's exact test of the accuracies, and a paired bootstrap of both
/// differences.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var models = ModelOptions.Models();
        var against = new Option<string[]>("--against")
        {
            Description = "The model compared with --model, given the same way: a model file, several (an ensemble), or an ensemble manifest alone. Differences are --model's metric minus --against's.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var split = new Option<string>("--split") { Description = "The split both models are scored on: test or val.", DefaultValueFactory = _ => "test" }.OneOf("test", "val");
        var dataset = ModelOptions.Dataset("MedMNIST dataset name (default retinamnist, which is shipped).");
        var dataFile = ModelOptions.DataFile();
        var device = ModelOptions.DeviceChoice();
        var flips = ModelOptions.Flips();
        var threads = SampleCommandLine.Threads();
        var resamples = new Option<int>("--resamples") { Description = "Paired bootstrap resamples for the intervals of the differences.", DefaultValueFactory = _ => 1000 }.AtLeast(100);
        var command = new Command("compare", "Compare two models on the same split: DeLong's test of their AUCs (overall and per class), McNemar's exact test of their accuracies, and paired bootstrap intervals of both differences.")
        {
            models, against, split, dataset, dataFile, device, flips, threads, resamples,
        };
        command.SetAction(r => Run(
            r.GetValue(models)!, r.GetValue(against)!, r.GetValue(split)!, r.GetValue(dataset), r.GetValue(dataFile), Device.Parse(r.GetValue(device)!), r.GetValue(flips), r.GetValue(threads), r.GetValue(resamples)));
        return command;
    }

    private static int Run(string[] first, string[] second, string splitName, string? datasetName, string? dataFile, Device device, TestTimeFlips flips, int threads, int resamples)
    {
        var same = first.Select(Path.GetFullPath).Order().SequenceEqual(second.Select(Path.GetFullPath).Order());
        if (same)
            throw new ArgumentException("--model and --against name the same model files: a model compared with itself differs by nothing.");
        Tensors.NumThreads = threads;
        var data = TrainCommand.LoadDataset(datasetName, dataFile);
        var info = data.Info!;
        var split = splitName == "val" ? data.Validation : data.Test;
        var (a, pathsA) = ModelFiles.LoadEnsemble(first, device, flips, mixedPrecision: false);
        using var ownedA = a;
        var (b, pathsB) = ModelFiles.LoadEnsemble(second, device, flips, mixedPrecision: false);
        using var ownedB = b;
        foreach (var (ensemble, option) in new[] { (a, "--model"), (b, "--against") })
        {
            if (ensemble.ClassNames.Count != info.ClassCount)
                throw new ArgumentException($"{option}: the model has {ensemble.ClassNames.Count} classes but {info.Name} has {info.ClassCount}.");
            // The fold models of "cross-validate" trained on the training and validation splits pooled.
            if (splitName == "val" && EnsembleModels.FromCrossValidation(ensemble))
                throw new ArgumentException($"{option}: these models come from a cross-validation of the training and validation splits pooled, so the validation split is not held out for them; compare them on the test split.");
        }

        AnsiConsole.MarkupLine($"A: {Describe(a, first, pathsA)}");
        AnsiConsole.MarkupLine($"B: {Describe(b, second, pathsB)}");
        // Each side's ACC (and so McNemar's table and the bootstrap's ACC) counts the grades it reports: a CORAL
        // model's median grade (its cards' "ordinal_decision"), another model's most probable class.
        var (decisionA, decisionB) = (a.OrdinalDecision, b.OrdinalDecision);
        foreach (var (decision, side) in new[] { (decisionA, "A"), (decisionB, "B") })
            if (decision == OrdinalDecision.Median) AnsiConsole.MarkupLine($"{side} decides by the median grade (a CORAL head's rule); its ACC counts those grades.");
        AnsiConsole.MarkupLine($"on the {splitName} split of {info.Name} ({split.Count} images, {info.Task}); differences are A − B");
        var labels = split.Labels;
        var scoresA = EvaluateCommand.Predict(a, split).Scores;
        var scoresB = EvaluateCommand.Predict(b, split).Scores;
        var delong = DeLong.Compare(info.Task, labels, scoresA, scoresB);
        var estimateA = DeLong.Estimate(info.Task, labels, scoresA);
        var estimateB = DeLong.Estimate(info.Task, labels, scoresB);
        var bootstrap = BootstrapEstimator.Compare(info.Task, labels, scoresA, scoresB, decisionA, decisionB, new BootstrapOptions { Resamples = resamples });
        McNemarComparison? mcnemar = info.Task == MedMnistTask.MultiLabel
            ? null
            : McNemar.Compare(info.Task, labels, scoresA, scoresB, decisionA, decisionB);
        double accA = MedMnistEvaluator.GetAcc(info.Task, labels, scoresA, decisionA), accB = MedMnistEvaluator.GetAcc(info.Task, labels, scoresB, decisionB);

        var table = new Table()
            .AddColumn("metric").AddColumn(new TableColumn(Markup.Escape("A [95% CI]")).RightAligned()).AddColumn(new TableColumn(Markup.Escape("B [95% CI]")).RightAligned())
            .AddColumn(new TableColumn(Markup.Escape("Δ [95% CI]")).RightAligned()).AddColumn(new TableColumn("p").RightAligned())
            .AddColumn(new TableColumn(Markup.Escape("Δ [95% CI], paired bootstrap")).RightAligned());
        table.AddRow(
            "AUC (DeLong)", Markup.Escape(WithInterval(estimateA.Value, estimateA.Interval)), Markup.Escape(WithInterval(estimateB.Value, estimateB.Interval)),
            Markup.Escape(SignedWithInterval(delong.Difference, delong.DifferenceInterval)), P(delong.PValue),
            Markup.Escape(SignedWithInterval(bootstrap.AucDifference, bootstrap.AucDifferenceInterval)));
        table.AddRow(
            mcnemar is null ? "ACC" : "ACC (McNemar)", F(accA), F(accB),
            Markup.Escape(Signed(accA - accB) + (mcnemar is null ? "" : $" (only A right {mcnemar.OnlyACorrect}, only B right {mcnemar.OnlyBCorrect})")),
            mcnemar is null ? "n/a" : P(mcnemar.PValue),
            Markup.Escape(SignedWithInterval(bootstrap.AccDifference, bootstrap.AccDifferenceInterval)));
        table.Caption($"DeLong: AUC ± 1.96·SE and the paired test; McNemar: exact test on the images exactly one model gets right; bootstrap: {bootstrap.UsedResamples:N0} paired resamples", new Style(decoration: Decoration.None));
        AnsiConsole.Write(table);

        if (delong.PerClass.Count > 1)
        {
            var perClass = new Table().AddColumn(info.Task == MedMnistTask.MultiLabel ? "label" : "class")
                .AddColumn(new TableColumn("AUC A").RightAligned()).AddColumn(new TableColumn("AUC B").RightAligned())
                .AddColumn(new TableColumn(Markup.Escape("Δ [95% CI]")).RightAligned()).AddColumn(new TableColumn("p").RightAligned())
                .AddColumn(new TableColumn("p (Holm)").RightAligned());
            var holm = delong.AdjustedPerClassPValues(MultipleTestingMethod.Holm);
            for (int k = 0; k < delong.PerClass.Count; k++)
            {
                var c = delong.PerClass[k];
                perClass.AddRow(Markup.Escape($"{k}: {info.ClassNames[k]}"), F(c.AucA), F(c.AucB), Markup.Escape(SignedWithInterval(c.Difference, c.DifferenceInterval)), P(c.PValue), P(holm[k]));
            }
            perClass.Caption($"one-vs-rest AUCs, DeLong's test per class; p (Holm): adjusted for the {holm.Count(p => !double.IsNaN(p))} classes tested", new Style(decoration: Decoration.None));
            AnsiConsole.Write(perClass);
        }

        foreach (var warning in delong.Warnings.Concat(mcnemar?.Warnings ?? []).Concat(bootstrap.Warnings).Distinct())
            AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(warning)}");

        if (OutOfFoldBeside(first) is { } oofA && OutOfFoldBeside(second) is { } oofB)
            CompareCrossValidations(info.Task, oofA, decisionA, oofB, decisionB);

        var line = string.Create(CultureInfo.InvariantCulture,
            $"COMPARISON {Name(pathsA)} {Name(pathsB)} {info.Name} split={splitName} auc_a={F(delong.AucA)} auc_b={F(delong.AucB)} auc_diff={Signed(delong.Difference)} auc_se={F(delong.StandardError)} auc_p={P(delong.PValue)} acc_a={F(accA)} acc_b={F(accB)} acc_diff={Signed(accA - accB)}");
        if (mcnemar is not null)
            line += string.Create(CultureInfo.InvariantCulture, $" only_a={mcnemar.OnlyACorrect} only_b={mcnemar.OnlyBCorrect} mcnemar_p={P(mcnemar.PValue)}");
        Console.WriteLine(line);
        return 0;
    }

    // A model file's path; an ensemble's banner with its files, or with the manifest that lists them.
    // The out-of-fold predictions of a cross-validation, when the side is its ensemble manifest (cross-validate writes
    // both into its --output folder).
    private static string? OutOfFoldBeside(string[] given)
    {
        if (given is not [var manifest] || !EnsembleModels.IsManifest(manifest)) return null;
        var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(manifest))!, CrossValidationBuilder.OutOfFoldFileName);
        return File.Exists(path) ? path : null;
    }

    /// <summary>
    /// Both sides are cross-validations' fold ensembles: their recipes compared on the folds — each fold's AUC and ACC,
    /// the corrected resampled t-test of the differences, and DeLong and McNemar on the pooled out-of-fold predictions.
    /// </summary>
    private static void CompareCrossValidations(MedMnistTask task, string oofA, OrdinalDecision decisionA, string oofB, OrdinalDecision decisionB)
    {
        var a = CrossValidationResult.ReadOutOfFoldCsv(oofA);
        var b = CrossValidationResult.ReadOutOfFoldCsv(oofB);
        // The ensembles' comparison above stands either way; the recipes' needs the same samples in the same folds.
        string? problem = a.Labels.GetLength(0) != b.Labels.GetLength(0) || !a.Labels.Cast<int>().SequenceEqual(b.Labels.Cast<int>())
            ? "their out-of-fold predictions are of different images"
            : !a.Folds.SequenceEqual(b.Folds) ? "they cut different folds (run both with the same --seed and --folds)" : null;
        if (problem is not null)
        {
            AnsiConsole.MarkupLine($"[yellow]Note:[/] both are cross-validations' fold ensembles, but {Markup.Escape(problem)}, so their recipes are not compared fold by fold.");
            return;
        }

        var c = CrossValidationComparison.FromOutOfFold(task, a.Labels, a.Scores, a.Folds, decisionA, b.Scores, b.Folds, decisionB);
        AnsiConsole.MarkupLine($"Both are the fold ensembles of cross-validations on the same {c.FoldsA.Count} folds ({a.Labels.GetLength(0)} pooled training and validation images): their recipes, fold by fold");
        var folds = new Table().AddColumn("fold")
            .AddColumn(new TableColumn("AUC A").RightAligned()).AddColumn(new TableColumn("AUC B").RightAligned()).AddColumn(new TableColumn(Markup.Escape("Δ AUC")).RightAligned())
            .AddColumn(new TableColumn("ACC A").RightAligned()).AddColumn(new TableColumn("ACC B").RightAligned()).AddColumn(new TableColumn(Markup.Escape("Δ ACC")).RightAligned());
        for (int f = 0; f < c.FoldsA.Count; f++)
            folds.AddRow((f + 1).ToString(CultureInfo.InvariantCulture), F(c.FoldsA[f].Auc), F(c.FoldsB[f].Auc), Signed(c.Auc.Differences[f]), F(c.FoldsA[f].Acc), F(c.FoldsB[f].Acc), Signed(c.Acc.Differences[f]));
        string Test(ResampledTTestResult t) => Markup.Escape($"{SignedWithInterval(t.MeanDifference, t.Interval)}, t({t.DegreesOfFreedom}) = {F(t.T)}, p = {P(t.PValue)}");
        folds.AddRow(new Markup("corrected t-test"), new Markup(""), new Markup(""), new Markup(Test(c.Auc)), new Markup(""), new Markup(""), new Markup(Test(c.Acc)));
        folds.AddRow("pooled out-of-fold", F(c.OutOfFold.AucA), F(c.OutOfFold.AucB), Markup.Escape($"{Signed(c.OutOfFold.Difference)}, DeLong p = {P(c.OutOfFold.PValue)}"),
            c.OutOfFoldAccuracy is null ? "" : F(c.OutOfFoldAccuracy.AccuracyA), c.OutOfFoldAccuracy is null ? "" : F(c.OutOfFoldAccuracy.AccuracyB),
            c.OutOfFoldAccuracy is null ? "" : Markup.Escape($"{Signed(c.OutOfFoldAccuracy.Difference)}, McNemar p = {P(c.OutOfFoldAccuracy.PValue)}"));
        folds.Caption(string.Create(CultureInfo.InvariantCulture, $"Nadeau and Bengio's corrected resampled t-test: SE² = (1/k + n_test/n_train = {c.TestToTrainRatio:G3})·s² of the fold differences; the test asks about the recipes, DeLong and McNemar about these models"), new Style(decoration: Decoration.None));
        AnsiConsole.Write(folds);
        foreach (var warning in c.Auc.Warnings.Concat(c.Acc.Warnings).Concat(c.OutOfFold.Warnings).Distinct())
            AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(warning)}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CROSS_VALIDATION_COMPARISON folds={c.FoldsA.Count} fold_auc_diff={Signed(c.Auc.MeanDifference)} fold_auc_t={F(c.Auc.T)} fold_auc_p={P(c.Auc.PValue)} fold_acc_diff={Signed(c.Acc.MeanDifference)} fold_acc_p={P(c.Acc.PValue)} oof_auc_a={F(c.OutOfFold.AucA)} oof_auc_b={F(c.OutOfFold.AucB)} oof_auc_p={P(c.OutOfFold.PValue)}") +
            (c.OutOfFoldAccuracy is null ? "" : string.Create(CultureInfo.InvariantCulture, $" oof_mcnemar_p={P(c.OutOfFoldAccuracy.PValue)}")));
    }

    private static string Describe(EnsemblePredictor ensemble, string[] given, string[] paths)
        => paths.Length == 1 ? Markup.Escape(paths[0]) : $"{EnsembleModels.Banner(ensemble)}: {Markup.Escape(string.Join(", ", given))}";

    // The run folder(s) the model files lie in (the train command's --output), naming each side in the COMPARISON line.
    private static string Name(string[] paths)
        => paths.Length == 1 ? EvaluateCommand.RunName(paths[0]) : "ensemble:" + string.Join(",", paths.Select(EvaluateCommand.RunName));

    private static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F4", CultureInfo.InvariantCulture);

    private static string Signed(double v) => double.IsNaN(v) ? "n/a" : TrainingConsole.Signed(v);

    private static string P(double p) => TrainingConsole.PValue(p);

    private static string WithInterval(double value, ConfidenceInterval ci)
        => ci.IsDefined ? $"{F(value)} [{F(ci.Lower)}, {F(ci.Upper)}]" : F(value);

    private static string SignedWithInterval(double value, ConfidenceInterval ci)
        => ci.IsDefined ? $"{Signed(value)} [{Signed(ci.Lower)}, {Signed(ci.Upper)}]" : Signed(value);
}
