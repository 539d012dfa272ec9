using System.Text.Json;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Torch;

namespace MedVision.Onnx;

/// <summary>
/// Exports a self-describing model file (<see cref="ModelFile.Save"/>) to ONNX for serving without MedVision: the graph
/// takes the preprocessed image batch <c>input</c> (N, C, H, W) or (N, C, D, H, W) and gives <c>logits</c> and
/// <c>probabilities</c> exactly as <see cref="Predictor"/> computes them (softmax of the temperature-scaled logits;
/// sigmoid for multi-label tasks). The model card — class names, task, preprocessing (input size, channels, mean,
/// std), training metrics — travels in the ONNX metadata under <see cref="ModelFile.MetadataKey"/>.
/// </summary>
public static class OnnxModelFile
{
    /// <summary>The input's name in exported model files.</summary>
    public const string InputName = "input";
    /// <summary>The logits output's name.</summary>
    public const string LogitsName = "logits";
    /// <summary>The probabilities output's name.</summary>
    public const string ProbabilitiesName = "probabilities";

    /// <summary>Exports <paramref name="modelPath"/> to <paramref name="onnxPath"/> (written atomically) and returns the model's card.</summary>
    /// <exception cref="ModelFormatException">The model file is invalid.</exception>
    /// <exception cref="NotSupportedException">The model cannot be exported (a TorchScript model file, for one: its graph is opaque here).</exception>
    public static ModelCard Export(string modelPath, string onnxPath, OnnxExportOptions? options = null) => Export(modelPath, onnxPath, options, batchSize: 1);

    /// <summary>
    /// Exports <paramref name="modelPath"/> to <paramref name="onnxPath"/> with an example batch of
    /// <paramref name="batchSize"/> (the size the graph declares when <see cref="OnnxExportOptions.DynamicBatch"/> is off).
    /// </summary>
    public static ModelCard Export(string modelPath, string onnxPath, OnnxExportOptions? options, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        var card = ModelFile.ReadCard(modelPath);
        if (string.Equals(card.Architecture, "torchscript", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"{modelPath} holds a TorchScript module, whose graph cannot be exported to ONNX here; export it from Python with torch.onnx.export.");
        var (model, loadedCard) = ModelFile.Load(modelPath);
        using (model)
        {
            options ??= new OnnxExportOptions();
            var effective = new OnnxExportOptions
            {
                InputName = InputName,
                OutputName = LogitsName,
                DynamicBatch = options.DynamicBatch,
                DynamicSpatialSize = options.DynamicSpatialSize,
                BatchDimensionName = options.BatchDimensionName,
                GraphName = options.GraphName,
                Description = options.Description ?? $"{loadedCard.Architecture} for {string.Join(", ", loadedCard.ClassNames)} ({loadedCard.Task}); input {InputName} (N, {loadedCard.Preprocessing.Channels}, {string.Join(", ", loadedCard.Preprocessing.InputSize)}) normalised with mean [{string.Join(", ", loadedCard.Preprocessing.Mean.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}] and std [{string.Join(", ", loadedCard.Preprocessing.Std.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}].",
                ModelVersion = options.ModelVersion,
                VerificationTolerance = options.VerificationTolerance,
            };
            foreach (var (key, value) in options.Metadata) effective.Metadata[key] = value;
            effective.Metadata[ModelFile.MetadataKey] = JsonSerializer.Serialize(loadedCard);
            effective.Metadata["medvision.class_names"] = JsonSerializer.Serialize(loadedCard.ClassNames);
            var shape = new long[] { batchSize, loadedCard.Preprocessing.Channels }.Concat(loadedCard.Preprocessing.InputSize.Select(s => (long)s)).ToArray();
            bool multiLabel = Enum.TryParse<MedMnistTask>(loadedCard.Task, ignoreCase: true, out var task) && task == MedMnistTask.MultiLabel;
            double temperature = loadedCard.Temperature;
            var writer = new OnnxExporter().Build(model, shape, effective, (context, logits) =>
            {
                OnnxValue probabilities;
                if (multiLabel) probabilities = context.AddNode("Sigmoid", new[] { logits }, logits.Sample.Sigmoid());
                else
                {
                    var scaled = logits;
                    if (temperature != 1)
                        scaled = context.AddNode("Div", new[] { logits, context.Constant("temperature", new[] { (float)temperature }) }, logits.Sample / temperature);
                    probabilities = context.AddNode("Softmax", new[] { scaled }, scaled.Sample.Softmax(1), OnnxAttribute.Int("axis", 1));
                }
                return new[] { (LogitsName, logits), (ProbabilitiesName, probabilities) };
            });
            OnnxFiles.WriteAtomically(onnxPath, writer);
            return card;
        }
    }
}
