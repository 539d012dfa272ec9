using MedVision.Nets.Inference;
using Microsoft.ML.OnnxRuntime;

namespace MedVision.Onnx.Runtime;

/// <summary>
/// Loads a model file exported to ONNX (<c>OnnxModelFile.Export</c> in MedVision.Onnx, or <c>medmnist export</c>) as a
/// <see cref="Predictor"/> whose network ONNX Runtime runs: the same calls (<see cref="Predictor.PredictFile"/>,
/// <see cref="Predictor.PredictPixels"/>, batches, volumes, test-time flips), the same preprocessing and probabilities
/// from the model card in the file's metadata, no libtorch forward pass. When the graph normalises its input itself
/// (exported with <c>NormalizeInGraph</c>), the predictor's card shows mean 0 and standard deviation 1: the
/// normalisation it applies. On CPUs ONNX Runtime runs these graphs faster
/// than libtorch runs the model (docs/benchmarks.md, "Serving the exported ONNX graph").
/// </summary>
/// <example><code>
/// using var predictor = OnnxRuntimePredictor.Load("model.onnx");
/// var prediction = predictor.PredictFile("fundus.jpg");
/// </code></example>
public static class OnnxRuntimePredictor
{

    /// <summary>Loads <paramref name="path"/> with ONNX Runtime's default session options (all graph optimisations).</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="ModelFormatException">The file is not an ONNX model, or not one with a MedVision model card.</exception>
    public static Predictor Load(string path, TestTimeFlips flips = TestTimeFlips.None) => Load(path, options: null, flips);

