using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>How <see cref="AttentionRollout"/> fuses a layer's attention heads into one attention matrix.</summary>
public enum AttentionHeadFusion
{
    /// <summary>The mean over the heads (Abnar and Zuidema's rollout).</summary>
    Mean = 0,

    /// <summary>The largest weight over the heads (sharper maps, as in jacobgil's vit-explain).</summary>
    Max = 1,

    /// <summary>The smallest weight over the heads.</summary>
    Min = 2,
}

/// <summary>
/// Attention rollout (Abnar and Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020) for a
/// <see cref="VisionTransformer"/>: where the class token's information comes from. Each layer's attention, heads fused
/// (<see cref="HeadFusion"/>) and its weakest weights optionally discarded (<see cref="DiscardRatio"/>, as
/// jacobgil's vit-explain does), is averaged with the identity for the residual connection, A' = (A + I) / 2, its rows
/// renormalised, and the layers multiplied, first layer rightmost; the class token's row over the patch tokens, laid
/// out on the patch grid, is the map. The map is the same for every class: it shows what the network looks at, not the
/// evidence for one class (<see cref="GradientAttentionRollout"/> weighs the attention by a class's gradient). 2-D and 3-D.
/// </summary>
/// <example><code>
/// using var maps = new AttentionRollout(vit).Compute(images);   // (N, 1, H, W), each in [0, 1]
/// </code></example>
public sealed class AttentionRollout
{
    private readonly VisionTransformer _model;

    /// <summary>An explainer of <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An unknown fusion, or a discard ratio outside [0, 1).</exception>
    public AttentionRollout(VisionTransformer model, AttentionHeadFusion headFusion = AttentionHeadFusion.Mean, double discardRatio = 0)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        if (!Enum.IsDefined(headFusion)) throw new ArgumentOutOfRangeException(nameof(headFusion), headFusion, "Unknown head fusion.");
        if (!(discardRatio >= 0 && discardRatio < 1))
            throw new ArgumentOutOfRangeException(nameof(discardRatio), discardRatio, "The share of attention weights discarded per layer lies in [0, 1).");
        HeadFusion = headFusion;
        DiscardRatio = discardRatio;
    }

    /// <summary>How the heads of a layer are fused.</summary>
    public AttentionHeadFusion HeadFusion { get; }

    /// <summary>
    /// The share of each layer's fused attention weights set to zero before the rollout, the smallest first (the class
    /// token's attention to itself is always kept); 0 keeps them all.
    /// </summary>
    public double DiscardRatio { get; }

    /// <summary>
    /// The rollout maps of a batch (N, C, H, W) or (N, C, D, H, W): (N, 1, *patch grid), or (N, 1, *input size) when
    /// <paramref name="resizeToInput"/> (linear interpolation, as <see cref="GradCam"/> resizes), each scaled to [0, 1]
    /// when <paramref name="normalize"/>. <see cref="ClassActivationMaps.TargetClasses"/> and their scores are the
    /// predicted classes, or <paramref name="targetClasses"/>; they label the maps and do not change them.
    /// </summary>
    /// <exception cref="ArgumentException">An input the network does not take, or a target class per sample missing.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode (dropout would change the attention).</exception>
    public ClassActivationMaps Compute(Tensor input, IReadOnlyList<long>? targetClasses = null, bool resizeToInput = true, bool normalize = true)
    {
        long n = CheckCall(_model, input, targetClasses, nameof(AttentionRollout));
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var (output, attention) = _model.ForwardWithAttention(input);
        using (var logits = output)
        {
            var classes = GradCam.ChooseClasses(logits, targetClasses);
            var scores = logits.Gather(1, Tensors.FromArray(classes, n, 1).To(logits.Device)).Flatten().To(ScalarType.Float32, Device.Cpu).ToArray<float>();
            var map = OnPatchGrid(_model, Rollout(attention), input, resizeToInput, normalize);
            return new ClassActivationMaps(scope.MoveToOuter(map), classes, scores);
        }
    }

    // The checks every attention map makes of its call; the batch size.
    internal static long CheckCall(VisionTransformer model, Tensor input, IReadOnlyList<long>? targetClasses, string explainer)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (model.Training)
            throw new InvalidOperationException($"{explainer} needs the model in evaluation mode (call model.Eval()): in training mode dropout changes the attention.");
        long n = input.Dim > 0 ? input.Size(0) : 0;
        if (targetClasses is not null && targetClasses.Count != n)
            throw new ArgumentException($"{targetClasses.Count} target classes were given for a batch of {n}.", nameof(targetClasses));
        return n;
    }

    // The class token's rows over the patch tokens (N, patches) laid out on the patch grid, (N, 1, *grid), resized to
    // the input's size (linear, as Grad-CAM resizes) and scaled to [0, 1] per sample when asked.
    internal static Tensor OnPatchGrid(VisionTransformer model, Tensor classRows, Tensor input, bool resizeToInput, bool normalize)
    {
        var grid = model.Options.PatchGrid.Select(g => (long)g).ToArray();
        var map = classRows.Reshape([classRows.Size(0), 1, .. grid]);
        if (resizeToInput) map = Functional.Interpolate(map, input.Shape.Skip(2).ToArray(), InterpolationMode.Linear, alignCorners: false);
        if (normalize) map = GradCam.NormalizePerSample(map);
        return map;
    }

    // The class token's row of the rolled-out attention over the patch tokens, (N, patches), in float32.
    private Tensor Rollout(IReadOnlyList<Tensor> layers)
    {
        Tensor? result = null;
        foreach (var heads in layers)                                    // (N, H, T, T)
        {
            var a = (HeadFusion switch
            {
                AttentionHeadFusion.Max => heads.Amax([1]),
                AttentionHeadFusion.Min => heads.Amin([1]),
                _ => heads.Mean([1]),
            }).To(ScalarType.Float32);                                   // (N, T, T)
            long n = a.Size(0), t = a.Size(1);
            long discard = (long)Math.Floor(t * t * DiscardRatio);
            if (discard > 0)
            {
                var flat = a.Reshape(n, t * t);
                var (_, lowest) = flat.TopK(discard, dim: 1, largest: false);
                var kept = flat.Scatter(1, lowest, Tensors.Zeros(lowest.Shape, device: a.Device));
                // the class token's attention to itself stays (vit-explain leaves entry 0 out of the discarded ones)
                a = Tensors.Cat(new[] { flat.Narrow(1, 0, 1), kept.Narrow(1, 1, t * t - 1) }, 1).Reshape(n, t, t);
            }
            var eye = Tensors.Eye(t, dtype: ScalarType.Float32, device: a.Device);
            a = (a + eye) / 2;
            a = a / a.Sum([-1], keepDim: true);
            result = result is null ? a : a.MatMul(result);
        }
        return result!.Select(1, 0).Narrow(1, 1, result.Size(2) - 1);   // class token row, patch columns
    }
}
