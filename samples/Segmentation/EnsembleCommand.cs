using System.CommandLine;
using MedVision.Nets.Inference;
using Spectre.Console;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// The <c>ensemble</c> command: writes a segmentation ensemble manifest (<see cref="SegmentationModelFile.SaveEnsembleManifest"/>)
/// of model files — the folds of a cross-validation, or runs of different seeds — which predict and evaluate take as one
/// model, and in which <c>evaluate --compare-postprocessing --store</c> records the post-processing chosen for the
/// ensemble (its averaged probabilities are no member's, so each member's card keeps its own).
/// </summary>
internal static class EnsembleCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model")
        {
            Description = "A model file written by train or images (OUTPUT/model.safetensors); give it once per member.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var weights = new Option<double[]>("--weight")
        {
            Description = "Each model's weight in the mean of the probabilities, once per --model in the same order (default: equal).",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "W",
        };
        var output = new Option<string>("--output", "-o") { Description = "The manifest to write (a .json file; the model files are listed relative to its folder).", Required = true };
        var command = new Command("ensemble", "Write an ensemble manifest of segmentation model files (their probabilities averaged), which predict and evaluate take as --model, and in which evaluate --store records the ensemble's post-processing.")
        {
            models, weights, output,
        };
        command.Check(r => SegmentationModels.IsManifest(r.GetValue(output)!) ? null : "--output names the manifest to write: a .json file");
        command.Check(r => r.GetValue(models)!.FirstOrDefault(SegmentationModels.IsManifest) is { } nested ? $"--model {nested} is a manifest; list the model files themselves"
            : r.GetValue(models)!.FirstOrDefault(SegmentationModels.IsOnnx) is { } onnx ? $"--model {onnx} is an ONNX file; a manifest lists the model files (model.safetensors) it was exported from"
            : null);
        command.Check(r => r.GetValue(weights) is { Length: > 0 } w && w.Length != r.GetValue(models)!.Length
            ? $"--weight is given {w.Length} time(s) for {r.GetValue(models)!.Length} --model files; give one weight per model, or none"
            : r.GetValue(weights) is { } all && all.FirstOrDefault(x => !double.IsFinite(x) || x < 0, 0) is var bad && bad != 0 ? $"--weight {bad.ToString(System.Globalization.CultureInfo.InvariantCulture)}: weights are finite and at least 0"
            : r.GetValue(weights) is { Length: > 0 } some && some.All(x => x == 0) ? "--weight: the weights are all 0; at least one model must count" : null);
        command.SetAction(r => Run(r.GetValue(models)!, r.GetValue(weights) is { Length: > 0 } w ? w : null, r.GetValue(output)!));
        return command;
    }

    private static int Run(string[] models, double[]? weights, string output)
    {
        SegmentationModelFile.SaveEnsembleManifest(output, models, weights: weights);
        var written = SegmentationModelFile.ReadEnsembleManifest(output);
        var card = SegmentationModelFile.ReadCard(written.ModelPaths[0]);
        var table = new Table().AddColumn("member").AddColumn(new TableColumn("weight").RightAligned()).AddColumn("U-Net").AddColumn("post-processing in its card");
        var memberWeights = written.Weights ?? [.. written.ModelPaths.Select(_ => 1.0)];
        double total = memberWeights.Sum();
        for (int i = 0; i < written.ModelPaths.Count; i++)
        {
            var path = written.ModelPaths[i];
            var member = SegmentationModelFile.ReadCard(path);
            var recorded = new[]
            {
                member.KeepLargestForeground == true ? "foreground's largest region" : null,
                member.KeepLargestComponent is { Count: > 0 } keep ? $"largest component of {string.Join(", ", keep.Select(k => member.ClassNames[k]))}" : null,
            }.Where(t => t is not null).ToList();
            table.AddRow(Markup.Escape(path), (memberWeights[i] / total).ToString("F3", System.Globalization.CultureInfo.InvariantCulture), string.Join("/", member.Features), Markup.Escape(recorded.Count == 0 ? "none" : string.Join(", then ", recorded)));
        }
        AnsiConsole.Write(table);
        var full = Path.GetFullPath(output);
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {full}: {written.ModelPaths.Count} members ({card.SpatialDims}-D, classes {string.Join(", ", card.ClassNames)}) with their SHA-256. "
            + $"Choose the ensemble's post-processing on cases none of its members trained on: segmentation evaluate --model {full} {(card.SpatialDims == 3 ? "--data FOLDER" : "--images DIR --masks DIR")} --compare-postprocessing --store; "
            + $"then segmentation predict --model {full} INPUT…"));
        return 0;
    }
}
