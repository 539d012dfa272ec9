namespace MedVision.Nets.Explainability;

/// <summary>
/// A class-activation-style map: how <see cref="GradCam"/> weights the channels of the target layer's feature map, or,
/// for a vision transformer, <see cref="AttentionRollout"/> or <see cref="GradientAttentionRollout"/> (which
/// <see cref="Inference.Predictor"/> computes for <see cref="Models.VisionTransformer"/> model files).
/// </summary>
public enum CamMethod
{
    /// <summary>
    /// Grad-CAM (Selvaraju et al., ICCV 2017): each channel is weighted by the spatial mean of the class score's
    /// gradient with respect to it; the map is the ReLU of the weighted sum.
    /// </summary>
    GradCam = 0,

    /// <summary>
    /// Grad-CAM++ (Chattopadhyay et al., WACV 2018): each position's positive gradient is weighted by
    /// α = g² / (2g² + Σ A · g³), which gives several instances of a class, and small ones, a share of the map.
    /// </summary>
    GradCamPlusPlus = 1,

    /// <summary>
    /// Attention rollout (Abnar and Zuidema, ACL 2020) of a vision transformer: where the class token's information
    /// comes from, heads averaged (see <see cref="Explainability.AttentionRollout"/>). Not a channel weighting: the
    /// <see cref="GradCam"/> class refuses it, and the map is the same for every class.
    /// </summary>
    AttentionRollout = 2,

    /// <summary>
    /// Gradient-weighted attention rollout (Chefer, Gur and Wolf, ICCV 2021) of a vision transformer: each layer's
    /// attention weighted by the class score's gradient, positive parts averaged over the heads and accumulated from the
    /// first layer (see <see cref="Explainability.GradientAttentionRollout"/>). A map per class; the <see cref="GradCam"/>
    /// class refuses it.
    /// </summary>
    GradientAttentionRollout = 3,
}

/// <summary>Which models a <see cref="CamMethod"/> maps.</summary>
internal static class CamMethods
{
    /// <summary>True for the methods that map a vision transformer's attention (not a ResNet's feature map).</summary>
    public static bool MapsAttention(this CamMethod method) => method is CamMethod.AttentionRollout or CamMethod.GradientAttentionRollout;

    /// <summary>The method's name in messages.</summary>
    public static string DisplayName(this CamMethod method) => method switch
    {
        CamMethod.AttentionRollout => "Attention rollout",
        CamMethod.GradientAttentionRollout => "Gradient-weighted attention rollout",
        _ => method.ToString(),
    };
}