    /// <summary>Loads <paramref name="path"/> with the given session options (threads, execution providers such as CUDA).</summary>
    public static Predictor Load(string path, SessionOptions? options, TestTimeFlips flips = TestTimeFlips.None)
    {
        var session = OpenSession(path, options);
        try
        {
            if (!session.ModelMetadata.CustomMetadataMap.TryGetValue(ModelFile.MetadataKey, out var json))
                throw new ModelFormatException($"{path} carries no model card (no '{ModelFile.MetadataKey}' in its metadata): export model files with OnnxModelFile.Export (or `medmnist export`), which records the preprocessing and classes a predictor needs.");
            var card = ModelFile.ParseCard(json, path);
            CheckGraph(session, card, path);
            if (session.ModelMetadata.CustomMetadataMap.TryGetValue(OnnxModelFile.InputKindKey, out var kind) && kind == OnnxModelFile.UnitRangeInput)
            {
                // The graph normalises its input itself: the predictor only scales pixels to [0, 1].
                card.Preprocessing.Mean = new() { 0f };
                card.Preprocessing.Std = new() { 1f };
            }
            else if (kind is not null && kind != OnnxModelFile.NormalizedInput)
                throw new ModelFormatException($"{path} declares its input as '{kind}' ({OnnxModelFile.InputKindKey}); this version knows '{OnnxModelFile.NormalizedInput}' and '{OnnxModelFile.UnitRangeInput}'.");
            return Predictor.Create(card, new OnnxRuntimeNetwork(session, OnnxModelFile.InputName, OnnxModelFile.LogitsName), flips);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads a 3-D segmentation model exported to ONNX (<c>OnnxModelFile.ExportSegmentation</c>) as a
    /// <see cref="SegmentationPredictor"/> whose network ONNX Runtime runs: the same preparation of scans, sliding
    /// window, flips, largest components and label maps on each scan's grid, from the card in the file's metadata.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="ModelFormatException">The file is not an ONNX model, carries no segmentation card, holds a 2-D network, or its graph does not fit the card.</exception>
    public static SegmentationPredictor LoadSegmentation(string path, SessionOptions? options = null) =>
        LoadSegmentationPredictor(path, options, spatialDims: 3, SegmentationPredictor.Create);

    /// <summary>
    /// Loads a 2-D segmentation model exported to ONNX (<c>OnnxModelFile.ExportSegmentation</c>) as an
    /// <see cref="ImageSegmentationPredictor"/> whose network ONNX Runtime runs: the same preparation of images, window,
    /// flips and maps on each image's size, from the card in the file's metadata.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="ModelFormatException">The file is not an ONNX model, carries no segmentation card, holds a 3-D network, or its graph does not fit the card.</exception>
    public static ImageSegmentationPredictor LoadImageSegmentation(string path, SessionOptions? options = null) =>
        LoadSegmentationPredictor(path, options, spatialDims: 2, ImageSegmentationPredictor.Create);

    private static T LoadSegmentationPredictor<T>(string path, SessionOptions? options, int spatialDims, Func<SegmentationCard, IPredictorNetwork, T> create)
    {
        var (card, network) = LoadSegmentationNetwork(path, options, spatialDims);
        try
        {
            return create(card, network);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The segmentation card of an exported ONNX file (to choose between <see cref="LoadSegmentation"/> and <see cref="LoadImageSegmentation"/> by its <see cref="SegmentationCard.SpatialDims"/>).</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="ModelFormatException">The file is not an ONNX model, or carries no usable segmentation card.</exception>
    public static SegmentationCard ReadSegmentationCard(string path)
    {
        using var session = OpenSession(path, options: null);
        return SegmentationCardOf(session, path);
    }

    private static SegmentationCard SegmentationCardOf(InferenceSession session, string path) =>
        session.ModelMetadata.CustomMetadataMap.TryGetValue(SegmentationModelFile.MetadataKey, out var json)
            ? SegmentationModelFile.ParseCard(json, path)
            : throw new ModelFormatException($"{path} carries no segmentation card (no '{SegmentationModelFile.MetadataKey}' in its metadata): export segmentation model files with OnnxModelFile.ExportSegmentation.");

    private static (SegmentationCard Card, OnnxRuntimeNetwork Network) LoadSegmentationNetwork(string path, SessionOptions? options, int spatialDims)
    {
        var session = OpenSession(path, options);
        try
        {
            var card = SegmentationCardOf(session, path);
            if (card.SpatialDims != spatialDims)
                throw new ModelFormatException(spatialDims == 3
                    ? $"{path} holds a 2-D U-Net; segment images with OnnxRuntimePredictor.LoadImageSegmentation."
                    : $"{path} holds a 3-D U-Net; segment scans with OnnxRuntimePredictor.LoadSegmentation.");
            if (!session.InputMetadata.TryGetValue(OnnxModelFile.InputName, out var input) || !session.OutputMetadata.TryGetValue(OnnxModelFile.LogitsName, out var logits))
                throw new ModelFormatException($"{path} has inputs [{string.Join(", ", session.InputMetadata.Keys)}] and outputs [{string.Join(", ", session.OutputMetadata.Keys)}]; an exported model file has the input 'input' and the output 'logits'.");
            int outputs = card.IsSigmoid ? 1 : card.ClassNames.Count;
            bool Fits(int graph, int expected) => graph < 0 || graph == expected;   // −1: a dynamic dimension
            if (input.Dimensions.Length != spatialDims + 2 || input.Dimensions[1] != card.InChannels
                || !(input.Dimensions[0] < 0 || (input.Dimensions[0] == 1 && card.WindowBatchSize == 1))
                || input.Dimensions.Skip(2).Zip(card.WindowSize).Any(p => !Fits(p.First, p.Second)))
                throw new ModelFormatException($"{path}: the graph's input [{string.Join(", ", input.Dimensions)}] does not take the card's windows ({card.WindowBatchSize} at a time of {card.InChannels} channel(s), {string.Join("×", card.WindowSize)}).");
            if (logits.Dimensions.Length != spatialDims + 2 || logits.Dimensions[1] != outputs)
                throw new ModelFormatException($"{path}: the graph's logits [{string.Join(", ", logits.Dimensions)}] do not give the card's {outputs} output channel(s).");
            return (card, new OnnxRuntimeNetwork(session, OnnxModelFile.InputName, OnnxModelFile.LogitsName));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static InferenceSession OpenSession(string path, SessionOptions? options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No ONNX model at {path}.", path);
        try
        {
            return options is null ? new InferenceSession(path) : new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelFormatException($"{path} is not an ONNX model ONNX Runtime can load: {e.Message}", e);
        }
    }

    // The graph must take the card's channels and give one logit per class name (K − 1 cumulative ones for a CORAL head).
    private static void CheckGraph(InferenceSession session, ModelCard card, string path)
    {
        if (!session.InputMetadata.TryGetValue(OnnxModelFile.InputName, out var input) || !session.OutputMetadata.TryGetValue(OnnxModelFile.LogitsName, out var logits))
            throw new ModelFormatException($"{path} has inputs [{string.Join(", ", session.InputMetadata.Keys)}] and outputs [{string.Join(", ", session.OutputMetadata.Keys)}]; an exported model file has the input 'input' and the output 'logits'.");
        var dims = input.Dimensions;
        if (dims.Length != card.Preprocessing.InputSize.Count + 2 || dims[1] != card.Preprocessing.Channels)
            throw new ModelFormatException($"{path}: the graph's input [{string.Join(", ", dims)}] does not take the card's {card.Preprocessing.Channels}-channel {string.Join("×", card.Preprocessing.InputSize)} images.");
        var outputs = logits.Dimensions;
        int expected = card.HasCoralHead ? card.ClassNames.Count - 1 : card.ClassNames.Count;
        if (outputs.Length != 2 || outputs[1] != expected)
            throw new ModelFormatException(card.HasCoralHead
                ? $"{path}: the graph's logits [{string.Join(", ", outputs)}] are not the {expected} cumulative logits of the card's CORAL head for {card.ClassNames.Count} grades."
                : $"{path}: the graph's logits [{string.Join(", ", outputs)}] do not give one score for each of the card's {card.ClassNames.Count} classes.");
    }
}
