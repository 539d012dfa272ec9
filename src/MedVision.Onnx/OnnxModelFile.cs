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

    /// <summary>The metadata key that says what the graph's input is: <c>normalized</c> or <c>unit_range</c> (see <see cref="OnnxModelFileOptions.NormalizeInGraph"/>).</summary>
    public const string InputKindKey = "medvision.input";
    /// <summary>The <see cref="InputKindKey"/> value of a graph that takes normalised input.</summary>
    public const string NormalizedInput = "normalized";
    /// <summary>The <see cref="InputKindKey"/> value of a graph that takes pixels scaled to [0, 1] and normalises them itself.</summary>
    public const string UnitRangeInput = "unit_range";

    /// <summary>Exports <paramref name="modelPath"/> to <paramref name="onnxPath"/> (written atomically) and returns the model's card.</summary>
    /// <exception cref="ModelFormatException">The model file is invalid.</exception>
    /// <exception cref="NotSupportedException">The model cannot be exported (a TorchScript model file, for one: its graph is opaque here).</exception>
    public static ModelCard Export(string modelPath, string onnxPath, OnnxModelFileOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        var (model, loadedCard) = ModelFile.Load(modelPath);
        using (model)
        {
            if (string.Equals(loadedCard.Architecture, "torchscript", StringComparison.OrdinalIgnoreCase))
                throw new NotSupportedException($"{modelPath} holds a TorchScript module, whose graph cannot be exported to ONNX here; export it from Python with torch.onnx.export.");
            options ??= new OnnxModelFileOptions();
            var pre = loadedCard.Preprocessing;
            var effective = ExportOptions(options, $"{loadedCard.Architecture} for {string.Join(", ", loadedCard.ClassNames)} ({loadedCard.Task}); input {InputName} (N, {pre.Channels}, {string.Join(", ", pre.InputSize)}){(pre.Modalities is { } m ? $", channels {string.Join(", ", m)}" : "")}: "
                    + Geometry(pre) + "pixels scaled to [0, 1]" + PerInput(pre)
                    + (options.NormalizeInGraph ? " (the graph normalises them)." : $", then normalised with mean [{Join(pre.Mean)}] and std [{Join(pre.Std)}]."));
            effective.Metadata[ModelFile.MetadataKey] = JsonSerializer.Serialize(loadedCard);
            effective.Metadata["medvision.class_names"] = JsonSerializer.Serialize(loadedCard.ClassNames);
            effective.Metadata[InputKindKey] = options.NormalizeInGraph ? UnitRangeInput : NormalizedInput;
            var shape = new long[] { options.BatchSize, pre.Channels }.Concat(loadedCard.Preprocessing.InputSize.Select(s => (long)s)).ToArray();
            bool multiLabel = Enum.TryParse<MedMnistTask>(loadedCard.Task, ignoreCase: true, out var task) && task == MedMnistTask.MultiLabel;
            double temperature = loadedCard.Temperature;
            OnnxInputPrelude? prelude = options.NormalizeInGraph ? (context, pixels) => Normalize(context, pixels, pre) : null;
            var writer = new OnnxExporter().Build(model, shape, effective, prelude: prelude, heads: (context, logits) =>
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
            return loadedCard;
        }
    }

    /// <summary>
    /// Exports a segmentation model file (<see cref="SegmentationModelFile.Save"/>) to <paramref name="onnxPath"/>
    /// (written atomically) and returns its card. The graph takes the prepared windows <c>input</c> (N, C, window…) —
    /// the card's window; any spatial size that is a multiple of the U-Net's with
    /// <see cref="OnnxModelFileOptions.DynamicSpatialSize"/> — and gives <c>logits</c> (N, classes, …) and
    /// <c>probabilities</c> (softmax over the classes; for a one-channel network the sigmoid). The card travels in the
    /// metadata under <see cref="SegmentationModelFile.MetadataKey"/>, so that <c>OnnxRuntimePredictor.LoadSegmentation</c>
    /// and <c>LoadImageSegmentation</c> prepare scans and images, slide the window and map label maps back as
    /// <see cref="SegmentationPredictor"/> and <see cref="ImageSegmentationPredictor"/> do.
    /// </summary>
    /// <exception cref="ModelFormatException">The model file is invalid.</exception>
    /// <exception cref="ArgumentException">A fixed batch size that cannot take the predictor's batches of windows, or <see cref="OnnxModelFileOptions.NormalizeInGraph"/> (the preparation stays with the predictor).</exception>
    public static SegmentationCard ExportSegmentation(string modelPath, string onnxPath, OnnxModelFileOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        options ??= new OnnxModelFileOptions();
        var (model, card) = SegmentationModelFile.Load(modelPath);
        using (model)
        {
            if (!options.DynamicBatch && options.BatchSize != 1)
                throw new ArgumentException($"A fixed batch must be 1 window (the predictors pass up to {card.WindowBatchSize} at a time, fewer at the end); keep DynamicBatch for batches of windows.", nameof(options));
            if (!options.DynamicBatch && card.WindowBatchSize > 1)
                throw new ArgumentException($"The card runs windows in batches of {card.WindowBatchSize}; keep DynamicBatch.", nameof(options));
            if (options.NormalizeInGraph)
                throw new ArgumentException("A segmentation graph takes prepared windows; its preparation (normalisation included) stays with the predictor.", nameof(options));
            var effective = ExportOptions(options, $"{card.SpatialDims}-D U-Net segmenting {string.Join(", ", card.ClassNames)}; input {InputName} (N, {card.InChannels}, "
                + $"{string.Join(", ", card.WindowSize)}): windows of {(card.SpatialDims == 3 ? "scans" : "images")} prepared as the card in the metadata says.");
            effective.Metadata[SegmentationModelFile.MetadataKey] = JsonSerializer.Serialize(card);
            effective.Metadata["medvision.class_names"] = JsonSerializer.Serialize(card.ClassNames);
            effective.Metadata[InputKindKey] = NormalizedInput;
            var shape = new long[] { 1, card.InChannels }.Concat(card.WindowSize.Select(s => (long)s)).ToArray();
            bool sigmoid = card.IsSigmoid;
            var writer = new OnnxExporter().Build(model, shape, effective, heads: (context, logits) =>
            {
                var probabilities = sigmoid
                    ? context.AddNode("Sigmoid", new[] { logits }, logits.Sample.Sigmoid())
                    : context.AddNode("Softmax", new[] { logits }, logits.Sample.Softmax(1), OnnxAttribute.Int("axis", 1));
                return new[] { (LogitsName, logits), (ProbabilitiesName, probabilities) };
            });
            OnnxFiles.WriteAtomically(onnxPath, writer);
            return card;
        }
    }

    // The exporter's options for a model file: the input and logits names, the batch and size choices, the description
    // (the caller's, else one made from the card) and the caller's metadata, to which the card is added.
    private static OnnxExportOptions ExportOptions(OnnxModelFileOptions options, string description)
    {
        var effective = new OnnxExportOptions
        {
            InputName = InputName,
            OutputName = LogitsName,
            DynamicBatch = options.DynamicBatch,
            DynamicSpatialSize = options.DynamicSpatialSize,
            Float16 = options.Float16,
            Description = options.Description ?? description,
            ModelVersion = options.ModelVersion,
        };
        foreach (var (key, value) in options.Metadata) effective.Metadata[key] = value;
        return effective;
    }

    // (x − mean) / std per channel, with the card's one or C values broadcast over (N, C, …).
    private static OnnxValue Normalize(OnnxExportContext context, OnnxValue pixels, PreprocessingCard pre)
    {
        var channels = pre.Mean.Count == 1 ? 1 : pre.Channels;
        var shape = new long[] { 1, channels }.Concat(Enumerable.Repeat(1L, pixels.Rank - 2)).ToArray();
        var mean = context.Constant("mean", pre.Mean.ToArray(), shape);
        var std = context.Constant("std", pre.Std.ToArray(), shape);
        var centred = context.AddNode("Sub", new[] { pixels, mean }, pixels.Sample - mean.Sample);
        return context.AddNode("Div", new[] { centred, std }, centred.Sample / std.Sample);
    }

    // The card's resampling to a voxel size, alignment of channels and crop to the foreground (volumes), done before
    // resizing by the predictors, not by the graph.
    private static string Geometry(PreprocessingCard pre)
    {
        var steps = new List<string>();
        if (pre.Spacing is { } spacing) steps.Add($"resampled to {string.Join(" × ", spacing.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))} mm voxels");
        if (pre.AlignModalities == true) steps.Add("channels on other grids resampled onto the first channel's grid");
        if (pre.CropForeground is { } c)
            steps.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"cropped to their stored values above {c.Threshold}{(c.Margin > 0 ? $" (margin {c.Margin})" : "")}"));
        bool cropOrPad = pre.Fit == "crop_or_pad";
        if (steps.Count == 0) return cropOrPad ? "volumes center-cropped or padded (with their minimum) to the input size instead of resized, " : "";
        return $"volumes {string.Join(", ", steps)} before {(cropOrPad ? "being center-cropped or padded (with their minimum) to the input size" : "resizing")}, ";
    }

    // The card's per-input normalisation, which the graph leaves to its caller (as the predictors apply it).
    private static string PerInput(PreprocessingCard pre) => pre.IntensityNormalization is { } n
        ? $", each input normalised by its own mean and sd{(n.NonZero ? " over its non-zero values (zeros kept)" : "")}{(n.ChannelWise ? ", per channel" : "")}"
        : "";

    private static string Join(IEnumerable<float> values) => string.Join(", ", values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
