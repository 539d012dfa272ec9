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
}
