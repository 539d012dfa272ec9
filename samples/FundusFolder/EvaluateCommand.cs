using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Clinical;
using MedVision.Nets.Plotting;
using MedVision.Torch;
using Spectre.Console;

namespace MedVision.Samples.FundusFolder;

/// <summary>
/// The <c>evaluate</c> command: the model file that <c>train</c> wrote — or several as an ensemble — on labelled
/// photographs it has not seen (a test folder, labelled by a CSV, class sub-folders or iChallenge-PM's file names):
/// AUC, ACC and the task's measures with bootstrap intervals, and the referral decisions <c>predict</c> would make
/// (sensitivity, specificity, PPV, NPV with exact intervals); writes the full report, the predictions, the ROC and the
/// confusion matrix. <c>train</c> selects its epoch on the validation images, so its numbers flatter the model; these do not.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Option<string[]>("--model")
        {
            Description = "The model file train wrote (model.safetensors), or its ONNX export (medmnist export; run by ONNX Runtime on the CPU, to check the exported graph on the test photographs); give --model more than once to evaluate an ensemble (their probabilities averaged), or an ensemble manifest (.json).",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var testFolder = new Option<string>("--test-folder") { Description = "The labelled photographs (JPEG or PNG) to evaluate on; none of them should have been trained or validated on.", Required = true };
        var labels = new Option<string>("--labels")
        {
            Description = "csv: --test-csv names each photograph and its label (the class index; a multi-label model's finding columns, by default named as its findings); subfolders: --test-folder holds one sub-folder per class, named as the model's classes; file-names: iChallenge-PM's names (P = pathologic myopia, N/H = not; a two-class model).",
            DefaultValueFactory = _ => "csv",
        }.OneOf("csv", "subfolders", "file-names");
        var testCsv = new Option<string?>("--test-csv") { Description = "With --labels csv: the CSV of the test photographs' labels.", HelpName = "FILE" };
        var nameColumn = new Option<string>("--name-column") { Description = "Image-name column of the CSV.", DefaultValueFactory = _ => "imgName" };
        var labelColumn = new Option<string>("--label-column") { Description = "Label column of the CSV (the class index); for a multi-label model, its comma-separated 0/1 finding columns (default: the model's finding names).", DefaultValueFactory = _ => "Label" };
        var threshold = new Option<double?>("--threshold")
        {
            Description = "The referral threshold on P(positive class) or, for a grading model, P(referable grades), as predict's. Default: the operating point recorded in the model file or manifest, else 0.5.",
        }.Must(v => v is null || v is > 0 and < 1, "a probability between 0 and 1 (exclusive)");
        var bootstrap = HeldOutReport.BootstrapOption("photographs");
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var threads = SampleCommandLine.Threads();
        var output = new Option<string>("--output") { Description = "Folder for the report, the predictions and the plots.", DefaultValueFactory = _ => "runs/fundus-evaluate" };
        var command = new Command("evaluate", "Evaluate a trained model file (or an ensemble) on labelled test photographs: AUC, ACC, the task's measures with bootstrap intervals, and the referral decisions predict would make.")
        {
            model, testFolder, labels, testCsv, nameColumn, labelColumn, threshold, bootstrap, device, threads, output,
        };
        command.Check(r => r.GetValue(labels) == "csv" && r.GetValue(testCsv) is null
            ? "--labels csv reads the test photographs' labels from a CSV: give --test-csv FILE, or --labels subfolders or file-names." : null);
        command.Check(r => r.GetValue(labels) != "csv" && (r.GetValue(testCsv) is not null || r.GetResult(nameColumn) is { Implicit: false } || r.GetResult(labelColumn) is { Implicit: false })
            ? $"--labels {r.GetValue(labels)} takes the labels from the {(r.GetValue(labels) == "subfolders" ? "class sub-folders" : "file names")}: give no --test-csv, --name-column or --label-column." : null);
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(testFolder)!, r.GetValue(labels)!, r.GetValue(testCsv), r.GetValue(nameColumn)!, r.GetValue(labelColumn)!,
            r.GetValue(threshold), r.GetValue(bootstrap), Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(output)!));
        return command;
    }

    private static int Run(string[] models, string folder, string labelling, string? csv, string nameColumn, string labelColumn, double? givenThreshold, int resamples,
        Device device, int threads, string output)
    {
        Tensors.NumThreads = threads;
        var (ensemble, modelPaths) = FundusModels.Load(models, device);
        using var owned = ensemble;
        var card = ensemble.Members[0].Card;
        var task = FundusModels.TaskOf(card, modelPaths[0]);
        var classNames = card.ClassNames;
        var referral = FundusModels.Referral(ensemble, task, modelPaths.Length, givenThreshold, modelPaths[0]);
        bool multiLabel = task == MedMnistTask.MultiLabel;
        var test = TestSet(folder, labelling, csv, nameColumn, labelColumn, classNames, multiLabel);

        AnsiConsole.MarkupLine(SampleCommandLine.Banner(device));
        AnsiConsole.MarkupLine(Markup.Escape((modelPaths.Length > 1 ? EnsembleModels.Banner(ensemble) : $"Model {Path.GetFileName(modelPaths[0])}")
            + $" ({FundusModels.TaskName(task)}, {card.Architecture} at {string.Join("×", card.Preprocessing.InputSize)}{(modelPaths.Length == 1 ? TemperatureFits.OfCard(card) : "")}) on {test.Count} test photographs: "
            + string.Join(", ", classNames.Select((n, k) => $"{n}: {test.Samples.Count(x => FundusModels.Has(x, k) == 1)}"))));
        FundusModels.PrintThresholdSource(referral, ensemble, modelPaths.Length, givenThreshold is not null);

        // Each photograph prepared as the model card says (as predict prepares it), the ensemble's averaged probabilities.
        var files = test.Samples.Select(x => x.FilePath).ToArray();
        var predictions = ensemble.PredictFiles(files).Select(referral.Apply).ToArray();
        int[] actual = test.Samples.Select(x => x.Label).ToArray();   // −1 for multi-label photographs
        var findingLabels = new int[files.Length, multiLabel ? classNames.Count : 1];
        for (int i = 0; i < files.Length; i++)
            for (int k = 0; k < findingLabels.GetLength(1); k++) findingLabels[i, k] = multiLabel ? FundusModels.Has(test.Samples[i], k) : actual[i];
        var scores = new double[files.Length, classNames.Count];
        for (int i = 0; i < files.Length; i++)
            for (int k = 0; k < classNames.Count; k++) scores[i, k] = predictions[i].Probabilities[k];

        // Grades decided as the predictions decide them (a CORAL model's: its median grade).
        var report = ModelEvaluator.Evaluate(task, findingLabels, scores, ensemble.OrdinalDecision, new BootstrapOptions { Resamples = resamples });
        Directory.CreateDirectory(output);
        report.WriteCsv(Path.Combine(output, "test-evaluation.csv"));
        Prediction.WriteCsv(Path.Combine(output, "test-predictions.csv"), files.Select(f => Path.GetRelativePath(test.Root, f)).ToArray(), predictions, classNames);

        // The measures shown (all of them are in test-evaluation.csv): AUC and ACC, then the task's own; calibration.
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        var fields = HeldOutReport.PrintMeasures(task, report, classNames, resamples, $"Test photographs ({test.Count})");
        if (!multiLabel) fields.AddRange(HeldOutReport.PrintCalibration(task, actual, scores, modelPaths.Length == 1 ? card : null));

        // The decisions predict makes, on these photographs.
        var charts = new List<(string File, SvgChart Chart)>();
        if (!multiLabel)
            charts.Add(("test-confusion.svg", new ConfusionMatrixChart(ConfusionMatrix.FromPredictions(actual, predictions.Select(p => p.Label).ToArray(), classNames.Count), classNames, "Test confusion matrix")));
        if (referral.From is int from)
        {
            var (referable, risks) = Nets.Metrics.Clinical.Referral.FromGrades(actual, scores, from);
            charts.Add(("test-roc.svg", TrainingPlots.RocCurve(referable, risks, task == MedMnistTask.Binary ? classNames[1] : $"grade ≥ {from}", "Test ROC")));
            fields.AddRange(HeldOutReport.PrintReferral(referable, risks, referral.Threshold, referral.Describe(), referral.RiskName, "photographs"));
            if (task != MedMnistTask.Binary) fields.Insert(0, $"referable_from={from}");
        }
        else if (multiLabel)
        {
            charts.Add(("test-roc.svg", TrainingPlots.PerLabelRocCurves(findingLabels, scores, classNames, "Test ROC (per finding)")));
            // Each finding reported at its threshold (recorded in the model file, or --threshold): its sensitivity and specificity here.
            var outcomes = classNames.Select((_, k) => OperatingPoint.AtThreshold(referral.FindingThresholds[k])
                .Evaluate(FundusModels.Column(findingLabels, k), FundusModels.Column(scores, k))).ToArray();
            AnsiConsole.MarkupLine(Markup.Escape($"Findings at {(referral.FindingThresholdsRecorded ? "the model file's thresholds" : "P ≥ " + referral.FindingThresholds[0].ToString(CultureInfo.InvariantCulture))}: "
                + string.Join("; ", classNames.Select((n, k) => string.Create(CultureInfo.InvariantCulture, $"{n} (P ≥ {referral.FindingThresholds[k]:0.###}) sensitivity {outcomes[k].Sensitivity:F3}, specificity {outcomes[k].Specificity:F3}")))));
            fields.Add(string.Create(CultureInfo.InvariantCulture, $"thresholds={referral.ThresholdList} with_findings={predictions.Count(p => p.Findings is { Count: > 0 })}"));
            fields.AddRange(classNames.Select((n, k) => $"sensitivity_{HeldOutReport.ResultName(n, k)}={F(outcomes[k].Sensitivity)} specificity_{HeldOutReport.ResultName(n, k)}={F(outcomes[k].Specificity)}"));
        }
        else charts.Add(("test-roc.svg", TrainingPlots.RocCurves(actual, scores, classNames, "Test ROC (one vs rest)")));
        HeldOutReport.WriteCharts(charts, output);
        Console.WriteLine($"EVALUATION photographs={test.Count} models={modelPaths.Length} task={FundusModels.TaskName(task)} classes={classNames.Count} {string.Join(" ", fields)}");
        return 0;
    }

    // The test photographs and their labels, in the model's classes.
    private static ImageFolderDataset TestSet(string folder, string labelling, string? csv, string nameColumn, string labelColumn, IReadOnlyList<string> classNames, bool multiLabel)
    {
        if (multiLabel && labelling != "csv")
            throw new ArgumentException($"The model has {classNames.Count} findings (multi-label): label the test photographs with a table of them (--labels csv --test-csv FILE).");
        if (multiLabel)
        {
            // The finding columns: those given, else the model's own names (the training table's headers).
            var columns = labelColumn.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            return ImageFolderDataset.FromCsv(folder, csv!, new CsvLabelOptions
            {
                FileNameColumn = nameColumn, LabelColumns = columns.Length > 1 ? columns : classNames, ClassNames = classNames,
            });
        }
        switch (labelling)
        {
            case "subfolders":
                var byFolder = ImageFolderDataset.FromSubfolders(folder);
                if (!byFolder.ClassNames.SequenceEqual(classNames))
                    throw new ArgumentException($"The class folders of {folder} ({string.Join(", ", byFolder.ClassNames)}) are not the model's classes ({string.Join(", ", classNames)}).");
                return byFolder;
            case "file-names":
                if (classNames.Count != 2)
                    throw new ArgumentException($"--labels file-names labels photographs pathologic myopia or not (iChallenge-PM's P/N/H names); the model has {classNames.Count} classes.");
                return ImageFolderDataset.FromFileNames(folder, FileNameLabelRule.PathologicMyopia);
            default:
                return ImageFolderDataset.FromCsv(folder, csv!, new CsvLabelOptions { FileNameColumn = nameColumn, LabelColumn = labelColumn, ClassNames = classNames });
        }
    }
}
