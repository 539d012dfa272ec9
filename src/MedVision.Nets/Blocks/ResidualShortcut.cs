namespace MedVision.Nets.Blocks;

/// <summary>
/// How a residual block whose stride or width changes carries its input to the sum (He et al., CVPR 2016, section 3.3;
/// MONAI's and MedicalNet's <c>shortcut_type</c> "B" and "A"). Blocks that keep stride and width add the input as it is.
/// </summary>
public enum ResidualShortcut
{
    /// <summary>
    /// Option B, torchvision's: a 1×1 convolution with the block's stride and a batch norm, registered as
    /// <c>downsample</c> (<c>downsample.0.weight</c>, <c>downsample.1.*</c>). The default.
    /// </summary>
    Projection,

    /// <summary>
    /// Option A, parameter-free: the input at every stride-th position (a 1×1 average pool with the block's stride), with
    /// zero channels appended up to the block's output width. MedicalNet's 3-D ResNet-18/34 use it. The gradient flows
    /// through it as through any identity shortcut (MedicalNet's and MONAI's code concatenate <c>out.data</c>, which stops
    /// it there; their forward values are the same). Needs at least as many output channels as input channels.
    /// </summary>
    ZeroPadding,
}
