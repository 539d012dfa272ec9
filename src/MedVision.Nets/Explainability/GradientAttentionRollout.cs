using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Autograd;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Gradient-weighted attention rollout (Chefer, Gur and Wolf, "Generic Attention-model Explainability for Interpreting
/// Bi-Modal and Encoder-Decoder Transformers", ICCV 2021) for a <see cref="VisionTransformer"/>: a class-specific
/// attention map. Each layer's attention probabilities A (per head) are weighted by the gradient of the class's logit
/// with respect to them, negative products dropped and the heads averaged, Ā = mean over heads of (∂y_c/∂A ⊙ A)⁺; the
/// relevance starts as the identity and each layer, first layer first, adds its share, R ← R + Ā R; the class token's
/// row over the patch tokens, laid out on the patch grid, is the map. Unlike <see cref="AttentionRollout"/>, whose map
/// is the same for every class, it shows the evidence for the class explained. One forward and one backward pass;
/// 2-D and 3-D.
/// </summary>
/// <example><code>
/// using var maps = new GradientAttentionRollout(vit).Compute(images, targetClasses: [2, 2]);   // (N, 1, H, W) in [0, 1]
/// </code></example>
public sealed class GradientAttentionRollout
{
    private readonly VisionTransformer _model;

    /// <summary>An explainer of <paramref name="model"/>.</summary>
    public GradientAttentionRollout(VisionTransformer model) => _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>
    /// The maps of a batch (N, C, H, W) or (N, C, D, H, W) for the predicted classes or <paramref name="targetClasses"/>:
    /// (N, 1, *patch grid), or (N, 1, *input size) when <paramref name="resizeToInput"/> (linear interpolation, as
    /// <see cref="GradCam"/> resizes), each scaled to [0, 1] when <paramref name="normalize"/> (a constant map becomes
    /// 0, as Grad-CAM's). Gradients are computed even inside a no-grad scope, and with frozen parameters; the
    /// parameters' own gradients are not touched.
    /// </summary>
    /// <exception cref="ArgumentException">An input the network does not take, or a target class per sample missing or out of range.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode (dropout would change the attention).</exception>
    public ClassActivationMaps Compute(Tensor input, IReadOnlyList<long>? targetClasses = null, bool resizeToInput = true, bool normalize = true)
    {
        long n = AttentionRollout.CheckCall(_model, input, targetClasses, nameof(GradientAttentionRollout));
        using var scope = Tensors.NewDisposeScope();
        using var grad = Tensors.EnableGrad();
        // The input records gradients, so the attention does even when the parameters are frozen.
        var x = input.Detach().RequiresGradInPlace();
        var (logits, attention) = _model.ForwardWithAttention(x);
        var classes = GradCam.ChooseClasses(logits.Detach(), targetClasses);
        var chosen = logits.Gather(1, Tensors.FromArray(classes, n, 1).To(logits.Device));
        var scores = chosen.Detach().Flatten().To(ScalarType.Float32, Device.Cpu).ToArray<float>();
        // Each sample's logit depends on its own attention only (layer norms are per token), so one backward pass of the
        // sum gives every sample the gradient of its own class.
        var gradients = Gradients.Compute([chosen.Sum()], attention);
        Tensor? relevance = null;
        for (int i = 0; i < attention.Length; i++)
        {
            var a = attention[i].Detach().To(ScalarType.Float32);         // (N, H, T, T)
            var weighted = (gradients[i]!.To(ScalarType.Float32) * a).Clamp(min: 0).Mean([1]);
            relevance ??= Tensors.Eye(a.Size(2), dtype: ScalarType.Float32, device: a.Device).Expand(n, a.Size(2), a.Size(2));
            relevance = relevance + weighted.MatMul(relevance);
        }
        var classRows = relevance!.Select(1, 0).Narrow(1, 1, relevance.Size(2) - 1);
        var map = AttentionRollout.OnPatchGrid(_model, classRows, input, resizeToInput, normalize);
        return new ClassActivationMaps(scope.MoveToOuter(map.Detach()), classes, scores);
    }
}
