using System.CommandLine;
using MedVision.Onnx;
using Spectre.Console;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// The <c>export</c> command: converts a segmentation model file to ONNX (input 'input': prepared windows; outputs
/// 'logits' and 'probabilities'; the segmentation card in the metadata), which <c>predict --model FILE.onnx</c> runs
/// through ONNX Runtime with the same preparation, window and mapping back.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The model file train or images wrote (OUTPUT/model.safetensors).", Required = true };
        var output = new Option<string?>("--output", "-o") { Description = "The ONNX file to write (default: the model file's name with .onnx)." };
        var dynamicSize = new Option<bool>("--dynamic-size") { Description = "Let the graph take any spatial size that is a multiple of the U-Net's, not just the window." };
        var float16 = SampleCommandLine.Float16Export();
        var command = new Command("export", "Export a segmentation model file to ONNX (opset 17) for ONNX Runtime, OpenVINO or TensorRT; predict --model FILE.onnx runs it.") { model, output, dynamicSize, float16 };
        command.Check(r => SegmentationModels.IsManifest(r.GetValue(model)!) ? $"--model {r.GetValue(model)} is an ensemble manifest; export its members one at a time (an ONNX file holds one network)" : null);
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(output), r.GetValue(dynamicSize), r.GetValue(float16)));
        return command;
    }

    private static int Run(string modelPath, string? output, bool dynamicSize, bool float16)
    {
        var target = output ?? Path.ChangeExtension(modelPath, ".onnx");
        var card = OnnxModelFile.ExportSegmentation(modelPath, target, new OnnxModelFileOptions { DynamicSpatialSize = dynamicSize, Float16 = float16 });
        var spatial = dynamicSize ? (card.SpatialDims == 3 ? "D, H, W" : "H, W") : string.Join(", ", card.WindowSize);
        AnsiConsole.WriteLine($"Wrote {Path.GetFullPath(target)} ({new FileInfo(target).Length / 1024} KiB): input (N, {card.InChannels}, {spatial}) prepared windows; "
            + $"outputs logits and probabilities ({(card.IsSigmoid ? "sigmoid" : "softmax")}) over {string.Join(", ", card.ClassNames)}{SampleCommandLine.Float16Note(float16)}.");
        return 0;
    }
}
