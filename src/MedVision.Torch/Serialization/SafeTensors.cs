using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace MedVision.Torch.Serialization;

/// <summary>
/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length N, N bytes of UTF-8 JSON describing each tensor
/// (<c>{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, "__metadata__": {…}}</c>, padded with
/// spaces to a multiple of 8 bytes), then the tensor data, contiguous, little-endian and row-major, at offsets relative
/// to the end of the header. Supported dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL.
/// </summary>
public static class SafeTensors
{
    private const string MetadataKey = "__metadata__";
    private const long MaxHeaderLength = 100_000_000;

    // ---------------------------------------------------------------- writing

    /// <summary>
    /// Writes <paramref name="tensors"/> (any device; CUDA tensors are copied to the CPU) and optional metadata to
    /// <paramref name="path"/> atomically: the data goes to a temporary file in the same folder, which then replaces
    /// the destination. On failure the temporary file is deleted and the destination is left untouched.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty or reserved, or a tensor is null or disposed.</exception>
    /// <exception cref="DirectoryNotFoundException">The destination folder does not exist.</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Cannot write '{full}': the folder '{folder}' does not exist.");
        var entries = Prepare(tensors, metadata);
        AtomicFile.Write(full, stream => Write(stream, entries, metadata));
    }

    /// <summary>Writes <paramref name="tensors"/> and optional metadata in safetensors format to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException">A name is empty or reserved, a tensor is null or disposed, or the stream is not writable.</exception>
    public static void Save(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("The stream is not writable.", nameof(stream));
        Write(stream, Prepare(tensors, metadata), metadata);
    }

    /// <summary>Returns <paramref name="tensors"/> and optional metadata in safetensors format.</summary>
    public static byte[] ToBytes(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var ms = new MemoryStream();
        Save(ms, tensors, metadata);
        return ms.ToArray();
    }

    internal sealed record Entry(string Name, Tensor Tensor, ScalarType Type, string DType, long[] Shape, long ByteLength);

    internal static List<Entry> Prepare(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata, bool sort = true)
    {
        RequireLittleEndian();
        ArgumentNullException.ThrowIfNull(tensors);
        if (metadata is not null)
            foreach (var (k, v) in metadata)
            {
                if (k is null) throw new ArgumentException("A metadata key is null.", nameof(metadata));
                if (v is null) throw new ArgumentException($"The metadata value of '{k}' is null.", nameof(metadata));
            }
        var entries = new List<Entry>(tensors.Count);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("A tensor name is null or empty.", nameof(tensors));
            if (name == MetadataKey) throw new ArgumentException($"'{MetadataKey}' is reserved for metadata and cannot name a tensor.", nameof(tensors));
            if (tensor is null) throw new ArgumentException($"The tensor '{name}' is null.", nameof(tensors));
            if (tensor.IsDisposed) throw new ArgumentException($"The tensor '{name}' has been disposed.", nameof(tensors));
            var type = tensor.ScalarType;
            var shape = tensor.Shape;
            long bytes = type.ElementSize();
            foreach (var s in shape) bytes = checked(bytes * s);
            entries.Add(new Entry(name, tensor, type, DTypeName(type), shape, bytes));
        }
        // Larger elements first keeps every tensor naturally aligned; names give a deterministic order.
        if (sort) entries.Sort((a, b) =>
        {
            var c = b.Type.ElementSize().CompareTo(a.Type.ElementSize());
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });
        return entries;
    }

    private static void Write(Stream stream, List<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is not null && metadata.Count > 0)
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var e in entries)
            {
                w.WriteStartObject(e.Name);
                w.WriteString("dtype", e.DType);
                w.WriteStartArray("shape");
                foreach (var s in e.Shape) w.WriteNumberValue(s);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + e.ByteLength);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += e.ByteLength;
            }
            w.WriteEndObject();
        }
        var headerLength = (json.WrittenCount + 7) / 8 * 8;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)headerLength);
        stream.Write(prefix);
        stream.Write(json.WrittenSpan);
        for (int i = json.WrittenCount; i < headerLength; i++) stream.WriteByte((byte)' ');
        foreach (var e in entries)
        {
            if (e.ByteLength == 0) continue;
            if (e.ByteLength > Array.MaxLength)
                throw new NotSupportedException($"The tensor '{e.Name}' holds {e.ByteLength} bytes; tensors larger than {Array.MaxLength} bytes cannot be written.");
            stream.Write(GetBytes(e));
        }
    }

    internal static byte[] GetBytes(Entry e)
    {
        var bytes = new byte[e.ByteLength];
        using var noGrad = Tensors.NoGrad();
        switch (e.Type)
        {
            case ScalarType.Float64: e.Tensor.CopyTo(MemoryMarshal.Cast<byte, double>(bytes.AsSpan())); break;
            case ScalarType.Float32: e.Tensor.CopyTo(MemoryMarshal.Cast<byte, float>(bytes.AsSpan())); break;
            case ScalarType.Float16: e.Tensor.CopyTo(MemoryMarshal.Cast<byte, Half>(bytes.AsSpan())); break;
            case ScalarType.Int64: e.Tensor.CopyTo(MemoryMarshal.Cast<byte, long>(bytes.AsSpan())); break;
            case ScalarType.Int32: e.Tensor.CopyTo(MemoryMarshal.Cast<byte, int>(bytes.AsSpan())); break;
            case ScalarType.Int16: e.Tensor.CopyTo(MemoryMarshal.Cast<byte, short>(bytes.AsSpan())); break;
            case ScalarType.Int8: e.Tensor.CopyTo(MemoryMarshal.Cast<byte, sbyte>(bytes.AsSpan())); break;
            case ScalarType.Byte: e.Tensor.CopyTo<byte>(bytes); break;
            case ScalarType.Bool: e.Tensor.CopyTo(MemoryMarshal.Cast<byte, bool>(bytes.AsSpan())); break;
            case ScalarType.BFloat16:
            {
                // bfloat16 → float32 is exact, and a bfloat16 is the upper half of its float32 bit pattern.
                using var wide = e.Tensor.To(ScalarType.Float32, Device.Cpu);
                var floats = wide.ToArray<float>();
                var halves = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan());
                for (int i = 0; i < floats.Length; i++) halves[i] = (ushort)(BitConverter.SingleToUInt32Bits(floats[i]) >> 16);
                break;
            }
            default: throw new NotSupportedException($"The tensor '{e.Name}' has element type {e.Type}, which safetensors writing does not support.");
        }
        return bytes;
    }

    // ---------------------------------------------------------------- reading

    /// <summary>Loads every tensor (on the CPU) and the metadata of the safetensors file at <paramref name="path"/>. The caller disposes the result.</summary>
    /// <exception cref="SafeTensorsFormatException">The file is malformed; the message names the file and the problem.</exception>
    /// <exception cref="NotSupportedException">The file uses a valid safetensors dtype that has no tensor type here (U16, U32, U64, F8_*).</exception>
    public static SafeTensorDictionary Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Load(stream, stream.Length, $"'{path}'");
    }

    /// <summary>Loads every tensor and the metadata from a safetensors buffer. The caller disposes the result.</summary>
    /// <exception cref="SafeTensorsFormatException">The buffer is malformed.</exception>
    public static SafeTensorDictionary Load(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var stream = new MemoryStream(data, writable: false);
        return Load(stream, data.Length, "safetensors buffer");
    }

    /// <summary>
    /// Loads every tensor and the metadata from a stream holding safetensors data from its current position to its end
    /// (a non-seekable stream is read fully first). The stream is not closed. The caller disposes the result.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The data is malformed.</exception>
    public static SafeTensorDictionary Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead) throw new ArgumentException("The stream is not readable.", nameof(stream));
        if (stream.CanSeek) return Load(stream, stream.Length - stream.Position, "safetensors stream");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        return Load(copy, copy.Length, "safetensors stream");
    }

    private sealed record Header(string Name, ScalarType Type, string DType, long[] Shape, long Begin, long End);

    private static SafeTensorDictionary Load(Stream stream, long length, string source)
    {
        RequireLittleEndian();
        var start = stream.Position;
        if (length < 8)
            throw Error(source, $"it is {length} bytes long, too short for the 8-byte header length that starts a safetensors file (truncated file?).");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        var n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > (ulong)(length - 8))
            throw Error(source, $"the header length is {n} bytes but only {length - 8} bytes follow the length field (truncated file, or not a safetensors file).");
        if (n > MaxHeaderLength) throw Error(source, $"the header length {n} exceeds the limit of {MaxHeaderLength} bytes.");
        var headerBytes = new byte[(int)n];
        stream.ReadExactly(headerBytes);
        var bufferLength = length - 8 - (long)n;
        var (headers, metadata) = ParseHeader(headerBytes, bufferLength, source);

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            var dataStart = start + 8 + (long)n;
            foreach (var h in headers)
            {
                var size = h.End - h.Begin;
                if (size > Array.MaxLength)
                    throw new NotSupportedException($"{source}: the tensor '{h.Name}' holds {size} bytes; tensors larger than {Array.MaxLength} bytes cannot be loaded.");
                var data = new byte[size];
                stream.Position = dataStart + h.Begin;
                stream.ReadExactly(data);
                tensors.Add(h.Name, DisposeScope.Detach(Create(h.Type, h.Shape, data)));
            }
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return new SafeTensorDictionary(tensors, metadata);
    }

    private static (List<Header> Headers, IReadOnlyDictionary<string, string> Metadata) ParseHeader(byte[] headerBytes, long bufferLength, string source)
    {
        // JsonDocument checks UTF-8 only where a string is read, so a corrupt byte inside a name would surface later as
        // an InvalidOperationException of System.Text.Json.
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes))
            throw Error(source, "the header is not valid UTF-8 (a corrupt file?).");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException($"{source}: the header is not valid JSON ({e.Message}).", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Error(source, $"the header must be a JSON object, not {doc.RootElement.ValueKind}.");
            var headers = new List<Header>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                var name = property.Name;
                if (!names.Add(name)) throw Error(source, $"the header names '{name}' more than once.");
                if (name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw Error(source, $"'{MetadataKey}' must be an object of strings, not {property.Value.ValueKind}.");
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw Error(source, $"the metadata value of '{m.Name}' must be a string, not {m.Value.ValueKind}.");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
                            throw Error(source, $"the metadata names '{m.Name}' more than once.");
                    }
                    continue;
                }
                headers.Add(ParseEntry(name, property.Value, bufferLength, source));
            }
            var byOffset = headers.Where(h => h.End > h.Begin).OrderBy(h => h.Begin).ToList();
            for (int i = 1; i < byOffset.Count; i++)
                if (byOffset[i].Begin < byOffset[i - 1].End)
                    throw Error(source, $"the data of '{byOffset[i - 1].Name}' [{byOffset[i - 1].Begin}, {byOffset[i - 1].End}) and '{byOffset[i].Name}' [{byOffset[i].Begin}, {byOffset[i].End}) overlap.");
            return (headers, metadata);
        }
    }

    private static Header ParseEntry(string name, JsonElement e, long bufferLength, string source)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Error(source, $"the entry of '{name}' must be an object, not {e.ValueKind}.");
        if (!e.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Error(source, $"the entry of '{name}' has no string \"dtype\".");
        var dtype = dtypeElement.GetString()!;
        var type = ParseDType(dtype, name, source);
        if (!e.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Error(source, $"the entry of '{name}' has no \"shape\" array.");
        var shape = new long[shapeElement.GetArrayLength()];
        int d = 0;
        foreach (var s in shapeElement.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var size) || size < 0)
                throw Error(source, $"the shape of '{name}' must hold non-negative integers, found {s.GetRawText()}.");
            shape[d++] = size;
        }
        if (!e.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Error(source, $"the entry of '{name}' has no \"data_offsets\" array of two integers.");
        if (!offsets[0].TryGetInt64Safe(out var begin) || !offsets[1].TryGetInt64Safe(out var end) || begin < 0 || end < begin)
            throw Error(source, $"the data_offsets of '{name}' must be two integers 0 ≤ begin ≤ end, found {offsets.GetRawText()}.");
        if (end > bufferLength)
            throw Error(source, $"the data_offsets [{begin}, {end}] of '{name}' reach beyond the {bufferLength}-byte data buffer (truncated file?).");
        long expected;
        try
        {
            expected = type.ElementSize();
            foreach (var s in shape) expected = checked(expected * s);
        }
        catch (OverflowException)
        {
            throw Error(source, $"the shape [{string.Join(", ", shape)}] of '{name}' is too large.");
        }
        if (end - begin != expected)
            throw Error(source, $"'{name}' has data_offsets [{begin}, {end}] ({end - begin} bytes) but its shape [{string.Join(", ", shape)}] of {dtype} needs {expected} bytes.");
        return new Header(name, type, dtype, shape, begin, end);
    }

    private static bool TryGetInt64Safe(this JsonElement e, out long value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out value);
    }

    internal static Tensor Create(ScalarType type, long[] shape, byte[] data)
    {
        if (type == ScalarType.BFloat16)
        {
            var halves = MemoryMarshal.Cast<byte, ushort>(data.AsSpan());
            var floats = new float[halves.Length];
            for (int i = 0; i < floats.Length; i++) floats[i] = BitConverter.UInt32BitsToSingle((uint)halves[i] << 16);
            using var wide = Tensors.Empty(shape, ScalarType.Float32);
            if (floats.Length > 0) wide.CopyFrom<float>(floats);
            return wide.To(ScalarType.BFloat16);
        }
        var t = Tensors.Empty(shape, type);
        try
        {
            if (data.Length == 0) return t;
            var span = data.AsSpan();
            switch (type)
            {
                case ScalarType.Float64: t.CopyFrom<double>(MemoryMarshal.Cast<byte, double>(span)); break;
                case ScalarType.Float32: t.CopyFrom<float>(MemoryMarshal.Cast<byte, float>(span)); break;
                case ScalarType.Float16: t.CopyFrom<Half>(MemoryMarshal.Cast<byte, Half>(span)); break;
                case ScalarType.Int64: t.CopyFrom<long>(MemoryMarshal.Cast<byte, long>(span)); break;
                case ScalarType.Int32: t.CopyFrom<int>(MemoryMarshal.Cast<byte, int>(span)); break;
                case ScalarType.Int16: t.CopyFrom<short>(MemoryMarshal.Cast<byte, short>(span)); break;
                case ScalarType.Int8: t.CopyFrom<sbyte>(MemoryMarshal.Cast<byte, sbyte>(span)); break;
                case ScalarType.Byte: t.CopyFrom<byte>(span); break;
                case ScalarType.Bool:
                    // Any non-zero byte means true; normalise so that libtorch only sees 0 and 1.
                    for (int i = 0; i < span.Length; i++) span[i] = span[i] != 0 ? (byte)1 : (byte)0;
                    t.CopyFrom<bool>(MemoryMarshal.Cast<byte, bool>(span));
                    break;
                default: throw new NotSupportedException($"Element type {type} cannot be loaded.");
            }
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    private static ScalarType ParseDType(string dtype, string name, string source) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        "U16" or "U32" or "U64" or "F8_E4M3" or "F8_E5M2" or "C64" =>
            throw new NotSupportedException($"{source}: the tensor '{name}' has dtype {dtype}, which is valid safetensors but has no tensor type in MedVision.Torch (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)."),
        _ => throw Error(source, $"the tensor '{name}' has unknown dtype '{dtype}' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)."),
    };

    private static string DTypeName(ScalarType type) => type switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"Element type {type} has no safetensors dtype."),
    };

    private static SafeTensorsFormatException Error(string source, string problem) => new($"{source}: {problem}");

    private static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors I/O is implemented for little-endian machines only.");
    }
}
