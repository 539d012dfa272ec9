using MedVision.Torch;

namespace MedVision.Onnx;

/// <summary>
/// A value flowing through the graph being exported: its name in the ONNX graph and the sample tensor it takes when
/// the model runs on the example input (which gives every value its shape while exporting). Exporters read
/// <see cref="Sample"/> to compute shapes and attributes; the exporter owns it and frees it when the export ends.
/// </summary>
public sealed class OnnxValue
{
    internal OnnxValue(string name, Tensor sample)
    {
        Name = name;
        Sample = sample;
    }

    /// <summary>The value's name in the ONNX graph.</summary>
    public string Name { get; internal set; }

    /// <summary>The value this graph edge takes on the example input (owned by the export; do not dispose).</summary>
    public Tensor Sample { get; }

    /// <summary>The shape on the example input (the batch dimension is dynamic in the exported graph).</summary>
    public long[] Shape => Sample.Shape;

    /// <summary>The rank.</summary>
    public int Rank => (int)Sample.Dim;

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
