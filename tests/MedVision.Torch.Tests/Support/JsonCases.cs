using System.Text.Json;
using MedVision.Torch;

namespace MedVision.Torch.Tests.Support;

/// <summary>
/// The "cases" object of a fixture JSON written by one of the Fixtures/make_*.py scripts: tensors are stored as
/// <c>{"shape": [...], "data": [...]}</c> (data flattened in C order), names as string arrays.
/// </summary>
public sealed class JsonCases
{
    private readonly JsonElement _cases;

    /// <summary>Reads Fixtures/<paramref name="fileName"/> next to the test assembly.</summary>
    public JsonCases(string fileName)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", fileName)));
        _cases = doc.RootElement.GetProperty("cases").Clone();
    }

    public JsonElement Case(string name) => _cases.GetProperty(name);
    public long[] Shape(string name) => Shape(Case(name));
    public double[] Data(string name) => Data(Case(name));
    public string[] Strings(string name) => Case(name).EnumerateArray().Select(v => v.GetString()!).ToArray();
    /// <summary>The case as a float32 tensor (PyTorch's default dtype).</summary>
    public Tensor F32(string name) => H.F32(Data(name), Shape(name));
    /// <summary>Asserts that <paramref name="actual"/> has the case's shape and values.</summary>
    public void Expect(Tensor actual, string name, double tolerance = 1e-5) => Expect(actual, Case(name), name, tolerance);

    public static long[] Shape(JsonElement tensor) => tensor.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
    public static double[] Data(JsonElement tensor) => tensor.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static void Expect(Tensor actual, JsonElement tensor, string name, double tolerance = 1e-5)
    {
        actual.Shape.Should().Equal(Shape(tensor), "the shape of {0} must match PyTorch's", name);
        H.Close(actual, Data(tensor), tolerance, tolerance, name);
    }
}
