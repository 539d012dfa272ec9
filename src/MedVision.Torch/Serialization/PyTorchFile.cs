using System.Globalization;
using System.IO.Compression;
using System.Numerics;
using System.Text;

namespace MedVision.Torch.Serialization;

/// <summary>
/// Reads the tensors of files written by PyTorch's <c>torch.save</c> (<c>.pt</c>, <c>.pth</c>, <c>.ckpt</c>; the zip
/// format of PyTorch 1.6 and later, and the legacy format of earlier versions): a state dict
/// (<c>torch.save(model.state_dict(), "model.pth")</c>), the
/// pretrained-weight files of torchvision, timm or MedicalNet, or a training checkpoint dictionary that holds one
/// (<c>{"epoch": 7, "state_dict": ...}</c>). No Python is needed, and, like <c>torch.load(weights_only=True)</c>, no
/// code from the file is run: the pickle inside is read by a restricted reader that accepts dictionaries, lists,
/// tuples, numbers, strings and dense tensors only, and refuses anything else (a pickled model object) by name.
/// </summary>
/// <remarks>
/// Tensors come back on the CPU, contiguous, with their dtype (float16/32/64, bfloat16, int8/16/32/64, uint8, bool),
/// keyed by their path in the file's dictionaries (<c>layer1.0.conv1.weight</c>; nested dictionaries and lists join
/// with dots). Numbers and strings beside them (a checkpoint's <c>epoch</c>) come back as
/// <see cref="SafeTensorDictionary.Metadata"/> in their invariant text form. Every archive entry read is checked
/// against its CRC-32. TorchScript archives are refused with what to do instead.
/// </remarks>
/// <example><code>
/// // torchvision's ImageNet weights, without Python:
/// using var weights = PyTorchFile.LoadStateDict("resnet18-f37072fd.pth");
/// using var model = ResNet.Builder().WithDepth(18).ForInput(3).WithImageNetStem().WithClasses(1000).Build();
/// model.LoadStateDict(weights);
/// // A checkpoint of a DataParallel model: the state dict under "state_dict", its keys prefixed "module.":
/// using var checkpoint = PyTorchFile.LoadStateDict("checkpoint.pth", entry: "state_dict", removePrefix: "module.");
/// </code></example>
public static class PyTorchFile
{
    /// <summary>
    /// Loads the tensors of the torch.save file at <paramref name="path"/>; the caller disposes the result.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="entry">The key of the dictionary inside the file to read (e.g. <c>"state_dict"</c>,
    /// <c>"model"</c>; nested keys with dots: <c>"model.ema"</c>); null reads the whole file.</param>
    /// <param name="removePrefix">A prefix removed from the keys that start with it (<c>"module."</c>, which
    /// <c>nn.DataParallel</c> and DistributedDataParallel add); null keeps the keys.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="PyTorchFormatException">The file is not a readable torch.save archive; the message says why.</exception>
    /// <exception cref="ArgumentException"><paramref name="entry"/> is not in the file, or removing the prefix makes two keys equal.</exception>
    /// <exception cref="NotSupportedException">A tensor is larger than a .NET array can hold, or the archive is big-endian.</exception>
    public static SafeTensorDictionary LoadStateDict(string path, string? entry = null, string? removePrefix = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"The PyTorch file '{full}' does not exist.", full);
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Load(stream, $"'{full}'", entry, removePrefix);
    }

    /// <summary>
    /// Loads the tensors of torch.save data from <paramref name="stream"/> (a non-seekable stream is read fully
    /// first; the stream is not closed); see <see cref="LoadStateDict(string, string?, string?)"/>.
    /// </summary>
    public static SafeTensorDictionary LoadStateDict(Stream stream, string? entry = null, string? removePrefix = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead) throw new ArgumentException("The stream is not readable.", nameof(stream));
        if (stream.CanSeek) return Load(stream, "PyTorch stream", entry, removePrefix);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        return Load(copy, "PyTorch stream", entry, removePrefix);
    }

    /// <summary>
    /// Whether <paramref name="path"/> is a torch.save archive (a zip file with <c>&lt;archive&gt;/data.pkl</c>) and
    /// not a TorchScript one; reads the zip directory only. False for a missing or unreadable file.
    /// </summary>
    public static bool IsTorchSaveFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Span<byte> head = stackalloc byte[4];
            if (stream.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4 || !(head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4)) return false;
            stream.Position = 0;
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
            var pickle = FindPickle(zip);
            return pickle is not null && !IsTorchScript(zip, pickle.FullName[..^"data.pkl".Length]);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static ZipArchiveEntry? FindPickle(ZipArchive zip) =>
        zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.IndexOf('/') == e.FullName.Length - "/data.pkl".Length);

    private static bool IsTorchScript(ZipArchive zip, string root) =>
        zip.GetEntry(root + "constants.pkl") is not null || zip.Entries.Any(e => e.FullName.StartsWith(root + "code/", StringComparison.Ordinal));

    /// <summary>
    /// Writes <paramref name="tensors"/> as PyTorch's <c>torch.save(state_dict)</c> does (an OrderedDict of tensors in
    /// the zip format, in the dictionary's order), so that Python loads it with <c>torch.load(path)</c> — also with
    /// <c>weights_only=True</c> — and <c>model.load_state_dict(...)</c>, no extra package needed. Tensors on any device
    /// are written from CPU copies, contiguous, without gradients. The file is written atomically: a temporary file in
    /// the same folder replaces the destination only when complete.
    /// </summary>
    /// <example><code>PyTorchFile.SaveStateDict("model.pth", model.StateDict());   // Python: model.load_state_dict(torch.load("model.pth"))</code></example>
    /// <exception cref="ArgumentException">A key is empty, or a tensor is null or disposed.</exception>
    /// <exception cref="DirectoryNotFoundException">The destination folder does not exist.</exception>
    public static void SaveStateDict(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Cannot write '{full}': the folder '{folder}' does not exist.");
        var entries = SafeTensors.Prepare(tensors, null, sort: false);
        AtomicFile.Write(full, stream => Write(stream, entries));
    }

    /// <summary>Writes <paramref name="tensors"/> in torch.save's format to <paramref name="stream"/> (left open); see <see cref="SaveStateDict(string, IReadOnlyDictionary{string, Tensor})"/>.</summary>
    public static void SaveStateDict(Stream stream, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("The stream is not writable.", nameof(stream));
        Write(stream, SafeTensors.Prepare(tensors, null, sort: false));
    }

    private static void Write(Stream stream, List<SafeTensors.Entry> entries)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("PyTorch files are written on little-endian machines only.");
        const string Root = "archive/";
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true, Encoding.UTF8);
        void Add(string name, ReadOnlySpan<byte> content)
        {
            using var entry = zip.CreateEntry(Root + name, CompressionLevel.NoCompression).Open();
            entry.Write(content);
        }
        // The pickle: OrderedDict([(key, _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())), ...]).
        var pickle = new PickleWriter();
        pickle.Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark();
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            long count = e.Shape.Aggregate(1L, (a, b) => a * b);
            var strides = new long[e.Shape.Length];
            long stride = 1;
            for (int d = e.Shape.Length - 1; d >= 0; d--) { strides[d] = stride; stride *= Math.Max(1, e.Shape[d]); }
            pickle.String(e.Name).Global("torch._utils", "_rebuild_tensor_v2").Mark()
                .Mark().String("storage").Global("torch", StorageName(e.Type)).String(i.ToString(CultureInfo.InvariantCulture)).String("cpu").Int(count).Tuple()
                .PersistentId().Int(0).Ints(e.Shape).Ints(strides).Bool(false).Global("collections", "OrderedDict").EmptyTuple().Reduce()
                .Tuple().Reduce();
        }
        pickle.SetItems().Stop();
        Add("data.pkl", pickle.ToArray());
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.ByteLength > Array.MaxLength)
                throw new NotSupportedException($"The tensor '{e.Name}' holds {e.ByteLength} bytes; tensors larger than {Array.MaxLength} bytes cannot be written.");
            Add($"data/{i}", e.ByteLength == 0 ? ReadOnlySpan<byte>.Empty : SafeTensors.GetBytes(e));
        }
        Add("version", "3\n"u8);
        Add("byteorder", "little"u8);
    }

    private static string StorageName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "FloatStorage",
        ScalarType.Float64 => "DoubleStorage",
        ScalarType.Float16 => "HalfStorage",
        ScalarType.BFloat16 => "BFloat16Storage",
        ScalarType.Int64 => "LongStorage",
        ScalarType.Int32 => "IntStorage",
        ScalarType.Int16 => "ShortStorage",
        ScalarType.Int8 => "CharStorage",
        ScalarType.Byte => "ByteStorage",
        ScalarType.Bool => "BoolStorage",
        _ => throw new NotSupportedException($"{type} tensors have no torch storage type."),
    };

    private static SafeTensorDictionary Load(Stream stream, string source, string? entry, string? removePrefix)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("PyTorch files are read on little-endian machines only.");
        if (removePrefix is { Length: 0 }) throw new ArgumentException("The prefix to remove is empty; pass null to keep the keys.", nameof(removePrefix));
        long start = stream.Position;
        Span<byte> head = stackalloc byte[4];
        int n = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        stream.Position = start;
        if (n >= 2 && head[0] == 0x80 && head[1] <= 5) return LoadLegacy(stream, source, entry, removePrefix);
        if (n < 4 || !(head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4))
            throw new PyTorchFormatException($"{source}: it is neither a torch.save archive (a zip file starting with 'PK') nor a file in torch.save's legacy format (a pickle); the file starts with bytes {Convert.ToHexString(head[..n])}.");

        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            try
            {
                _ = zip.Entries; // the central directory is read here
            }
            catch
            {
                zip.Dispose();
                throw;
            }
        }
        catch (InvalidDataException e)
        {
            throw new PyTorchFormatException($"{source}: it starts like a zip file but its directory cannot be read (truncated or damaged?): {e.Message}", e);
        }
        using (zip)
        {
            var pickle = FindPickle(zip)
                ?? throw new PyTorchFormatException($"{source}: it is a zip file but not a torch.save archive (it has no <archive>/data.pkl).");
            var root = pickle.FullName[..^"data.pkl".Length]; // "archive/" or the file's stem
            if (IsTorchScript(zip, root))
                throw new PyTorchFormatException($"{source}: it is a TorchScript archive (torch.jit.save), not a torch.save file: load it with ScriptModule.Load (or as a model file with ModelFile.Load).");
            if (zip.GetEntry(root + "byteorder") is { } byteOrder)
            {
                var order = Encoding.ASCII.GetString(ReadEntry(byteOrder, source)).Trim();
                if (order != "little") throw new NotSupportedException($"{source}: the archive's tensors are stored {order}-endian; only little-endian archives are read.");
            }

            var storages = new Dictionary<string, PickledStorage>(StringComparer.Ordinal);
            var value = PickleReader.Read(ReadEntry(pickle, source), source, id => RootStorage(id, storages, source, out _));
            return Materialize(value, entry, removePrefix, source, storage => ReadStorage(zip, root, storage, source));
        }
    }

    /// <summary>
    /// Files in torch.save's legacy format (PyTorch before 1.6, or <c>_use_new_zipfile_serialization=False</c>; e.g.
    /// MedicalNet's weights): four pickles (magic number, protocol version, system information, the object) and the
    /// list of storage keys, then each storage as its element count (int64) and its bytes.
    /// </summary>
    private static SafeTensorDictionary LoadLegacy(Stream stream, string source, string? entry, string? removePrefix)
    {
        long length = stream.Length - stream.Position;
        if (length > Array.MaxLength) throw new NotSupportedException($"{source}: legacy-format files larger than {Array.MaxLength} bytes cannot be read.");
        var data = new byte[length];
        stream.ReadExactly(data);
        int position = 0;
        object NoPersistent(object? id) => throw new PyTorchFormatException($"{source}: the legacy header refers to a persistent object (corrupt data).");
        var magic = PickleReader.Read(data, ref position, source, NoPersistent);
        if (!(magic is BigInteger big && big == LegacyMagic))
            throw new PyTorchFormatException($"{source}: it is a pickle but not a torch.save file (no torch.save magic number){(magic is PickledDict or List<object?> ? "; plain pickles are not read" : "")}.");
        if (PickleReader.Read(data, ref position, source, NoPersistent) is not long protocol || protocol != 1001)
            throw new PyTorchFormatException($"{source}: its legacy protocol version is not 1001 (corrupt, or from an unknown PyTorch).");
        if (PickleReader.Read(data, ref position, source, NoPersistent) is PickledDict info)
            foreach (var (key, item) in info.Items)
                if (key as string == "little_endian" && item is false)
                    throw new NotSupportedException($"{source}: the file was written on a big-endian machine; only little-endian files are read.");

        // Storages: (storage, type, key, location, count[, view]) persistent ids; a view (PyTorch < 0.4) is a window of its root storage.
        var storages = new Dictionary<string, PickledStorage>(StringComparer.Ordinal);
        var views = new Dictionary<PickledStorage, (PickledStorage Root, long Offset)>(ReferenceEqualityComparer.Instance);
        object PersistentLoad(object? id)
        {
            var root = RootStorage(id, storages, source, out var pid);
            if (pid.Length >= 6 && pid[5] is object?[] { Length: 3 } view && view[0] is string viewKey && view[1] is long offset && view[2] is long viewCount)
            {
                if (offset < 0 || viewCount < 0 || offset + viewCount > root.Count)
                    throw new PyTorchFormatException($"{source}: a view of storage '{root.Key}' reaches past its {root.Count} elements (corrupt data).");
                var window = new PickledStorage(viewKey, root.Type, viewCount);
                views[window] = (root, offset);
                return window;
            }
            return root;
        }
        var value = PickleReader.Read(data, ref position, source, PersistentLoad);
        if (PickleReader.Read(data, ref position, source, NoPersistent) is not List<object?> keys || keys.Any(k => k is not string))
            throw new PyTorchFormatException($"{source}: the list of storage keys after the object is missing (truncated or corrupt?).");

        // The storages follow in the order of that list: an int64 element count, then the elements.
        var bytes = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal); // windows of the file's bytes, not copies
        foreach (string key in keys.Cast<string>())
        {
            if (position > data.Length - 8) throw new PyTorchFormatException($"{source}: the file ends before storage '{key}' (truncated?).");
            long count = BitConverter.ToInt64(data, position);
            position += 8;
            if (!storages.TryGetValue(key, out var storage))
                throw new PyTorchFormatException($"{source}: storage '{key}' is stored but no tensor uses it (corrupt data).");
            if (count != storage.Count)
                throw new PyTorchFormatException($"{source}: storage '{key}' is stored with {count} elements, its tensors expect {storage.Count} (corrupt data).");
            long size = checked(count * storage.Type.ElementSize());
            if (size > data.Length - position) throw new PyTorchFormatException($"{source}: the file ends inside storage '{key}' ({size} bytes; truncated?).");
            bytes[key] = data.AsMemory(position, (int)size);
            position += (int)size;
        }
        return Materialize(value, entry, removePrefix, source, storage =>
        {
            if (views.TryGetValue(storage, out var view))
            {
                var rootBytes = bytes.TryGetValue(view.Root.Key, out var b) ? b : throw new PyTorchFormatException($"{source}: storage '{view.Root.Key}' is not in the file (truncated?).");
                int size = view.Root.Type.ElementSize();
                return rootBytes.Slice(checked((int)(view.Offset * size)), checked((int)(storage.Count * size)));
            }
            return bytes.TryGetValue(storage.Key, out var own) ? own : throw new PyTorchFormatException($"{source}: storage '{storage.Key}' is not in the file (truncated?).");
        });
    }

    /// <summary>0x1950a86a20f9469cfc6c, the first pickle of a legacy torch.save file.</summary>
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("1950a86a20f9469cfc6c", NumberStyles.HexNumber);

    /// <summary>Selects <paramref name="entry"/>, flattens it, removes the prefix and reads every tensor's data.</summary>
    private static SafeTensorDictionary Materialize(object? value, string? entry, string? removePrefix, string source, Func<PickledStorage, ReadOnlyMemory<byte>> storageBytes)
    {
        if (entry is not null) value = Select(value, entry, source);

        var found = new List<(string Key, PickledTensor Tensor)>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        Flatten(value, "", found, metadata, source, new FlattenGuard());
        if (value is PickledTensor && found.Count == 1) found[0] = (entry ?? "tensor", found[0].Tensor);
        // Different paths that join to the same dotted key ({"a.b": x, "a": {"b": y}}) are ambiguous.
        if (found.GroupBy(f => f.Key).FirstOrDefault(g => g.Count() > 1) is { } collision)
            throw new PyTorchFormatException($"{source}: two tensors of the file take the key '{collision.Key}' when nested keys are joined with dots; read one of them with entry.");
        if (removePrefix is not null)
        {
            string Strip(string key) => key.StartsWith(removePrefix, StringComparison.Ordinal) ? key[removePrefix.Length..] : key;
            found = found.Select(f => (Strip(f.Key), f.Tensor)).ToList();
            metadata = metadata.ToDictionary(kv => Strip(kv.Key), kv => kv.Value, StringComparer.Ordinal);
            if (found.GroupBy(f => f.Key).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
                throw new ArgumentException($"{source}: the key '{duplicate.Key}' occurs twice once the prefix '{removePrefix}' is removed.", nameof(removePrefix));
        }

        var data = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (key, tensor) in found)
            {
                if (!data.TryGetValue(tensor.Storage.Key, out var bytes))
                    data[tensor.Storage.Key] = bytes = storageBytes(tensor.Storage);
                tensors.Add(key, DisposeScope.Detach(SafeTensors.Create(tensor.Storage.Type, tensor.Shape, Gather(tensor, bytes, key, source))));
            }
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return new SafeTensorDictionary(tensors, metadata);
    }

    /// <summary>
    /// The storage a persistent id <c>('storage', type, key, location, count[, view])</c> names — one object per key,
    /// so that views of one storage share it — as both formats of torch.save write them.
    /// </summary>
    private static PickledStorage RootStorage(object? id, Dictionary<string, PickledStorage> storages, string source, out object?[] pid)
    {
        if (id is not object?[] { Length: >= 5 } tuple || tuple[0] as string != "storage" || tuple[2] is not string key || tuple[4] is not long count)
            throw new PyTorchFormatException($"{source}: the pickle refers to a persistent object other than a tensor storage (corrupt data, or not a torch.save file).");
        if (tuple[1] is not PickledGlobal storageType) throw new PyTorchFormatException($"{source}: a storage's type is a {PickleReader.Describe(tuple[1])} (corrupt data).");
        var type = StorageType(storageType)
            ?? throw new NotSupportedException($"{source}: it holds a {storageType} (complex or quantized values?), which has no tensor type here.");
        if (count < 0) throw new PyTorchFormatException($"{source}: storage '{key}' has a negative size (corrupt data).");
        pid = tuple;
        if (!storages.TryGetValue(key, out var storage)) storages[key] = storage = new PickledStorage(key, type, count);
        return storage;
    }

    private static ScalarType? StorageType(PickledGlobal type) => type.Module != "torch" ? null : type.Name switch
    {
        "FloatStorage" => ScalarType.Float32,
        "DoubleStorage" => ScalarType.Float64,
        "HalfStorage" => ScalarType.Float16,
        "BFloat16Storage" => ScalarType.BFloat16,
        "LongStorage" => ScalarType.Int64,
        "IntStorage" => ScalarType.Int32,
        "ShortStorage" => ScalarType.Int16,
        "CharStorage" => ScalarType.Int8,
        "ByteStorage" => ScalarType.Byte,
        "BoolStorage" => ScalarType.Bool,
        _ => null,
    };

    private static object? Select(object? value, string entry, string source)
    {
        var remaining = entry;
        while (true)
        {
            if (value is not PickledDict dict)
                throw new ArgumentException($"{source}: the entry '{entry}' is not in the file: '{entry[..^remaining.Length].TrimEnd('.')}' is a {PickleReader.Describe(value)}, not a dict.", nameof(entry));
            // String keys, and integer ones (an optimizer's state is keyed by parameter index) in their decimal form.
            var keys = dict.Items.Where(kv => kv.Key is string or long)
                .Select(kv => (kv.Key is long l ? l.ToString(CultureInfo.InvariantCulture) : (string)kv.Key!, kv.Value)).ToList();
            var exact = keys.FirstOrDefault(kv => kv.Item1 == remaining);
            if (exact.Item1 is not null) return exact.Value;
            var step = keys.Where(kv => remaining.StartsWith(kv.Item1 + ".", StringComparison.Ordinal)).OrderByDescending(kv => kv.Item1.Length).FirstOrDefault();
            if (step.Item1 is null)
            {
                var available = string.Join(", ", keys.Take(20).Select(k => $"'{k.Item1}'")) + (keys.Count > 20 ? ", …" : "");
                throw new ArgumentException($"{source}: the entry '{entry}' is not in the file; {(entry == remaining ? "its top level" : $"'{entry[..^remaining.Length].TrimEnd('.')}'")} has the keys {available}.", nameof(entry));
            }
            value = step.Value;
            remaining = remaining[(step.Item1.Length + 1)..];
        }
    }

    /// <summary>
    /// What keeps a crafted pickle from exhausting the stack or the processor while it is flattened: a container that
    /// contains itself (possible through the pickle's memo), nesting deeper than any checkpoint, or containers shared so
    /// often that their paths multiply (a "billion laughs" of lists).
    /// </summary>
    private sealed class FlattenGuard
    {
        private const int MaxDepth = 500;
        private const int MaxContainers = 1_000_000;
        private readonly HashSet<object> _path = new(ReferenceEqualityComparer.Instance);
        private int _containers;

        public void Enter(object container, string prefix, string source)
        {
            if (!_path.Add(container))
                throw new PyTorchFormatException($"{source}: '{prefix}' contains itself (a self-referencing pickle is not data).");
            if (_path.Count > MaxDepth)
                throw new PyTorchFormatException($"{source}: its containers nest more than {MaxDepth} deep.");
            if (++_containers > MaxContainers)
                throw new PyTorchFormatException($"{source}: it holds more than {MaxContainers:N0} dictionaries, lists and tuples once shared ones are counted at each place they occur.");
        }

        public void Leave(object container) => _path.Remove(container);
    }

    private static void Flatten(object? value, string prefix, List<(string, PickledTensor)> tensors, Dictionary<string, string> metadata, string source, FlattenGuard guard)
    {
        string Join(string key) => prefix.Length == 0 ? key : prefix + "." + key;
        if (value is PickledDict or List<object?> or object?[]) guard.Enter(value, prefix, source);
        switch (value)
        {
            case PickledTensor tensor:
                tensors.Add((prefix, tensor));
                break;
            case PickledDict dict:
                // As in Python, a key set twice in one dict keeps its last value.
                var last = new Dictionary<object, int>();
                for (int i = 0; i < dict.Items.Count; i++) if (dict.Items[i].Key is { } k) last[k] = i;
                foreach (var (key, item) in dict.Items.Where((kv, i) => kv.Key is null || last[kv.Key] == i))
                {
                    var name = key switch
                    {
                        string s => s,
                        long l => l.ToString(CultureInfo.InvariantCulture),
                        _ => throw new PyTorchFormatException($"{source}: a dictionary key under '{prefix}' is a {PickleReader.Describe(key)}; only string and integer keys are read."),
                    };
                    Flatten(item, Join(name), tensors, metadata, source, guard);
                }
                break;
            case List<object?> list:
                for (int i = 0; i < list.Count; i++) Flatten(list[i], Join(i.ToString(CultureInfo.InvariantCulture)), tensors, metadata, source, guard);
                break;
            case object?[] tuple:
                for (int i = 0; i < tuple.Length; i++) Flatten(tuple[i], Join(i.ToString(CultureInfo.InvariantCulture)), tensors, metadata, source, guard);
                break;
            case string text: metadata[prefix] = text; break;
            case long number: metadata[prefix] = number.ToString(CultureInfo.InvariantCulture); break;
            case BigInteger big: metadata[prefix] = big.ToString(CultureInfo.InvariantCulture); break;
            case double real: metadata[prefix] = real.ToString("R", CultureInfo.InvariantCulture); break;
            case bool flag: metadata[prefix] = flag ? "True" : "False"; break;
            case null: case byte[]: break; // None and bytes carry no tensor
            case PickledGlobal global: throw new PyTorchFormatException($"{source}: {PickleReader.Refusal(global)}");
            default: throw new PyTorchFormatException($"{source}: '{prefix}' holds a {PickleReader.Describe(value)}, which is not read.");
        }
        if (value is PickledDict or List<object?> or object?[]) guard.Leave(value);
    }

    private static byte[] ReadStorage(ZipArchive zip, string root, PickledStorage storage, string source)
    {
        var entry = zip.GetEntry($"{root}data/{storage.Key}")
            ?? throw new PyTorchFormatException($"{source}: the archive has no data for storage '{storage.Key}' ({root}data/{storage.Key}; truncated or damaged?).");
        long needed = checked(storage.Count * storage.Type.ElementSize());
        if (entry.Length < needed)
            throw new PyTorchFormatException($"{source}: storage '{storage.Key}' holds {entry.Length} bytes, less than the {needed} its {storage.Count} {storage.Type} elements need (truncated or damaged?).");
        return ReadEntry(entry, source);
    }

    // Reads an entry whole and checks it against the archive's CRC-32 and length.
    private static byte[] ReadEntry(ZipArchiveEntry entry, string source)
    {
        if (entry.Length > Array.MaxLength)
            throw new NotSupportedException($"{source}: the entry '{entry.FullName}' holds {entry.Length} bytes; entries larger than {Array.MaxLength} bytes cannot be read.");
        var bytes = new byte[entry.Length];
        try
        {
            using var stream = entry.Open();
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new PyTorchFormatException($"{source}: the entry '{entry.FullName}' cannot be read (truncated or damaged?): {e.Message}", e);
        }
        uint crc = System.IO.Hashing.Crc32.HashToUInt32(bytes);
        if (crc != entry.Crc32)
            throw new PyTorchFormatException($"{source}: it is damaged: the entry '{entry.FullName}' has CRC-32 {crc:x8}, the archive records {entry.Crc32:x8}.");
        return bytes;
    }

    // The bytes of a strided view, contiguous (the storage's own array when the view is all of it).
    private static byte[] Gather(PickledTensor tensor, ReadOnlyMemory<byte> storage, string key, string source)
    {
        int size = tensor.Storage.Type.ElementSize();
        long count = tensor.Shape.Aggregate(1L, (a, b) => checked(a * b));
        long total = checked(count * size);
        if (total > Array.MaxLength)
            throw new NotSupportedException($"{source}: the tensor '{key}' holds {total} bytes; tensors larger than {Array.MaxLength} bytes cannot be loaded.");
        if (count == 0) return Array.Empty<byte>();
        int rank = tensor.Shape.Length;
        bool contiguous = true;
        long expected = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            if (tensor.Shape[d] != 1 && tensor.Strides[d] != expected) contiguous = false;
            expected *= tensor.Shape[d];
        }
        var bytes = storage.Span;
        if (contiguous)
        {
            var window = storage.Slice(checked((int)(tensor.Offset * size)), (int)total);
            return System.Runtime.InteropServices.MemoryMarshal.TryGetArray(window, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
                ? segment.Array
                : window.ToArray();
        }
        var result = new byte[total];
        var index = new long[rank];
        long at = tensor.Offset;
        for (long i = 0; i < count; i++)
        {
            bytes.Slice(checked((int)(at * size)), size).CopyTo(result.AsSpan(checked((int)(i * size)), size));
            for (int d = rank - 1; d >= 0; d--)
            {
                at += tensor.Strides[d];
                if (++index[d] < tensor.Shape[d]) break;
                at -= tensor.Strides[d] * tensor.Shape[d];
                index[d] = 0;
            }
        }
        return result;
    }
}
