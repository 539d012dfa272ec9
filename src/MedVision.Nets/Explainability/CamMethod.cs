namespace MedVision.Nets.Explainability;

/// <summary>
/// A class-activation-style map: how <see cref="GradCam"/> weights the channels of the target layer's feature map, or,
/// for a vision transformer, <see cref="AttentionRollout"/> (which <see cref="Inference.Predictor"/> computes for
/// <see cref="Models.VisionTransformer"/> model files).
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
}
