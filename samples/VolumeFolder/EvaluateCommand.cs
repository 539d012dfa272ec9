using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Plotting;
using MedVision.Torch;
using Spectre.Console;

namespace MedVision.Samples.VolumeFolder;

/// <summary>
/// The <c>evaluate</c> command: the model file that <c>train</c> wrote — or several as an ensemble, or a
/// cross-validation's manifest — on labelled scans it has not seen, in class folders as training's <c>--data</c> (NIfTI
/// files, DICOM series folders, or subject folders for a model of several modalities): AUC, ACC and the task's measures
/// with bootstrap intervals, calibration, and the referral decisions of the operating point the model file or manifest
/// records; writes the report, the predictions, the ROC and the confusion matrix. <c>train</c> selects its epoch (and
/// fits its temperature and operating point) on the validation volumes, so its numbers flatter the model; these do not.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Option<string[]>("--model")
        {
            Description = "The model file train wrote (model.safetensors); give --model more than once to evaluate an ensemble (their probabilities averaged), or an ensemble manifest (.json, e.g. a cross-validation's ensemble.json).",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var data = new Option<string>("--test-data") { Description = "The labelled scans: one sub-folder per class, named as the model's classes, holding NIfTI files or DICOM series folders (subject folders for a model of several modalities); none of them trained or validated on.", Required = true };
        var bootstrap = HeldOutReport.BootstrapOption("scans");
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var threads = SampleCommandLine.Threads();
        var output = new Option<string>("--output") { Description = "Folder for the report, the predictions and the plots.", DefaultValueFactory = _ => "runs/volumes-evaluate" };
        var command = new Command("evaluate", "Evaluate a trained model file (or an ensemble) on labelled test scans in class folders: AUC, ACC, the task's measures with bootstrap intervals, calibration and referral.")
        {
            model, data, bootstrap, device, threads, output,
        };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(bootstrap), Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(output)!));
        return command;
    }

    private static int Run(string[] models, string folder, int resamples, Device device, int threads, string output)
    {
        Tensors.NumThreads = threads;
        var manifest = EnsembleModels.ManifestAlone(models);
        var modelPaths = manifest is not null ? EnsemblePredictor.ReadManifest(manifest).ModelPaths.ToArray() : models;
        using var ensemble = manifest is not null ? EnsemblePredictor.LoadManifest(manifest, device) : EnsemblePredictor.Load(models, device);
        var card = ensemble.Members[0].Card;
        var input = card.Preprocessing.InputSize;
        if (input.Count != 3)
            throw new ArgumentException($"{Path.GetFileName(modelPaths[0])} takes 2-D images (input {string.Join("×", input)}); this sample evaluates volumes.");
        var classNames = ensemble.ClassNames;
        var task = Enum.Parse<MedMnistTask>(card.Task, ignoreCase: true);
        // The scans and their labels: the class folders (subject folders of the model's modalities), named as its classes.
        var test = VolumeFolderSource.FromSubfolders(folder, input[0], input[1], input[2], modalities: card.Preprocessing.Modalities);
        if (!test.ClassNames.SequenceEqual(classNames))
            throw new ArgumentException($"The class folders of {folder} ({string.Join(", ", test.ClassNames)}) are not the model's classes ({string.Join(", ", classNames)}).");
        string what = card.Preprocessing.Modalities is null ? "scans" : "subjects";

        AnsiConsole.MarkupLine(SampleCommandLine.Banner(device));
        AnsiConsole.MarkupLine(Markup.Escape((modelPaths.Length > 1 || manifest is not null ? EnsembleModels.Banner(ensemble) : $"Model {Path.GetFileName(modelPaths[0])}{TemperatureFits.OfCard(card)}")
            + $" ({card.Task}, input {string.Join("×", input)}) on {test.Count} test {what}: "
            + string.Join(", ", classNames.Select((n, k) => $"{n}: {test.Samples.Count(x => x.Label == k)}"))));

        // One model file predicts by itself, so that its own referral point applies (an ensemble, or a manifest, applies
        // the manifest's); the probabilities are the same.
        var single = modelPaths.Length == 1 && manifest is null ? ensemble.Members[0] : null;
        var paths = test.Samples.Select(x => x.Path).ToArray();
        IReadOnlyList<Prediction> predictions = single is not null ? single.PredictFiles(paths) : ensemble.PredictFiles(paths);
        int[] actual = test.Samples.Select(x => x.Label).ToArray();
        var scores = new double[paths.Length, classNames.Count];
        for (int i = 0; i < paths.Length; i++)
            for (int k = 0; k < classNames.Count; k++) scores[i, k] = predictions[i].Probabilities[k];

        // Grades decided as the predictions decide them (a CORAL model's: its median grade).
        var report = ModelEvaluator.Evaluate(task, actual, scores, ensemble.OrdinalDecision, new BootstrapOptions { Resamples = resamples });
        Directory.CreateDirectory(output);
        report.WriteCsv(Path.Combine(output, "test-evaluation.csv"));
        Prediction.WriteCsv(Path.Combine(output, "test-predictions.csv"), paths.Select(p => Path.GetRelativePath(folder, p)).ToArray(), predictions, classNames);
        var fields = HeldOutReport.PrintMeasures(task, report, classNames, resamples, $"Test {what} ({test.Count})");
        fields.AddRange(HeldOutReport.PrintCalibration(task, actual, scores, single?.Card));

        var charts = new List<(string File, SvgChart Chart)>
        {
            ("test-confusion.svg", new ConfusionMatrixChart(ConfusionMatrix.FromPredictions(actual, predictions.Select(p => p.Label).ToArray(), classNames.Count), classNames, "Test confusion matrix")),
        };
        // The referral decisions predict makes: the operating point the model file (or manifest) records.
        var referral = single is not null ? single.Referral : ensemble.Referral;
        var note = single is not null ? single.ReferralNote : ensemble.ReferralNote;
        if (note is not null) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
        if (referral is not null)
        {
            var (referable, risks) = Nets.Metrics.Clinical.Referral.FromGrades(actual, scores, referral.ReferableFrom);
            string riskName = $"P(class ≥ {PredictionTable.ClassLabel(classNames, referral.ReferableFrom)})";
            charts.Add(("test-roc.svg", TrainingPlots.RocCurve(referable, risks, riskName, "Test ROC")));
            fields.Add($"referable_from={referral.ReferableFrom}");
            fields.AddRange(HeldOutReport.PrintReferral(referable, risks, referral.Threshold,
                string.Create(CultureInfo.InvariantCulture, $"refer when {riskName} ≥ {referral.Threshold:F4}, {referral.Rule}"), riskName, what));
        }
        else charts.Add(("test-roc.svg", TrainingPlots.RocCurves(actual, scores, classNames, "Test ROC (one vs rest)")));
        HeldOutReport.WriteCharts(charts, output);
        Console.WriteLine($"EVALUATION {what}={test.Count} models={modelPaths.Length} task={card.Task} classes={classNames.Count} {string.Join(" ", fields)}");
        return 0;
    }
}
