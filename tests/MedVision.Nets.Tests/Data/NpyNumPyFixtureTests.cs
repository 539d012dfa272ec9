using System.Text.Json;
using MedVision.Nets.Data.Npy;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// Every element type the NPY reader takes, in a file NumPy wrote (Fixtures/npy/make_npy_fixtures.py: the extremes of
/// each type, a 0-d scalar, an empty array), read back as NumPy reads it; conversions that would change a value refused;
/// files written here read back byte for byte.
/// </summary>
public sealed class NpyNumPyFixtureTests : IDisposable
{
    private static readonly string Dir = FixtureJson.Folder("npy");
    private static readonly Lazy<JsonElement> Expected = FixtureJson.Lazy(Dir, "dtypes.json", "arrays");
    private readonly string _temp = Directory.CreateTempSubdirectory("mvn-npy-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static readonly Dictionary<string, NpyDType> Descrs = new()
    {
        ["|b1"] = NpyDType.Bool, ["|i1"] = NpyDType.Int8, ["|u1"] = NpyDType.UInt8, ["<i2"] = NpyDType.Int16, ["<u2"] = NpyDType.UInt16,
        ["<i4"] = NpyDType.Int32, ["<u4"] = NpyDType.UInt32, ["<i8"] = NpyDType.Int64, ["<u8"] = NpyDType.UInt64,
        ["<f4"] = NpyDType.Float32, ["<f8"] = NpyDType.Float64,
    };

    private static readonly string[] AllNames =
        ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64_small", "uint64_large", "float32", "float64", "scalar", "empty"];

    public static TheoryData<string> Names() => new(AllNames);

    [Theory]
    [MemberData(nameof(Names))]
    public void NumPysArrays_ReadWithTheirTypeShapeAndValues(string name)
    {
        var expected = Expected.Value.GetProperty(name);
        using var npz = NpzArchive.Open(Path.Combine(Dir, "dtypes.npz"));
        var array = npz.Read(name);
        array.DType.Should().Be(Descrs[expected.GetProperty("descr").GetString()!]);
        array.Shape.Should().Equal(expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        var values = expected.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        array.ElementCount.Should().Be(values.Length);
        array.ToDoubleArray().Should().Equal(values, "every value converts to double exactly as NumPy's float()");
        array.ToSingleArray().Should().Equal(values.Select(v => (float)v));

        bool integral = array.DType is not (NpyDType.Float32 or NpyDType.Float64);
        bool fitsInt32 = integral && values.All(v => v is >= int.MinValue and <= int.MaxValue);
        bool fitsByte = integral && values.All(v => v is >= 0 and <= 255);
        // A uint64 beyond Int64 (here 2^64 − 1; 2^63 − 1 is 2^63 as a double) is refused before any range check.
        string Refusal(string range) => !integral ? "*without rounding*" : values.Any(v => v > 1e19) ? "*does not fit in a signed 64-bit integer*" : range;
        if (fitsInt32) array.ToInt32Array().Select(v => (double)v).Should().Equal(values);
        else array.Invoking(a => a.ToInt32Array()).Should().Throw<InvalidOperationException>().WithMessage(Refusal("*outside the Int32 range*"));
        if (fitsByte) array.ToByteArray().Select(v => (double)v).Should().Equal(values);
        else array.Invoking(a => a.ToByteArray()).Should().Throw<InvalidOperationException>().WithMessage(Refusal("*outside the byte range*"));
    }

    [Fact]
    public void UInt64ValuesBeyondInt64_AreRefusedAsIntegers_NotWrapped()
    {
        using var npz = NpzArchive.Open(Path.Combine(Dir, "dtypes.npz"));
        npz.Read("uint64_large").Invoking(a => a.ToInt32Array()).Should().Throw<InvalidOperationException>()
            .WithMessage("*Element 1 does not fit in a signed 64-bit integer*");
    }

    [Fact]
    public void WrittenArrays_ReadBackByteForByte_AsNpyFilesAndInAnNpz()
    {
        using var npz = NpzArchive.Open(Path.Combine(Dir, "dtypes.npz"));
        var arrays = npz.Names.Order(StringComparer.Ordinal).ToDictionary(n => n, npz.Read);
        arrays.Keys.Should().BeEquivalentTo(AllNames);
        foreach (var (name, array) in arrays)
        {
            var path = Path.Combine(_temp, name + ".npy");
            NpyFormat.WriteFile(path, array);
            var back = NpyFormat.ReadFile(path);
            back.DType.Should().Be(array.DType, name);
            back.Shape.Should().Equal(array.Shape, name);
            back.Data.Should().Equal(array.Data, name);
        }
        Directory.GetFiles(_temp).Should().HaveCount(arrays.Count, "no temporary file is left beside the written ones");

        var archive = Path.Combine(_temp, "again.npz");
        NpzArchive.Write(archive, arrays, compress: true);
        using var again = NpzArchive.Open(archive);
        again.Names.Should().BeEquivalentTo(arrays.Keys);
        foreach (var (name, array) in arrays) again.Read(name).Data.Should().Equal(array.Data, name);
    }

    [Fact]
    public void AHeaderLongerThanVersion1Allows_IsWrittenAsVersion2()
    {
        // 23,000 dimensions of 1 ("1, " each): a header of about 69,000 characters, past version 1.0's 65,535-byte limit.
        var shape = Enumerable.Repeat(1, 23_000).ToArray();
        var array = new NpyArray(NpyDType.Float32, shape, BitConverter.GetBytes(1.5f));
        var stream = new MemoryStream();
        NpyFormat.Write(stream, array);
        var bytes = stream.ToArray();
        bytes[6].Should().Be(2, "the major version");
        BitConverter.ToUInt32(bytes, 8).Should().BeGreaterThan(ushort.MaxValue);
        ((8 + 4 + BitConverter.ToUInt32(bytes, 8)) % 64).Should().Be(0, "the data starts on a 64-byte boundary");
        var back = NpyFormat.Read(new MemoryStream(bytes), "long.npy");
        back.Shape.Should().HaveCount(23_000);
        back.ToSingleArray().Should().Equal(1.5f);
    }

    [Fact]
    public void ArraysWhoseBytesDisagreeWithTheirShape_AreRefused()
    {
        FluentActions.Invoking(() => new NpyArray(NpyDType.Int16, [2, 3], new byte[10])).Should().Throw<ArgumentException>()
            .WithMessage("*10 bytes but shape (2, 3) of Int16 needs 12*").WithParameterName("data");
        FluentActions.Invoking(() => new NpyArray(NpyDType.Int16, [2, -3], new byte[12])).Should().Throw<ArgumentException>()
            .WithMessage("*non-negative*").WithParameterName("shape");
        FluentActions.Invoking(() => NpyArray.ElementSize((NpyDType)42)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("dtype");
    }
}
