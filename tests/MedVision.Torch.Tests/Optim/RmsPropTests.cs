using MedVision.Torch;
using MedVision.Torch.Optim;

namespace MedVision.Torch.Tests.Optim;

public class RmsPropTests
{
    // Found by FormatFuzzer optim (seed 1): centred RMSprop with α = 0 computes v − ḡ² = g² − g·g, which a fused
    // multiply-add rounds to just below zero for many values; PyTorch's √ of it is NaN and the parameter with it.
    [Fact]
    public void Centered_WithAVarianceRoundedBelowZero_KeepsTheParametersFinite()
    {
        using var scope = Tensors.NewDisposeScope();
        var gradients = Enumerable.Range(1, 256).Select(i => (float)(i * 0.0137)).ToArray();
        var p = Tensors.Zeros(new long[] { gradients.Length }).RequiresGradInPlace();
        using var rms = new RmsProp(new[] { p }, learningRate: 0.01, alpha: 0, epsilon: 1e-3, centered: true);
        for (int step = 0; step < 3; step++)
        {
            using var stepScope = Tensors.NewDisposeScope();
            rms.ZeroGrad();
            (p * Tensors.FromArray(gradients)).Sum().Backward();
            rms.Step();
        }
        var values = p.ToArray<float>();
        values.Should().OnlyContain(v => float.IsFinite(v));
        // Each step moves p by −lr·g / (√r + eps) with r the rounding residual of g² (0 ≤ r ≤ 2⁻²³·g², so
        // √r ≤ 3.5e-4·g): three steps land between −30·g (r = 0) and −30·g / (1 + 0.35·g).
        for (int i = 0; i < values.Length; i++)
        {
            double g = gradients[i];
            ((double)values[i]).Should().BeInRange(-30 * g * (1 + 1e-5), -30 * g / (1 + 0.35 * g) * (1 - 1e-5), $"element {i}");
        }
    }
}
