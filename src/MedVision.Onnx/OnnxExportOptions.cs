namespace MedVision.Onnx;

/// <summary>Names and metadata of an exported ONNX model (torch.onnx.export's input_names, output_names, dynamic_axes).</summary>
public sealed class OnnxExportOptions
{
    /// <summary>The graph input's name. Default <c>input</c>.</summary>
    public string InputName
    {
        get => _inputName;
        set => _inputName = value ?? throw new ArgumentNullException(nameof(InputName));
    }
    private string _inputName = "input";

    /// <summary>The graph output's name. Default <c>output</c>.</summary>
    public string OutputName
    {
        get => _outputName;
        set => _outputName = value ?? throw new ArgumentNullException(nameof(OutputName));
    }
    private string _outputName = "output";

    /// <summary>Whether the batch dimension (dimension 0) is dynamic, so one file serves any batch size. Default true.</summary>
    public bool DynamicBatch { get; set; } = true;

    /// <summary>
    /// Whether the spatial dimensions (2 and beyond) are dynamic too, named <c>depth</c>, <c>height</c> and <c>width</c>,
    /// so a fully convolutional network (a ResNet, the ISM) takes images of any size. Default false. Layers whose ONNX
    /// form depends on the example's size (adaptive pooling to sizes other than 1, flattening that keeps spatial
    /// dimensions) are then refused; a fully connected layer over spatial positions (the MDM's) still needs inputs of
    /// the example's size, and ONNX Runtime reports a shape error otherwise.
    /// </summary>
    public bool DynamicSpatialSize { get; set; }

    /// <summary>
    /// Whether the graph computes in float16 (half precision), for GPUs' half-precision units (ONNX Runtime's CUDA and
    /// DirectML providers, TensorRT) and half-size files: the weights and constants are stored as float16, a
    /// <c>Cast</c> after each input takes it to float16 and a <c>Cast</c> before each output returns float32 — the graph
    /// still takes and gives float32, as onnxconverter-common's <c>convert_float_to_float16(keep_io_types=True)</c>
    /// makes it. The metadata records <c>medvision.precision</c> = <c>float16</c>. Outputs then differ from the float32
    /// graph's by float16's rounding (about 3 significant digits); the export's own check compares the float32
    /// composition with the model, so check the float16 graph on your data. A weight beyond float16's range (±65,504)
    /// is refused. Default false. ONNX Runtime's CPU provider runs such graphs too, casting back to float32 where it has
    /// no float16 kernel: on a CPU, export float32.
    /// </summary>
    public bool Float16 { get; set; }

    /// <summary>The symbolic name of the dynamic batch dimension. Default <c>batch</c>.</summary>
    public string BatchDimensionName
    {
        get => _batchDimensionName;
        set => _batchDimensionName = value ?? throw new ArgumentNullException(nameof(BatchDimensionName));
    }
    private string _batchDimensionName = "batch";

    /// <summary>The graph's name. Default <c>MedVision</c>.</summary>
    public string GraphName
    {
        get => _graphName;
        set => _graphName = value ?? throw new ArgumentNullException(nameof(GraphName));
    }
    private string _graphName = "MedVision";

    /// <summary>A description stored in the model (ModelProto.doc_string), or null.</summary>
    public string? Description { get; set; }

    /// <summary>The model version (ModelProto.model_version). Default 1.</summary>
    public long ModelVersion { get; set; } = 1;

    /// <summary>Key-value metadata stored in the model (ModelProto.metadata_props), read back by ONNX Runtime's ModelMetadata.CustomMetadataMap.</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// The largest difference allowed between the exported graph's reference evaluation and the model's own forward pass
    /// on the example input, relative to the output's largest magnitude (default 1e-4). The check catches an exporter
    /// that composes its module differently from the module's forward.
    /// </summary>
    public double VerificationTolerance { get; set; } = 1e-4;

    internal void Validate()
    {
        foreach (var (value, name) in new[] { (InputName, nameof(InputName)), (OutputName, nameof(OutputName)), (BatchDimensionName, nameof(BatchDimensionName)), (GraphName, nameof(GraphName)) })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} must not be empty.", name);
        if (InputName == OutputName) throw new ArgumentException($"The input and the output need different names, both are '{InputName}'.", nameof(OutputName));
        if (!(VerificationTolerance >= 0)) throw new ArgumentException($"The verification tolerance must be non-negative, got {VerificationTolerance}.", nameof(VerificationTolerance));
        foreach (var (key, value) in Metadata)
            if (string.IsNullOrEmpty(key) || value is null) throw new ArgumentException("Metadata keys must be non-empty and values non-null.", nameof(Metadata));
    }
}
