using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Guided backpropagation (Springenberg et al., "Striving for Simplicity: The All Convolutional Net", ICLR 2015
/// workshop; Captum's <c>GuidedBackprop</c>): the target logit's gradient with respect to the input, with only
/// positive gradients passed back through each ReLU (<see cref="ReluGradient.Guided"/>). Sharp, edge-like maps at the
/// input's resolution; one forward and one backward pass per batch.
/// </summary>
/// <remarks>
/// <para>
/// The model must be in evaluation mode and its forward pass must record ReLUs through this library
/// (<see cref="ReluGradientScope"/>): every ResNet, Siamese and CDSF block here does; a TorchScript module, or a network
/// with only other activations, is refused rather than given a plain gradient. The parameters' gradients are left
/// untouched.
/// </para>
/// <para>
/// Guided backpropagation's maps depend little on the network's upper layers: they survive the randomisation of the
/// classifier (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018; see
/// <see cref="ParameterRandomization"/>), and are close to the same for every class. Read them as where the network
/// sees structure, not as evidence for a class; <see cref="GuidedGradCam"/> adds the class's localisation.
/// </para>
/// </remarks>
public sealed class GuidedBackprop
{
    private readonly InputGradients _gradients;

    /// <summary>Guided backpropagation of a classifier's logits.</summary>
    /// <param name="model">The classifier (logits (N, classes)), in evaluation mode.</param>
    public GuidedBackprop(Module<Tensor, Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _gradients = new InputGradients(model.Call, model, nameof(GuidedBackprop));
    }

    /// <summary>Guided backpropagation of the logits (N, classes) a function computes from an input batch.</summary>
    /// <param name="forward">The function.</param>
    public GuidedBackprop(Func<Tensor, Tensor> forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        _gradients = new InputGradients(forward, null, nameof(GuidedBackprop));
    }

    /// <summary>The guided gradients of every sample of <paramref name="input"/> for its target class (signed, as Captum returns them), of the input's shape, type and device.</summary>
    /// <param name="input">The preprocessed batch, floating point, (N, C, H, W), (N, C, D, H, W) or (N, …).</param>
    /// <param name="targetClasses">The class per sample; null for each sample's predicted class.</param>
    /// <exception cref="ArgumentException">The batch or targets do not fit, or the batch holds NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode, its output is not logits (N, classes), or its forward pass records no ReLU.</exception>
    public Attributions Compute(Tensor input, IReadOnlyList<long>? targetClasses = null) =>
        InputGradients.GuidedAttributions(_gradients, input, targetClasses, ReluGradient.Guided);
}
