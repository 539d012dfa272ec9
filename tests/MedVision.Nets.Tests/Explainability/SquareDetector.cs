using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Explainability;

/// <summary>
/// A classifier whose evidence lies in a known square, for checking maps and their scores by hand: logits (N, 2) =
/// (0, 4 · mean of channel 0 over rows 2–4, columns 3–5 − 2), so class 1's probability is σ(4 · that mean − 2).
/// </summary>
internal sealed class SquareDetector : Module<Tensor, Tensor>
{
    /// <summary>Whether position <paramref name="index"/> of an 8-wide row-major plane lies in the square.</summary>
    public static bool InSquare(int index) => index / 8 is >= 2 and <= 4 && index % 8 is >= 3 and <= 5;

    public override Tensor Forward(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        var evidence = input.Select(1, 0).Narrow(1, 2, 3).Narrow(2, 3, 3).Mean(new long[] { 1, 2 }) * 4 - 2;
        return scope.MoveToOuter(Tensors.Stack(new[] { Tensors.ZerosLike(evidence), evidence }, 1));
    }
}
