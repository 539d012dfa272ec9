namespace MedVision.Torch.Nn;

/// <summary>Which fan Kaiming initialisation preserves the variance of.</summary>
public enum FanMode
{
    /// <summary>Fan-in: preserves the forward-pass variance.</summary>
    FanIn,
    /// <summary>Fan-out: preserves the backward-pass variance (torchvision's ResNet convs).</summary>
    FanOut,
}
