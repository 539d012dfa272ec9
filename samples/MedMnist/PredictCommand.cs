using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
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
        var heatmaps = new Option<string?>("--heatmaps") { Description = "Also write, into this folder, each image with the map of its prediction blended over it: Grad-CAM (NAME-gradcam.png), attention rollout for a vision transformer (NAME-rollout.png; gradient-weighted, NAME-gradrollout.png) or, with --attribution, a gradient attribution." };
        var flips = ModelOptions.Flips();
        var mixedPrecision = ModelOptions.MixedPrecision("Run the network under bfloat16 autocast (for large batches of files; single images are usually faster in float32).");
        var cam = new Option<CamMethod>("--cam") { Description = "The map for --heatmaps: GradCam or GradCamPlusPlus for a ResNet, AttentionRollout or GradientAttentionRollout (Chefer et al.: per class) for a vision transformer (default: GradCam, AttentionRollout for a vision transformer).", DefaultValueFactory = _ => CamMethod.GradCam }.Known();
        var attribution = MapOptions.Attribution("--heatmaps");
        var references = MapOptions.References("JPEG or PNG files, or folders of them");
        var csv = new Option<string?>("--csv") { Description = "FILE: also write every input's label, class probabilities (and expected grade, conformal set, ensemble agreement) as CSV.", HelpName = "FILE" };
        var images = new Argument<string[]>("images") { Description = "JPEG or PNG files to classify; for a model of 3-D volumes, NIfTI files (.nii, .nii.gz) or folders of a DICOM series.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Classify image files with a saved model file, or with several as an ensemble.") { models, device, flips, mixedPrecision, heatmaps, cam, attribution, references, csv, images };
        command.Check(r => r.GetResult(attribution) is not null && r.GetResult(cam) is { Implicit: false } ? "--cam and --attribution each choose the map for --heatmaps: give one." : null);
        MapOptions.RequireMaps(command, attribution, heatmaps, references);
        command.SetAction(r =>
        {
            var map = new MapMethod(r.GetResult(cam) is { Implicit: false } ? r.GetValue(cam) : null, MapOptions.Chosen(r, attribution), MapOptions.ReferenceFiles(r, references, imageFolders: true));
            return r.GetValue(models)! is [var one] && !EnsembleModels.IsManifest(one)
                ? Run(one, Device.Parse(r.GetValue(device)!), r.GetValue(flips), r.GetValue(mixedPrecision), r.GetValue(images)!, r.GetValue(heatmaps), map, r.GetValue(csv))
                : RunEnsemble(r.GetValue(models)!, Device.Parse(r.GetValue(device)!), r.GetValue(flips), r.GetValue(mixedPrecision), r.GetValue(images)!, r.GetValue(heatmaps), map, r.GetValue(csv));
        });
        return command;
    }

    /// <summary>The model line of the banner: architecture, task, classes, input size.</summary>
    internal static string Describe(string path, ModelCard card)
        => $"{Markup.Escape(Path.GetFileName(path))}: {Layout(card)}, task {card.Task}{(card.OrdinalDecision == OrdinalDecision.Median ? " (median grade)" : "")}, classes {card.ClassNames.Count}, input {string.Join("×", card.Preprocessing.InputSize)}"
            + TemperatureFits.OfCard(card);

    // "resnet basic 2-2-2-2", "vit E 192, 12 layers, 3 heads, 4×4 patches", or the architecture's name.
    private static string Layout(ModelCard card) => card switch
    {
        { ResNet: { } r } => $"{card.Architecture} {r.Block} {string.Join("-", r.Layers)}{(card.HasCoralHead ? ", CORAL head" : "")}",
        { Vit: { } v } => $"{card.Architecture} E {v.HiddenSize}, {v.NumLayers} layers, {v.NumHeads} heads, {string.Join("×", v.PatchSize)} patches",
        _ => card.Architecture,
    };

    private static int Run(string modelPath, Device device, TestTimeFlips flips, bool mixedPrecision, string[] images, string? heatmaps, MapMethod map, string? csv)
    {
        using var predictor = ModelFiles.LoadPredictor(modelPath, device, flips, mixedPrecision);
        map = map.For(predictor);
        if (heatmaps is not null && map.GuidedRefusal(predictor) is { } guided)
            throw new ArgumentException($"{guided} ({Path.GetFileName(modelPath)}).");
        if (heatmaps is not null && !map.Supports(predictor))
            throw new ArgumentException(ModelFiles.IsOnnxFile(modelPath)
                ? $"--heatmaps needs the network's layers and gradients, which ONNX Runtime does not expose; explain with the model.safetensors {Path.GetFileName(modelPath)} was exported from."
                : predictor.CanExplain
                    ? $"--cam {map.Cam} needs {(MapMethod.MapsAttention(map.Cam) ? "a vision-transformer" : "a ResNet")} model file; {Path.GetFileName(modelPath)} holds a {predictor.Card.Architecture} model: use --cam {MapMethod.OwnCam(predictor)}, or --attribution IntegratedGradients."
                    : $"--heatmaps draws class-activation maps of ResNet and vision-transformer model files; {Path.GetFileName(modelPath)} holds a {predictor.Card.Architecture} model: map it with --attribution IntegratedGradients (or SmoothGrad, Saliency).");
        if (heatmaps is not null && predictor.Card.Preprocessing.InputSize.Count == 3)
            throw new ArgumentException("--heatmaps overlays the maps on 2-D images; this model takes 3-D volumes.");
        var card = predictor.Card;
        AnsiConsole.MarkupLine($"Model {Describe(modelPath, card)}");
        IReadOnlyList<(string, Explanation)> explained = [];
        var predictions = heatmaps is null ? predictor.PredictFiles(images) : WriteHeatmaps(image => map.Explain(predictor, image), images, heatmaps, Suffix(map), out explained);
        bool ordinal = card.Task.Equals("OrdinalRegression", StringComparison.OrdinalIgnoreCase);
        AnsiConsole.Write(PredictionTable.Of(images, predictions, ordinal, ensemble: false, "image"));
        PredictionTable.PrintConformal(predictor.Conformal, predictor.ConformalNote);
        PredictionTable.PrintReferral(predictor.Referral, predictor.ReferralNote, card.ClassNames);
        WriteCsv(csv, images, predictions, card.ClassNames);
        if (heatmaps is not null) AnsiConsole.MarkupLine($"{map.Name} maps of the predicted classes: {Markup.Escape(Path.GetFullPath(heatmaps))}/*{Suffix(map)}");
        if (MapOptions.ConvergenceLine(explained) is { } convergence) AnsiConsole.MarkupLine(Markup.Escape(convergence));
        return 0;
    }

    // Predicts with every --model and averages their probabilities; the table adds how many members agree with the
    // ensemble's label and each member's own label. --heatmaps: the members' maps of the ensemble's class, averaged.
    private static int RunEnsemble(string[] models, Device device, TestTimeFlips flips, bool mixedPrecision, string[] images, string? heatmaps, MapMethod map, string? csv)
    {
        var (ensemble, modelPaths) = ModelFiles.LoadEnsemble(models, device, flips, mixedPrecision);
        using var owned = ensemble;
        map = map.For(ensemble.Members[0]);
        if (heatmaps is not null && ensemble.Members.Select((member, m) => (Refusal: map.GuidedRefusal(member), m)).FirstOrDefault(r => r.Refusal is not null) is { Refusal: { } guided } g)
            throw new ArgumentException($"{guided} ({Path.GetFileName(modelPaths[g.m])}).");
        if (heatmaps is not null && ensemble.Members.FirstOrDefault(member => !map.Supports(member)) is { } refusing)
        {
            int m = ensemble.Members.ToList().IndexOf(refusing);
            throw new ArgumentException($"--heatmaps needs every model's {map.Needs}; {Path.GetFileName(modelPaths[m])} {(ModelFiles.IsOnnxFile(modelPaths[m]) ? "is an ONNX file, whose layers and gradients ONNX Runtime does not expose" : $"holds a {ensemble.Members[m].Card.Architecture} model (map it with --attribution)")}.");
        }
        if (heatmaps is not null && ensemble.Members[0].Card.Preprocessing.InputSize.Count == 3)
            throw new ArgumentException("--heatmaps overlays the maps on 2-D images; these models take 3-D volumes.");
        AnsiConsole.MarkupLine(EnsembleModels.Banner(ensemble) + ":");
        for (int m = 0; m < modelPaths.Length; m++) AnsiConsole.MarkupLine($"  {m + 1}. {Describe(modelPaths[m], ensemble.Members[m].Card)}");
        IReadOnlyList<(string, Explanation)> explained = [];
        var predictions = heatmaps is null ? ensemble.PredictFiles(images) : WriteHeatmaps(image => map.Explain(ensemble, image), images, heatmaps, Suffix(map), out explained);
        AnsiConsole.Write(PredictionTable.Of(images, predictions, ensemble.Task.Equals("OrdinalRegression", StringComparison.OrdinalIgnoreCase), ensemble: true, "image"));
        PredictionTable.PrintConformal(ensemble.Conformal, ensemble.ConformalNote);
        PredictionTable.PrintReferral(ensemble.Referral, ensemble.ReferralNote, ensemble.ClassNames);
        WriteCsv(csv, images, predictions, ensemble.ClassNames);
        if (heatmaps is not null) AnsiConsole.MarkupLine($"{map.Name} maps of the ensemble's classes (the models' maps averaged): {Markup.Escape(Path.GetFullPath(heatmaps))}/*{Suffix(map)}");
        if (MapOptions.ConvergenceLine(explained) is { } convergence) AnsiConsole.MarkupLine(Markup.Escape(convergence));
        return 0;
    }

    // --csv: every input's prediction (Prediction.WriteCsv).
    internal static void WriteCsv(string? path, string[] inputs, IReadOnlyList<Prediction> predictions, IReadOnlyList<string> classNames)
    {
        if (path is null) return;
        Prediction.WriteCsv(path, inputs, predictions, classNames);
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {Path.GetFullPath(path)}"));
    }

    // NAME-gradcam.png for Grad-CAM (either method), NAME-rollout.png for attention rollout, NAME-<attribution>.png for attributions.
    private static string Suffix(MapMethod map) => $"-{map.Tag("gradcam")}.png";

    // Explains each image's prediction and writes the map blended over the original, at the original's size.
    private static IReadOnlyList<Prediction> WriteHeatmaps(Func<string, Explanation> explain, string[] images, string folder, string suffix, out IReadOnlyList<(string, Explanation)> explained)
    {
        Directory.CreateDirectory(folder);
        var explanations = new List<(string, Explanation)>();
        foreach (var image in images)
        {
            var explanation = explain(image);
            ImageCodec.Save(Path.Combine(folder, Path.GetFileNameWithoutExtension(image) + suffix), explanation.Overlay(ImageCodec.DecodeFile(image)));
            explanations.Add((image, explanation));
        }
        explained = explanations;
        return explanations.Select(e => e.Item2.Prediction).ToList();
    }
}
