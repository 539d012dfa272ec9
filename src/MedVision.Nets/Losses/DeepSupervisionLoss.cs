using MedVision.Torch;

namespace MedVision.Nets.Losses;

/// <summary>How <see cref="DeepSupervisionLoss"/> weights the outputs, full resolution first.</summary>
public enum DeepSupervisionWeighting
{
    /// <summary>1, 1/2, 1/4, … normalised to sum to 1: nnU-Net's weights, and MONAI's <c>weight_mode="exp"</c>.</summary>
    Exponential,
    /// <summary>Equal weights summing to 1 (MONAI's <c>weight_mode="same"</c>, up to its normalisation).</summary>
    Equal,
}

/// <summary>
/// Deep supervision (Lee et al., "Deeply-Supervised Nets", 2015; nnU-Net): a segmentation loss applied to the logits of
/// every decoder resolution — from <see cref="Models.UNet.ForwardWithDeepSupervision"/> — each against the labels
/// downsampled to its size by nearest neighbour (every 2nd, 4th… voxel, as PyTorch's nearest interpolation picks them),
/// and summed with weights. As MONAI's <c>DeepSupervisionLoss</c> and nnU-Net's <c>DeepSupervisionWrapper</c>.
/// </summary>
public static class DeepSupervisionLoss
{
    /// <summary>The weights of <paramref name="outputs"/> outputs, full resolution first, summing to 1: for three exponential ones 4/7, 2/7, 1/7.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one output, or more than 30.</exception>
    public static double[] Weights(int outputs, DeepSupervisionWeighting weighting = DeepSupervisionWeighting.Exponential)
    {
        if (outputs is < 1 or > 30) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "Deep supervision weights 1 to 30 outputs.");
        if (!Enum.IsDefined(weighting)) throw new ArgumentOutOfRangeException(nameof(weighting), weighting, "Unknown weighting.");
        var weights = Enumerable.Range(0, outputs).Select(i => weighting == DeepSupervisionWeighting.Equal ? 1.0 : Math.Pow(0.5, i)).ToArray();
        double sum = weights.Sum();
        return weights.Select(w => w / sum).ToArray();
    }

    /// <summary>
    /// Σᵢ wᵢ · <paramref name="loss"/>(outputs[i], labels downsampled to outputs[i]'s size).
    /// </summary>
    /// <param name="outputs">Logits (N, C, spatial…), full resolution first, each spatial size of output i dividing the labels' (e.g. halving from one to the next).</param>
    /// <param name="target">The labels at full resolution: (N, spatial…) class indices, or (N, C, spatial…) one-hot or soft labels.</param>
    /// <param name="loss">The loss of one output and its labels, e.g. <see cref="DiceLoss.WithCrossEntropy"/>.</param>
    /// <param name="weights">One non-negative weight per output, not all 0; null for <see cref="Weights"/>' exponential weights.</param>
    /// <exception cref="ArgumentException">No outputs, ranks or sizes that do not fit the labels, or bad weights; the message names them.</exception>
    public static Tensor Compute(IReadOnlyList<Tensor> outputs, Tensor target, Func<Tensor, Tensor, Tensor> loss, IReadOnlyList<double>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(loss);
        if (outputs.Count == 0) throw new ArgumentException("Deep supervision needs at least one output.", nameof(outputs));
        var w = weights?.ToArray() ?? Weights(outputs.Count);
        if (w.Length != outputs.Count)
            throw new ArgumentException($"{w.Length} weight(s) were given for {outputs.Count} outputs.", nameof(weights));
        if (w.Any(x => !(x >= 0) || double.IsInfinity(x)) || w.All(x => x == 0))
            throw new ArgumentException($"The weights must be finite, non-negative and not all 0; got [{string.Join(", ", w)}].", nameof(weights));
        using var scope = Tensors.NewDisposeScope();
        Tensor? total = null;
        for (int i = 0; i < outputs.Count; i++)
        {
            if (w[i] == 0) continue;
            var term = loss(outputs[i] ?? throw new ArgumentException($"Output {i} is null.", nameof(outputs)), Downsample(outputs[i], target, i)) * w[i];
            total = total is null ? term : total + term;
        }
        return scope.MoveToOuter(total!);
    }

    // The target's last S dims (S = the output's spatial rank) taken every k-th element from 0, k = target size / output size.
    private static Tensor Downsample(Tensor output, Tensor target, int index)
    {
        int spatial = output.Dim - 2;
        if (spatial < 1 || (target.Dim != spatial + 1 && target.Dim != spatial + 2))
            throw new ArgumentException(
                $"Output {index} has shape [{string.Join(", ", output.Shape)}], so the labels must be (N, spatial…) or (N, C, spatial…) of {spatial} spatial dimension(s); they are [{string.Join(", ", target.Shape)}].",
                nameof(target));
        var result = target;
        for (int d = 0; d < spatial; d++)
        {
            int dim = target.Dim - spatial + d;
            long full = target.Size(dim), size = output.Size(2 + d);
            if (size < 1 || full % size != 0)
                throw new ArgumentException(
                    $"Output {index} has spatial size [{string.Join(", ", output.Shape.Skip(2))}], which does not divide the labels' [{string.Join(", ", target.Shape.Skip(target.Dim - spatial))}].",
                    "outputs");
            long stride = full / size;
            if (stride > 1) result = result.Slice(dim, 0, full, stride);
        }
        return result;
    }
}
