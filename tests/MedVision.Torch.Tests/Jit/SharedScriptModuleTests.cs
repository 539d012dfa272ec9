using System.Text.Json;
using MedVision.Torch;
using MedVision.Torch.Jit;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Jit;

/// <summary>
/// A TorchScript module holding one block under two names and a weight tied between two layers, against PyTorch
/// (Fixtures/make_shared_scripted_fixture.py wrote shared_scripted_net.pt and shared_scripted_fixture.json with torch
/// 1.13): PyTorch lists each shared parameter once, so one SGD step moves it once; stepping it twice would give a
/// different output.
/// </summary>
public class SharedScriptModuleTests
{
    private static readonly string NetPath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "shared_scripted_net.pt");
    private static readonly Lazy<JsonCases> Fixture = new(() => new JsonCases("shared_scripted_fixture.json"));

    private static JsonElement Case(string name) => Fixture.Value.Case(name);
    private static double[] Data(string name) => Fixture.Value.Data(name);
    private static long[] Shape(string name) => Fixture.Value.Shape(name);
    private static string[] Strings(string name) => Fixture.Value.Strings(name);
    private static void Expect(Tensor actual, string name) => Fixture.Value.Expect(actual, name);

    [Fact]
    public void SharedBlockAndTiedWeight_AreListedOnce_AsInPyTorch()
    {
        using var net = ScriptModule.Load(NetPath);
        net.NamedParameters().Select(p => p.Name).Should().Equal(Strings("parameter_names"));
        net.ParameterCount().Should().Be(Case("parameter_count").GetInt64());
        net.StateDict().Keys.Should().Equal(Strings("state_dict_keys"));
        var state = net.StateDict();
        state["again.weight"].Should().BeSameAs(state["encoder.weight"], "the script's two slots hold one tensor");
        state["tail.weight"].Should().BeSameAs(state["head.weight"], "the script's two slots hold one tensor");
        // torch.jit.load gives the block a module object under each name (Python's named_modules lists both too).
        net.NamedModules().Select(m => m.Name).Should().Equal("", "encoder", "again", "head", "tail");
    }

    [Fact]
    public void OneSgdStep_MovesEachSharedTensorOnce_AsInPyTorch()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = ScriptModule.Load(NetPath);
        var x = H.F32(Data("x"), Shape("x"));
        using (Tensors.NoGrad()) Expect(net.Call(x), "forward");
        using var sgd = new Sgd(net.Parameters(), learningRate: 0.1);
        net.Call(x).Pow(2).Mean().Backward();
        sgd.Step();
        using (Tensors.NoGrad()) Expect(net.Call(x), "forward_after_step");
    }

    [Fact]
    public void Conversion_KeepsTheScriptsSharing()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = ScriptModule.Load(NetPath);
        net.To(ScalarType.Float64);
        var state = net.StateDict();
        state["tail.weight"].Should().BeSameAs(state["head.weight"]);
        state["again.bias"].Should().BeSameAs(state["encoder.bias"]);
        state["again.bias"].ScalarType.Should().Be(ScalarType.Float64);
        using (Tensors.NoGrad()) Expect(net.Call(H.F64(Data("x"), Shape("x"))), "forward");
    }
}
