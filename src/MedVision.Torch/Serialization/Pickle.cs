using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace MedVision.Torch.Serialization;

/// <summary>A Python dict (or OrderedDict) read from a pickle: its items in order.</summary>
internal sealed class PickledDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = new();
}

/// <summary>A class or function a pickle names (GLOBAL): only the ones <see cref="PickleReader"/> knows are ever called.</summary>
internal sealed record PickledGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A storage of a torch.save archive: the key of its data file, its element type and its element count.</summary>
internal sealed record PickledStorage(string Key, ScalarType Type, long Count);

/// <summary>A tensor of a torch.save archive, not yet read: a strided view of a storage.</summary>
internal sealed record PickledTensor(PickledStorage Storage, long Offset, long[] Shape, long[] Strides);

/// <summary>
/// A restricted pickle reader for what torch.save writes (protocols 2 to 5): dictionaries, lists, tuples, numbers,
/// strings and tensors. Like <c>torch.load(weights_only=True)</c> it calls no code: the only globals it accepts are
/// OrderedDict, PyTorch's tensor and parameter rebuild functions, the storage types and <c>_codecs.encode</c>; any other
/// (a pickled model object, a NumPy array, a custom class) is refused by name.
/// </summary>
internal sealed class PickleReader
{
    private static readonly object Mark = new();
    private readonly byte[] _data;
    private readonly string _source;
    private readonly Func<object?, object> _persistentLoad;
    private readonly List<object?> _stack = new();
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();
    private int _position;

