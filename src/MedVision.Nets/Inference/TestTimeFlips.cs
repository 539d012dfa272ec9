namespace MedVision.Nets.Inference;

/// <summary>
/// Test-time augmentation by flips: <see cref="Predictor"/> averages the probabilities of the input and of every
/// combination of the chosen flips (2^k forward passes for k axes). Choose only flips the images are invariant to:
/// left-right is safe for fundus photographs and most 2-D modalities, up-down and depth flips often are not.
/// </summary>
[Flags]
public enum TestTimeFlips
{
    /// <summary>No augmentation: one forward pass.</summary>
    None = 0,

    /// <summary>Flip the width axis (left-right).</summary>
    Horizontal = 1,

    /// <summary>Flip the height axis (up-down).</summary>
    Vertical = 2,

    /// <summary>Flip the depth axis (3-D models only).</summary>
    Depth = 4,
}
