using MedVision.Nets.Explainability;
using System.CommandLine;
using System.Globalization;
using System.Text;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Metrics;
using MedVision.Nets.Inference;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples.FundusFolder;

/// <summary>
/// The <c>predict</c> command: screens fundus photographs (files, or folders of them) with the model file that
/// <c>train</c> wrote — or several as an ensemble — and prints each photograph's probability of pathologic myopia and
/// the decision at a threshold (a grading model's grade, expected grade and referral of the referable grades; a
/// multi-class model's class and probability); optionally a CSV and map overlays (Grad-CAM for ResNets, gradient-weighted attention rollout
/// for vision transformers). Photographs are resized as training resized
/// them (bilinear on the 8-bit image, as the model file's card records), so a training image gets the probability the
/// validation report gave it.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string[]>("--model")
        {
            Description = "The model file train wrote (model.safetensors), or its ONNX export (medmnist export; run by ONNX Runtime on the CPU); give --model more than once to screen with an ensemble (their probabilities averaged), or an ensemble manifest (.json).",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var threshold = new Option<double?>("--threshold")
        {
            Description = "Photographs whose probability of pathologic myopia (of a grading model: of the referable grades) reaches this are referred (the operating point: lower it for more sensitivity); a multi-label model reports each finding whose probability reaches it. Default: the operating point train --min-sensitivity recorded in the model file, else 0.5.",
        }.Must(v => v is null || v is > 0 and < 1, "a probability between 0 and 1 (exclusive)");
        var csv = new Option<string?>("--csv") { Description = "FILE: also write image,probability,decision for every photograph (a grading or multi-class model: input,label,label_name,p_<class>…, then expected_grade, referral_risk and referred for a grading model).", HelpName = "FILE" };
        var heatmaps = new Option<string?>("--heatmaps") { Description = "FOLDER: also write each photograph with the map of pathologic myopia (of a grading or multi-class model: of its predicted class) blended over it: Grad-CAM for a ResNet (NAME-gradcam.png), the gradient-weighted attention rollout for a vision transformer (NAME-gradrollout.png); with --attribution, NAME-<method>.png.", HelpName = "FOLDER" };
        var attribution = MapOptions.Attribution("--heatmaps");
        var references = MapOptions.References("photographs (JPEG or PNG), or folders of them");
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var threads = SampleCommandLine.Threads();
        var images = new Argument<string[]>("images") { Description = "Fundus photographs (JPEG or PNG), or folders of them.", Arity = ArgumentArity.OneOrMore };
        var recursive = new Option<bool>("--recursive") { Description = "Take a folder's sub-folders too, at any depth (e.g. a test set in class or grade folders); heat maps are then named by the path below the folder (grade2_IMG0001-gradcam.png)." };
        var command = new Command("predict", "Screen fundus photographs for pathologic myopia with a trained model file (or an ensemble); grade or classify them with a grading or multi-class one.")
        {
            model, threshold, csv, heatmaps, attribution, references, device, threads, recursive, images,
        };
        MapOptions.RequireMaps(command, attribution, heatmaps, references);
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(threshold), r.GetValue(csv), r.GetValue(heatmaps), new MapMethod(null, MapOptions.Chosen(r, attribution), MapOptions.ReferenceFiles(r, references, imageFolders: true)), Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(images)!, r.GetValue(recursive)));
        return command;
    }

    private static int Run(string[] models, double? givenThreshold, string? csv, string? heatmaps, MapMethod map, Device device, int threads, string[] inputs, bool recursive)
    {
        Tensors.NumThreads = threads;
        var (files, mapNames) = Photographs(inputs, recursive, heatmaps is not null);
        var (ensemble, modelPaths) = FundusModels.Load(models, device);
        using var owned = ensemble;
        var card = ensemble.Members[0].Card;
        // The map of the first model's kind, class-specific: Grad-CAM for a ResNet, the gradient-weighted rollout for a vision transformer.
        if (map.Attribution is null) map = map with { Cam = ensemble.Members[0].CanExplainWith(CamMethod.GradientAttentionRollout) ? CamMethod.GradientAttentionRollout : CamMethod.GradCam };
        var task = FundusModels.TaskOf(card, modelPaths[0]);
        bool binary = task == MedMnistTask.Binary, ordinal = task == MedMnistTask.OrdinalRegression;
        var referral = FundusModels.Referral(ensemble, task, modelPaths.Length, givenThreshold, modelPaths[0]);
        if (heatmaps is not null && !ensemble.Members.All(map.Supports))
            throw new ArgumentException(map.Attribution is null
                ? $"--heatmaps draws {map.Name} maps, which need every model to be a {(map.Cam == CamMethod.GradCam ? "ResNet" : "vision transformer")} model file (not ONNX; other libtorch models with --attribution)."
                : "--heatmaps --attribution needs the networks' gradients (libtorch model files, not ONNX).");
        int height = card.Preprocessing.InputSize[0], width = card.Preprocessing.InputSize[1];
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(device));
        AnsiConsole.MarkupLine(Markup.Escape((modelPaths.Length > 1 ? EnsembleModels.Banner(ensemble) : $"Model {Path.GetFileName(modelPaths[0])}") +
            $": {card.Architecture} at {width}×{height}{(modelPaths.Length == 1 ? TemperatureFits.OfCard(card) : "")}; {files.Count} photograph(s); " + (task == MedMnistTask.MultiLabel
                ? $"{card.ClassNames.Count} findings, each reported at P ≥ its threshold{(referral.FindingThresholdsRecorded ? " (recorded in the model file; --threshold sets one for all)" : "")}: "
                    + string.Join(", ", card.ClassNames.Select((n, k) => $"{n} {referral.FindingThresholds[k].ToString("0.###", CultureInfo.InvariantCulture)}"))
                : referral.From is null ? $"{card.ClassNames.Count} classes ({string.Join(", ", card.ClassNames)})"
                : $"referred when {referral.RiskName} ≥ {referral.Threshold.ToString(CultureInfo.InvariantCulture)}")));
        FundusModels.PrintThresholdSource(referral, ensemble, modelPaths.Length, givenThreshold is not null);
        if (heatmaps is not null) Directory.CreateDirectory(heatmaps);
        var predictions = new List<EnsemblePrediction>();
        var explained = new List<(string, Explanation)>();
        // Prepared as the model card says: train's model files resize the 8-bit photograph as training did (resize_8bit);
        // in batches, as evaluate predicts them.
        if (heatmaps is null) predictions.AddRange(ensemble.PredictFiles(files).Select(referral.Apply));
        else
            foreach (var file in files)
            {
                // The map of the positive class of a screening model, else of each photograph's predicted class.
                var explanation = map.Explain(ensemble, file, targetClass: binary ? 1 : null);
                ImageCodec.Save(Path.Combine(heatmaps, $"{mapNames[file]}-{map.Tag("gradcam")}.png"), explanation.Overlay(ImageCodec.DecodeFile(file)));
                predictions.Add(referral.Apply((EnsemblePrediction)explanation.Prediction));
                explained.Add((file, explanation));
            }
        int referred = predictions.Count(p => p.Referred == true);
        if (binary) WriteScreening(files, predictions, card.ClassNames, referral.Threshold, ensemble: modelPaths.Length > 1, csv);
        else
        {
            AnsiConsole.Write(task == MedMnistTask.MultiLabel ? FindingsTable(files, predictions, card.ClassNames)
                : PredictionTable.Of(files, predictions, ordinal, ensemble: modelPaths.Length > 1, "photograph"));
            if (referral.From is not null) AnsiConsole.MarkupLine(Markup.Escape($"Referral: {referral.Describe()}."));
            if (csv is not null)
            {
                Prediction.WriteCsv(csv, files, predictions, card.ClassNames);
                AnsiConsole.MarkupLine(Markup.Escape($"Wrote {Path.GetFullPath(csv)}"));
            }
        }
        if (heatmaps is not null)
            AnsiConsole.MarkupLine(Markup.Escape($"{map.Cam switch { CamMethod.GradCam => "Grad-CAM", CamMethod.GradientAttentionRollout => "Gradient-weighted attention rollout", _ => map.Name }} of {(binary ? card.ClassNames[1] : "each photograph's predicted class")}: {Path.GetFullPath(heatmaps)}/*-{map.Tag("gradcam")}.png"));
        if (MapOptions.ConvergenceLine(explained) is { } convergence) AnsiConsole.MarkupLine(Markup.Escape(convergence));
        int withFindings = predictions.Count(p => p.Findings is { Count: > 0 });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT photographs={files.Count}")
            + (task == MedMnistTask.MultiLabel ? string.Create(CultureInfo.InvariantCulture, $" with_findings={withFindings} thresholds={referral.ThresholdList}") : "")
            + (referral.From is int cut ? string.Create(CultureInfo.InvariantCulture, $" referred={referred} threshold={referral.Threshold}{(binary ? "" : $" referable_from={cut}")}") : "")
            + string.Create(CultureInfo.InvariantCulture, $" models={modelPaths.Length}{(binary ? "" : $" classes={card.ClassNames.Count}")}"));
        return 0;
    }

    // A multi-label model's table: each photograph's findings at or above their thresholds, with their probabilities.
    private static Table FindingsTable(List<string> files, List<EnsemblePrediction> predictions, IReadOnlyList<string> findings)
    {
        var table = new Table().AddColumn("photograph").AddColumn("findings (P ≥ their thresholds)").AddColumn("most probable");
        for (int i = 0; i < files.Count; i++)
        {
            var p = predictions[i].Probabilities;
            var found = predictions[i].Findings!.Select(k => $"{findings[k]} {p[k].ToString("F3", CultureInfo.InvariantCulture)}").ToArray();
            table.AddRow(Markup.Escape(files[i]), Markup.Escape(found.Length == 0 ? "none" : string.Join(", ", found)),
                Markup.Escape($"{predictions[i].LabelName} {p[predictions[i].Label].ToString("F3", CultureInfo.InvariantCulture)}"));
        }
        return table;
    }

    // A screening model's table (probability of the positive class, decision, members agreeing) and CSV (image,probability,decision).
    private static void WriteScreening(List<string> files, List<EnsemblePrediction> predictions, IReadOnlyList<string> classNames, double threshold, bool ensemble, string? csv)
    {
        var table = new Table().AddColumn("photograph").AddColumn(new TableColumn($"P({classNames[1]})").RightAligned()).AddColumn("decision");
        if (ensemble) table.AddColumn(new TableColumn("agreement").RightAligned());
        var lines = new StringBuilder("image,probability,decision\n");
        for (int i = 0; i < files.Count; i++)
        {
            var (file, prediction) = (files[i], predictions[i]);
            double p = prediction.Probabilities[1];
            bool refer = prediction.Referred == true;
            string decision = refer ? $"refer: {classNames[1]}" : classNames[0];
            var row = new List<string> { Markup.Escape(file), p.ToString("F4", CultureInfo.InvariantCulture), Markup.Escape(decision) };
            // Members at or above the threshold, of all.
            if (ensemble) row.Add($"{prediction.Members.Count(m => m.Probabilities[1] >= threshold == refer)}/{prediction.Members.Count}");
            table.AddRow(row.ToArray());
            lines.Append(CultureInfo.InvariantCulture, $"{Csv(file)},{p:R},{(refer ? 1 : 0)}\n");
        }
        AnsiConsole.Write(table);
        if (csv is null) return;
        var folder = Path.GetDirectoryName(Path.GetFullPath(csv));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(csv, lines.ToString());
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {Path.GetFullPath(csv)}"));
    }

    // The photographs named, folders expanded to their JPEG and PNG files (sorted by path; with `recursive` those of
    // their sub-folders too), each with the name its heat map takes: the file's name without extension, or for a file
    // in a sub-folder its path below the folder given, '_'-joined. A path that is neither is refused by name, and so,
    // when maps are written, are two photographs whose maps would take one name (one would overwrite the other).
    private static (List<string> Files, Dictionary<string, string> MapNames) Photographs(string[] inputs, bool recursive, bool maps)
    {
        var files = new List<string>();
        var names = new Dictionary<string, string>();
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string file, string name)
        {
            if (maps && owners.TryGetValue(name, out var other) && other != file)
                throw new ArgumentException($"{other} and {file} would both write the heat map {name}-….png: give them separately under other names.");
            (names[file], owners[name]) = (name, file);
            files.Add(file);
        }
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                var found = SampleCommandLine.ImageFilesIn(input, recursive);
                if (found.Count == 0)
                {
                    int below = recursive ? 0 : SampleCommandLine.ImageFilesIn(input, recursive: true).Count;
                    throw new ArgumentException($"{input} holds no JPEG or PNG photographs" + (below > 0 ? $"; its sub-folders hold {below}: give --recursive to take them." : "."));
                }
                foreach (var file in found)
                {
                    var relative = Path.GetRelativePath(input, file);
                    var folder = Path.GetDirectoryName(relative);
                    string stem = Path.GetFileNameWithoutExtension(file);
                    Add(file, string.IsNullOrEmpty(folder) ? stem : string.Join('_', folder.Split(Path.DirectorySeparatorChar).Append(stem)));
                }
            }
            else if (File.Exists(input)) Add(input, Path.GetFileNameWithoutExtension(input));
            else throw new ArgumentException($"{input} is neither a photograph nor a folder.");
        }
        return (files, names);
    }

    // A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, its quotes doubled.
    private static string Csv(string text) => text.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
}
