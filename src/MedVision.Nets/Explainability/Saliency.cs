using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Saliency maps (Simonyan, Vedaldi and Zisserman, "Deep Inside Convolutional Networks", ICLR 2014 workshop; Captum's
/// <c>Saliency</c>, MONAI's <c>VanillaGrad</c>): the gradient of the target logit with respect to each input element,
/// by default its absolute value. One forward and one backward pass per batch.
/// </summary>
/// <remarks>The model must be in evaluation mode; its parameters' gradients are left untouched.</remarks>
public sealed class Saliency
{
    private readonly InputGradients _gradients;

    /// <summary>Saliency of a classifier's logits.</summary>
    /// <param name="model">The classifier (logits (N, classes)), in evaluation mode.</param>
    public Saliency(Module<Tensor, Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _gradients = new InputGradients(model.Call, model, nameof(Saliency));
    }

    /// <summary>Saliency of the logits (N, classes) a function computes from an input batch.</summary>
    /// <param name="forward">The function.</param>
    public Saliency(Func<Tensor, Tensor> forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        _gradients = new InputGradients(forward, null, nameof(Saliency));
    }

    /// <summary>The gradients of every sample of <paramref name="input"/> for its target class, of the input's shape, type and device.</summary>
    /// <param name="input">The preprocessed batch, floating point, (N, C, H, W), (N, C, D, H, W) or (N, …).</param>
    /// <param name="targetClasses">The class per sample; null for each sample's predicted class.</param>
    /// <param name="absolute">Return the gradients' absolute values (Captum's default) rather than the signed gradients.</param>
    /// <exception cref="ArgumentException">The batch or targets do not fit, or the batch holds NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode, or its output is not logits (N, classes).</exception>
    public Attributions Compute(Tensor input, IReadOnlyList<long>? targetClasses = null, bool absolute = true)
    {
        _gradients.Check(input, targetClasses);
        using var scope = Tensors.NewDisposeScope();
        var (classes, scores) = InputGradients.Targets(_gradients.Logits(input), targetClasses);
        var gradient = _gradients.Gradient(input, classes);
        if (absolute) gradient = gradient.Abs();
        return new Attributions(scope.MoveToOuter(gradient), classes, scores);
    }
}
