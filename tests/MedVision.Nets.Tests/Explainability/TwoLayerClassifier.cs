using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Explainability;

/// <summary>
/// Logits (N, 3) = W2 relu(W1 x + b1) over each sample's 4 elements (W1 5×4, W2 3×5; b1 zero unless asked for), in the
/// input's type, with an in-place ReLU: small enough to differentiate by hand, with hidden units of both signs.
/// </summary>
internal sealed class TwoLayerClassifier : Module<Tensor, Tensor>
{
    public static readonly double[,] W1 =
    {
        { 0.5, -1.0, 0.25, 2.0 }, { -1.5, 0.5, 1.0, -0.5 }, { 1.0, 1.0, -2.0, 0.5 }, { 0.25, -0.75, 0.5, 1.5 }, { -0.5, 2.0, 1.5, -1.0 },
    };
    public static readonly double[,] W2 = { { 1.0, -2.0, 0.5, -1.5, 3.0 }, { -0.5, 1.5, -1.0, 2.0, -0.25 }, { 2.0, 0.5, -3.0, -1.0, 1.0 } };
    public static readonly double[] Bias = { 0.1, -0.2, 0.3, 0.0, -0.4 };

    private readonly double[] _b1;

    /// <param name="withBias">Use <see cref="Bias"/> as b1 (zero otherwise).</param>
    public TwoLayerClassifier(bool withBias = false) => _b1 = withBias ? Bias : new double[5];

    private static Tensor Of(double[,] w)
    {
        var flat = new double[w.Length];
        Buffer.BlockCopy(w, 0, flat, 0, flat.Length * sizeof(double));
        return Tensors.FromArray(flat, w.GetLength(0), w.GetLength(1));
    }

    public override Tensor Forward(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        var t = input.ScalarType;
        var hidden = Functional.Linear(input.Reshape(input.Size(0), 4), Of(W1).To(t), Tensors.FromArray(_b1).To(t)).ReluInPlace();
        return scope.MoveToOuter(Functional.Linear(hidden, Of(W2).To(t)));
    }

    /// <summary>W1 x + b1, before the ReLU.</summary>
    public double[] Hidden(double[] x) => Enumerable.Range(0, 5).Select(i => _b1[i] + Enumerable.Range(0, 4).Sum(j => W1[i, j] * x[j])).ToArray();

    /// <summary>The logit of class <paramref name="target"/>.</summary>
    public double Logit(double[] x, int target) => Hidden(x).Select((h, i) => W2[target, i] * Math.Max(h, 0)).Sum();
}
