using MedVision.Torch;

namespace MedVision.Nets.Training;

/// <summary>The two batch-mixing regularisers.</summary>
public enum BatchMixingKind
{
    /// <summary>mixup (Zhang et al., ICLR 2018): λ·x_i + (1 − λ)·x_j, labels mixed with the same λ.</summary>
    Mixup,

    /// <summary>CutMix (Yun et al., ICCV 2019): a box of x_j pasted into x_i, labels mixed by the box's area.</summary>
    CutMix,
}

/// <summary>
/// Batch-level augmentation for classification training (mixup or CutMix): each training batch is mixed with a
/// shuffled copy of itself, and the loss becomes λ·L(y_i) + (1 − λ)·L(y_j) (for multi-label tasks, the BCE of the
/// mixed label vectors), with λ drawn from Beta(α, α). Attach it with <see cref="ClassificationTask.WithBatchMixing"/>;
/// evaluation and prediction are never mixed.
/// </summary>
/// <remarks>
/// Draws come from libtorch's generator, which the trainer seeds and checkpoints: runs are reproducible and resume
/// exactly. For CutMix, λ is corrected to the pasted box's exact area after clipping at the image border, as in the
/// paper's code. Works for images (N, C, H, W) and volumes (N, C, D, H, W; the box is a cuboid).
/// </remarks>
public sealed class BatchMixing
{
    private BatchMixing(BatchMixingKind kind, double alpha, double probability)
    {
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α of the Beta(α, α) distribution must be positive and finite.");
        if (!(probability > 0 && probability <= 1)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "The probability of mixing a batch must lie in (0, 1].");
        Kind = kind;
        Alpha = alpha;
        Probability = probability;
    }

    /// <summary>mixup with λ ~ Beta(α, α) (the paper uses α between 0.1 and 0.4 for ImageNet).</summary>
    /// <param name="alpha">α of the Beta distribution; small values keep most images nearly unmixed.</param>
    /// <param name="probability">The probability that a batch is mixed at all.</param>
    public static BatchMixing Mixup(double alpha = 0.2, double probability = 1.0) => new(BatchMixingKind.Mixup, alpha, probability);

    /// <summary>CutMix with λ ~ Beta(α, α) (the paper uses α = 1: a uniform box area).</summary>
    /// <param name="alpha">α of the Beta distribution.</param>
    /// <param name="probability">The probability that a batch is mixed at all (the paper's cutmix_prob).</param>
    public static BatchMixing CutMix(double alpha = 1.0, double probability = 1.0) => new(BatchMixingKind.CutMix, alpha, probability);

    /// <summary>mixup or CutMix.</summary>
    public BatchMixingKind Kind { get; }

    /// <summary>α of the Beta(α, α) distribution of λ.</summary>
    public double Alpha { get; }

    /// <summary>The probability that a batch is mixed.</summary>
    public double Probability { get; }

    /// <summary>
    /// Mixes a batch: the mixed images (in the current dispose scope), the partner index of each sample (a
    /// permutation) and λ, the weight of each sample's own label. Null when this batch is left unmixed
    /// (<see cref="Probability"/> &lt; 1) or holds a single sample.
    /// </summary>
    public (Tensor Images, Tensor Partners, double Lambda)? Apply(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Dim is not (4 or 5)) throw new ArgumentException($"Batch mixing takes (N, C, H, W) or (N, C, D, H, W) batches, not [{string.Join(", ", images.Shape)}].", nameof(images));
        long n = images.Size(0);
        if (n < 2) return null;
        if (Probability < 1 && Uniform() >= Probability) return null;
        double lambda = SampleBeta(Alpha);
        var partners = Tensors.RandPerm(n, images.Device);
        using var partnerImages = images.IndexSelect(0, partners);
        if (Kind == BatchMixingKind.Mixup) return (images * lambda + partnerImages * (1 - lambda), partners, lambda);

        // CutMix: a box whose sides are √(1 − λ) (cube root for volumes) of the image's, centred uniformly
        int spatial = images.Dim - 2;
        var size = images.Shape.Skip(2).ToArray();
        double side = Math.Pow(1 - lambda, 1.0 / spatial);
        var start = new long[spatial];
        var length = new long[spatial];
        for (int d = 0; d < spatial; d++)
        {
            long extent = (long)(size[d] * side);
            long centre = Math.Min((long)(Uniform() * size[d]), size[d] - 1);
            long low = Math.Clamp(centre - extent / 2, 0, size[d]), high = Math.Clamp(centre + extent / 2, 0, size[d]);
            start[d] = low;
            length[d] = high - low;
        }
        var mixed = images.Clone();
        if (length.All(l => l > 0))
        {
            var target = mixed;
            var source = partnerImages;
            for (int d = 0; d < spatial; d++)
            {
                target = target.Narrow(d + 2, start[d], length[d]);
                source = source.Narrow(d + 2, start[d], length[d]);
            }
            using (Tensors.NoGrad()) target.CopyInPlace(source);
        }
        double area = length.Aggregate(1.0, (a, l) => a * l) / size.Aggregate(1.0, (a, s) => a * s);
        return (mixed, partners, 1 - area);
    }

    private static double Uniform()
    {
        using var u = Tensors.Rand(1);
        return u.Item();
    }

    private static double Normal()
    {
        using var z = Tensors.Randn(1);
        return z.Item();
    }

    // Beta(α, α) as G₁ / (G₁ + G₂) with Gamma(α, 1) draws (Marsaglia and Tsang's method; for α < 1 the boost
    // Gamma(α) = Gamma(α + 1)·U^(1/α)), all from libtorch's generator.
    internal static double SampleBeta(double alpha)
    {
        double g1 = SampleGamma(alpha), g2 = SampleGamma(alpha);
        return g1 + g2 > 0 ? g1 / (g1 + g2) : 0.5;
    }

    private static double SampleGamma(double shape)
    {
        if (shape < 1) return SampleGamma(shape + 1) * Math.Pow(Math.Max(Uniform(), double.Epsilon), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = Normal(), v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = Uniform();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(Math.Max(u, double.Epsilon)) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }
}
