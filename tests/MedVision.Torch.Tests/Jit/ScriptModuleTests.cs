using System.Buffers.Binary;
using System.Text.Json;
using MedVision.Torch;
using MedVision.Torch.Jit;
using MedVision.Torch.Optim;
using MedVision.Torch.Serialization;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Jit;

/// <summary>
/// TorchScript modules against the outputs PyTorch computed for the same file (Fixtures/make_torchscript_fixture.py
/// wrote tiny_scripted_net.pt and torchscript_fixture.json with torch 1.13; the tests only read them). Runs alone: one
/// test reads the process-wide live-tensor counter.
/// </summary>
[Collection(NativeMemoryCollection.Name)]
public class ScriptModuleTests : IDisposable
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private static readonly string NetPath = Path.Combine(Dir, "tiny_scripted_net.pt");
    private static readonly Lazy<JsonCases> Fixture = new(() => new JsonCases("torchscript_fixture.json"));

    private readonly string _temp = Path.Combine(Path.GetTempPath(), "mvt-jit-" + Guid.NewGuid().ToString("N"));

    public ScriptModuleTests() => Directory.CreateDirectory(_temp);

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static JsonElement Case(string name) => Fixture.Value.Case(name);
    private static double[] Data(string name) => Fixture.Value.Data(name);
    private static long[] Shape(string name) => Fixture.Value.Shape(name);
    private static Tensor Input(string name) => Fixture.Value.F32(name);
    private static string[] Strings(string name) => Fixture.Value.Strings(name);
    private static void Expect(Tensor actual, string name, double tolerance = 1e-5) => Fixture.Value.Expect(actual, name, tolerance);

    [Fact]
    public void Load_ExposesPyTorchsNamesModesAndCounts()
    {
        using var net = ScriptModule.Load(NetPath);
        net.TypeName.Should().Be("TinyScriptedNet");
        net.StateDict().Keys.Should().Equal(Strings("state_dict_keys"), "the state dict must carry PyTorch's keys in PyTorch's order");
        net.NamedParameters().Select(p => p.Name).Should().Equal(Strings("parameter_names"));
        net.ParameterCount().Should().Be(Case("parameter_count").GetInt64());
        net.Training.Should().BeFalse("the file was saved in evaluation mode and torch.jit.load keeps the mode");
        net.NamedModules().Select(m => m.Module.Training).Should().AllBeEquivalentTo(false);
        net.MethodNames.Should().Contain(new[] { "forward", "embed", "both", "distance" });
        net.HasMethod("embed").Should().BeTrue();
        net.HasMethod("nope").Should().BeFalse();
        net.ToString().Should().Contain("TinyScriptedNet(").And.Contain("(features): Sequential(").And.Contain("(0): Conv2d(");
        net.NamedChildren().Select(c => c.Name).Should().Equal("features", "pool", "head");
        net.NamedChildren().First().Module.Should().BeOfType<ScriptModule>().Which.TypeName.Should().Be("Sequential");
    }

    [Fact]
    public void ModelSummary_ListsTheScriptedLayersUnderTheCalledRoot()
    {
        using var net = ScriptModule.Load(NetPath);
        var summary = net.Summary(2, 3, 8, 8);
        var root = summary.Rows[0];
        (root.Depth, root.Name, root.TypeName, root.Called).Should().Be((0, "", "TinyScriptedNet", true));
        root.OutputShape.Should().Equal(2, 2);
        summary.Rows.Skip(1).Select(r => (r.Depth, r.Name, r.TypeName, r.Called)).Should().Equal(
            (1, "features", "Sequential", false), (2, "features.0", "Conv2d", false), (2, "features.1", "BatchNorm2d", false),
            (2, "features.2", "ReLU", false), (1, "pool", "AdaptiveAvgPool2d", false), (1, "head", "Linear", false));
        summary.Rows.Single(r => r.Name == "features.0").Parameters.Should().Be(4 * 3 * 3 * 3 + 4);
        summary.Rows.Single(r => r.Name == "features.1").Parameters.Should().Be(4 + 4);
        summary.Rows.Single(r => r.Name == "head").Parameters.Should().Be(4 * 2 + 2);
        summary.Rows.Sum(r => r.Parameters).Should().Be(net.ParameterCount()).And.Be(summary.TotalParameters);
        summary.Rows.Where(r => !r.Called).Should().OnlyContain(r => r.OutputShape.Count == 0 && r.MultiplyAccumulates == 0);
        var text = summary.ToString();
        text.Should().Contain("features.0 (Conv2d)").And.Contain("[2, 2]");
        text.Split('\n').Single(l => l.Contains("head (Linear)")).Should().Contain("--").And.Contain("10");
    }

    [Fact]
    public void ForwardAndExportedMethods_EqualPyTorch()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = ScriptModule.Load(NetPath);
        var x = Input("x");
        Expect(net.Call(x), "eval_forward");
        Expect(net.Forward(x.Select(0, 0)), "eval_single_image"); // the script's own control flow batches one image
        Expect(net.Invoke("embed", x), "eval_embed");
        Expect(net.Forward(x), "eval_forward");
        Expect(net.Invoke("distance", x, Input("b")), "eval_distance");

        var both = net.InvokeTuple("both", x);
        both.Should().HaveCount(2);
        Expect(both[0], "eval_forward");
        Expect(both[1], "eval_embed");
    }

    [Fact]
    public void TrainMode_UsesBatchStatisticsAndUpdatesRunningMean_AsPyTorch()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = ScriptModule.Load(NetPath);
        var x = Input("x");
        // Python took one SGD step before its training-mode check; the same step here (see the next test's arithmetic).
        var loss = net.Call(x).Pow(2).Mean();
        loss.Backward();
        using (var sgd = new Sgd(net.Parameters(), 0.1)) sgd.Step();
        net.Train();
        using (Tensors.NoGrad()) Expect(net.Call(x), "train_forward_after_step");
        Expect(net.StateDict()["features.1.running_mean"], "running_mean_after_train_forward");
        net.StateDict()["features.1.num_batches_tracked"].Item<long>().Should().Be(1);
    }

    [Fact]
    public void Gradients_FlowToTheScriptsParameters_AndAnOptimizerStepChangesItsOutput()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = ScriptModule.Load(NetPath);
        var x = Input("x");
        var loss = net.Call(x).Pow(2).Mean();
        loss.Item().Should().BeApproximately(Case("loss").GetDouble(), 1e-5);
        loss.Backward();
        var head = net.StateDict()["head.weight"];
        Expect(head.Grad!, "grad_head_weight");
        Expect(net.StateDict()["features.0.weight"].Grad!, "grad_conv_weight");

        using (var sgd = new Sgd(net.Parameters(), 0.1)) sgd.Step();
        using (Tensors.NoGrad()) Expect(net.Call(x), "eval_forward_after_step");
    }

    [Fact]
    public void WithoutOptimizedExecution_RepeatedCallsGiveIdenticalOutputsAndGradients()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = ScriptModule.Load(NetPath);
        net.OptimizedExecution.Should().BeTrue("libtorch's default");
        net.OptimizedExecution = false;
        var x = Input("x");
        float[]? firstOutput = null, firstGradient = null;
        for (int call = 0; call < 5; call++)
        {
            net.ZeroGrad();
            var y = net.Call(x);
            y.Pow(2).Mean().Backward();
            var output = y.ToArray<float>();
            var gradient = net.StateDict()["features.0.weight"].Grad!.ToArray<float>();
            firstOutput ??= output;
            firstGradient ??= gradient;
            output.Should().Equal(firstOutput, "call {0} must repeat the first call exactly", call);
            gradient.Should().Equal(firstGradient, "call {0}'s gradient must repeat the first exactly", call);
        }
        Expect(Tensors.FromArray(firstGradient!, Shape("grad_conv_weight")), "grad_conv_weight");
    }

    [Fact]
    public void Save_ThenLoad_KeepsUpdatedWeightsAndMode_AndLeavesNoTemporaryFile()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Input("x");
        var path = Path.Combine(_temp, "sub", "fine-tuned.pt");
        Tensor expected;
        using (var net = ScriptModule.Load(NetPath))
        {
            using (Tensors.NoGrad()) net.StateDict()["head.bias"].AddInPlace(1.0);
            net.Save(path);
            using (Tensors.NoGrad()) expected = net.Call(x);
        }
        Directory.GetFiles(Path.GetDirectoryName(path)!).Should().Equal(path);
        using var reloaded = ScriptModule.Load(path);
        reloaded.Training.Should().BeFalse();
        using (Tensors.NoGrad()) H.Close(reloaded.Call(x), expected, 1e-6, 1e-6, "reloaded forward");
        H.Close(expected, Data("eval_forward").Select((v, i) => v + 1.0).ToArray(), 1e-5, 1e-5, "bias + 1");
    }

    [Fact]
    public void ExtraFiles_WrittenByPyTorchAndByUs_AreReadBack()
    {
        ScriptModule.ReadExtraFiles(NetPath).Should().ContainKey("note.txt")
            .WhoseValue.Should().StartWith("written by PyTorch 1.13");

        var path = Path.Combine(_temp, "with-card.pt");
        using (var net = ScriptModule.Load(NetPath))
            net.Save(path, new Dictionary<string, string> { ["card.json"] = "{\"classes\": [\"normal\", \"myopia ü\"]}", ["empty"] = "" });
        var extra = ScriptModule.ReadExtraFiles(path);
        extra.Should().HaveCount(2);
        extra["card.json"].Should().Be("{\"classes\": [\"normal\", \"myopia ü\"]}");
        extra["empty"].Should().BeEmpty();
        using (var reloaded = ScriptModule.Load(path)) reloaded.ParameterCount().Should().Be(Case("parameter_count").GetInt64());

        using var net2 = ScriptModule.Load(NetPath);
        var badName = () => net2.Save(Path.Combine(_temp, "bad.pt"), new Dictionary<string, string> { ["a/b"] = "x" });
        badName.Should().Throw<ArgumentException>().Which.Message.Should().Contain("a/b");
        File.Exists(Path.Combine(_temp, "bad.pt")).Should().BeFalse();

        var notZip = Path.Combine(_temp, "plain.pt");
        File.WriteAllText(notZip, "not a zip");
        var read = () => ScriptModule.ReadExtraFiles(notZip);
        read.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(notZip);
    }

    [Fact]
    public void LoadStateDict_FromSafetensors_AndToFloat64_ReachTheScript()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Input("x");
        var weights = Path.Combine(_temp, "weights.safetensors");
        using (var source = ScriptModule.Load(NetPath))
        {
            using (Tensors.NoGrad()) source.StateDict()["head.bias"].FillInPlace(0.25);
            SafeTensors.Save(weights, source.StateDict());
        }
        using var net = ScriptModule.Load(NetPath);
        using (var loaded = SafeTensors.Load(weights)) net.LoadStateDict(loaded);
        net.StateDict()["head.bias"].ToArray<float>().Should().AllBeEquivalentTo(0.25f);

        net.To(ScalarType.Float64);
        net.Parameters().Should().OnlyContain(p => p.ScalarType == ScalarType.Float64);
        using (Tensors.NoGrad())
        {
            var y = net.Call(x.To(ScalarType.Float64));
            y.ScalarType.Should().Be(ScalarType.Float64, "the script must run on the converted weights");
            var embed = net.Invoke("embed", x.To(ScalarType.Float64));
            var head = net.StateDict()["head.weight"];
            H.Close(y, embed.MatMul(head.T()) + 0.25, 1e-9, 1e-9, "float64 head");
        }
    }

    [Fact]
    public void FrozenParameters_StayFrozen_AndEvalSwitchesTheScriptBack()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = ScriptModule.Load(NetPath);
        var x = Input("x");
        net.Train();
        using (Tensors.NoGrad()) net.Call(x);
        net.Eval();
        var runningMean = net.StateDict()["features.1.running_mean"].Clone();
        using (Tensors.NoGrad()) net.Call(x);
        H.Close(net.StateDict()["features.1.running_mean"], runningMean, 0, 0, "running mean after an evaluation call");

        net.RequiresGrad(false);
        net.Parameters().Should().OnlyContain(p => !p.RequiresGrad);
        net.Call(x).RequiresGrad.Should().BeFalse("no parameter requires a gradient any more");
    }

    [Fact]
    public void BadCalls_GiveClearExceptions_AndTheModuleKeepsWorking()
    {
        using var scope = Tensors.NewDisposeScope();
        var net = ScriptModule.Load(NetPath);
        var x = Input("x");

        var wrongChannels = () => net.Call(Tensors.Zeros(2, 5, 5, 5));
        wrongChannels.Should().Throw<TorchException>().Which.Message.Should().Contain("TinyScriptedNet.forward failed");

        var unknown = () => net.Invoke("classify", x);
        unknown.Should().Throw<ArgumentException>().Which.Message.Should().Contain("no method 'classify'").And.Contain("embed");

        var tooMany = () => net.Forward(x, x, x);
        tooMany.Should().Throw<TorchException>().Which.Message.Should().Contain("forward");

        var tuple = () => net.Invoke("both", x);
        tuple.Should().Throw<InvalidOperationException>().Which.Message.Should().Contain("InvokeTuple");

        var notTensor = () => net.Invoke("count", x);
        notTensor.Should().Throw<TorchException>().Which.Message.Should().Contain("count").And.Contain("Int");

        var nullInput = () => net.Forward(new Tensor[] { null! });
        nullInput.Should().Throw<ArgumentNullException>();

        using (Tensors.NoGrad()) Expect(net.Call(x), "eval_forward");

        net.Dispose();
        var afterDispose = () => net.Call(x);
        afterDispose.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Load_RejectsMissingTruncatedAndNonTorchScriptFiles_ByName()
    {
        var missing = Path.Combine(_temp, "missing.pt");
        var act = () => ScriptModule.Load(missing);
        act.Should().Throw<FileNotFoundException>().Which.Message.Should().Contain(missing);

        var truncated = Path.Combine(_temp, "truncated.pt");
        var bytes = File.ReadAllBytes(NetPath);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        act = () => ScriptModule.Load(truncated);
        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(truncated).And.Contain("TorchScript");

        var safetensors = Path.Combine(_temp, "weights.safetensors");
        using (var t = Tensors.Ones(2)) SafeTensors.Save(safetensors, new Dictionary<string, Tensor> { ["w"] = t });
        act = () => ScriptModule.Load(safetensors);
        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(safetensors).And.Contain("torch.save");

        // One byte changed inside a stored entry (data.pkl): libtorch does not check CRC-32s, the loader does.
        var damaged = Path.Combine(_temp, "damaged.pt");
        var copy = (byte[])bytes.Clone();
        int name = copy.AsSpan().IndexOf("/data.pkl"u8) + 1;
        int header = copy.AsSpan(0, name).LastIndexOf("PK\x03\x04"u8); // its local file header
        int data = header + 30 + BinaryPrimitives.ReadUInt16LittleEndian(copy.AsSpan(header + 26)) + BinaryPrimitives.ReadUInt16LittleEndian(copy.AsSpan(header + 28));
        copy[data + 20] ^= 0x10;
        File.WriteAllBytes(damaged, copy);
        act = () => ScriptModule.Load(damaged);
        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(damaged).And.Contain("damaged").And.Contain("data.pkl");

        if (!Tensors.Cuda.IsAvailable)
        {
            act = () => ScriptModule.Load(NetPath, Device.Cuda(0));
            act.Should().Throw<InvalidOperationException>().Which.Message.Should().Contain("CUDA");
        }

        using var net = ScriptModule.Load(NetPath);
        net.ParameterCount().Should().Be(Case("parameter_count").GetInt64());
    }

    [Fact]
    public void Disposal_FreesEveryTensorHandle()
    {
        long before = Tensors.LiveTensors;
        using (var scope = Tensors.NewDisposeScope())
        {
            var net = ScriptModule.Load(NetPath);
            using (Tensors.NoGrad()) net.InvokeTuple("both", Input("x"));
            net.Dispose();
        }
        Tensors.LiveTensors.Should().Be(before);
    }

    [CudaFact]
    public void OnCuda_LoadedThereOrMoved_MatchesTheCpu()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Input("x");
        using var loaded = ScriptModule.Load(NetPath, Device.Cuda());
        loaded.Parameters().Should().OnlyContain(p => p.Device.IsCuda);
        using var moved = ScriptModule.Load(NetPath);
        moved.To(Device.Cuda());
        using (Tensors.NoGrad())
        {
            H.Close(loaded.Call(x.Cuda()).Cpu(), Data("eval_forward"), 1e-3, 1e-3, "loaded on CUDA");
            H.Close(moved.Call(x.Cuda()).Cpu(), Data("eval_forward"), 1e-3, 1e-3, "moved to CUDA");
        }
    }
}
