using System.Text.Json;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Nn;

/// <summary>
/// Compares with outputs PyTorch itself produced (Fixtures/make_torch_fixtures.py, run once with the system Python;
/// the JSON is committed and copied next to the test assembly).
/// </summary>
public class PythonFixtureTests
{
    private static readonly Lazy<JsonCases> Fixture = new(() => new JsonCases("torch_fixtures.json"));

    private static JsonElement Case(string name) => Fixture.Value.Case(name);
    private static long[] Shape(JsonElement e) => JsonCases.Shape(e);
    private static double[] Data(JsonElement e) => JsonCases.Data(e);
    private static Tensor T(JsonElement c, string key) => Tensors.FromArray(Data(c.GetProperty(key)), Shape(c.GetProperty(key)));
    private static void Expect(Tensor actual, JsonElement c, string key) => JsonCases.Expect(actual, c.GetProperty(key), key);

    [Fact]
    public void Conv2d_StridePaddingGroups()
    {
        using var scope = Tensors.NewDisposeScope();
        var c = Case("conv2d");
        var y = F.Conv2d(T(c, "x"), T(c, "w"), T(c, "b"), stride: c.GetProperty("stride").GetInt64(), padding: c.GetProperty("padding").GetInt64(), groups: c.GetProperty("groups").GetInt64());
        Expect(y, c, "y");
        // and through the float32 oneDNN path
        var y32 = F.Conv2d(T(c, "x").To(ScalarType.Float32), T(c, "w").To(ScalarType.Float32), T(c, "b").To(ScalarType.Float32), 2, 1, 1, 2);
        H.Close(y32, Data(c.GetProperty("y")), 1e-4, 1e-4, "float32 conv2d");
    }

    [Fact]
    public void BatchNorm_TrainingUpdate()
    {
        using var scope = Tensors.NewDisposeScope();
        var c = Case("batch_norm_train");
        var rm = T(c, "running_mean");
        var rv = T(c, "running_var");
        var y = F.BatchNorm(T(c, "x"), rm, rv, T(c, "weight"), T(c, "bias"), training: true, momentum: c.GetProperty("momentum").GetDouble(), eps: c.GetProperty("eps").GetDouble());
        Expect(y, c, "y");
        Expect(rm, c, "running_mean_after");
        Expect(rv, c, "running_var_after");
    }

    [Fact]
    public void CrossEntropy_LabelSmoothingWeightsIgnoreIndex()
    {
        using var scope = Tensors.NewDisposeScope();
        var c = Case("cross_entropy");
        var target = Tensors.FromArray(c.GetProperty("target").GetProperty("data").EnumerateArray().Select(v => v.GetInt64()).ToArray());
        var loss = F.CrossEntropy(T(c, "logits"), target, T(c, "weight"), c.GetProperty("ignore_index").GetInt64(), labelSmoothing: c.GetProperty("label_smoothing").GetDouble());
        loss.Item().Should().BeApproximately(c.GetProperty("loss").GetDouble(), 1e-5);
        // our own loop formula agrees with PyTorch too
        var logits = Data(c.GetProperty("logits"));
        var tg = c.GetProperty("target").GetProperty("data").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        Naive.CrossEntropyMean(logits, 7, 5, tg, Data(c.GetProperty("weight")), 0.15).Should().BeApproximately(c.GetProperty("loss").GetDouble(), 1e-9);
    }

    [Fact]
    public void InterpolateBilinear_AlignCornersFalse()
    {
        using var scope = Tensors.NewDisposeScope();
        var c = Case("interpolate_bilinear");
        var x = T(c, "x");
        var up = c.GetProperty("size_up").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        var down = c.GetProperty("size_down").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        Expect(F.Interpolate(x, up, MedVision.Torch.Nn.InterpolationMode.Linear, alignCorners: false), c, "y_up");
        Expect(F.Interpolate(x, down, MedVision.Torch.Nn.InterpolationMode.Linear), c, "y_down");
        H.Close(Data(c.GetProperty("y_up")), Naive.Bilinear(Data(c.GetProperty("x")), Shape(c.GetProperty("x")), up[0], up[1]), 1e-9, 1e-9, "loop reference");
    }

    [Fact]
    public void LayerNorm()
    {
        using var scope = Tensors.NewDisposeScope();
        var c = Case("layer_norm");
        var shape = c.GetProperty("normalized_shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        Expect(F.LayerNorm(T(c, "x"), shape, T(c, "weight"), T(c, "bias"), c.GetProperty("eps").GetDouble()), c, "y");
    }

    [Fact]
    public void GroupNorm()
    {
        using var scope = Tensors.NewDisposeScope();
        var c = Case("group_norm");
        Expect(F.GroupNorm(T(c, "x"), c.GetProperty("groups").GetInt64(), T(c, "weight"), T(c, "bias"), c.GetProperty("eps").GetDouble()), c, "y");
    }
}
