using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Torch;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>predict</c> command: classifies image files with a saved model file (libtorch) or an exported ONNX file
/// (ONNX Runtime) and prints a table.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var models = ModelOptions.Models();
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var heatmaps = new Option<string?>("--heatmaps") { Description = "Also write, into this folder, each image with the class-activation map of its prediction blended over it (NAME-gradcam.png)." };
        var flips = ModelOptions.Flips();
        var mixedPrecision = ModelOptions.MixedPrecision("Run the network under bfloat16 autocast (for large batches of files; single images are usually faster in float32).");
        var cam = new Option<CamMethod>("--cam") { Description = "The map for --heatmaps: GradCam or GradCamPlusPlus.", DefaultValueFactory = _ => CamMethod.GradCam }.Known();
        var csv = new Option<string?>("--csv") { Description = "FILE: also write every input's label, class probabilities (and expected grade, conformal set, ensemble agreement) as CSV.", HelpName = "FILE" };
        var images = new Argument<string[]>("images") { Description = "JPEG or PNG files to classify; for a model of 3-D volumes, NIfTI files (.nii, .nii.gz) or folders of a DICOM series.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Classify image files with a saved model file, or with several as an ensemble.") { models, device, flips, mixedPrecision, heatmaps, cam, csv, images };
        command.SetAction(r => r.GetValue(models)! is [var one] && !EnsembleModels.IsManifest(one)
            ? Run(one, Device.Parse(r.GetValue(device)!), r.GetValue(flips), r.GetValue(mixedPrecision), r.GetValue(images)!, r.GetValue(heatmaps), r.GetValue(cam), r.GetValue(csv))
            : RunEnsemble(r.GetValue(models)!, Device.Parse(r.GetValue(device)!), r.GetValue(flips), r.GetValue(mixedPrecision), r.GetValue(images)!, r.GetValue(heatmaps), r.GetValue(cam), r.GetValue(csv)));
        return command;
    }

    /// <summary>The model line of the banner: architecture, task, classes, input size.</summary>
    internal static string Describe(string path, ModelCard card)
        => $"{Markup.Escape(Path.GetFileName(path))}: {card.Architecture} {card.ResNet?.Block} {string.Join("-", card.ResNet?.Layers ?? new())}, task {card.Task}, classes {card.ClassNames.Count}, input {string.Join("×", card.Preprocessing.InputSize)}";

    private static int Run(string modelPath, Device device, TestTimeFlips flips, bool mixedPrecision, string[] images, string? heatmaps, CamMethod cam, string? csv)
    {
        using var predictor = ModelOptions.LoadPredictor(modelPath, device, flips, mixedPrecision);
        if (heatmaps is not null && !predictor.CanExplain)
            throw new ArgumentException(ModelOptions.IsOnnxFile(modelPath)
                ? $"--heatmaps needs the network's layers, which ONNX Runtime does not expose; explain with the model.safetensors {Path.GetFileName(modelPath)} was exported from."
                : $"--heatmaps needs a ResNet model file; {Path.GetFileName(modelPath)} holds a {predictor.Card.Architecture} model.");
        if (heatmaps is not null && predictor.Card.Preprocessing.InputSize.Count == 3)
            throw new ArgumentException("--heatmaps overlays the maps on 2-D images; this model takes 3-D volumes.");
        var card = predictor.Card;
        AnsiConsole.MarkupLine($"Model {Describe(modelPath, card)}");
        var predictions = heatmaps is null ? predictor.PredictFiles(images) : WriteHeatmaps(image => predictor.ExplainFile(image, cam), images, heatmaps);
        bool ordinal = card.Task.Equals("OrdinalRegression", StringComparison.OrdinalIgnoreCase);
        AnsiConsole.Write(Table(images, predictions, ordinal, ensemble: false));
        PrintConformal(predictor.Conformal, predictor.ConformalNote);
        PrintReferral(predictor.Referral, predictor.ReferralNote, card.ClassNames);
        WriteCsv(csv, images, predictions, card.ClassNames);
        if (heatmaps is not null) AnsiConsole.MarkupLine($"{cam} maps of the predicted classes: {Markup.Escape(Path.GetFullPath(heatmaps))}/*-gradcam.png");
        return 0;
    }

    // Predicts with every --model and averages their probabilities; the table adds how many members agree with the
    // ensemble's label and each member's own label. --heatmaps: the members' maps of the ensemble's class, averaged.
    private static int RunEnsemble(string[] models, Device device, TestTimeFlips flips, bool mixedPrecision, string[] images, string? heatmaps, CamMethod cam, string? csv)
    {
        var (ensemble, modelPaths) = ModelOptions.LoadEnsemble(models, device, flips, mixedPrecision);
        using var owned = ensemble;
        if (heatmaps is not null && !ensemble.CanExplain)
        {
            int m = Enumerable.Range(0, modelPaths.Length).First(i => !ensemble.Members[i].CanExplain);
            throw new ArgumentException($"--heatmaps needs every model's layers; {Path.GetFileName(modelPaths[m])} {(ModelOptions.IsOnnxFile(modelPaths[m]) ? "is an ONNX file, whose layers ONNX Runtime does not expose" : $"holds a {ensemble.Members[m].Card.Architecture} model")}.");
        }
        if (heatmaps is not null && ensemble.Members[0].Card.Preprocessing.InputSize.Count == 3)
            throw new ArgumentException("--heatmaps overlays the maps on 2-D images; these models take 3-D volumes.");
        AnsiConsole.MarkupLine(EnsembleModels.Banner(ensemble) + ":");
        for (int m = 0; m < modelPaths.Length; m++) AnsiConsole.MarkupLine($"  {m + 1}. {Describe(modelPaths[m], ensemble.Members[m].Card)}");
        var predictions = heatmaps is null ? ensemble.PredictFiles(images) : WriteHeatmaps(image => ensemble.ExplainFile(image, cam), images, heatmaps);
        AnsiConsole.Write(Table(images, predictions, ensemble.Task.Equals("OrdinalRegression", StringComparison.OrdinalIgnoreCase), ensemble: true));
        PrintConformal(ensemble.Conformal, ensemble.ConformalNote);
        PrintReferral(ensemble.Referral, ensemble.ReferralNote, ensemble.ClassNames);
        WriteCsv(csv, images, predictions, ensemble.ClassNames);
        if (heatmaps is not null) AnsiConsole.MarkupLine($"{cam} maps of the ensemble's classes (the models' maps averaged): {Markup.Escape(Path.GetFullPath(heatmaps))}/*-gradcam.png");
        return 0;
    }

    // --csv: every input's prediction (Prediction.WriteCsv).
    internal static void WriteCsv(string? path, string[] inputs, IReadOnlyList<Prediction> predictions, IReadOnlyList<string> classNames)
    {
        if (path is null) return;
        Prediction.WriteCsv(path, inputs, predictions, classNames);
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {Path.GetFullPath(path)}"));
    }

    private static Table Table(string[] images, IReadOnlyList<Prediction> predictions, bool ordinal, bool ensemble)
    {
        var table = new Table().AddColumn("image").AddColumn("prediction").AddColumn(new TableColumn("probability").RightAligned());
        if (ordinal) table.AddColumn(new TableColumn("expected grade").RightAligned());
        if (ensemble) table.AddColumn(new TableColumn("agreement").RightAligned()).AddColumn("members' labels");
        // A model file with a conformal calibration (conformal --store): each image's set of plausible classes.
        bool sets = predictions.Count > 0 && predictions[0].ConformalSet is not null;
        if (sets) table.AddColumn(ordinal ? "conformal set (grades)" : "conformal set");
        // A model file or manifest with a referral threshold (evaluate --store-referral): each image's risk and decision.
        bool referral = predictions.Count > 0 && predictions[0].Referred is not null;
        if (referral) table.AddColumn(new TableColumn("referral risk").RightAligned()).AddColumn("referred");
        for (int i = 0; i < images.Length; i++)
        {
            var p = predictions[i];
            var row = new List<string> { Markup.Escape(images[i]), Markup.Escape($"{p.Label}: {p.LabelName}"), p.Probabilities[p.Label].ToString("F3", CultureInfo.InvariantCulture) };
            if (ordinal) row.Add(p.ExpectedGrade!.Value.ToString("F2", CultureInfo.InvariantCulture));
            if (p is EnsemblePrediction e) row.AddRange(EnsembleModels.AgreementCells(e));
            if (sets) row.Add(Markup.Escape(SetText(p.ConformalSetNames!, ordinal)));
            if (referral) row.AddRange([p.ReferralRisk!.Value.ToString("F3", CultureInfo.InvariantCulture), p.Referred == true ? "refer" : "no"]);
            table.AddRow(row.ToArray());
        }
        return table;
    }

    // What the sets below the table are, or why there are none.
    private static void PrintConformal(MedVision.Nets.Metrics.Conformal.ConformalClassifier? conformal, string? note)
    {
        if (conformal is not null)
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Conformal sets: {conformal.Score}{(conformal.IsClassConditional ? " per class" : "")}, calibrated on {conformal.CalibrationCount} images to hold the true class {conformal.Coverage:P0} of the time.")));
        if (note is not null) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
    }

    // What the referral decisions in the table are, or why there are none.
    private static void PrintReferral(ReferralCard? referral, string? note, IReadOnlyList<string> classNames)
    {
        if (referral is not null)
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Referral: refer when P(class ≥ {ConformalCommand.ClassLabel(classNames, referral.ReferableFrom)}) ≥ {referral.Threshold:F4} ({referral.Rule}; {referral.DescribeHeldOut()}).")));
        if (note is not null) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
    }

    // "1–3" for an interval of grades, else the class names joined; "∅" for an empty set.
    internal static string SetText(IReadOnlyList<string> names, bool ordinal) =>
        names.Count == 0 ? "∅" : ordinal && names.Count > 2 ? $"{names[0]}–{names[^1]}" : string.Join(", ", names);

    // Explains each image's prediction and writes the map blended over the original, at the original's size.
    private static IReadOnlyList<Prediction> WriteHeatmaps(Func<string, Explanation> explain, string[] images, string folder)
    {
        Directory.CreateDirectory(folder);
        var predictions = new List<Prediction>();
        foreach (var image in images)
        {
            var explanation = explain(image);
            ImageCodec.Save(Path.Combine(folder, Path.GetFileNameWithoutExtension(image) + "-gradcam.png"), explanation.Overlay(ImageCodec.DecodeFile(image)));
            predictions.Add(explanation.Prediction);
        }
        return predictions;
    }
}
