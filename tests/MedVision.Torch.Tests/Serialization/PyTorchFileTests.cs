using MedVision.Torch.Tests.Support;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Torch.Tests.Serialization;

/// <summary>
/// torch.save files read without Python, against fixtures written by PyTorch 1.13 (Fixtures/make_pth_fixtures.py):
/// every tensor and scalar of a checkpoint equals what PyTorch saved, and whatever is not data is refused by name.
/// </summary>
[Collection(NativeMemoryCollection.Name)]
public sealed class PyTorchFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("medvision-pth-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pth", name);

    /// <summary>The live-tensor count once garbage from earlier tests has been finalized (it must not move the count later).</summary>
    private static long SettledLiveTensors()
    {
        Tensors.CollectUnreachable(); // garbage of earlier tests must not be finalized during the count
        return Tensors.LiveTensors;
    }

    private static void ShouldEqual(Tensor actual, Tensor expected, string key)
    {
        actual.Shape.Should().Equal(expected.Shape, key);
        using var scope = Tensors.NewDisposeScope();
        if (expected.ScalarType == ScalarType.Bool)
            actual.ToArray<bool>().Should().Equal(expected.ToArray<bool>(), key);
        else if (expected.ScalarType == ScalarType.Int64)
            actual.To(ScalarType.Int64).ToArray<long>().Should().Equal(expected.ToArray<long>(), key);
        else
            actual.To(ScalarType.Float64).ToArray<double>().Should().Equal(expected.ToArray<double>(), key); // exact: the same bits widened
    }

    [Theory]
    [InlineData("checkpoint.pth")] // PyTorch 1.13's zip format
    [InlineData("checkpoint_2x_layout.pth")] // the same pickle and data in PyTorch 2.x's archive layout
    [InlineData("checkpoint_legacy.pth")] // the legacy format of PyTorch < 1.6 (_use_new_zipfile_serialization=False)
    [InlineData("checkpoint_protocol4.pth")] // pickle_protocol=4: frames, MEMOIZE, STACK_GLOBAL
    [InlineData("checkpoint_protocol5.pth")] // pickle_protocol=5
    public void ACheckpoint_GivesEveryTensorWithItsDtypeAndValues_AndItsNumbersAndStrings(string file)
    {
        using var expected = SafeTensors.Load(Fixture("expected.safetensors"));
        var dtypes = JsonSerializer.Deserialize<Dictionary<string, string>>(expected.Metadata["dtypes"])!;
        var scalars = JsonSerializer.Deserialize<Dictionary<string, string>>(expected.Metadata["scalars"])!;
        long live = SettledLiveTensors();
        using (var loaded = PyTorchFile.LoadStateDict(Fixture(file)))
        {
            loaded.Keys.Should().BeEquivalentTo(expected.Keys);
            foreach (var (key, tensor) in expected)
            {
                ShouldEqual(loaded[key], tensor, key);
                var dtype = dtypes[key] switch
                {
                    "float32" => ScalarType.Float32, "float64" => ScalarType.Float64, "float16" => ScalarType.Float16,
                    "bfloat16" => ScalarType.BFloat16, "int64" => ScalarType.Int64, "int32" => ScalarType.Int32,
                    "int16" => ScalarType.Int16, "int8" => ScalarType.Int8, "uint8" => ScalarType.Byte, "bool" => ScalarType.Bool,
                    var other => throw new InvalidOperationException(other),
                };
                loaded[key].ScalarType.Should().Be(dtype, key);
                loaded[key].IsContiguous.Should().BeTrue("views are read as contiguous tensors");
            }
            loaded.Keys.Should().Contain(new[] { "views.transposed", "views.every_other", "dtypes.bfloat16", "optimizer.state.0.exp_avg", "state_dict.module.0.weight", "list.0", "tuple.0" });

            loaded.Metadata.Keys.Should().BeEquivalentTo(scalars.Keys);
            foreach (var (key, text) in scalars)
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && text.Contains('.') | text.Contains('e'))
                    double.Parse(loaded.Metadata[key], CultureInfo.InvariantCulture).Should().Be(number, key);
                else
                    loaded.Metadata[key].Should().Be(text, key);
            loaded.Metadata["epoch"].Should().Be("7");
            loaded.Metadata["big"].Should().Be("1180591620717411303424", "integers beyond 64 bits keep their digits");
            loaded.Metadata.Should().NotContainKey("nothing", "None carries nothing");
        }
        Tensors.LiveTensors.Should().Be(live, "disposing the dictionary frees every tensor");
    }

    [Fact]
    public void AForwardOnlyStream_IsReadLikeTheFile_AndOnlyTorchSaveArchivesAreRecognised()
    {
        var bytes = File.ReadAllBytes(Fixture("state_dict.pth"));
        using (var fromFile = PyTorchFile.LoadStateDict(Fixture("state_dict.pth")))
        using (var fromStream = PyTorchFile.LoadStateDict(new ForwardOnlyStream(bytes)))
        {
            fromStream.Keys.Should().Equal(fromFile.Keys);
            foreach (var key in fromFile.Keys) fromStream[key].To(ScalarType.Float64).ToArray<double>().Should().Equal(fromFile[key].To(ScalarType.Float64).ToArray<double>(), key);
        }

        PyTorchFile.IsTorchSaveFile(Fixture("state_dict.pth")).Should().BeTrue();
        PyTorchFile.IsTorchSaveFile(Fixture("checkpoint_legacy.pth")).Should().BeFalse("the legacy format is not a zip archive");
        PyTorchFile.IsTorchSaveFile(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny_scripted_net.pt")).Should().BeFalse("a TorchScript archive");
        PyTorchFile.IsTorchSaveFile(Path.Combine(_folder, "missing.pth")).Should().BeFalse();
        var cut = Path.Combine(_folder, "cut.pth");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        PyTorchFile.IsTorchSaveFile(cut).Should().BeFalse("a zip file without its central directory cannot be read");
        FluentActions.Invoking(() => PyTorchFile.IsTorchSaveFile("")).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void AStateDict_LoadsIntoTheSameModel_BuiltInDotNet_AndComputesWhatPyTorchSaved()
    {
        using var weights = PyTorchFile.LoadStateDict(Fixture("state_dict.pth"));
        weights.Keys.Should().Equal("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias");
        weights["1.num_batches_tracked"].ScalarType.Should().Be(ScalarType.Int64);
        weights["1.num_batches_tracked"].Item<long>().Should().Be(11);
        using var model = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new Flatten(), new Linear(8, 3));
        var result = model.LoadStateDict(weights, strict: true);
        result.IsExactMatch.Should().BeTrue(result.ToString());
        using (var scope = Tensors.NewDisposeScope())
            model.NamedBuffers().Single(b => b.Name == "1.running_var").Buffer.ToArray<float>().Should().Equal(weights["1.running_var"].ToArray<float>());

        // The checkpoint holds the same weights under "state_dict", prefixed "module.".
        using var checkpoint = PyTorchFile.LoadStateDict(Fixture("checkpoint.pth"), entry: "state_dict", removePrefix: "module.");
        checkpoint.Keys.Should().Equal(weights.Keys);
        using (var scope = Tensors.NewDisposeScope())
            foreach (var (key, tensor) in weights) ShouldEqual(checkpoint[key], tensor.ScalarType.IsFloatingPoint() ? tensor.To(ScalarType.Float64) : tensor, key);
        checkpoint.Metadata.Should().BeEmpty("the state dict holds tensors only");
    }

    [Fact]
    public void ALegacyFormatStateDict_EqualsTheZipOne_AndBigEndianArchivesAreRefused()
    {
        using var zip = PyTorchFile.LoadStateDict(Fixture("state_dict.pth"));
        using var legacy = PyTorchFile.LoadStateDict(Fixture("legacy.pth"));
        legacy.Keys.Should().Equal(zip.Keys);
        foreach (var (key, tensor) in zip)
        {
            using var scope = Tensors.NewDisposeScope();
            legacy[key].ScalarType.Should().Be(tensor.ScalarType, key);
            ShouldEqual(legacy[key], tensor.ScalarType.IsFloatingPoint() ? tensor.To(ScalarType.Float64) : tensor, key);
        }
        // PyTorch < 0.4 stored views of storages: elements 2..5 of arange(10) (torch.load gives [2, 3, 4, 5]).
        using (var view = PyTorchFile.LoadStateDict(Fixture("legacy_view.pth"))) view["window"].ToArray<float>().Should().Equal(2, 3, 4, 5);
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Fixture("big_endian.pth")))
            .Should().Throw<NotSupportedException>().WithMessage("*big_endian.pth*big-endian*");
    }

    [Fact]
    public void NestedEntries_AndALoneTensor_AreReachable()
    {
        using var views = PyTorchFile.LoadStateDict(Fixture("checkpoint.pth"), entry: "views");
        views.Keys.Should().BeEquivalentTo("transposed", "row", "narrow", "every_other", "tail", "scalar", "empty");
        views["transposed"].Shape.Should().Equal(4, 3);
        views["every_other"].ToArray<float>().Should().Equal(0, 2, 4, 6, 8);
        views["tail"].ToArray<float>().Should().Equal(6, 7, 8, 9);
        views["scalar"].Shape.Should().BeEmpty();
        views["empty"].Shape.Should().Equal(0, 3);

        using var moments = PyTorchFile.LoadStateDict(Fixture("checkpoint.pth"), entry: "optimizer.state.0");
        moments.Keys.Should().BeEquivalentTo("step", "exp_avg", "exp_avg_sq");

        using var single = PyTorchFile.LoadStateDict(Fixture("checkpoint.pth"), entry: "views.row");
        single.Keys.Should().Equal("views.row");
        using var lone = PyTorchFile.LoadStateDict(Fixture("tensor.pth"));
        lone.Keys.Should().Equal("tensor");
        lone["tensor"].ToArray<float>().Should().Equal(0, 1, 2, 3, 4, 5);

        using var stream = new MemoryStream(File.ReadAllBytes(Fixture("tensor.pth")));
        using var fromStream = PyTorchFile.LoadStateDict(stream);
        fromStream["tensor"].Shape.Should().Equal(2, 3);
    }

    [Fact]
    public void WhatIsNotAReadableStateDict_IsRefusedWithTheReason_AndNothingLeaks()
    {
        long live = SettledLiveTensors();
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Fixture("collision.pth")))
            .Should().Throw<PyTorchFormatException>().WithMessage("*two tensors of the file take the key 'a.b'*entry*");
        using (var one = PyTorchFile.LoadStateDict(Fixture("collision.pth"), entry: "a")) one.Keys.Should().Equal("b");
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Fixture("plain_pickle.pkl")))
            .Should().Throw<PyTorchFormatException>().WithMessage("*plain_pickle.pkl*a pickle but not a torch.save file*");
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Fixture("model_object.pth")))
            .Should().Throw<PyTorchFormatException>().WithMessage("*model_object.pth*pickled Python object of type torch.nn.modules.container.Sequential*state_dict()*");
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Fixture("numpy.pth")))
            .Should().Throw<PyTorchFormatException>().WithMessage("*NumPy value (numpy.core.multiarray._reconstruct)*");
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny_scripted_net.pt")))
            .Should().Throw<PyTorchFormatException>().WithMessage("*TorchScript archive*ScriptModule.Load*");
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Fixture("expected.safetensors")))
            .Should().Throw<PyTorchFormatException>().WithMessage("*neither a torch.save archive*nor*legacy format*");
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Path.Combine(_folder, "missing.pth")))
            .Should().Throw<FileNotFoundException>().WithMessage("*missing.pth*");
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Fixture("checkpoint.pth"), entry: "model"))
            .Should().Throw<ArgumentException>().WithMessage("*entry 'model' is not in the file*'epoch'*'state_dict'*").Which.ParamName.Should().Be("entry");
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Fixture("checkpoint.pth"), entry: "epoch.x"))
            .Should().Throw<ArgumentException>().WithMessage("*'epoch' is a int, not a dict*");
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(Fixture("checkpoint.pth"), entry: "views", removePrefix: ""))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("removePrefix");
        // A zip without data.pkl.
        var zipPath = Path.Combine(_folder, "other.zip");
        using (var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create)) zip.CreateEntry("readme.txt");
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(zipPath))
            .Should().Throw<PyTorchFormatException>().WithMessage("*zip file but not a torch.save archive*");
        Tensors.LiveTensors.Should().Be(live);
    }

    [Fact]
    public void ADamagedOrTruncatedFile_IsAFormatError_NeverAnotherException()
    {
        var original = File.ReadAllBytes(Fixture("checkpoint.pth"));
        var path = Path.Combine(_folder, "damaged.pth");

        // A flipped bit inside the stored pickle: only the CRC-32 tells (torch.save stores entries uncompressed).
        var flipped = (byte[])original.Clone();
        int header = IndexOf(flipped, "/data.pkl"u8.ToArray());
        while (!(flipped[header] == (byte)'P' && flipped[header + 1] == (byte)'K' && flipped[header + 2] == 3 && flipped[header + 3] == 4)) header--;
        int dataAt = header + 30 + BitConverter.ToUInt16(flipped, header + 26) + BitConverter.ToUInt16(flipped, header + 28);
        flipped[dataAt + 10] ^= 0x10;
        File.WriteAllBytes(path, flipped);
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(path)).Should().Throw<PyTorchFormatException>().WithMessage("*damaged*CRC-32*");

        File.WriteAllBytes(path, original[..(original.Length / 2)]);
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(path)).Should().Throw<PyTorchFormatException>().WithMessage("*damaged.pth*");

        // Random damage, over and over: a format error, a successful read, or a refusal by the caller's arguments.
        var random = new Random(7);
        long live = SettledLiveTensors();
        int refused = 0;
        for (int round = 0; round < 300; round++)
        {
            var bytes = (byte[])original.Clone();
            if (round % 3 == 0) bytes = bytes[..random.Next(1, bytes.Length)];
            else for (int k = 0; k < 1 + round % 5; k++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            try
            {
                using var stream = new MemoryStream(bytes);
                using var loaded = PyTorchFile.LoadStateDict(stream);
                loaded.Count.Should().BeGreaterThan(0);
            }
            catch (Exception e) when (e is PyTorchFormatException or NotSupportedException)
            {
                refused++;
            }
        }
        refused.Should().BeGreaterThan(250, "almost every damage is detected (the CRC-32 covers every entry read)");
        Tensors.LiveTensors.Should().Be(live, "a refused file leaves no tensor behind");
    }

    [Fact]
    public void SaveStateDict_WritesWhatTorchLoadReads_InTheDictionarysOrder_AndReadsBackExactly()
    {
        using var scope = Tensors.NewDisposeScope();
        var grid = Tensors.Arange(0, 12).Reshape(3, 4).To(ScalarType.Float32);
        var tensors = new Dictionary<string, Tensor>
        {
            ["conv.weight"] = Tensors.Randn(4, 3, 3, 3),
            ["transposed"] = grid.T(),
            ["float64"] = grid.To(ScalarType.Float64) / 7.0,
            ["float16"] = (grid / 3.0).To(ScalarType.Float16),
            ["bfloat16"] = (grid / 3.0).To(ScalarType.BFloat16),
            ["int64"] = Tensors.FromArray(new[] { long.MinValue, -1, 0, long.MaxValue }),
            ["int32"] = Tensors.FromArray(new[] { int.MinValue, 5 }),
            ["int16"] = Tensors.FromArray(new short[] { -3, 300 }),
            ["int8"] = Tensors.FromArray(new sbyte[] { -128, 127 }),
            ["uint8"] = Tensors.FromArray(new byte[] { 0, 255 }),
            ["bool"] = Tensors.FromArray(new[] { true, false, true }),
            ["scalar"] = Tensors.Full(Array.Empty<long>(), 2.5),
            ["empty"] = Tensors.Zeros(0, 3),
            ["bn.num_batches_tracked"] = Tensors.Full(Array.Empty<long>(), 3_000_000_000L, ScalarType.Int64),
            ["ünïcode"] = Tensors.Ones(2),
        };
        var path = Path.Combine(_folder, "state.pth");
        PyTorchFile.SaveStateDict(path, tensors);
        Directory.GetFiles(_folder).Should().Equal(new[] { path }, "the temporary file is renamed, not left beside it");

        using var loaded = PyTorchFile.LoadStateDict(path);
        loaded.Keys.Should().Equal(tensors.Keys, "the dictionary's order is the OrderedDict's");
        foreach (var (key, tensor) in tensors)
        {
            loaded[key].ScalarType.Should().Be(tensor.ScalarType, key);
            var expected = tensor.ScalarType == ScalarType.Bool ? tensor : tensor.ScalarType.IsFloatingPoint() ? tensor.To(ScalarType.Float64) : tensor.To(ScalarType.Int64);
            ShouldEqual(loaded[key], expected.Contiguous(), key);
        }
        loaded.Metadata.Should().BeEmpty();
        Dump(path, tensors);

        // A module's state dict goes into the same module built again.
        using var model = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new Flatten(), new Linear(8, 3));
        var modelPath = Path.Combine(_folder, "model.pth");
        PyTorchFile.SaveStateDict(modelPath, model.StateDict());
        using var copy = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new Flatten(), new Linear(8, 3));
        using (var weights = PyTorchFile.LoadStateDict(modelPath)) copy.LoadStateDict(weights).IsExactMatch.Should().BeTrue();
        copy.StateDict()["3.weight"].ToArray<float>().Should().Equal(model.StateDict()["3.weight"].ToArray<float>());
        Dump(modelPath, model.StateDict());
    }

    [Fact]
    public void SaveStateDict_RefusesBadInput_AndLeavesTheDestinationUntouched()
    {
        var path = Path.Combine(_folder, "kept.pth");
        File.WriteAllText(path, "the old file");
        using var disposed = Tensors.Ones(2);
        disposed.Dispose();
        using var fine = Tensors.Ones(2);
        FluentActions.Invoking(() => PyTorchFile.SaveStateDict(path, new Dictionary<string, Tensor> { ["a"] = fine, ["b"] = disposed }))
            .Should().Throw<ArgumentException>().WithMessage("*'b' has been disposed*");
        FluentActions.Invoking(() => PyTorchFile.SaveStateDict(path, new Dictionary<string, Tensor> { [""] = fine }))
            .Should().Throw<ArgumentException>().WithMessage("*empty*");
        FluentActions.Invoking(() => PyTorchFile.SaveStateDict(Path.Combine(_folder, "no", "such", "x.pth"), new Dictionary<string, Tensor> { ["a"] = fine }))
            .Should().Throw<DirectoryNotFoundException>();
        File.ReadAllText(path).Should().Be("the old file");
        Directory.GetFiles(_folder).Should().Equal(path);
    }

    /// <summary>
    /// With MEDVISION_PTH_DUMP set to a folder, keeps a written file there with a JSON of what it holds, for
    /// <c>Fixtures/check_dotnet_pth.py</c>, which loads it with PyTorch itself (not part of the suite).
    /// </summary>
    private static void Dump(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var folder = Environment.GetEnvironmentVariable("MEDVISION_PTH_DUMP");
        if (string.IsNullOrEmpty(folder)) return;
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, Path.GetFileName(path));
        File.Copy(path, target, overwrite: true);
        using var scope = Tensors.NewDisposeScope();
        var description = tensors.ToDictionary(kv => kv.Key, kv => new object[]
        {
            kv.Value.ScalarType switch
            {
                ScalarType.Float32 => "float32", ScalarType.Float64 => "float64", ScalarType.Float16 => "float16", ScalarType.BFloat16 => "bfloat16",
                ScalarType.Int64 => "int64", ScalarType.Int32 => "int32", ScalarType.Int16 => "int16", ScalarType.Int8 => "int8",
                ScalarType.Byte => "uint8", ScalarType.Bool => "bool", var other => other.ToString(),
            },
            kv.Value.Shape,
            kv.Value.ScalarType == ScalarType.Bool ? kv.Value.Contiguous().ToArray<bool>().Cast<object>().ToArray()
                : kv.Value.ScalarType.IsFloatingPoint() ? kv.Value.To(ScalarType.Float64).Contiguous().ToArray<double>().Cast<object>().ToArray()
                : kv.Value.To(ScalarType.Int64).Contiguous().ToArray<long>().Cast<object>().ToArray(),
        });
        File.WriteAllText(Path.ChangeExtension(target, ".json"), JsonSerializer.Serialize(description));
    }

    /// <summary>A torch.save-like archive around a hand-made pickle (protocol 2 opcodes).</summary>
    private static MemoryStream ArchiveOf(byte[] pickle)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open()) entry.Write(pickle);
            using (var version = zip.CreateEntry("archive/version").Open()) version.Write("3\n"u8);
        }
        stream.Position = 0;
        return stream;
    }

    [Fact]
    public void CraftedPickles_ThatReferToThemselvesOrMultiply_AreRefused_NotAStackOverflowOrAHang()
    {
        // A list that contains itself: EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP.
        var cycle = new byte[] { 0x80, 2, (byte)']', (byte)'q', 0, (byte)'h', 0, (byte)'a', (byte)'.' };
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(ArchiveOf(cycle)))
            .Should().Throw<PyTorchFormatException>().WithMessage("*contains itself*");

        // 40 levels of [previous, previous] (POP the previous level, build the next from two memo references): 2^40
        // paths to the innermost list.
        var laughs = new List<byte> { 0x80, 2, (byte)']', (byte)'q', 0 };
        for (byte level = 1; level <= 40; level++)
            laughs.AddRange(new byte[] { (byte)'0', (byte)']', (byte)'(', (byte)'h', (byte)(level - 1), (byte)'h', (byte)(level - 1), (byte)'e', (byte)'q', level });
        laughs.Add((byte)'.');
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(ArchiveOf(laughs.ToArray())))
            .Should().Throw<PyTorchFormatException>().WithMessage("*more than 1,000,000 dictionaries, lists and tuples*");

        // 600 nested lists.
        var deep = new List<byte> { 0x80, 2 };
        for (int i = 0; i < 600; i++) deep.AddRange(new byte[] { (byte)']', (byte)'(' });
        for (int i = 0; i < 600; i++) deep.Add((byte)'e');
        deep.Add((byte)'.');
        // (MARK then APPENDS closes each list into the one before it.)
        FluentActions.Invoking(() => PyTorchFile.LoadStateDict(ArchiveOf(deep.ToArray())))
            .Should().Throw<PyTorchFormatException>().WithMessage("*nest more than 500 deep*");
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("not found");
    }
}
