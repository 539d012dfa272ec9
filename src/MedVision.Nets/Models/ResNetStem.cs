namespace MedVision.Nets.Models;

/// <summary>The first layers of a ResNet, before the residual stages.</summary>
public enum ResNetStem
{
    /// <summary>
    /// The ImageNet stem: 7×7 convolution, stride 2, padding 3 → BN → ReLU → 3×3 max-pool, stride 2, padding 1
    /// (7×7×7 and 3×3×3 in 3-D). Reduces the spatial size by 4 before the first stage.
    /// </summary>
    ImageNet,
    /// <summary>
    /// The small-input stem (MedMNIST 28×28 recipe): 3×3 convolution, stride 1, padding 1 → BN → ReLU and no max-pool
    /// (3×3×3 in 3-D). Keeps the full resolution for the first stage.
    /// </summary>
    SmallInput,
}
