using MedVision.Protobuf;

namespace MedVision.Onnx;

/// <summary>A node of the graph being built.</summary>
internal sealed class OnnxNodeRecord
{
    public required string Name { get; init; }
    public required string OpType { get; init; }
    public required string[] Inputs { get; init; }
    public required string[] Outputs { get; init; }
    public required OnnxAttribute[] Attributes { get; init; }
}

/// <summary>A constant of the graph (a weight or a shape): float32 (or, with <see cref="Float16"/>, float16) or int64 data with its dimensions.</summary>
internal sealed class OnnxInitializerRecord
{
    public required string Name { get; init; }
    public required long[] Dims { get; init; }
    public float[]? Floats { get; init; }
    public long[]? Longs { get; init; }

    /// <summary>Whether <see cref="Floats"/> are written as float16 (each rounded to the nearest half; in range, see <see cref="Float16Graph"/>).</summary>
    public bool Float16 { get; set; }
}

/// <summary>A graph input or output: name, element type (float32), dimensions, and the symbolic name of each dynamic one (null where fixed).</summary>
internal sealed record OnnxIoRecord(string Name, long[] Dims, string?[] DimNames);

/// <summary>Writes an ONNX ModelProto (onnx.proto, IR version 8) with the protobuf wire format.</summary>
internal static class OnnxModelWriter
{
    // onnx.proto field numbers
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelDomain = 4, ModelVersion = 5, ModelDocString = 6, ModelGraph = 7, ModelOpsetImport = 8, ModelMetadataProps = 14;
    private const int OpsetDomain = 1, OpsetVersion = 2;
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphDocString = 10, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    private const int AttrName = 1, AttrF = 2, AttrI = 3, AttrS = 4, AttrFloats = 7, AttrInts = 8, AttrType = 20;
    private const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
    private const int ValueInfoName = 1, ValueInfoType = 2;
    private const int TypeTensorType = 1, TensorTypeElemType = 1, TensorTypeShape = 2;
    private const int ShapeDim = 1, DimValue = 1, DimParam = 2;
    private const int EntryKey = 1, EntryValue = 2;
    private const int DataTypeFloat = 1, DataTypeInt64 = 7, DataTypeFloat16 = 10;

    public const long IrVersion = 8;

    public static ProtoWriter Write(
        string graphName, string? docString, long opset, string producerVersion, long modelVersion,
        IReadOnlyList<OnnxIoRecord> inputs, IReadOnlyList<OnnxIoRecord> outputs,
        IReadOnlyList<OnnxNodeRecord> nodes, IReadOnlyList<OnnxInitializerRecord> initializers,
        IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ProtoWriter();
        model.Int64(ModelIrVersion, IrVersion);
        model.String(ModelProducerName, "MedVision.Onnx");
        model.String(ModelProducerVersion, producerVersion);
        model.String(ModelDomain, "org.medvision");
        model.Int64(ModelVersion, modelVersion);
        model.String(ModelDocString, docString);
        model.Message(ModelGraph, g =>
        {
            foreach (var node in nodes) g.Message(GraphNode, n => WriteNode(n, node));
            g.String(GraphName, graphName);
            foreach (var init in initializers) g.Message(GraphInitializer, t => WriteTensor(t, init));
            g.String(GraphDocString, docString);
            foreach (var input in inputs) g.Message(GraphInput, v => WriteValueInfo(v, input));
            foreach (var output in outputs) g.Message(GraphOutput, v => WriteValueInfo(v, output));
        });
        model.Message(ModelOpsetImport, o =>
        {
            o.String(OpsetDomain, "");
            o.Int64(OpsetVersion, opset);
        });
        foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            model.Message(ModelMetadataProps, e =>
            {
                e.String(EntryKey, key);
                e.String(EntryValue, value);
            });
        return model;
    }

    private static void WriteNode(ProtoWriter w, OnnxNodeRecord node)
    {
        foreach (var input in node.Inputs) w.String(NodeInput, input);
        foreach (var output in node.Outputs) w.String(NodeOutput, output);
        w.String(NodeName, node.Name);
        w.String(NodeOpType, node.OpType);
        foreach (var attribute in node.Attributes) w.Message(NodeAttribute, a => WriteAttribute(a, attribute));
    }

    private static void WriteAttribute(ProtoWriter w, OnnxAttribute attribute)
    {
        w.String(AttrName, attribute.Name);
        switch (attribute.Kind)
        {
            case OnnxAttributeKind.Float: w.Float(AttrF, attribute.FloatValue); break;
            case OnnxAttributeKind.Int: w.Int64(AttrI, attribute.IntValue); break;
            case OnnxAttributeKind.String: w.String(AttrS, attribute.StringValue); break;
            case OnnxAttributeKind.Floats: w.Floats(AttrFloats, attribute.FloatValues); break;
            case OnnxAttributeKind.Ints: w.Int64s(AttrInts, attribute.IntValues); break;
            default: throw new InvalidOperationException($"Unknown attribute kind {attribute.Kind}.");
        }
        w.Int64(AttrType, (long)attribute.Kind);
    }

    private static void WriteTensor(ProtoWriter w, OnnxInitializerRecord tensor)
    {
        w.Int64s(TensorDims, tensor.Dims);
        w.Int64(TensorDataType, tensor.Floats is null ? DataTypeInt64 : tensor.Float16 ? DataTypeFloat16 : DataTypeFloat);
        w.String(TensorName, tensor.Name);
        // raw_data is little-endian, as ONNX specifies.
        byte[] raw;
        if (tensor.Floats is { } halves && tensor.Float16)
        {
            raw = new byte[halves.Length * 2];
            for (int i = 0; i < halves.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteHalfLittleEndian(raw.AsSpan(i * 2), (Half)halves[i]);
        }
        else if (tensor.Floats is { } floats)
        {
            raw = new byte[floats.Length * 4];
            for (int i = 0; i < floats.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), floats[i]);
        }
        else
        {
            var longs = tensor.Longs!;
            raw = new byte[longs.Length * 8];
            for (int i = 0; i < longs.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * 8), longs[i]);
        }
        w.Bytes(TensorRawData, raw);
    }

    private static void WriteValueInfo(ProtoWriter w, OnnxIoRecord value)
    {
        w.String(ValueInfoName, value.Name);
        w.Message(ValueInfoType, type => type.Message(TypeTensorType, tensorType =>
        {
            tensorType.Int64(TensorTypeElemType, DataTypeFloat);
            tensorType.Message(TensorTypeShape, shape =>
            {
                for (int i = 0; i < value.Dims.Length; i++)
                {
                    var (size, name) = (value.Dims[i], value.DimNames[i]);
                    shape.Message(ShapeDim, d =>
                    {
                        if (name is null) d.Int64(DimValue, size);
                        else d.String(DimParam, name);
                    });
                }
            });
        }));
    }
}
