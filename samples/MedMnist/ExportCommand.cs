using System.CommandLine;
using MedVision.Onnx;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>The <c>export</c> command: converts a saved model file to ONNX for ONNX Runtime, ML.NET, OpenVINO or TensorRT.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = ModelOptions.Model();
        var output = new Option<string>("--output", "-o") { Description = "The ONNX file to write (default: the model file's name with .onnx).", };
        var fixedBatch = new Option<int?>("--fixed-batch") { Description = "Fix the batch size in the graph (default: dynamic)." }.AtLeast(1);
        var dynamicSize = new Option<bool>("--dynamic-size") { Description = "Let the graph take images of any size (height and width dynamic), not just the model's input size." };
        var normalize = new Option<bool>("--normalize-in-graph") { Description = "The graph normalises with the card's mean and std itself: it takes pixels scaled to [0, 1] (for ML.NET's ExtractPixels)." };
        var float16 = SampleCommandLine.Float16Export();
        var command = new Command("export", "Export a saved model file to ONNX (opset 17): input 'input', outputs 'logits' and 'probabilities', the model card in the metadata. An ensemble manifest (.json) exports as one graph that averages its members' probabilities (also output per member as 'member_probabilities').") { model, output, fixedBatch, dynamicSize, normalize, float16 };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(output), r.GetValue(fixedBatch), r.GetValue(dynamicSize), r.GetValue(normalize), r.GetValue(float16)));
        return command;
    }

    private static int Run(string modelPath, string? output, int? fixedBatch, bool dynamicSize, bool normalizeInGraph, bool float16)
    {
        var target = output ?? Path.ChangeExtension(modelPath, ".onnx");
        var options = new OnnxModelFileOptions { DynamicBatch = fixedBatch is null, BatchSize = fixedBatch ?? 1, DynamicSpatialSize = dynamicSize, NormalizeInGraph = normalizeInGraph, Float16 = float16 };
        bool ensemble = EnsembleModels.IsManifest(modelPath);
        var card = ensemble ? OnnxModelFile.ExportEnsemble(modelPath, target, options) : OnnxModelFile.Export(modelPath, target, options);
        var spatial = dynamicSize ? string.Join(", ", card.Preprocessing.InputSize.Count == 3 ? new[] { "D", "H", "W" } : new[] { "H", "W" }) : string.Join(", ", card.Preprocessing.InputSize);
        var inputShape = $"({(fixedBatch?.ToString() ?? "N")}, {card.Preprocessing.Channels}, {spatial})";
        var input = normalizeInGraph
            ? "pixels scaled to [0, 1] (the graph normalises them)"
            : $"normalised with mean [{string.Join(", ", card.Preprocessing.Mean.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}] and std [{string.Join(", ", card.Preprocessing.Std.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
        AnsiConsole.WriteLine($"Wrote {Path.GetFullPath(target)} ({new FileInfo(target).Length / 1024} KiB): input {inputShape}, {input}; outputs logits and probabilities over {card.ClassNames.Count} classes ({card.Task}){(ensemble ? $", the {card.Metrics["ensemble_members"]} members' weighted average (each member's as member_probabilities; logits the average's logarithm)" : "")}{SampleCommandLine.Float16Note(float16)}.");
        return 0;
    }
}
