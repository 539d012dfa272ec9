using MedVision.Nets.Explainability;
using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Inference;
using MedVision.Torch;
using Spectre.Console;

namespace MedVision.Samples.VolumeFolder;

/// <summary>
/// The <c>predict</c> command: classifies scans (NIfTI files, DICOM series folders) with the model file that
/// <c>train</c> wrote, prepared as in training (orientation, size, window, normalisation from the file's card).
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string[]>("--model") { Description = "The model file train wrote (model.safetensors). Give --model more than once to predict with an ensemble (the models' probabilities averaged; --explain then averages their maps on each scan's grid), or an ensemble manifest (a .json file written by EnsemblePredictor.SaveManifest).", Required = true, Arity = ArgumentArity.OneOrMore };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var explain = new Option<string?>("--explain") { Description = "FOLDER: also write each scan's Grad-CAM map of the predicted class as <scan>.cam.nii.gz (with --attribution, <scan>.<method>.nii.gz) on the scan's own grid (the first modality's for subject folders), to overlay in a viewer such as ITK-SNAP or 3D Slicer." };
        var attribution = MapOptions.Attribution("--explain");
        var references = MapOptions.References("scans as the scans argument takes them (NIfTI files, DICOM series folders; subject folders for a model of several modalities)");
        var csv = new Option<string?>("--csv") { Description = "FILE: also write every scan's label, class probabilities (and ensemble agreement) as CSV.", HelpName = "FILE" };
        var scans = new Argument<string[]>("scans") { Description = "NIfTI files (.nii, .nii.gz) or folders holding one DICOM series each.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Classify NIfTI files or DICOM series folders with a model file, or with several as an ensemble.") { model, device, explain, attribution, references, csv, scans };
        MapOptions.RequireMaps(command, attribution, explain, references);
        command.SetAction(r => Run(r.GetValue(model)!, Device.Parse(r.GetValue(device)!), r.GetValue(scans)!, r.GetValue(explain), new MapMethod(CamMethod.GradCam, MapOptions.Chosen(r, attribution), MapOptions.ReferenceFiles(r, references, imageFolders: false)), r.GetValue(csv)));
        return command;
    }

    private static int Run(string[] models, Device device, string[] scans, string? explainFolder, MapMethod map, string? csv)
    {
        // One model is an ensemble of one: the same probabilities and maps. (A file given twice is refused by name.)
        // An ensemble manifest (EnsemblePredictor.SaveManifest) lists the whole ensemble.
        var manifest = EnsembleModels.ManifestAlone(models);
        var modelPaths = manifest is not null ? EnsemblePredictor.ReadManifest(manifest).ModelPaths.ToArray() : models;
        using var ensemble = manifest is not null ? EnsemblePredictor.LoadManifest(manifest, device) : EnsemblePredictor.Load(models, device);
        for (int m = 0; m < modelPaths.Length; m++)
        {
            var card = ensemble.Members[m].Card;
            if (card.Preprocessing.InputSize.Count != 3)
                throw new ArgumentException($"{Path.GetFileName(modelPaths[m])} takes 2-D images (input {string.Join("×", card.Preprocessing.InputSize)}); this sample predicts volumes.");
        }
        if (modelPaths.Length > 1) AnsiConsole.MarkupLine(EnsembleModels.Banner(ensemble) + ":");
        for (int m = 0; m < modelPaths.Length; m++) AnsiConsole.MarkupLine(Markup.Escape((modelPaths.Length > 1 ? $"  {m + 1}. " : "Model ") + Describe(modelPaths[m], ensemble.Members[m].Card)));
        // One model file predicts by itself, so that its own conformal calibration and referral point apply (an
        // ensemble, or a manifest of one, applies the manifest's); the probabilities are the same.
        var single = modelPaths.Length == 1 && manifest is null ? ensemble.Members[0] : null;
        IReadOnlyList<Prediction> predictions = single is not null ? single.PredictFiles(scans) : ensemble.PredictFiles(scans);
        bool ordinal = ensemble.Task.Equals("OrdinalRegression", StringComparison.OrdinalIgnoreCase);
        AnsiConsole.Write(PredictionTable.Of(scans, predictions, ordinal, ensemble: modelPaths.Length > 1, "scan"));
        PredictionTable.PrintConformal(single?.Conformal ?? ensemble.Conformal, single?.ConformalNote ?? ensemble.ConformalNote, "scans");
        PredictionTable.PrintReferral(single?.Referral ?? ensemble.Referral, single?.ReferralNote ?? ensemble.ReferralNote, ensemble.ClassNames);
        if (csv is not null)
        {
            Prediction.WriteCsv(csv, scans, predictions, ensemble.ClassNames);
            AnsiConsole.MarkupLine(Markup.Escape($"Wrote {Path.GetFullPath(csv)}"));
        }
        if (explainFolder is null) return 0;
        int guided = Array.FindIndex(ensemble.Members.ToArray(), member => map.GuidedRefusal(member) is not null);
        if (guided >= 0) throw new ArgumentException($"{map.GuidedRefusal(ensemble.Members[guided])} ({Path.GetFileName(modelPaths[guided])}).");
        int refusing = Array.FindIndex(ensemble.Members.ToArray(), member => !map.Supports(member));
        if (refusing >= 0)
            throw new ArgumentException(map.Attribution is null
                ? $"--explain needs a ResNet's layers; {Path.GetFileName(modelPaths[refusing])} holds a {ensemble.Members[refusing].Card.Architecture} model (map it with --attribution)."
                : $"--explain --attribution needs the network's gradients; {Path.GetFileName(modelPaths[refusing])} runs on another engine.");
        Directory.CreateDirectory(explainFolder);
        var written = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var explained = new List<(string, Explanation)>();
        foreach (var scan in scans)
        {
            var explanation = map.Explain(ensemble, scan);
            var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(scan));
            foreach (var extension in new[] { ".nii.gz", ".nii" })
                if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase)) name = name[..^extension.Length];
            // Scans of one name from different folders (a/scan.nii.gz, b/scan.nii.gz) get scan.cam.nii.gz, scan-2.cam.nii.gz, …
            // (scan.integratedgradients.nii.gz, … with --attribution)
            var unique = name;
            for (int copy = 2; !written.Add(unique); copy++) unique = $"{name}-{copy}";
            var output = Path.Combine(explainFolder, $"{unique}.{map.Tag("cam")}.nii.gz");
            NiftiWriter.Write(output, explanation.ToSourceVolume());
            AnsiConsole.MarkupLine(Markup.Escape($"{scan}: {(map.Attribution is null ? "Grad-CAM" : map.Name)} of {explanation.TargetClass}: {explanation.TargetClassName} → {output}"));
            explained.Add((scan, explanation));
        }
        if (MapOptions.ConvergenceLine(explained) is { } convergence) AnsiConsole.MarkupLine(Markup.Escape(convergence));
        return 0;
    }

    // The model's line: classes, input size and how scans are prepared for it.
    private static string Describe(string modelPath, ModelCard card)
    {
        var window = card.Preprocessing.IntensityWindow is [var center, var width] ? string.Create(CultureInfo.InvariantCulture, $", window {center} ± {width / 2}")
            : card.Preprocessing.IntensityPercentiles is [var lower, var upper] ? string.Create(CultureInfo.InvariantCulture, $", intensities by {(card.Preprocessing.IntensityChannelWise == true ? "each channel's" : "their")} percentiles {lower}–{upper}")
            : card.Preprocessing.IntensityChannelWise == true ? ", intensities by each channel's minimum and maximum" : "";
        var crop = card.Preprocessing.CropForeground is { } c ? string.Create(CultureInfo.InvariantCulture, $", cropped to values above {c.Threshold}{(c.Margin > 0 ? $" (margin {c.Margin})" : "")}") : "";
        var normalization = card.Preprocessing.IntensityNormalization is { } n ? $", each volume normalised over its {(n.NonZero ? "non-zero voxels" : "voxels")}" : "";
        return $"{Path.GetFileName(modelPath)}: classes {string.Join(", ", card.ClassNames)}, input {string.Join("×", card.Preprocessing.InputSize)}{(card.Preprocessing.Modalities is { } m ? $", subject folders of {string.Join(", ", m)}" : "")}{(card.Preprocessing.Orientation is { } o ? $", reoriented to {o}" : "")}{(card.Preprocessing.Spacing is { } mm ? $", {string.Join(" × ", mm.Select(v => v.ToString(CultureInfo.InvariantCulture)))} mm voxels" : "")}{(card.Preprocessing.AlignModalities == true ? ", modalities aligned" : "")}{(card.Preprocessing.Fit == "crop_or_pad" ? ", cropped or padded to the input size" : "")}{crop}{window}{normalization}{TemperatureFits.OfCard(card)}";
    }
}
