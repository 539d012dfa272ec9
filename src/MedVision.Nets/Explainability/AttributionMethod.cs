namespace MedVision.Nets.Explainability;

/// <summary>
/// The gradient-based attributions a <see cref="Inference.Predictor"/> can explain a prediction with: per input pixel
/// (or voxel), how much it contributed to the class's score. Unlike a <see cref="CamMethod"/> they need no chosen layer,
/// so they explain any differentiable network, at the input's full resolution.
/// </summary>
public enum AttributionMethod
{
    /// <summary>
    /// Integrated gradients (Sundararajan et al., ICML 2017; <see cref="Explainability.IntegratedGradients"/>): the
    /// input's difference from a baseline times the class score's gradient averaged along the straight path between them.
    /// The attributions add up to the score's change from the baseline.
    /// </summary>
    IntegratedGradients = 0,

    /// <summary>
    /// SmoothGrad (Smilkov et al., 2017; <see cref="Explainability.SmoothGrad"/>): the class score's gradient averaged
    /// over copies of the input with Gaussian noise added, which removes much of a plain gradient's speckle.
    /// </summary>
    SmoothGrad = 1,

    /// <summary>
    /// Saliency (Simonyan et al., 2014; <see cref="Explainability.Saliency"/>): the absolute value of the class score's
    /// gradient with respect to the input. One backward pass; the noisiest of the three.
    /// </summary>
    Saliency = 2,

    /// <summary>
    /// Guided backpropagation (Springenberg et al., 2015; <see cref="Explainability.GuidedBackprop"/>): the gradient with
    /// only positive gradients passed back through each ReLU. Sharp maps, but nearly the same for every class and little
    /// changed by randomising the upper layers (Adebayo et al., 2018). Needs ReLUs this library records: not a
    /// TorchScript model.
    /// </summary>
    GuidedBackprop = 3,

    /// <summary>
    /// Guided Grad-CAM (Selvaraju et al., 2017; <see cref="Explainability.GuidedGradCam"/>): guided backpropagation
    /// times the class's Grad-CAM map on the last stage. Class-specific and pixel-sharp; needs a ResNet, as
    /// class-activation maps do.
    /// </summary>
    GuidedGradCam = 4,

    /// <summary>
    /// DeepLIFT with the rescale rule (Shrikumar et al., 2017; <see cref="Explainability.DeepLift"/>): the input's
    /// difference from a baseline times multipliers found by one backward pass in which each ReLU passes back its
    /// output's change over its input's change instead of its derivative. Like integrated gradients the attributions
    /// add up to the score's change from the baseline, at the cost of one pass instead of dozens. Needs ReLUs this
    /// library records: not a TorchScript model.
    /// </summary>
    DeepLift = 5,

    /// <summary>
    /// GradientSHAP, as expected gradients (Erion et al., 2021; <see cref="Explainability.GradientShap"/>): gradient ×
    /// (input − reference) at random points between the input and references drawn from
    /// <see cref="AttributionOptions.References"/> (typically a few dozen training images), which it needs;
    /// <see cref="AttributionOptions.Samples"/> draws, seeded by <see cref="AttributionOptions.Seed"/>, no noise. Explains
    /// the prediction against the data rather than against one baseline.
    /// </summary>
    GradientShap = 6,

    /// <summary>
    /// DeepLIFT SHAP (Lundberg and Lee, 2017; <see cref="Explainability.DeepLiftShap"/>): DeepLIFT against each of
    /// <see cref="AttributionOptions.References"/>, which it needs, averaged. Deterministic; not a TorchScript model.
    /// </summary>
    DeepLiftShap = 7,
}
