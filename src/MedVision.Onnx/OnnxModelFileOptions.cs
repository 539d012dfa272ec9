namespace MedVision.Onnx;

/// <summary>How <see cref="OnnxModelFile.Export"/> writes a model file's graph.</summary>
public sealed class OnnxModelFileOptions
{
    private int _batchSize = 1;

    /// <summary>The example batch size: the size the graph declares when <see cref="DynamicBatch"/> is off. Default 1.</summary>
    public int BatchSize
    {
        get => _batchSize;
        set => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "The batch size must be at least 1.");
    }

    /// <summary>Whether the batch dimension is dynamic. Default true.</summary>
    public bool DynamicBatch { get; set; } = true;

    /// <summary>Whether the spatial dimensions are dynamic too (see <see cref="OnnxExportOptions.DynamicSpatialSize"/>). Default false.</summary>
    public bool DynamicSpatialSize { get; set; }

    /// <summary>
    /// Whether the graph normalises its input itself with the card's mean and standard deviation, so that it takes
    /// pixels scaled to [0, 1] (what ML.NET's <c>ExtractPixels(scaleImage: 1f / 255)</c> gives, which has no per-channel
    /// normalisation of its own). The metadata records it (<c>medvision.input</c> = <c>unit_range</c>, otherwise
    /// <c>normalized</c>), and <c>OnnxRuntimePredictor</c> then skips its own normalisation. Default false.
    /// </summary>
    public bool NormalizeInGraph { get; set; }

    /// <summary>Whether the graph computes in float16, taking and giving float32 (see <see cref="OnnxExportOptions.Float16"/>). Default false.</summary>
    public bool Float16 { get; set; }

    /// <summary>A description stored in the model, or null for one made from the card.</summary>
    public string? Description { get; set; }

    /// <summary>The model version (ModelProto.model_version). Default 1.</summary>
    public long ModelVersion { get; set; } = 1;

    /// <summary>Further metadata; the card and class names are added under their own keys.</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
