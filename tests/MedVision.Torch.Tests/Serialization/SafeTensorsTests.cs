using MedVision.Torch.Tests.Support;
using System.Buffers.Binary;
using System.Text;
using MedVision.Torch;
using MedVision.Torch.Serialization;

namespace MedVision.Torch.Tests.Serialization;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("safetensors-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathFor(string name) => Path.Combine(_folder, name);

    [Fact]
    public void RoundTrip_EveryDtype_AndShapesIncludingScalarAndEmpty()
    {
        using var scope = Tensors.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = Tensors.FromArray(new[] { 1.5, -2.25, double.MaxValue, double.Epsilon }, 2, 2),
            ["f32"] = Tensors.FromArray(new[] { 1.5f, -2.25f, 3e38f, 1e-45f, 0f, -0f }, 3, 2),
            ["f16"] = Tensors.FromArray(new[] { (Half)0.5, (Half)(-1.5), Half.MaxValue }),
            ["bf16"] = Tensors.FromArray(new[] { 1f, -2.5f, 3.140625f, 1e30f }).To(ScalarType.BFloat16),
            ["i64"] = Tensors.FromArray(new[] { long.MinValue, 0, long.MaxValue }),
            ["i32"] = Tensors.FromArray(new[] { int.MinValue, 7, int.MaxValue }, 3, 1),
            ["i16"] = Tensors.FromArray(new short[] { short.MinValue, short.MaxValue }),
            ["i8"] = Tensors.FromArray(new sbyte[] { -128, 0, 127 }),
            ["u8"] = Tensors.FromArray(new byte[] { 0, 1, 128, 255 }, 1, 2, 2),
            ["bool"] = Tensors.FromArray(new[] { true, false, true }),
            ["scalar"] = Tensors.Scalar(42.5, ScalarType.Float64),
            ["empty"] = Tensors.Zeros(new long[] { 0, 3 }),
            ["empty_i64"] = Tensors.Zeros(new long[] { 4, 0 }, ScalarType.Int64),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["epoch"] = "12", ["ünïcode"] = "ß ✓" };
        var path = PathFor("all.safetensors");
        SafeTensors.Save(path, tensors, metadata);

        using var loaded = SafeTensors.Load(path);
        loaded.Count.Should().Be(tensors.Count);
        loaded.Metadata.Should().BeEquivalentTo(metadata);
        foreach (var (name, original) in tensors)
        {
            var t = loaded[name];
            t.ScalarType.Should().Be(original.ScalarType, name);
            t.Shape.Should().Equal(original.Shape, name);
            t.Device.Should().Be(Device.Cpu);
            if (original.NumElements > 0) t.Eq(original).All().Item<bool>().Should().BeTrue(name);
        }
        loaded["scalar"].Dim.Should().Be(0);
        loaded["bf16"].To(ScalarType.Float32).ToArray<float>().Should().Equal(1f, -2.5f, 3.140625f, ToBf16(1e30f));
    }

    [Fact]
    public void LoadedTensors_OutliveTheDisposeScopeTheyWereLoadedIn()
    {
        using var scope = Tensors.NewDisposeScope();
        var path = PathFor("scoped.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensors.Ones(2) });
        SafeTensorDictionary loaded;
        using (var inner = Tensors.NewDisposeScope()) loaded = SafeTensors.Load(path);
        Tensor x;
        using (loaded)
        {
            x = loaded["x"];
            x.IsDisposed.Should().BeFalse();
            x.ToArray<float>().Should().Equal(1, 1);
        }
        x.IsDisposed.Should().BeTrue("disposing the dictionary frees its tensors");
    }

    private static float ToBf16(float value)
    {
        using var t = Tensors.FromArray(new[] { value }).To(ScalarType.BFloat16);
        using var back = t.To(ScalarType.Float32);
        return back.ToArray<float>()[0];
    }

    [Fact]
    public void Header_IsPaddedTo8Bytes_AndOffsetsAreContiguous()
    {
        using var scope = Tensors.NewDisposeScope();
        var bytes = SafeTensors.ToBytes(new Dictionary<string, Tensor>
        {
            ["b"] = Tensors.FromArray(new byte[] { 1, 2, 3 }),
            ["a"] = Tensors.FromArray(new double[] { 1, 2 }),
        });
        var n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        (n % 8).Should().Be(0);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        header.Should().Be(header.TrimEnd() + new string(' ', header.Length - header.TrimEnd().Length));
        // Larger elements first: the F64 tensor is at offset 0, the U8 one after it.
        header.Should().Contain("\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}");
        header.Should().Contain("\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[16,19]}");
        bytes.Length.Should().Be((int)(8 + n + 19));
        BitConverter.ToDouble(bytes, (int)(8 + n + 8)).Should().Be(2);
    }

    [Fact]
    public void Load_FromStreamAndBytes_GivesTheSameTensors()
    {
        using var scope = Tensors.NewDisposeScope();
        var data = SafeTensors.ToBytes(new Dictionary<string, Tensor> { ["x"] = Tensors.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2) },
            new Dictionary<string, string> { ["k"] = "v" });

        using (var fromBytes = SafeTensors.Load(data)) fromBytes["x"].ToArray<float>().Should().Equal(1, 2, 3, 4);

        // A stream positioned after a prefix: loading starts at the current position.
        using var ms = new MemoryStream();
        ms.Write(new byte[] { 9, 9, 9 });
        ms.Write(data);
        ms.Position = 3;
        using (var fromStream = SafeTensors.Load(ms))
        {
            fromStream["x"].Shape.Should().Equal(2, 2);
            fromStream.Metadata["k"].Should().Be("v");
        }
        ms.CanRead.Should().BeTrue("the stream is left open");
    }

    [Fact]
    public void Take_TransfersOwnership()
    {
        using var scope = Tensors.NewDisposeScope();
        var data = SafeTensors.ToBytes(new Dictionary<string, Tensor> { ["x"] = Tensors.Ones(2), ["y"] = Tensors.Zeros(2) });
        Tensor x;
        Tensor y;
        using (var loaded = SafeTensors.Load(data))
        {
            x = loaded.Take("x");
            y = loaded["y"];
            loaded.ContainsKey("x").Should().BeFalse();
        }
        using (x)
        {
            x.IsDisposed.Should().BeFalse();
            y.IsDisposed.Should().BeTrue();
            x.ToArray<float>().Should().Equal(1, 1);
        }
    }

    [Fact]
    public void Replace_DisposesTheOldTensor_AndOwnsTheNewOne_OutsideAnyScope()
    {
        var data = SafeTensors.ToBytes(new Dictionary<string, Tensor> { ["x"] = Tensors.Ones(2) });
        Tensor old, replacement, added;
        using (var loaded = SafeTensors.Load(data))
        {
            old = loaded["x"];
            using (var scope = Tensors.NewDisposeScope())
            {
                replacement = old * 3;
                added = Tensors.Zeros(1);
                loaded.Replace("x", replacement);
                loaded.Replace("z", added);
            }
            old.IsDisposed.Should().BeTrue("the replaced tensor is disposed");
            replacement.IsDisposed.Should().BeFalse("the dictionary owns the new one, not the scope it was made in");
            loaded["x"].ToArray<float>().Should().Equal(3, 3);
            loaded.Keys.Should().Equal("x", "z");
            loaded.Replace("x", replacement);
            replacement.IsDisposed.Should().BeFalse("putting the same tensor back keeps it");
            FluentActions.Invoking(() => loaded.Replace("", added)).Should().Throw<ArgumentException>().WithParameterName("key");
        }
        replacement.IsDisposed.Should().BeTrue();
        added.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public void Save_IsAtomic_DestinationUntouchedWhenWritingFails()
    {
        using var scope = Tensors.NewDisposeScope();
        var path = PathFor("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensors.Ones(3) });
        var before = File.ReadAllBytes(path);

        var disposed = Tensors.Zeros(2);
        disposed.Dispose();
        var tensors = new Dictionary<string, Tensor> { ["a"] = Tensors.Ones(4), ["b"] = disposed, ["c"] = Tensors.Ones(1) };
        FluentActions.Invoking(() => SafeTensors.Save(path, tensors)).Should().Throw<ArgumentException>().WithMessage("*'b'*disposed*");
        File.ReadAllBytes(path).Should().Equal(before);

        // A failure after the temporary file was written (the destination is a folder): the temporary file is removed.
        var folderPath = PathFor("a-folder");
        Directory.CreateDirectory(folderPath);
        FluentActions.Invoking(() => SafeTensors.Save(folderPath, new Dictionary<string, Tensor> { ["w"] = Tensors.Ones(3) })).Should().Throw<IOException>();
        Directory.Exists(folderPath).Should().BeTrue();

        Directory.GetFiles(_folder).Select(Path.GetFileName).Should().BeEquivalentTo("model.safetensors");
        using var loaded = SafeTensors.Load(path);
        loaded["w"].ToArray<float>().Should().Equal(1, 1, 1);
    }

    [Fact]
    public void Save_RejectsBadNamesAndMissingFolders()
    {
        using var scope = Tensors.NewDisposeScope();
        FluentActions.Invoking(() => SafeTensors.ToBytes(new Dictionary<string, Tensor> { ["__metadata__"] = Tensors.Ones(1) }))
            .Should().Throw<ArgumentException>().WithMessage("*reserved*");
        FluentActions.Invoking(() => SafeTensors.ToBytes(new Dictionary<string, Tensor> { [""] = Tensors.Ones(1) }))
            .Should().Throw<ArgumentException>().WithMessage("*empty*");
        FluentActions.Invoking(() => SafeTensors.Save(PathFor("missing/x.safetensors"), new Dictionary<string, Tensor> { ["w"] = Tensors.Ones(1) }))
            .Should().Throw<DirectoryNotFoundException>().WithMessage("*does not exist*");
    }

    // ------------------------------------------------------------ corrupt files

    private static byte[] Build(string header, byte[] buffer, bool pad = true)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var n = pad ? (json.Length + 7) / 8 * 8 : json.Length;
        var bytes = new byte[8 + n + buffer.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)n);
        bytes.AsSpan(8, n).Fill((byte)' ');
        json.CopyTo(bytes, 8);
        buffer.CopyTo(bytes, 8 + n);
        return bytes;
    }

    private SafeTensorsFormatException LoadCorrupt(byte[] bytes)
    {
        var path = PathFor("corrupt.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = FluentActions.Invoking(() => SafeTensors.Load(path)).Should().Throw<SafeTensorsFormatException>().Which;
        e.Message.Should().Contain(path, "the message names the file");
        return e;
    }

    [Fact]
    public void Load_TruncatedFile_Throws()
    {
        LoadCorrupt(new byte[] { 1, 2, 3 }).Message.Should().Contain("3 bytes long").And.Contain("truncated");
        LoadCorrupt(Array.Empty<byte>()).Message.Should().Contain("0 bytes long");
    }

    [Fact]
    public void Load_HeaderLengthBeyondFile_Throws()
    {
        var bytes = Build("{}", Array.Empty<byte>());
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        LoadCorrupt(bytes).Message.Should().Contain("header length is 1000 bytes but only 8 bytes follow");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        LoadCorrupt(bytes).Message.Should().Contain("header length is 18446744073709551615");
    }

    [Fact]
    public void Load_MalformedJson_Throws()
    {
        LoadCorrupt(Build("{\"x\": {\"dtype\": ", Array.Empty<byte>())).Message.Should().Contain("not valid JSON");
        LoadCorrupt(Build("[1, 2]", Array.Empty<byte>())).Message.Should().Contain("must be a JSON object");
        LoadCorrupt(Build("{\"x\": 5}", Array.Empty<byte>())).Message.Should().Contain("entry of 'x' must be an object");
        LoadCorrupt(Build("{\"x\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", new byte[4])).Message.Should().Contain("'x' has no string \"dtype\"");
        LoadCorrupt(Build("{\"x\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", new byte[4])).Message.Should().Contain("non-negative integers");
        LoadCorrupt(Build("{\"x\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", new byte[4])).Message.Should().Contain("\"data_offsets\" array of two integers");
        LoadCorrupt(Build("{\"__metadata__\": {\"a\": 1}}", Array.Empty<byte>())).Message.Should().Contain("metadata value of 'a' must be a string");
        LoadCorrupt(Build("{\"__metadata__\": [\"a\"]}", Array.Empty<byte>())).Message.Should().Contain("'__metadata__' must be an object of strings, not Array");
        LoadCorrupt(Build("{\"__metadata__\": {\"a\": \"1\", \"a\": \"2\"}}", Array.Empty<byte>())).Message.Should().Contain("metadata names 'a' more than once");
    }

    [Fact]
    public void Load_FromAForwardOnlyStream_ReadsWhatTheFileHolds()
    {
        using var scope = Tensors.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor> { ["w"] = Tensors.Arange(6).To(ScalarType.Float32).Reshape(2, 3), ["b"] = Tensors.FromArray(new long[] { -4, 9 }) };
        var bytes = SafeTensors.ToBytes(tensors, new Dictionary<string, string> { ["format"] = "pt" });
        using var loaded = SafeTensors.Load(new ForwardOnlyStream(bytes, chunk: 7));
        loaded.Keys.Should().BeEquivalentTo("w", "b");
        loaded["w"].Shape.Should().Equal(2, 3);
        loaded["w"].ToArray<float>().Should().Equal(0, 1, 2, 3, 4, 5);
        loaded["b"].ToArray<long>().Should().Equal(-4, 9);
        loaded.Metadata["format"].Should().Be("pt");
        var truncated = new ForwardOnlyStream(bytes[..^3], chunk: 7);
        FluentActions.Invoking(() => SafeTensors.Load(truncated)).Should().Throw<SafeTensorsFormatException>().WithMessage("*safetensors stream*");
    }

    [Fact]
    public void Load_HeaderWithInvalidUtf8_Throws()
    {
        // A corrupt byte inside a tensor name or a metadata value: System.Text.Json itself would throw
        // InvalidOperationException only when the string is read.
        foreach (var header in new[] { "{\"x\u00e9\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", "{\"__metadata__\": {\"format\": \"p\u00e9\"}}" })
        {
            var bytes = Build(header, new byte[4]);
            int at = bytes.AsSpan().IndexOf((byte)0xC3);
            at.Should().BePositive();
            bytes[at] = 0xFF; // no UTF-8 sequence starts with 0xFF
            LoadCorrupt(bytes).Message.Should().Contain("not valid UTF-8");
        }
    }

    [Fact]
    public void Load_UnknownDtype_Throws()
    {
        LoadCorrupt(Build("{\"x\": {\"dtype\": \"F128\", \"shape\": [1], \"data_offsets\": [0, 16]}}", new byte[16]))
            .Message.Should().Contain("unknown dtype 'F128'");
        var path = PathFor("u16.safetensors");
        File.WriteAllBytes(path, Build("{\"x\": {\"dtype\": \"U16\", \"shape\": [1], \"data_offsets\": [0, 2]}}", new byte[2]));
        FluentActions.Invoking(() => SafeTensors.Load(path)).Should().Throw<NotSupportedException>().WithMessage("*U16*valid safetensors*");
    }

    [Fact]
    public void Load_BadOffsets_Throw()
    {
        LoadCorrupt(Build("{\"x\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", new byte[4]))
            .Message.Should().Contain("[0, 8] of 'x' reach beyond the 4-byte data buffer");
        LoadCorrupt(Build("{\"x\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", new byte[8]))
            .Message.Should().Contain("(4 bytes) but its shape [2] of F32 needs 8 bytes");
        LoadCorrupt(Build("{\"x\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", new byte[8]))
            .Message.Should().Contain("0 ≤ begin ≤ end");
        LoadCorrupt(Build("{\"x\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"y\": {\"dtype\": \"I32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", new byte[8]))
            .Message.Should().Contain("'x' [0, 8) and 'y' [4, 8) overlap");
        LoadCorrupt(Build("{\"x\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 8]}}", new byte[8]))
            .Message.Should().Contain("too large");
    }

    [Fact]
    public void Load_DuplicateNames_Throw()
    {
        LoadCorrupt(Build("{\"x\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}, \"x\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [1, 2]}}", new byte[2]))
            .Message.Should().Contain("names 'x' more than once");
    }

    [Fact]
    public void Load_AcceptsUnpaddedHeaderAndBoolBytes()
    {
        var bytes = Build("{\"m\": {\"dtype\": \"BOOL\", \"shape\": [3], \"data_offsets\": [0, 3]}}", new byte[] { 0, 1, 2 }, pad: false);
        using var loaded = SafeTensors.Load(bytes);
        loaded["m"].ToArray<bool>().Should().Equal(false, true, true);
    }

    [Fact]
    public void RenameKeys_RenamesInPlace_KeepsTheOrder_AndRefusesCollisionsWithoutChangingAnything()
    {
        using var a = Tensors.Ones(2);
        using var b = Tensors.Zeros(3);
        using var c = Tensors.Full(new long[] { 1 }, 7.0);
        using var dict = SafeTensors.Load(SafeTensors.ToBytes(new Dictionary<string, Tensor> { ["stem.0.weight"] = a, ["stem.1.bias"] = b, ["fc.weight"] = c }));
        var order = dict.Keys.ToList();
        dict.RenameKeys(k => k.Replace("stem.0.", "conv1.", StringComparison.Ordinal).Replace("stem.1.", "bn1.", StringComparison.Ordinal));
        dict.Keys.Should().Equal(order.Select(k => k.Replace("stem.0.", "conv1.").Replace("stem.1.", "bn1.")));
        dict["bn1.bias"].ToArray<float>().Should().Equal(0, 0, 0);
        FluentActions.Invoking(() => dict.RenameKeys(_ => "same")).Should().Throw<ArgumentException>().WithMessage("*would both be named 'same'*");
        FluentActions.Invoking(() => dict.RenameKeys(_ => "")).Should().Throw<ArgumentException>().WithMessage("*null or empty*");
        dict.Keys.Should().Contain("conv1.weight", "a refused renaming changes nothing");
    }
}
