using MedVision.Torch;

namespace MedVision.Torch.Tests.Support;

/// <summary>
/// Compares autograd gradients with central finite differences in float64. The function's output is contracted
/// with fixed random weights R so that every output element contributes: L(x) = Σ f(x)·R.
/// </summary>
public static class GradCheck
{
    public sealed record Input(double[] Data, long[] Shape, bool Differentiable = true);

    public static void Run(Func<Tensor[], Tensor> f, params Input[] inputs) => Run(f, 1e-6, 1e-5, 1e-4, inputs);

    public static void Run(Func<Tensor[], Tensor> f, double h, double atol, double rtol, params Input[] inputs)
    {
        using var scope = Tensors.NewDisposeScope();
        var leaves = inputs.Select(i => Tensors.FromArray((double[])i.Data.Clone(), i.Shape)).ToArray();
        for (int i = 0; i < leaves.Length; i++) if (inputs[i].Differentiable) leaves[i].RequiresGrad = true;
        var output = f(leaves);
        output.ScalarType.Should().Be(ScalarType.Float64);
        var r = Tensors.FromArray(H.Uniform((int)output.NumElements, 1234, 0.5, 1.5), output.Shape.Length == 0 ? new[] { 1L } : output.Shape);
        if (output.Shape.Length == 0) r = r.Reshape();
        var loss = (output * r).Sum();
        loss.Backward();

        double L(double[][] values)
        {
            using var s = Tensors.NewDisposeScope();
            using var ng = Tensors.NoGrad();
            var ts = values.Select((v, k) => Tensors.FromArray(v, inputs[k].Shape)).ToArray();
            return (f(ts) * r).Sum().Item();
        }

        for (int k = 0; k < inputs.Length; k++)
        {
            if (!inputs[k].Differentiable) continue;
            var grad = leaves[k].Grad;
            grad.Should().NotBeNull($"input {k} requires a gradient");
            var analytic = grad!.ToArray<double>();
            var numeric = new double[analytic.Length];
            var values = inputs.Select(i => (double[])i.Data.Clone()).ToArray();
            for (int j = 0; j < numeric.Length; j++)
            {
                var orig = values[k][j];
                values[k][j] = orig + h;
                var plus = L(values);
                values[k][j] = orig - h;
                var minus = L(values);
                values[k][j] = orig;
                numeric[j] = (plus - minus) / (2 * h);
            }
            H.Close(analytic, numeric, atol, rtol, $"gradient of input {k}");
        }
    }
}
