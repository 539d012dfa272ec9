using MedVision.Torch.Native;

namespace MedVision.Torch.Nn;

public static partial class Functional
{
    private static Tensor LossResult(IntPtr handle, string name, Tensor input, Tensor target)
    {
        if (handle != IntPtr.Zero) return Tensor.Wrap(handle);
        var e = TorchException.FromNative(() => $"{name}: input [{string.Join(", ", input.CachedShape)}] ({input.ScalarType}), target [{string.Join(", ", target.CachedShape)}] ({target.ScalarType})");
        throw new ArgumentException(e.Message);
    }

    /// <summary>
    /// Cross-entropy of logits (N, C, …) against class indices (N, …) of type int64 or class probabilities (N, C, …),
    /// with optional class weights, ignore index and label smoothing (torch.nn.functional.cross_entropy).
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0.0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (labelSmoothing is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must lie in [0, 1]");
        return LossResult(NativeMethods.mvt_cross_entropy(Tensor.NotNull(input).Handle, Tensor.NotNull(target).Handle, Tensor.HandleOrZero(weight), (int)Guard.Defined(reduction), ignoreIndex, labelSmoothing), "cross_entropy", input, target);
    }

    /// <summary>Negative log-likelihood of log-probabilities (N, C, …) against class indices (torch.nn.functional.nll_loss).</summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return LossResult(NativeMethods.mvt_nll_loss(Tensor.NotNull(input).Handle, Tensor.NotNull(target).Handle, Tensor.HandleOrZero(weight), (int)Guard.Defined(reduction), ignoreIndex), "nll_loss", input, target);
    }

    /// <summary>Binary cross-entropy on logits, stable, with optional element weights and positive-class weights (torch.nn.functional.binary_cross_entropy_with_logits).</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, Tensor? posWeight = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return LossResult(NativeMethods.mvt_bce_with_logits(Tensor.NotNull(input).Handle, Tensor.NotNull(target).Handle, Tensor.HandleOrZero(weight), Tensor.HandleOrZero(posWeight), (int)Guard.Defined(reduction)), "binary_cross_entropy_with_logits", input, target);
    }

    /// <summary>Binary cross-entropy on probabilities in [0, 1].</summary>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return LossResult(NativeMethods.mvt_bce(Tensor.NotNull(input).Handle, Tensor.NotNull(target).Handle, Tensor.HandleOrZero(weight), (int)Guard.Defined(reduction)), "binary_cross_entropy", input, target);
    }

    /// <summary>Mean squared error.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        => LossResult(NativeMethods.mvt_regression_loss(0, Tensor.NotNull(input).Handle, Tensor.NotNull(target).Handle, (int)Guard.Defined(reduction), 0), "mse_loss", input, target);

    /// <summary>Mean absolute error.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        => LossResult(NativeMethods.mvt_regression_loss(1, Tensor.NotNull(input).Handle, Tensor.NotNull(target).Handle, (int)Guard.Defined(reduction), 0), "l1_loss", input, target);

    /// <summary>Smooth L1: quadratic below <paramref name="beta"/>, linear above.</summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        if (beta < 0) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be non-negative");
        return LossResult(NativeMethods.mvt_regression_loss(2, Tensor.NotNull(input).Handle, Tensor.NotNull(target).Handle, (int)Guard.Defined(reduction), beta), "smooth_l1_loss", input, target);
    }

    /// <summary>Huber loss with threshold <paramref name="delta"/>.</summary>
    public static Tensor HuberLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        if (delta <= 0) throw new ArgumentOutOfRangeException(nameof(delta), delta, "delta must be positive");
        return LossResult(NativeMethods.mvt_regression_loss(3, Tensor.NotNull(input).Handle, Tensor.NotNull(target).Handle, (int)Guard.Defined(reduction), delta), "huber_loss", input, target);
    }

    // The caller has checked its arguments for null (naming them).
    private static Tensor PairLoss(int kind, string name, Tensor a, Tensor b, Tensor? c, Reduction reduction, double margin = 0, double p = 0, double eps = 0, bool flag = false)
    {
        if (!double.IsFinite(margin)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "margin must be finite.");
        var handle = NativeMethods.mvt_pair_loss(kind, Tensor.NotNull(a).Handle, Tensor.NotNull(b).Handle, Tensor.HandleOrZero(c), (int)Guard.Defined(reduction), margin, p, eps, flag ? 1 : 0);
        if (handle != IntPtr.Zero) return Tensor.Wrap(handle);
        var shapes = string.Join(", ", new[] { a, b, c }.Where(t => t is not null).Select(t => $"[{string.Join(", ", t!.CachedShape)}] ({t!.ScalarType})"));
        var e = TorchException.FromNative(() => $"{name}: inputs {shapes}");
        throw new ArgumentException(e.Message);
    }

    /// <summary>
    /// The Kullback–Leibler divergence of <paramref name="target"/> from the distribution whose log-probabilities are
    /// <paramref name="input"/>: pointwise target·(log target − input) (torch.nn.functional.kl_div; with
    /// <paramref name="logTarget"/> the target is given as log-probabilities too). Use
    /// <see cref="KlDivReduction.BatchMean"/> for the divergence per sample (knowledge distillation, label distributions);
    /// PyTorch's default, <see cref="KlDivReduction.Mean"/>, also divides by the number of classes.
    /// </summary>
    public static Tensor KlDiv(Tensor input, Tensor target, KlDivReduction reduction = KlDivReduction.Mean, bool logTarget = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (reduction != KlDivReduction.BatchMean) return PairLoss(0, "kl_div", input, target, null, (Reduction)Guard.Defined(reduction), flag: logTarget);
        var sum = PairLoss(0, "kl_div", input, target, null, Reduction.Sum, flag: logTarget);
        if (input.Dim == 0) return sum;
        using (sum) return sum / input.CachedShape[0];
    }

    /// <summary>
    /// Margin ranking loss max(0, −y·(x1 − x2) + margin) for targets y of ±1: x1 should rank above x2 where y = 1 and
    /// below where y = −1 (torch.nn.functional.margin_ranking_loss).
    /// </summary>
    public static Tensor MarginRankingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input1);
        ArgumentNullException.ThrowIfNull(input2);
        ArgumentNullException.ThrowIfNull(target);
        if (input1.Dim != input2.Dim || input1.Dim != target.Dim)
            throw new ArgumentException($"margin_ranking_loss: all inputs need the same number of dimensions; got {input1.Dim}, {input2.Dim} and {target.Dim} (target).");
        return PairLoss(1, "margin_ranking_loss", input1, input2, target, reduction, margin);
    }

    /// <summary>
    /// Cosine embedding loss of pairs of rows: 1 − cos(x1, x2) where y = 1 and max(0, cos(x1, x2) − margin) where
    /// y = −1 (torch.nn.functional.cosine_embedding_loss); inputs (N, D) or (D), targets (N) or scalar.
    /// </summary>
    public static Tensor CosineEmbeddingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input1);
        ArgumentNullException.ThrowIfNull(input2);
        ArgumentNullException.ThrowIfNull(target);
        return PairLoss(2, "cosine_embedding_loss", input1, input2, target, reduction, margin);
    }

    /// <summary>
    /// Triplet margin loss max(d(a, p) − d(a, n) + margin, 0) with the p-norm distance d (torch.nn.functional.triplet_margin_loss):
    /// an anchor should lie closer to its positive than to its negative by the margin. With <paramref name="swap"/> the
    /// negative's distance is the smaller of d(a, n) and d(p, n) (Balntas et al.). Inputs (N, D) or (D).
    /// </summary>
    /// <param name="anchor">The anchors.</param>
    /// <param name="positive">Samples of the anchors' classes.</param>
    /// <param name="negative">Samples of other classes.</param>
    /// <param name="margin">The required gap between the distances.</param>
    /// <param name="p">The norm of the distance (&gt; 0; 2: Euclidean).</param>
    /// <param name="eps">Added to the differences before the norm, for a finite gradient at zero distance.</param>
    /// <param name="swap">Whether the distance swap is used.</param>
    /// <param name="reduction">How the per-triplet losses are reduced.</param>
    public static Tensor TripletMarginLoss(Tensor anchor, Tensor positive, Tensor negative, double margin = 1.0, double p = 2, double eps = 1e-6, bool swap = false, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        ArgumentNullException.ThrowIfNull(positive);
        ArgumentNullException.ThrowIfNull(negative);
        if (!(p > 0) || !double.IsFinite(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must be a finite value > 0.");
        if (!(eps >= 0) || !double.IsFinite(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be a finite value ≥ 0.");
        if (anchor.Dim != positive.Dim || anchor.Dim != negative.Dim)
            throw new ArgumentException($"triplet_margin_loss: the anchor, positive and negative need the same number of dimensions; got {anchor.Dim}, {positive.Dim} and {negative.Dim}.");
        return PairLoss(3, "triplet_margin_loss", anchor, positive, negative, reduction, margin, p, eps, swap);
    }

    /// <summary>
    /// Hinge embedding loss: x where y = 1 and max(0, margin − x) where y = −1, for distances x
    /// (torch.nn.functional.hinge_embedding_loss).
    /// </summary>
    public static Tensor HingeEmbeddingLoss(Tensor input, Tensor target, double margin = 1.0, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return PairLoss(4, "hinge_embedding_loss", input, target, null, reduction, margin);
    }

    /// <summary>Soft margin loss log(1 + exp(−y·x)) for targets of ±1 (torch.nn.functional.soft_margin_loss).</summary>
    public static Tensor SoftMarginLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return PairLoss(5, "soft_margin_loss", input, target, null, reduction);
    }
}
