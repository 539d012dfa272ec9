using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Inference;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>ensemble</c> command: writes an ensemble manifest (<see cref="EnsemblePredictor.SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?)"/>)
/// of model files — runs of different seeds, say — that predict, evaluate (with --store-referral), conformal (with
/// --store) and compare then take as one model.
/// </summary>
internal static class EnsembleCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model")
        {
            Description = "A model file written by train (model.safetensors); give it once per member.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var weights = new Option<double[]>("--weight")
        {
            Description = "Each member's weight in the average, once per --model in the same order (default: equal weights).",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--output", "-o") { Description = "The manifest to write (a .json file; the model files are listed relative to its folder).", Required = true };
        var command = new Command("ensemble", "Write an ensemble manifest of model files (their probabilities averaged), which predict, evaluate, conformal and compare take as --model.") { models, weights, output };
        command.Check(r => r.GetValue(weights) is { Length: > 0 } w && w.Length != r.GetValue(models)!.Length
            ? $"--weight is given {w.Length} time(s) for {r.GetValue(models)!.Length} --model file(s); give one weight per model, or none" : null);
        command.Check(r => EnsembleModels.IsManifest(r.GetValue(output)!) ? null : "--output names the manifest to write: a .json file");
        command.SetAction(r => Run(r.GetValue(models)!, r.GetValue(weights) is { Length: > 0 } w ? w : null, r.GetValue(output)!));
        return command;
    }

    private static int Run(string[] models, double[]? weights, string output)
    {
        if (models.FirstOrDefault(EnsembleModels.IsManifest) is { } nested)
            throw new ArgumentException($"--model {nested} is a manifest; list the model files themselves.");
        if (models.FirstOrDefault(ModelFiles.IsOnnxFile) is { } onnx)
            throw new ArgumentException($"--model {onnx} is an ONNX file; a manifest lists the model files (model.safetensors) it was exported from.");
        EnsemblePredictor.SaveManifest(output, models, weights);
        var written = EnsemblePredictor.ReadManifest(output);
        var total = written.Weights.Sum();
        var table = new Table().AddColumn("member").AddColumn(new TableColumn("weight").RightAligned());
        for (int i = 0; i < written.ModelPaths.Count; i++)
            table.AddRow(Markup.Escape(written.ModelPaths[i]), (written.Weights[i] / total).ToString("F3", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        var full = Path.GetFullPath(output);
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {full}: {written.ModelPaths.Count} members with their SHA-256. Use it as one model: medmnist evaluate --model {full} [--store-referral], medmnist conformal --model {full} --store, medmnist predict --model {full} IMAGES…"));
        return 0;
    }
}