    private PickleReader(byte[] data, int start, string source, Func<object?, object> persistentLoad)
    {
        _data = data;
        _position = start;
        _source = source;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Reads one pickled value; <paramref name="persistentLoad"/> resolves persistent ids (torch.save's storages).</summary>
    /// <exception cref="PyTorchFormatException">The pickle is malformed or names something other than data.</exception>
    public static object? Read(byte[] data, string source, Func<object?, object> persistentLoad)
    {
        int position = 0;
        return Read(data, ref position, source, persistentLoad);
    }

    /// <summary>Reads the pickle that starts at <paramref name="position"/> and moves it past the pickle's STOP (files of several pickles).</summary>
    public static object? Read(byte[] data, ref int position, string source, Func<object?, object> persistentLoad)
    {
        var reader = new PickleReader(data, position, source, persistentLoad);
        var value = reader.Run();
        position = reader._position;
        return value;
    }

    private PyTorchFormatException Error(string problem) => new($"{_source}: {problem}");

    private object? Run()
    {
        while (true)
        {
            if (_position >= _data.Length) throw Error("the pickle ends without its STOP opcode (truncated?).");
            byte opcode = _data[_position++];
            switch (opcode)
            {
                case 0x80: ReadBytes(1); break; // PROTO
                case 0x95: ReadBytes(8); break; // FRAME: a length hint
                case (byte)'.': // STOP
                    if (_stack.Count != 1 || _marks.Count != 0) throw Error("the pickle's stack is not a single value at its end.");
                    return _stack[0];
                case (byte)'(': _marks.Push(_stack.Count); _stack.Add(Mark); break; // MARK
                case (byte)'0': Pop(); break; // POP
                case (byte)'1': PopToMark(); break; // POP_MARK
                case (byte)'2': Push(Peek()); break; // DUP
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break; // BININT
                case (byte)'K': Push((long)ReadBytes(1)[0]); break; // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break; // BININT2
                case 0x8a: Push(ReadLong(ReadBytes(1)[0])); break; // LONG1
                case 0x8b: Push(ReadLong(ReadLength(4))); break; // LONG4
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break; // BINFLOAT
                case (byte)'X': Push(ReadString(ReadLength(4))); break; // BINUNICODE
                case 0x8c: Push(ReadString(ReadBytes(1)[0])); break; // SHORT_BINUNICODE
                case 0x8d: Push(ReadString(ReadLength(8))); break; // BINUNICODE8
                case (byte)'C': Push(ReadBytes(ReadBytes(1)[0]).ToArray()); break; // SHORT_BINBYTES
                case (byte)'B': Push(ReadBytes(ReadLength(4)).ToArray()); break; // BINBYTES
                case 0x8e: Push(ReadBytes(ReadLength(8)).ToArray()); break; // BINBYTES8
                case (byte)'}': Push(new PickledDict()); break; // EMPTY_DICT
                case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
                case (byte)')': Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
                case 0x8f: Push(new List<object?>()); break; // EMPTY_SET: read as a list
                case (byte)'d': // DICT
                {
                    var items = PopToMark();
                    var dict = new PickledDict();
                    AddPairs(dict, items);
                    Push(dict);
                    break;
                }
                case (byte)'l': Push(PopToMark()); break; // LIST
                case (byte)'t': Push(PopToMark().ToArray()); break; // TUPLE
                case 0x85: Push(new[] { Pop() }); break; // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                case (byte)'s': { var v = Pop(); var k = Pop(); AsDict(Peek()).Items.Add(new(k, v)); break; } // SETITEM
                case (byte)'u': { var items = PopToMark(); AddPairs(AsDict(Peek()), items); break; } // SETITEMS
                case (byte)'a': { var v = Pop(); AsList(Peek()).Add(v); break; } // APPEND
                case (byte)'e': { var items = PopToMark(); AsList(Peek()).AddRange(items); break; } // APPENDS
                case 0x90: { var items = PopToMark(); AsList(Peek()).AddRange(items); break; } // ADDITEMS (sets)
                case (byte)'q': _memo[ReadBytes(1)[0]] = Peek(); break; // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case (byte)'h': Push(Memo(ReadBytes(1)[0])); break; // BINGET
                case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break; // LONG_BINGET
                case (byte)'c': // GLOBAL
                    Push(new PickledGlobal(ReadLine(), ReadLine()));
                    break;
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop() as string ?? throw Error("STACK_GLOBAL without a name.");
                    var module = Pop() as string ?? throw Error("STACK_GLOBAL without a module.");
                    Push(new PickledGlobal(module, name));
                    break;
                }
                case (byte)'R': { var args = AsTuple(Pop()); Push(Call(Pop(), args)); break; } // REDUCE
                case 0x81: { var args = AsTuple(Pop()); Push(Call(Pop(), args)); break; } // NEWOBJ
                case (byte)'b': Build(Pop(), Peek()); break; // BUILD
                case (byte)'Q': Push(_persistentLoad(Pop())); break; // BINPERSID
                default:
                    throw Error($"it holds pickle opcode 0x{opcode:x2} at byte {_position - 1}, which torch.save does not write for data (a pickled Python object?).");
            }
        }
    }

    private void Push(object? value) => _stack.Add(value);

    private object? Pop()
    {
        if (_stack.Count == 0) throw Error("the pickle pops from an empty stack (corrupt data).");
        var value = _stack[^1];
        if (ReferenceEquals(value, Mark)) throw Error("the pickle uses a MARK as a value (corrupt data).");
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek() => _stack.Count == 0 || ReferenceEquals(_stack[^1], Mark) ? throw Error("the pickle reads an empty stack (corrupt data).") : _stack[^1];

    private List<object?> PopToMark()
    {
        if (_marks.Count == 0) throw Error("the pickle closes a MARK it never opened (corrupt data).");
        int mark = _marks.Pop();
        var items = _stack.GetRange(mark + 1, _stack.Count - mark - 1);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? Memo(long key) => _memo.TryGetValue(key, out var value) ? value : throw Error($"the pickle refers to memo entry {key}, which it never stored (corrupt data).");

    private ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || _position > _data.Length - count) throw Error("the pickle ends in the middle of a value (truncated?).");
        var span = _data.AsSpan(_position, count);
        _position += count;
        return span;
    }

    private int ReadLength(int bytes)
    {
        ulong length = bytes == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)) : BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));
        if (length > (ulong)(_data.Length - _position)) throw Error($"a value of {length} bytes runs past the end of the pickle (truncated?).");
        return (int)length;
    }

    private string ReadString(int length)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(ReadBytes(length));
        }
        catch (DecoderFallbackException)
        {
            throw Error("a string of the pickle is not valid UTF-8 (corrupt data).");
        }
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _position);
        if (end < 0) throw Error("a GLOBAL's name is not terminated (truncated?).");
        var text = Encoding.ASCII.GetString(_data, _position, end - _position);
        _position = end + 1;
        return text;
    }

    private object ReadLong(int length)
    {
        var value = new BigInteger(ReadBytes(length), isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    private PickledDict AsDict(object? value) => value as PickledDict ?? throw Error($"the pickle sets an item on a {Describe(value)}, not a dict (a pickled Python object?).");

    private List<object?> AsList(object? value) => value as List<object?> ?? throw Error($"the pickle appends to a {Describe(value)}, not a list (a pickled Python object?).");

    private object?[] AsTuple(object? value) => value as object?[] ?? throw Error($"the pickle calls a function with a {Describe(value)} instead of an argument tuple (corrupt data).");

    private void AddPairs(PickledDict dict, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Error("a dict of the pickle has a key without a value (corrupt data).");
        for (int i = 0; i < items.Count; i += 2) dict.Items.Add(new(items[i], items[i + 1]));
    }

    private object Call(object? callable, object?[] args)
    {
        if (callable is not PickledGlobal global)
            throw Error($"the pickle calls a {Describe(callable)} (corrupt data).");
        switch (global.ToString())
        {
            case "collections.OrderedDict":
            case "builtins.dict":
            {
                var dict = new PickledDict();
                if (args.Length == 1 && args[0] is List<object?> pairs)
                    foreach (var pair in pairs)
                        if (pair is object?[] { Length: 2 } kv) dict.Items.Add(new(kv[0], kv[1]));
                        else throw Error("an OrderedDict of the pickle is built from something other than pairs.");
                return dict;
            }
            case "torch._utils._rebuild_tensor":
            case "torch._utils._rebuild_tensor_v2":
                if (args.Length < 4) throw Error($"{global} is called with {args.Length} arguments, not the storage, offset, size and stride.");
                return RebuildTensor(args[0], args[1], args[2], args[3]);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                if (args.Length < 1 || args[0] is not PickledTensor data) throw Error($"{global} is called without the tensor it wraps.");
                return data;
            case "_codecs.encode":
                if (args.Length >= 1 && args[0] is string text) return Encoding.Latin1.GetBytes(text);
                throw Error("_codecs.encode is called without a string.");
            case "torch.device":
                return string.Join(":", args.Select(a => Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture)));
            default:
                throw Error(Refusal(global));
        }
    }

    /// <summary>Why <paramref name="global"/> is not read: a tensor kind this reader does not build, or not data at all.</summary>
    internal static string Refusal(PickledGlobal global) => global.Module switch
    {
        "torch._utils" => $"it holds a tensor made by {global} (a quantized, sparse or otherwise special tensor), which is not read; save dense tensors.",
        "numpy" or "numpy.core.multiarray" or "numpy.core.multiarray._reconstruct" => $"it holds a NumPy value ({global}); only tensors, numbers, strings, lists, tuples and dicts are read (as torch.load(weights_only=True) reads them).",
        _ => $"it holds a pickled Python object of type {global} (e.g. torch.save(model) instead of torch.save(model.state_dict())): " +
             "only tensors, numbers, strings, lists, tuples and dicts are read, as torch.load(weights_only=True) reads them; save the model's state_dict().",
    };

    private object RebuildTensor(object? storage, object? offset, object? size, object? stride)
    {
        if (storage is not PickledStorage s) throw Error($"a tensor is rebuilt from a {Describe(storage)} instead of a storage (corrupt data).");
        long[] Longs(object? value, string what) => value is object?[] items && items.All(i => i is long)
            ? items.Select(i => (long)i!).ToArray()
            : throw Error($"a tensor's {what} is a {Describe(value)}, not a tuple of integers (corrupt data).");
        var shape = Longs(size, "size");
        var strides = Longs(stride, "stride");
        if (offset is not long start) throw Error("a tensor's storage offset is not an integer (corrupt data).");
        if (shape.Length != strides.Length) throw Error($"a tensor has {shape.Length} sizes but {strides.Length} strides (corrupt data).");
        if (start < 0 || shape.Any(d => d < 0) || strides.Any(d => d < 0))
            throw Error($"a tensor has a negative offset, size or stride ([{string.Join(", ", shape)}], stride [{string.Join(", ", strides)}], offset {start}).");
        if (shape.All(d => d > 0))
        {
            // The last element the view reaches must lie inside the storage.
            BigInteger last = start;
            for (int i = 0; i < shape.Length; i++) last += (BigInteger)(shape[i] - 1) * strides[i];
            if (last >= s.Count)
                throw Error($"a tensor of shape [{string.Join(", ", shape)}] (stride [{string.Join(", ", strides)}], offset {start}) reaches element {last} of storage '{s.Key}', which holds {s.Count} (corrupt data).");
        }
        return new PickledTensor(s, start, shape, strides);
    }

    private void Build(object? state, object? target)
    {
        switch (target)
        {
            case PickledDict: // OrderedDict's attributes (a state dict's _metadata: versions of its modules)
            case PickledTensor: // a Parameter's or tensor's Python attributes
                return;
            default:
                throw Error($"the pickle sets the state of a {Describe(target)} (a pickled Python object?).");
        }
    }

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        PickledDict => "dict",
        List<object?> => "list",
        object?[] => "tuple",
        string => "str",
        long or BigInteger => "int",
        double => "float",
        bool => "bool",
        byte[] => "bytes",
        PickledGlobal g => g.ToString(),
        PickledStorage => "storage",
        PickledTensor => "tensor",
        _ => value.GetType().Name,
    };
}

