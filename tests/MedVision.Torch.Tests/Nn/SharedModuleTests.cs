using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Nn;

/// <summary>
/// A block registered under two names and a weight tied between two layers: PyTorch lists each once in
/// named_modules/named_parameters (so an optimizer steps it once) and under every name in state_dict.
/// </summary>
public class SharedModuleTests
{
    /// <summary>A linear layer (no bias) whose weight is a tensor owned elsewhere: weight tying.</summary>
    private sealed class TiedLinear : Module<Tensor, Tensor>
    {
        public TiedLinear(Tensor weight, long outFeatures)
        {
            RegisterParameter("weight", weight);
            RegisterParameter("bias", Tensors.Zeros(new[] { outFeatures }));
        }

        public Tensor Weight => GetParameter("weight")!;

        public override Tensor Forward(Tensor input) => Functional.Linear(input, Weight, GetParameter("bias"));
    }

    /// <summary>tanh(again(tanh(encoder(x)))) → head(h) + 0.5 tail(h), with again = encoder and tail.weight = head.weight.</summary>
    private sealed class SharedNet : Module<Tensor, Tensor>
    {
        public readonly Linear Encoder, Head;
        public readonly TiedLinear Tail;

        public SharedNet()
        {
            Encoder = RegisterModule("encoder", new Linear(3, 3));
            RegisterModule("again", Encoder);
            Head = RegisterModule("head", new Linear(3, 2));
            Tail = RegisterModule("tail", new TiedLinear(Head.Weight, 2));
        }

        public override Tensor Forward(Tensor input)
        {
            using var scope = Tensors.NewDisposeScope();
            var h = Encoder.Call(Encoder.Call(input).Tanh()).Tanh();
            return scope.MoveToOuter(Head.Call(h) + Tail.Call(h) * 0.5);
        }
    }

    [Fact]
    public void SharedBlocksAndTiedWeights_AreListedOnce_ButStateDictNamesThemAll()
    {
        using var net = new SharedNet();
        net.NamedModules().Select(m => m.Name).Should().Equal("", "encoder", "head", "tail");
        net.NamedModules(removeDuplicate: false).Select(m => m.Name).Should().Equal("", "encoder", "again", "head", "tail");
        net.NamedParameters().Select(p => p.Name).Should().Equal("encoder.weight", "encoder.bias", "head.weight", "head.bias", "tail.bias");
        net.NamedParameters(removeDuplicate: false).Select(p => p.Name).Should()
            .Equal("encoder.weight", "encoder.bias", "again.weight", "again.bias", "head.weight", "head.bias", "tail.weight", "tail.bias");
        net.ParameterCount().Should().Be(9 + 3 + 6 + 2 + 2, "each shared tensor counts once, as sum(p.numel() for p in parameters())");

        var state = net.StateDict();
        state.Keys.Should().Equal("encoder.weight", "encoder.bias", "again.weight", "again.bias", "head.weight", "head.bias", "tail.weight", "tail.bias");
        state["again.weight"].Should().BeSameAs(state["encoder.weight"]);
        state["tail.weight"].Should().BeSameAs(state["head.weight"]);
    }

