using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Tests.Nn;

public class ForwardHookTests
{
    private sealed class TwoLayers : Module<Tensor, Tensor>
    {
        public readonly Linear First;
        public readonly Linear Second;

        public TwoLayers()
        {
            First = RegisterModule("first", new Linear(3, 4));
            Second = RegisterModule("second", new Linear(4, 2));
        }

        public override Tensor Forward(Tensor input)
        {
            using var scope = Tensors.NewDisposeScope();
            return scope.MoveToOuter(Second.Call(First.Call(input).Relu()));
        }
    }

    [Fact]
    public void Hook_SeesModuleInputAndOutput_InRegistrationOrder_UntilRemoved()
    {
        using var model = new TwoLayers();
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(5, 3);
        var calls = new List<string>();
        long[]? seenInput = null, seenOutput = null;
        var first = model.First.RegisterForwardHook((m, input, output) =>
        {
            m.Should().BeSameAs(model.First);
            seenInput = input.Shape.ToArray();
            seenOutput = output.Shape.ToArray();
            calls.Add("a");
        });
        var second = model.First.RegisterForwardHook((_, _, _) => calls.Add("b"));
        model.First.ForwardHookCount.Should().Be(2);

        model.Call(x);
        calls.Should().Equal("a", "b");
        seenInput.Should().Equal(5, 3);
        seenOutput.Should().Equal(5, 4);

        first.Dispose();
        first.Dispose(); // removing twice is harmless
        model.Call(x);
        calls.Should().Equal("a", "b", "b");
        second.Dispose();
        model.First.ForwardHookCount.Should().Be(0);
        model.Call(x);
        calls.Should().HaveCount(3);
    }

    [Fact]
    public void Hook_RunsDuringSummaries_AndOnlyThroughCall()
    {
        using var model = new TwoLayers();
        int calls = 0;
        using var hook = model.Second.RegisterForwardHook((_, _, _) => calls++);
        ModelSummary.Create(model, 1, 3);
        calls.Should().Be(1);
        using var scope = Tensors.NewDisposeScope();
        model.Second.Forward(Tensors.Randn(1, 4));
        calls.Should().Be(1, "Forward is the bare computation; hooks run through Call");
    }

    [Fact]
    public void AliasKeptByAHook_OutlivesTheForwardScope_AndCarriesTheGraph()
    {
        using var model = new TwoLayers();
        Tensor? kept = null;
        using var hook = model.First.RegisterForwardHook((_, _, output) => kept = DisposeScope.Detach(output.Alias()));
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(2, 3);
        var y = model.Call(x).Sum();
        try
        {
            kept.Should().NotBeNull();
            kept!.Shape.Should().Equal(2, 4);
            var gradient = Gradients.Compute(y, kept);
            gradient.Shape.Should().Equal(2, 4);
            // d sum(W2·relu(h) + b2) / dh = (h > 0) · column sums of W2
            var w2 = model.Second.Weight.Sum(0).ToArray<float>();
            var h = kept.ToArray<float>();
            var expected = h.Select((v, i) => v > 0 ? w2[i % 4] : 0f).ToArray();
            gradient.ToArray<float>().Should().BeEquivalentTo(expected, o => o.WithStrictOrdering().Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
        }
        finally
        {
            kept?.Dispose();
        }
    }

    [Fact]
    public void RegisterForwardHook_RejectsNull()
    {
        using var layer = new Linear(2, 2);
        FluentActions.Invoking(() => layer.RegisterForwardHook(null!)).Should().Throw<ArgumentNullException>();
    }
}
