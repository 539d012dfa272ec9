using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Deconvolution maps (Zeiler and Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014; Captum's
/// <c>Deconvolution</c>): the target logit's "gradient" with respect to the input when each ReLU passes back only the
/// positive part of what reaches it, whatever its forward input was (<see cref="ReluGradient.Deconvolution"/>). One
/// forward and one backward pass per batch.
/// </summary>
/// <remarks>
/// The model must be in evaluation mode and its forward pass must record ReLUs through this library (see
/// <see cref="GuidedBackprop"/>, whose caveats apply more strongly: with the ReLU masks gone, the map depends on the
/// input only through max-pooling switches and the network's linear layers).
/// </remarks>
public sealed class Deconvolution
{
    private readonly InputGradients _gradients;

    /// <summary>Deconvolution maps of a classifier's logits.</summary>
    /// <param name="model">The classifier (logits (N, classes)), in evaluation mode.</param>
    public Deconvolution(Module<Tensor, Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _gradients = new InputGradients(model.Call, model, nameof(Deconvolution));
    }

    /// <summary>Deconvolution maps of the logits (N, classes) a function computes from an input batch.</summary>
    /// <param name="forward">The function.</param>
    public Deconvolution(Func<Tensor, Tensor> forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        _gradients = new InputGradients(forward, null, nameof(Deconvolution));
    }

    /// <summary>The deconvolution maps of every sample of <paramref name="input"/> for its target class (signed), of the input's shape, type and device.</summary>
    /// <param name="input">The preprocessed batch, floating point, (N, C, H, W), (N, C, D, H, W) or (N, …).</param>
    /// <param name="targetClasses">The class per sample; null for each sample's predicted class.</param>
    /// <exception cref="ArgumentException">The batch or targets do not fit, or the batch holds NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode, its output is not logits (N, classes), or its forward pass records no ReLU.</exception>
    public Attributions Compute(Tensor input, IReadOnlyList<long>? targetClasses = null) =>
        InputGradients.GuidedAttributions(_gradients, input, targetClasses, ReluGradient.Deconvolution);
}