    [Fact]
    public void AnOptimizer_StepsEachSharedTensorOnce_WithTheSumOfItsGradients()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(3);
        using var net = new SharedNet();
        var x = Tensors.Randn(4, 3);
        using var sgd = new Sgd(net.Parameters(), learningRate: 0.1);
        var before = net.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Detach().Clone());
        net.Call(x).Pow(2).Mean().Backward();
        var grads = net.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.Clone());
        sgd.Step();
        foreach (var (name, p) in net.NamedParameters())
            H.Close(p, before[name] - grads[name] * 0.1, 1e-6, 1e-6, name);
        grads["encoder.weight"].Abs().Sum().Item<float>().Should().BeGreaterThan(0);

        // The gradient of a shared tensor sums both uses: the tied weight's equals head's part plus tail's part.
        net.ZeroGrad();
        var h = net.Encoder.Call(net.Encoder.Call(x).Tanh()).Tanh().Detach();
        var y = net.Head.Call(h) + net.Tail.Call(h) * 0.5;
        y.Pow(2).Mean().Backward();
        using var noGrad = Tensors.NoGrad();
        var upstream = (net.Head.Call(h) + net.Tail.Call(h) * 0.5) * (2.0 / y.NumElements);
        H.Close(net.Head.Weight.Grad!, upstream.T().MatMul(h) * 1.5, 1e-6, 1e-6, "tied weight gradient");
    }

    [Fact]
    public void AnOptimizer_RefusesATensorGivenTwice_NamingWhere()
    {
        using var net = new SharedNet();
        var everyName = net.NamedParameters(removeDuplicate: false).Select(p => p.Parameter).ToList();
        FluentActions.Invoking(() => new Sgd(everyName, 0.1)).Should().Throw<ArgumentException>()
            .WithMessage("Parameter 2 appears more than once in the group*", "again.weight is encoder.weight");
        FluentActions.Invoking(() => new Sgd(new[]
        {
            new SgdParameterGroup(new[] { net.Head.Weight }, 0.1),
            new SgdParameterGroup(new[] { net.Head.Bias!, net.Tail.Weight }, 0.01),
        })).Should().Throw<ArgumentException>().WithMessage("Parameter 1 of group 1 also appears in group 0*");
    }

    [Fact]
    public void AnOptimizerCreatedBeforeTo_KeepsSteppingTheModel_AsInPyTorch()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = new SharedNet();
        var weight = net.Head.Weight;
        using var sgd = new Sgd(net.Parameters(), 0.1);
        var x = Tensors.Randn(4, 3);
        net.Call(x).Pow(2).Mean().Backward();
        net.To(ScalarType.Float64);
        net.Head.Weight.Should().BeSameAs(weight, "To(...) converts in place, as PyTorch's param.data = ...");
        weight.ScalarType.Should().Be(ScalarType.Float64);
        weight.RequiresGrad.Should().BeTrue();
        var grad = weight.Grad!;
        grad.ScalarType.Should().Be(ScalarType.Float64, "the gradient is converted with its parameter");
        var expected = weight - grad * 0.1;
        sgd.Step();
        H.Close(weight, expected, 1e-12, 1e-12, "the step of an optimizer made before To(...)");

        sgd.ZeroGrad();
        net.Call(x.To(ScalarType.Float64)).Pow(2).Mean().Backward();
        weight.Grad!.ScalarType.Should().Be(ScalarType.Float64);
    }

    [Fact]
    public void AnOptimizerOfADisposedModel_SaysSo()
    {
        var net = new SharedNet();
        using var sgd = new Sgd(net.Parameters(), 0.1);
        net.Dispose();
        FluentActions.Invoking(() => sgd.Step()).Should().Throw<InvalidOperationException>()
            .WithMessage("Parameter 0 of group 0 has been disposed*keep the model alive*");
        FluentActions.Invoking(() => sgd.ZeroGrad()).Should().Throw<InvalidOperationException>().WithMessage("Parameter 0 of group 0 has been disposed*");
    }

    [Fact]
    public void Conversion_KeepsSharingAndTying()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = new SharedNet();
        var x = Tensors.Randn(2, 3);
        var expected = net.Call(x).To(ScalarType.Float64);
        net.To(ScalarType.Float64);
        net.Tail.Weight.Should().BeSameAs(net.Head.Weight, "tied weights stay one tensor");
        net.Head.Weight.ScalarType.Should().Be(ScalarType.Float64);
        net.NamedChildren().Single(c => c.Name == "again").Module.Should().BeSameAs(net.Encoder);
        H.Close(net.Call(x.To(ScalarType.Float64)), expected, 1e-6, 1e-6, "forward after conversion");
        net.Head.Weight.RequiresGrad.Should().BeTrue();
    }

    [Fact]
    public void LoadStateDict_WithEveryName_RoundTrips_AndDisposingTwiceIsSafe()
    {
        using var scope = Tensors.NewDisposeScope();
        var source = new SharedNet();
        var snapshot = source.CloneStateDict();
        var target = new SharedNet();
        target.LoadStateDict(snapshot).IsExactMatch.Should().BeTrue();
        foreach (var (name, value) in target.StateDict()) H.Close(value, snapshot[name], 0, 0, name);
        foreach (var t in snapshot.Values) t.Dispose();
        source.Dispose();
        target.Dispose();
        FluentActions.Invoking(() => target.Dispose()).Should().NotThrow();
    }
}
