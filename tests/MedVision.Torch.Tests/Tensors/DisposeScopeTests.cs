using MedVision.Torch;

namespace MedVision.Torch.Tests;

[Collection(NativeMemoryCollection.Name)]
public class DisposeScopeTests
{
    [Fact]
    public void Scope_DisposesIntermediates()
    {
        Tensors.CollectUnreachable(); // garbage of earlier tests must not be finalized during the count
        var before = Tensors.LiveTensors;
        Tensor kept;
        using (var scope = Tensors.NewDisposeScope())
        {
            var a = Tensors.Ones(3, 3);
            var b = a * 2 + 1;
            kept = scope.MoveToOuter(b.Relu());
        }
        Tensors.LiveTensors.Should().Be(before + 1);
        kept.ToArray<float>().Should().AllBeEquivalentTo(3f);
        kept.Dispose();
        Tensors.LiveTensors.Should().Be(before);
    }
}
