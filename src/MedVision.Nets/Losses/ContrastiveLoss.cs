using MedVision.Torch;

namespace MedVision.Nets.Losses;


/// <summary>
/// The margin-based contrastive loss of Hadsell, Chopra and LeCun ("Dimensionality Reduction by Learning an Invariant
/// Mapping", CVPR 2006): for a pair at distance d, ½·d² when the pair is similar and ½·max(0, m − d)² when it is not,
/// averaged over the batch. Similar pairs are pulled together; dissimilar ones are pushed at least the margin apart.
/// </summary>
public sealed class ContrastiveLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="margin">The distance beyond which dissimilar pairs cost nothing; positive. Default 1.</param>
    public ContrastiveLoss(double margin = 1.0)
    {
        if (!(margin > 0) || double.IsInfinity(margin)) throw new ArgumentException($"The margin must be positive and finite, got {margin}.", nameof(margin));
        Margin = margin;
    }

    /// <summary>The margin m.</summary>
    public double Margin { get; }

    /// <summary>The mean loss of distances (N) against similarity labels (N): 1 for a similar pair, 0 for a dissimilar one (any numeric type).</summary>
    public Tensor Compute(Tensor distance, Tensor similar)
    {
        ArgumentNullException.ThrowIfNull(distance);
        ArgumentNullException.ThrowIfNull(similar);
        if (!distance.Shape.SequenceEqual(similar.Shape))
            throw new ArgumentException($"Distances [{string.Join(", ", distance.Shape)}] and labels [{string.Join(", ", similar.Shape)}] must have the same shape.", nameof(similar));
        using var scope = Tensors.NewDisposeScope();
        var y = similar.To(distance.ScalarType);
        var pull = distance.Square();
        var gap = Margin - distance;
        var push = gap.Clamp(min: 0).Square();
        var dissimilar = 1.0 - y;
        var perPair = (y * pull + dissimilar * push) * 0.5;
        var loss = perPair.Mean();
        return scope.MoveToOuter(loss);
    }
}
