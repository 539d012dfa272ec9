using System.Globalization;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Losses;

/// <summary>
/// Focal loss (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017): cross-entropy scaled by
/// (1 − p_t)^γ, which shrinks the loss of examples the model already gets right with confidence and so puts the
/// gradient on the hard and the rare ones, an alternative to class weights or balanced sampling for imbalanced data.
/// </summary>
public static class FocalLoss
{
    /// <summary>
    /// The multi-class (softmax) focal loss of logits (N, C) against class indices (N):
    /// −w_y · (1 − p_y)^γ · log p_y per sample. With γ = 0 it equals <see cref="Functional.CrossEntropy"/> with the
    /// same class weights and reduction (the mean is weighted by w_y, as PyTorch's cross-entropy is).
    /// </summary>
    /// <param name="logits">Unnormalised scores (N, C).</param>
    /// <param name="target">Class indices (N), int64, in [0, C).</param>
    /// <param name="gamma">The focusing parameter γ ≥ 0 (the paper's default 2).</param>
    /// <param name="weight">Optional per-class weights α (C).</param>
    /// <param name="reduction">Mean (default), sum, or none (one value per sample).</param>
    public static Tensor Softmax(Tensor logits, Tensor target, double gamma = 2.0, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(target);
        CheckGamma(gamma);
        if (logits.Dim != 2) throw new ArgumentException($"Focal loss logits must be (N, C), got [{string.Join(", ", logits.Shape)}].", nameof(logits));
        if (target.Dim != 1 || target.Size(0) != logits.Size(0))
            throw new ArgumentException($"Targets must be (N) = ({logits.Size(0)}) class indices, got [{string.Join(", ", target.Shape)}].", nameof(target));
        if (target.ScalarType != ScalarType.Int64) throw new ArgumentException($"Targets must be int64 class indices, got {target.ScalarType}.", nameof(target));
        long classes = logits.Size(1);
        if (weight is not null && (weight.Dim != 1 || weight.Size(0) != classes))
            throw new ArgumentException($"Class weights must be ({classes}), got [{string.Join(", ", weight.Shape)}].", nameof(weight));
        using var scope = Tensors.NewDisposeScope();
        if (target.NumElements > 0)
        {
            long min = target.Min().Item<long>(), max = target.Max().Item<long>();
            if (min < 0 || max >= classes)
                throw new ArgumentOutOfRangeException(nameof(target), string.Create(CultureInfo.InvariantCulture, $"Target class {(min < 0 ? min : max)} is outside [0, {classes})."));
        }

        var logPt = logits.LogSoftmax(1).Gather(1, target.Unsqueeze(1)).Squeeze(1);
        var perSample = -(1 - logPt.Exp()).Pow(gamma) * logPt;
        Tensor result;
        if (weight is null)
        {
            result = Reduce(perSample, reduction);
        }
        else
        {
            var w = weight.To(logits.ScalarType).IndexSelect(0, target);
            var weighted = perSample * w;
            result = reduction == Reduction.Mean ? weighted.Sum() / w.Sum() : Reduce(weighted, reduction);
        }
        return scope.MoveToOuter(result);
    }

    /// <summary>
    /// The binary (sigmoid) focal loss of logits against 0/1 targets of the same shape, element by element, as
    /// torchvision.ops.sigmoid_focal_loss computes it: BCE · (1 − p_t)^γ, times α for positives and 1 − α for
    /// negatives. For binary and multi-label outputs.
    /// </summary>
    /// <param name="logits">Logits of any shape.</param>
    /// <param name="target">0/1 (or soft) targets of the same shape, floating point.</param>
    /// <param name="alpha">The positives' weight in [0, 1] (torchvision's default 0.25); null for no weighting.</param>
    /// <param name="gamma">The focusing parameter γ ≥ 0.</param>
    /// <param name="reduction">None (torchvision's default, one value per element), mean or sum.</param>
    public static Tensor Sigmoid(Tensor logits, Tensor target, double? alpha = 0.25, double gamma = 2.0, Reduction reduction = Reduction.None)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(target);
        CheckGamma(gamma);
        if (alpha is { } a && !(a >= 0 && a <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must lie in [0, 1] (or be null for no weighting).");
        if (!logits.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException($"Targets [{string.Join(", ", target.Shape)}] must have the logits' shape [{string.Join(", ", logits.Shape)}].", nameof(target));
        using var scope = Tensors.NewDisposeScope();
        var t = target.To(logits.ScalarType);
        var p = logits.Sigmoid();
        var bce = Functional.BinaryCrossEntropyWithLogits(logits, t, reduction: Reduction.None);
        var pT = (p * t) + ((1 - p) * (1 - t));
        var loss = bce * (1 - pT).Pow(gamma);
        if (alpha is { } weightOfPositives) loss = loss * ((t * weightOfPositives) + ((1 - t) * (1 - weightOfPositives)));
        return scope.MoveToOuter(Reduce(loss, reduction));
    }

    private static void CheckGamma(double gamma)
    {
        if (!(gamma >= 0) || double.IsInfinity(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be a finite number ≥ 0.");
    }

    private static Tensor Reduce(Tensor values, Reduction reduction) => reduction switch
    {
        Reduction.None => values.Alias(),
        Reduction.Mean => values.Mean(),
        Reduction.Sum => values.Sum(),
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "Unknown reduction."),
    };
}
