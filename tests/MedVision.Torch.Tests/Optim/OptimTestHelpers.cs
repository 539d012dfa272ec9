using MedVision.Torch;

namespace MedVision.Torch.Tests.Optim;

internal static class OptimTestHelpers
{
    /// <summary>A float64 leaf parameter (created in the current dispose scope).</summary>
    public static Tensor Parameter(params double[] values) => Torch.FromArray(values).RequiresGradInPlace();

    /// <summary>Sets the gradient of <paramref name="parameter"/> to <paramref name="values"/> (float64).</summary>
    public static void SetGrad(Tensor parameter, params double[] values)
    {
        using var grad = Torch.FromArray(values);
        parameter.Grad = grad;
    }

    public static void ShouldBe(this Tensor tensor, double[] expected, double tolerance = 1e-12)
    {
        var actual = tensor.ToArray<double>();
        actual.Length.Should().Be(expected.Length);
        for (int i = 0; i < expected.Length; i++)
            actual[i].Should().BeApproximately(expected[i], tolerance, $"element {i} of [{string.Join(", ", actual)}]");
    }
}
