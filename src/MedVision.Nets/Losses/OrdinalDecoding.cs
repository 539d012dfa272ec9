using MedVision.Torch;

namespace MedVision.Nets.Losses;

/// <summary>Turns cumulative ordinal logits (N, K−1) into grades and per-class probabilities (N, K), so ordinal heads plug into the same evaluators as classifiers.</summary>
public static class OrdinalDecoding
{
    /// <summary>Grade = number of thresholds with P(grade &gt; k) &gt; 0.5 (int64, shape N).</summary>
    public static Tensor ToGrades(Tensor cumulativeLogits)
    {
        ArgumentNullException.ThrowIfNull(cumulativeLogits);
        using var scope = Tensors.NewDisposeScope();
        var above = cumulativeLogits > 0.0;
        var grades = above.To(ScalarType.Int64).Sum(1);
        return scope.MoveToOuter(grades);
    }

    /// <summary>
    /// Per-class probabilities from cumulative probabilities p_k = P(grade &gt; k): P(0) = 1 − p_0, P(k) = p_{k−1} − p_k,
    /// P(K−1) = p_{K−2}. Negative differences (possible when thresholds cross) are clamped to 0 and rows renormalised.
    /// </summary>
    public static Tensor ToClassProbabilities(Tensor cumulativeLogits)
    {
        ArgumentNullException.ThrowIfNull(cumulativeLogits);
        if (cumulativeLogits.Dim != 2) throw new ArgumentException("Cumulative logits must be (N, K-1).", nameof(cumulativeLogits));
        using var scope = Tensors.NewDisposeScope();
        var p = cumulativeLogits.Sigmoid();
        var n = p.Size(0);
        var ones = Tensors.Ones(new[] { n, 1L }, p.ScalarType, p.Device);
        var zeros = Tensors.Zeros(new[] { n, 1L }, p.ScalarType, p.Device);
        var upper = Tensors.Cat(new[] { ones, p }, 1);
        var lower = Tensors.Cat(new[] { p, zeros }, 1);
        var probs = (upper - lower).Clamp(min: 0.0);
        var normalised = probs / probs.Sum(1, keepDim: true).Clamp(min: 1e-12);
        return scope.MoveToOuter(normalised);
    }
}