/// <summary>Writes the protocol-2 pickle opcodes torch.save uses for a state dict (no memo: every value is written once).</summary>
internal sealed class PickleWriter
{
    private readonly MemoryStream _buffer = new();

    public PickleWriter() => _buffer.Write(stackalloc byte[] { 0x80, 2 }); // PROTO 2

    private PickleWriter Op(byte opcode)
    {
        _buffer.WriteByte(opcode);
        return this;
    }

    public PickleWriter Mark() => Op((byte)'(');
    public PickleWriter Tuple() => Op((byte)'t');
    public PickleWriter EmptyTuple() => Op((byte)')');
    public PickleWriter Reduce() => Op((byte)'R');
    public PickleWriter SetItems() => Op((byte)'u');
    public PickleWriter PersistentId() => Op((byte)'Q');
    public PickleWriter Bool(bool value) => Op(value ? (byte)0x88 : (byte)0x89);
    public PickleWriter Stop() => Op((byte)'.');

    public PickleWriter Global(string module, string name)
    {
        _buffer.WriteByte((byte)'c');
        _buffer.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        return this;
    }

    public PickleWriter String(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        _buffer.WriteByte((byte)'X'); // BINUNICODE
        _buffer.Write(length);
        _buffer.Write(bytes);
        return this;
    }

    public PickleWriter Int(long value)
    {
        if (value is >= 0 and < 256) return Op((byte)'K').Op((byte)value); // BININT1
        if (value is >= int.MinValue and <= int.MaxValue)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(bytes, (int)value);
            _buffer.WriteByte((byte)'J'); // BININT
            _buffer.Write(bytes);
            return this;
        }
        Span<byte> wide = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(wide, value);
        _buffer.WriteByte(0x8a); // LONG1, 8 bytes two's complement
        _buffer.WriteByte(8);
        _buffer.Write(wide);
        return this;
    }

    /// <summary>A tuple of integers (a size or a stride).</summary>
    public PickleWriter Ints(long[] values)
    {
        if (values.Length == 0) return EmptyTuple();
        Mark();
        foreach (var v in values) Int(v);
        return Tuple();
    }

    public byte[] ToArray() => _buffer.ToArray();
}
