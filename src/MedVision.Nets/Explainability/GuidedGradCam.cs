using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Guided Grad-CAM (Selvaraju et al., "Grad-CAM", ICCV 2017; Captum's <c>GuidedGradCam</c>): guided backpropagation's
/// fine-grained map (<see cref="GuidedBackprop"/>) multiplied, element by element, by the class's Grad-CAM map
/// (<see cref="GradCam"/>, rectified, not normalised) resized from the target layer to the input — pixel-sharp detail
/// where the class's evidence lies. Two forward and two backward passes per batch.
/// </summary>
/// <remarks>
/// The model must be in evaluation mode and its forward pass must call the target layer once and record ReLUs through
/// this library (see <see cref="GuidedBackprop"/>). Multiplying by Grad-CAM makes the map class-specific, but its detail
/// is still guided backpropagation's, which depends little on the upper layers (Adebayo et al., NeurIPS 2018).
/// </remarks>
/// <example><code>
/// model.Eval();
/// using var scope = Tensors.NewDisposeScope();
/// using var attributions = GuidedGradCam.ForResNet(model).Compute(images);
/// using var maps = attributions.ToMaps();                  // [0, 1] per sample, for display
/// </code></example>
public sealed class GuidedGradCam
{
    private readonly GradCam _gradCam;
    private readonly GuidedBackprop _guided;

    /// <summary>Guided Grad-CAM of <paramref name="model"/>'s logits, with Grad-CAM taken on <paramref name="targetLayer"/>, one of its submodules.</summary>
    /// <exception cref="ArgumentException">The target layer is not a submodule of the model.</exception>
    public GuidedGradCam(Module<Tensor, Tensor> model, Module<Tensor, Tensor> targetLayer)
    {
        _gradCam = new GradCam(model, targetLayer);
        _guided = new GuidedBackprop(model);
    }

    /// <summary>
    /// Guided Grad-CAM of the logits (N, classes) that <paramref name="forward"/> computes from an input batch, with
    /// Grad-CAM taken on <paramref name="targetLayer"/>, which the forward pass must call exactly once.
    /// </summary>
    public GuidedGradCam(Func<Tensor, Tensor> forward, Module<Tensor, Tensor> targetLayer)
    {
        _gradCam = new GradCam(forward, targetLayer);
        _guided = new GuidedBackprop(forward);
    }

    /// <summary>Guided Grad-CAM with Grad-CAM on a stage of a ResNet (null: the last, torchvision's <c>layer4</c>).</summary>
    /// <exception cref="ArgumentException">The ResNet has no classifier.</exception>
    /// <exception cref="ArgumentOutOfRangeException">There is no such stage.</exception>
    public static GuidedGradCam ForResNet(ResNet model, int? stage = null)
    {
        var gradCam = GradCam.ForResNet(model, CamMethod.GradCam, stage);
        return new GuidedGradCam(model, gradCam.TargetLayer);
    }

    /// <summary>The layer on which Grad-CAM is taken.</summary>
    public Module<Tensor, Tensor> TargetLayer => _gradCam.TargetLayer;

    /// <summary>
    /// The guided Grad-CAM attributions of every sample of <paramref name="input"/> (N, C, H, W) or (N, C, D, H, W)
    /// for its target class: of the input's shape, type and device, the Grad-CAM map shared by the channels.
    /// </summary>
    /// <param name="input">The preprocessed batch, floating point, as the model takes it.</param>
    /// <param name="targetClasses">The class per sample; null for each sample's predicted class.</param>
    /// <param name="interpolation">How Grad-CAM's map is resized to the input: nearest (Captum's default), or linear (bilinear or trilinear, as the Grad-CAM paper upsamples).</param>
    /// <exception cref="ArgumentException">The batch or targets do not fit, or the batch holds NaN or infinite values.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interpolation"/> is neither nearest nor linear.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode, does not call the target layer once, does not return logits (N, classes), or records no ReLU.</exception>
    public Attributions Compute(Tensor input, IReadOnlyList<long>? targetClasses = null, InterpolationMode interpolation = InterpolationMode.Nearest)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (interpolation is not (InterpolationMode.Nearest or InterpolationMode.Linear))
            throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, "Guided Grad-CAM resizes its class map by nearest or linear interpolation.");
        if (!input.ScalarType.IsFloatingPoint())
            throw new ArgumentException($"GuidedGradCam differentiates with respect to the input, which must be floating point; it is {input.ScalarType}.", nameof(input));
        using var scope = Tensors.NewDisposeScope();
        var cam = _gradCam.Compute(input, targetClasses, resizeToInput: false, normalize: false);
        var guided = _guided.Compute(input, cam.TargetClasses);
        using var noGrad = Tensors.NoGrad();
        var spatial = input.Shape.Skip(2).ToArray();
        var map = Functional.Interpolate(cam.Maps, spatial, interpolation, alignCorners: false);
        var values = guided.Values * map.To(input.ScalarType);
        return new Attributions(scope.MoveToOuter(values), cam.TargetClasses, cam.Scores);
    }
}
