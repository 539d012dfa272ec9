using MedVision.Nets.Inference;
using MedVision.Onnx.Runtime;
using MedVision.Torch;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// What <c>--model</c> names for <c>predict</c> and <c>evaluate</c>: one model file, several (an ensemble, their
/// probabilities averaged), one segmentation ensemble manifest (<c>segmentation ensemble</c>, or
/// <c>OUTPUT/ensemble.json</c> of a cross-validation), which lists the members and may record the post-processing chosen
/// for the ensemble, or one ONNX file <c>export</c> wrote (run by ONNX Runtime on the CPU).
/// </summary>
internal static class SegmentationModels
{
    /// <summary>Whether a --model value is an ensemble manifest (a .json file).</summary>
    public static bool IsManifest(string path) => path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether a --model value is an ONNX file export wrote.</summary>
    public static bool IsOnnx(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>The problem with the --model values (a manifest or an ONNX file among others), or null.</summary>
    public static string? Conflict(IReadOnlyList<string> models) =>
        models.Count > 1 && models.FirstOrDefault(IsManifest) is { } manifest ? $"--model {manifest} is an ensemble manifest, which lists the whole ensemble: give it as the only --model"
        : models.Count > 1 && models.Any(IsOnnx) ? "an ONNX model predicts alone; give model.safetensors files for an ensemble"
        : null;

    /// <summary>Where the post-processing the predictor starts from is recorded, for the console ("the model file", "the manifest").</summary>
    public static string Source(IReadOnlyList<string> models) => models.Count == 1 && IsManifest(models[0]) ? "the manifest" : models.Count == 1 ? "the model file" : "the model files";

    /// <summary>The card of the (first) model the values name, without loading the networks.</summary>
    public static SegmentationCard ReadCard(IReadOnlyList<string> models) =>
        IsManifest(models[0]) ? SegmentationModelFile.ReadCard(SegmentationModelFile.ReadEnsembleManifest(models[0]).ModelPaths[0])
        : IsOnnx(models[0]) ? OnnxRuntimePredictor.ReadSegmentationCard(models[0])
        : SegmentationModelFile.ReadCard(models[0]);

    /// <summary>A scan predictor for the model files, the manifest or the ONNX file.</summary>
    public static SegmentationPredictor LoadScans(IReadOnlyList<string> models, Device device) =>
        IsManifest(models[0]) ? Noted(SegmentationPredictor.LoadManifest(models[0], device), p => p.PostprocessingNote)
        : IsOnnx(models[0]) ? OnnxRuntimePredictor.LoadSegmentation(OnCpu(models[0], device))
        : SegmentationPredictor.LoadEnsemble(models, device);

    /// <summary>An image predictor for the model files, the manifest or the ONNX file.</summary>
    public static ImageSegmentationPredictor LoadImages(IReadOnlyList<string> models, Device device) =>
        IsManifest(models[0]) ? Noted(ImageSegmentationPredictor.LoadManifest(models[0], device), p => p.PostprocessingNote)
        : IsOnnx(models[0]) ? OnnxRuntimePredictor.LoadImageSegmentation(OnCpu(models[0], device))
        : ImageSegmentationPredictor.LoadEnsemble(models, device);

    // An ONNX file runs on ONNX Runtime's CPU provider here.
    private static string OnCpu(string path, Device device) =>
        device.IsCuda ? throw new ArgumentException("--device: an ONNX model runs on the CPU here (ONNX Runtime's CPU provider).") : path;

    /// <summary>How many networks the values name (a manifest's members).</summary>
    public static int Count(IReadOnlyList<string> models) => IsManifest(models[0]) ? SegmentationModelFile.ReadEnsembleManifest(models[0]).ModelPaths.Count : models.Count;

    // Says on the console why a manifest's post-processing is not applied.
    private static T Noted<T>(T predictor, Func<T, string?> note)
    {
        if (note(predictor) is { } text) Spectre.Console.AnsiConsole.MarkupLine("[yellow]" + Spectre.Console.Markup.Escape(text) + "[/]");
        return predictor;
    }
}
