using MedVision.Torch;
using MedVision.Torch.Serialization;

namespace MedVision.Torch.Tests.Serialization;

/// <summary>Reads Fixtures/fixture.safetensors, written by Fixtures/make_safetensors_fixture.py with numpy and torch 1.13.</summary>
public class SafeTensorsInteropTests
{
    private static string FixturePath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "fixture.safetensors");

    [Fact]
    public void Load_PythonWrittenFile_GivesTheScriptsValues()
    {
        using var scope = Torch.NewDisposeScope();
        using var f = SafeTensors.Load(FixturePath);
        f.Metadata.Should().BeEquivalentTo(new Dictionary<string, string> { ["format"] = "pt", ["source"] = "make_safetensors_fixture.py" });
        f.Keys.Should().BeEquivalentTo("weight", "index", "half", "bf", "mask", "scalar", "empty", "bytes", "small", "short", "int");

        f["weight"].Shape.Should().Equal(2, 3);
        f["weight"].ToArray<float>().Should().Equal(1.5f, -2f, 3.25f, 0f, 1e-3f, -7f);
        f["index"].ToArray<long>().Should().Equal(-1, 0, 9007199254740993);
        f["half"].ToArray<Half>().Should().Equal((Half)0.5, (Half)(-1.5), Half.MaxValue, (Half)Math.Pow(2, -10));
        f["bf"].ScalarType.Should().Be(ScalarType.BFloat16);
        using (var bf = f["bf"].To(ScalarType.Float32)) bf.ToArray<float>().Should().Equal(1f, -2.5f, 3.140625f);
        f["mask"].ToArray<bool>().Should().Equal(true, false, false, true);
        f["scalar"].Dim.Should().Be(0);
        f["scalar"].Item().Should().Be(2.718281828459045);
        f["empty"].Shape.Should().Equal(0, 3);
        f["bytes"].ToArray<byte>().Should().Equal(0, 1, 128, 255);
        f["small"].ToArray<sbyte>().Should().Equal(-128, 0, 127);
        f["short"].ToArray<short>().Should().Equal(short.MinValue, short.MaxValue);
        f["int"].Shape.Should().Equal(2, 1);
        f["int"].ToArray<int>().Should().Equal(int.MinValue, 123456789);
    }

    [Fact]
    public void ResavedFixture_KeepsEveryTensorAndTheMetadata()
    {
        using var scope = Torch.NewDisposeScope();
        using var f = SafeTensors.Load(FixturePath);
        var bytes = SafeTensors.ToBytes(f, f.Metadata);
        using var again = SafeTensors.Load(bytes);
        again.Metadata.Should().BeEquivalentTo(f.Metadata);
        foreach (var (name, t) in f)
        {
            again[name].ScalarType.Should().Be(t.ScalarType);
            again[name].Shape.Should().Equal(t.Shape);
            if (t.NumElements > 0) again[name].Eq(t).All().Item<bool>().Should().BeTrue(name);
        }
    }
}
